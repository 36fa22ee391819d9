"""The panel convention end to end in a real JupyterLab: widget renders offline, a slider change updates the plot."""

from labtest import jupyter_lab, lab_page, run_all, shot, external_requests, cell_errors, write_notebook

PANEL_CODE = '''
import numpy as np, ipywidgets as w, plotly.graph_objects as go
from mlzoo_nb.core.panel import Panel

class SinePanel(Panel):
    def __init__(self, freq=1): self.freq = freq
    def figure(self):
        x = np.linspace(0, 2 * np.pi, 50)
        return go.Figure(go.Scatter(x=x, y=np.sin(self.freq * x)), layout=dict(title=f"sin({self.freq}x)", height=300))
    def build(self):
        slider, fig = w.IntSlider(value=self.freq, min=1, max=5, description="freq"), go.FigureWidget(self.figure())
        def update(change):
            self.freq = change["new"]
            with fig.batch_update(): fig.data[0].y = self.figure().data[0].y; fig.layout.title.text = f"sin({self.freq}x)"
        slider.observe(update, names="value")
        return w.VBox([slider, fig])

SinePanel(2)
'''


def test_panel_renders_and_updates_in_jupyterlab(tmp_path):
    write_notebook(tmp_path, "panel.ipynb", PANEL_CODE)
    with jupyter_lab(tmp_path) as lab, lab_page(lab, "panel.ipynb") as page:
        run_all(page)
        page.wait_for_selector(".js-plotly-plot .gtitle", timeout=60_000)
        assert "sin(2x)" in page.locator(".js-plotly-plot .gtitle").first.text_content()
        assert page.locator("[data-mlzoo-static]").count() == 0  # Lab shows the live widget, not the snapshot
        page.locator(".widget-slider [role=slider], .widget-slider .noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.querySelector('.js-plotly-plot .gtitle').textContent.includes('sin(3x)')",
                               timeout=20_000)
        shot(page, "panel-base")
        assert cell_errors(page) == []
        assert external_requests(page) == []
