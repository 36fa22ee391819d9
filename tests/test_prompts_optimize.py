"""Prompt optimization logs every trial to a real MLflow store (sqlite) when tracking is on."""
from pathlib import Path

from mlzoo_nb.prompts.examples import FewShotPrompt
from mlzoo_nb.prompts.templates import PromptTemplate
from mlzoo_nb.prompts.suite import ToyLM
from mlzoo_nb.prompts.optimize import optimize_prompt, color_task


def test_optimize_logs_trials_to_mlflow(tmp_path):
    import mlflow
    from mlzoo_nb.train.tracking import MLflowTracker
    cases = color_task(100, seed=0)
    fs = FewShotPrompt(PromptTemplate("Item: {{ text }}\nTone:"), instruction="Answer in one word.")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tr = MLflowTracker(uri=uri, experiment="prompts", spool_dir=tmp_path / "spool")
    r = optimize_prompt(ToyLM("warm"), fs, cases[:50], cases[50:], budget=5, track=tr, plot=False, progress=False)
    client = mlflow.MlflowClient(uri)
    run = client.get_run(tr.run_id)
    assert run.info.status == "FINISHED" and run.data.params["strategy"] == "bootstrap_fewshot"
    hist = sorted(client.get_metric_history(tr.run_id, "score"), key=lambda m: m.step)
    assert [m.value for m in hist] == list(r.history.score)
    assert run.data.metrics["best_score"] == r.score > r.baseline
    assert {"trials.jsonl", "best_prompt.json"} <= {a.path for a in client.list_artifacts(tr.run_id)}
    local = Path(client.download_artifacts(tr.run_id, "trials.jsonl", str(tmp_path)))
    lines = local.read_text().splitlines()
    assert len(lines) == len(r.history) and "Item:" in lines[0]
