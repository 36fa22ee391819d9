"""RuleEditorPanel in a real JupyterLab: typing a rule updates the stats; a syntax error shows in place and the panel keeps working."""
import re


from labtest import jupyter_lab, lab_page, run_all, shot, external_requests, cell_errors, write_notebook

PANEL_CODE = '''
import torch; torch.set_num_threads(1)
from mlzoo_nb.core import data
from mlzoo_nb.models.zoo import zoo
from mlzoo_nb.symbolic.panel import RuleEditorPanel
iris = data.iris()
pipe = zoo.create("tabular/mlp-iris")
pipe.fit(iris, epochs=15, lr=1e-2, progress=False)
RuleEditorPanel(pipe, iris, 'petal_length < 2.5 -> class == "setosa"')
'''
TWO = 'petal_length < 2.5 -> class == "setosa"\npetal_length > 5 and petal_width > 1.8 -> class == "virginica"'
BROKEN = 'petal_length < 2.5 -> class == "setosa"\npetal_length > -> class == "virginica"'
THREE = TWO + '\npetal_width > 1.5 and petal_length > 2.5 -> class == "virginica"'   # some versicolor break it


def summary_has(page, text):
    page.wait_for_function("t => { const s = document.querySelector('.mlzoo-rules-summary'); return s && s.textContent.includes(t); }",
                           arg=text, timeout=30_000)


def test_rule_editor_panel_in_jupyterlab(tmp_path):
    write_notebook(tmp_path, "rules.ipynb", PANEL_CODE)
    with jupyter_lab(tmp_path) as lab, lab_page(lab, "rules.ipynb") as page:
        run_all(page)
        summary_has(page, "1 of 1 rules on")
        assert page.locator("[data-mlzoo-static]").count() == 0          # the live widget, not the snapshot
        editor = page.locator(".mlzoo-rules-text textarea")

        editor.fill(TWO)                                                 # typing a rule updates the stats
        summary_has(page, "2 of 2 rules on")
        assert page.locator(".mlzoo-rule-switch").count() == 2

        editor.fill(BROKEN)                                              # a syntax error is shown where it is
        page.wait_for_function("() => document.querySelector('.mlzoo-rules-message').textContent"
                               ".includes('syntax error at line 2, column 16')", timeout=30_000)
        assert "2 of 2 rules on" in page.locator(".mlzoo-rules-summary").text_content()   # last good stats kept
        shot(page, "rule-editor-syntax-error")

        editor.fill(THREE)                                               # ... and the panel keeps working
        summary_has(page, "3 of 3 rules on")
        assert "no problems" in page.locator(".mlzoo-rules-message").text_content()
        changed = page.locator(".mlzoo-rules-summary").text_content()
        assert re.search(r"· [1-9]\d* of 150 predictions changed", changed), changed       # the new rule changes predictions
        page.wait_for_selector(".mlzoo-rules-affected table")
        shot(page, "rule-editor")
        page.locator(".mlzoo-rule-switch input[type=checkbox]").nth(2).click()   # a switch turns it off again
        summary_has(page, "2 of 3 rules on")
        summary_has(page, "· 0 of 150 predictions changed")
        page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot .gtitle')].some(t => t.textContent.includes('2 of 3 rules on'))",
                               timeout=30_000)
        assert cell_errors(page) == []
        assert external_requests(page) == []
