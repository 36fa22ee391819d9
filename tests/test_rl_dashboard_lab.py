"""The PPO training dashboard in a real JupyterLab: it appears by itself (dashboard="auto") and fills while PPO learns."""
import pytest

from labtest import jupyter_lab, lab_page, run_all, shot, external_requests, cell_errors, write_notebook

pytest.importorskip("gymnasium", reason="the rl extra is not installed")

CODE = '''
from mlzoo_nb.rl.ppo import PPO
agent = PPO("CartPole-v1", n_envs=4, n_steps=32, seed=0)
agent.learn(6144)            # dashboard="auto": a live panel in a Jupyter kernel
print("updates", len(agent.history))
'''


def test_ppo_dashboard_draws_live_curves_in_jupyterlab(tmp_path):
    write_notebook(tmp_path, "ppo.ipynb", CODE)
    with jupyter_lab(tmp_path) as lab, lab_page(lab, "ppo.ipynb") as page:
        run_all(page)
        page.wait_for_selector(".jp-OutputArea-output:has-text('updates 48')", timeout=120_000)
        page.wait_for_function("() => document.querySelector('.js-plotly-plot .gtitle')?.textContent.includes('step 6,144')",
                               timeout=30_000)
        points = page.evaluate("() => document.querySelector('.js-plotly-plot').data.map(t => t.x.length)")
        assert len(points) == 6 and min(points) >= 40, points   # return, 2 losses, entropy, KL, steps/s: a point per update
        assert page.locator("[data-mlzoo-static]").count() == 0  # Lab shows the live widget, not the snapshot
        shot(page, "rl-ppo-dashboard")
        assert cell_errors(page) == []
        assert external_requests(page) == []
