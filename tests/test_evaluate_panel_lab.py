"""FairnessPanel in a real JupyterLab: it renders offline, and moving the threshold slider (keyboard) makes the kernel
recompute the audit and redraw the per-group bars."""

from labtest import jupyter_lab, lab_page, run_all, shot, external_requests, cell_errors, write_notebook

CODE = '''
from mlzoo_nb.evaluate.fairness import planted_bias, tabular_mlp
from mlzoo_nb.evaluate.panel import FairnessPanel
train, test = planted_bias(n=1500, seed=0).split(test_size=0.4, seed=0)
pipe = tabular_mlp(train)
pipe.fit(train, epochs=5, lr=2e-2, batch_size=256, progress=False)
FairnessPanel(pipe, test, sensitive="group", n_boot=100)
'''

BARS = "() => [...document.querySelectorAll('.js-plotly-plot .barlayer .point path')].map(p => p.getAttribute('d'))"
TITLE = "() => document.querySelector('.js-plotly-plot .gtitle').textContent"


def test_fairness_panel_threshold_slider_redraws_group_bars(tmp_path):
    write_notebook(tmp_path, "fairness.ipynb", CODE)
    with jupyter_lab(tmp_path) as lab, lab_page(lab, "fairness.ipynb") as page:
        run_all(page)
        page.wait_for_selector(".js-plotly-plot .barlayer .point path", timeout=60_000)
        assert "threshold 0.50" in page.evaluate(TITLE)
        assert page.locator("[data-mlzoo-static]").count() == 0      # Lab shows the live widget, not the snapshot
        assert page.locator(".widget-select-multiple option").all_inner_texts() == ["a", "b"]
        before = page.evaluate(BARS)
        assert len(before) == 8                                       # 4 metrics x 2 groups
        page.locator(".widget-slider [role=slider], .widget-slider .noUi-handle").first.focus()
        for _ in range(4): page.keyboard.press("ArrowRight")          # 0.50 -> 0.70, one kernel round trip per step
        page.wait_for_function(f"() => ({TITLE})().includes('threshold 0.70')", timeout=30_000)
        page.wait_for_function("() => document.querySelector('.mlzoo-disparities').textContent.includes('at threshold 0.70')",
                               timeout=10_000)
        after = page.evaluate(BARS)
        assert len(after) == 8 and after != before                     # the bars moved
        shot(page, "fairness-panel")
        assert cell_errors(page) == []
        assert external_requests(page) == []
