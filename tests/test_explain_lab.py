"""ExplainPanel and AttentionPanel in a real JupyterLab (headless Chromium): they render offline, and changing the
method, the layer or the head redraws the figure through the kernel. Screenshots go to test-artifacts/lab/."""

from labtest import jupyter_lab, lab_page, run_all, shot, external_requests, cell_errors, wait_idle, write_notebook

SETUP = '''
import torch; torch.set_num_threads(1)
from mlzoo_nb.core import data
from mlzoo_nb.models.zoo import zoo
from mlzoo_nb.explain.panels import ExplainPanel, AttentionPanel
train, _ = data.synthetic_text("sentiment", n=400, seed=0).split(0.25, seed=0)
bert = zoo.create("text/bert-tiny"); bert.fit(train, epochs=3, lr=3e-3, progress=False)  # ~3 s
reviews = ["the service was slow but the pasta was excellent.", "i never enjoyed the concert.", "honestly, the hotel was awful."]
'''
EXPLAIN = 'ExplainPanel(bert, reviews, methods=["ig", "occlusion", "attention"], n_steps=32)'
ATTENTION = 'AttentionPanel(bert, reviews[0])'

TITLE = "(i) => document.querySelectorAll('.js-plotly-plot .gtitle')[i]?.textContent || ''"


def wait_title(page, index: int, text: str, timeout: float = 30_000):
    "Wait until the `index`-th plotly figure's title contains `text` (the kernel answered)."
    page.wait_for_function(f"([i, t]) => ({TITLE})(i).includes(t)", arg=[index, text], timeout=timeout)


def test_explain_and_attention_panels_in_jupyterlab(tmp_path):
    write_notebook(tmp_path, "panels.ipynb", SETUP, EXPLAIN, ATTENTION)
    with jupyter_lab(tmp_path) as lab, lab_page(lab, "panels.ipynb") as page:
        run_all(page)
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .gtitle').length >= 3", timeout=60_000)
        assert page.locator("[data-mlzoo-static]").count() == 0        # Lab shows the live widgets, not the snapshots
        wait_title(page, 0, "ig")
        assert "deletion AUC" in page.evaluate(TITLE, 0)
        wait_title(page, 2, "layer 1 · head 0")

        # ExplainPanel: pick another method; the kernel explains again and redraws
        page.locator(".widget-dropdown select").nth(1).select_option("occlusion")
        wait_title(page, 0, "occlusion")
        wait_idle(page)                                                 # the curves and the summary follow
        assert "completeness gap" not in page.locator(".widget-html").first.inner_text()   # occlusion is not additive
        shot(page, "explain-panel")

        # AttentionPanel: the layer slider, then the head slider, moved with the keyboard
        page.locator(".widget-slider [role=slider], .widget-slider .noUi-handle").nth(0).focus()
        page.keyboard.press("ArrowLeft")
        wait_title(page, 2, "layer 0 · head 0")
        page.locator(".widget-slider [role=slider], .widget-slider .noUi-handle").nth(1).focus()
        page.keyboard.press("ArrowRight")
        wait_title(page, 2, "layer 0 · head 1")
        page.locator(".js-plotly-plot").nth(2).scroll_into_view_if_needed()
        shot(page, "attention-panel")
        assert cell_errors(page) == []
        assert external_requests(page) == []
