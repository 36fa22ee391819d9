"""PromptPanel in a real JupyterLab: editing the template updates the preview; Run streams the model's output."""
import re


from labtest import jupyter_lab, lab_page, run_all, shot, external_requests, cell_errors, write_notebook

PANEL_CODE = '''
import torch; torch.set_num_threads(1)
from mlzoo_nb.models.zoo import zoo
from mlzoo_nb.prompts.templates import PromptTemplate
from mlzoo_nb.prompts.examples import ExampleStore, FewShotPrompt, NGramSelector
from mlzoo_nb.prompts.suite import PipelineLM, examples_from
from mlzoo_nb.prompts.panel import PromptPanel
store = ExampleStore(examples=examples_from(["a red car", "a teal kite", "a pink hat"], ["warm", "cool", "warm"]))
fs = FewShotPrompt(PromptTemplate("Item: {{ text }}\\nTone:", name="tone"), NGramSelector(store, k=2), instruction="Answer in one word.")
lm = PipelineLM(zoo.create("lm/llama-tiny"), max_new_tokens=8, stop=())
PromptPanel(lm, fs, examples=store, values={"text": "a teal boat"})
'''


def has_text(page, selector, text):
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); return e && e.textContent.includes(t); }",
                           arg=[selector, text], timeout=30_000)


def test_prompt_panel_in_jupyterlab(tmp_path):
    write_notebook(tmp_path, "prompt.ipynb", PANEL_CODE)
    with jupyter_lab(tmp_path) as lab, lab_page(lab, "prompt.ipynb") as page:
        run_all(page)
        has_text(page, ".mlzoo-prompt-preview", "Item: a teal boat")
        assert page.locator("[data-mlzoo-static]").count() == 0           # the live widget, not the snapshot

        page.locator(".mlzoo-prompt-template textarea").fill("Thing ({{ size }}): {{ text }}\nTone:")   # edit the template
        has_text(page, ".mlzoo-prompt-preview", "Thing (): a teal boat")
        page.locator(".mlzoo-prompt-var textarea").first.fill("big")                                   # fill the new variable
        has_text(page, ".mlzoo-prompt-preview", "Thing (big): a teal boat")
        assert "Thing (big): a red car" in page.locator(".mlzoo-prompt-preview").text_content()      # demos follow

        page.locator(".mlzoo-prompt-template textarea").fill("Thing: {{ text }\nTone:")                 # a syntax error
        has_text(page, ".mlzoo-prompt-message", "line 1, column 16")
        assert "Thing (big): a teal boat" in page.locator(".mlzoo-prompt-preview").text_content()    # last good kept
        page.locator(".mlzoo-prompt-template textarea").fill("Thing ({{ size }}): {{ text }}\nTone:")

        page.locator("button.mlzoo-prompt-run").click()                                                # run: streamed
        has_text(page, ".mlzoo-prompt-status", "streamed")
        status = page.locator(".mlzoo-prompt-status").text_content()
        assert int(re.search(r"streamed (\d+) piece", status).group(1)) > 1, status
        assert page.locator(".mlzoo-prompt-output pre").text_content().strip() not in ("", "…")
        shot(page, "prompt-panel")
        assert cell_errors(page) == []
        assert external_requests(page) == []
