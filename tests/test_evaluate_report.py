"""Evaluation reports beyond the notebook: MLflow logging into a real tracking store, and import hygiene."""
import json

import pytest

from _util import run_python


def test_importing_the_evaluate_modules_loads_no_heavy_library():
    p = run_python(
        "import sys\n"
        "import mlzoo_nb.evaluate.metrics, mlzoo_nb.evaluate.report, mlzoo_nb.evaluate.fairness, mlzoo_nb.evaluate.panel\n"
        "heavy = ['torch', 'sklearn', 'fairlearn', 'torchmetrics', 'mlflow', 'plotly', 'ipywidgets']\n"
        "print([m for m in heavy if m in sys.modules])\n")
    assert p.stdout.strip() == "[]", p.stdout


def test_evaluate_logs_to_the_active_mlflow_run_and_only_then(tmp_path):
    pytest.importorskip("mlflow")
    code = f"""
import json, sys, numpy as np
from mlzoo_nb.evaluate.report import evaluate
rng = np.random.default_rng(0)
y = rng.integers(0, 2, 300); p = np.where(rng.random(300) < 0.8, y, 1 - y)
# no MLflow imported, no run: nothing is logged and MLflow is not even imported
evaluate(None, (np.zeros(300), y), predictions=p, n_boot=100)
assert "mlflow" not in sys.modules
import mlflow
from mlflow.tracking import MlflowClient
mlflow.set_tracking_uri("sqlite:///{tmp_path}/mlflow.db")
exp = mlflow.create_experiment("eval", artifact_location="{(tmp_path / 'artifacts').as_uri()}")
evaluate(None, (np.zeros(300), y), predictions=p, n_boot=100)       # imported but no active run: nothing
assert mlflow.active_run() is None
with mlflow.start_run(experiment_id=exp) as run:
    rep = evaluate(None, (np.zeros(300), y), predictions=p, n_boot=200)
client = MlflowClient()
m = client.get_run(run.info.run_id).data.metrics
t = rep.table.set_index("metric")
out = dict(metrics=m, accuracy=rep["accuracy"], lo=float(t.loc["accuracy", "ci_low"]), hi=float(t.loc["accuracy", "ci_high"]),
           artifacts=[a.path for a in client.list_artifacts(run.info.run_id, "eval")],
           runs=len(client.search_runs([exp])))
local = client.download_artifacts(run.info.run_id, "eval/report.json", "{tmp_path}")
out["json_task"] = json.load(open(local))["task"]
print("RESULT" + json.dumps(out))
"""
    p = run_python(code, cwd=tmp_path, timeout=300)
    out = json.loads(p.stdout.split("RESULT", 1)[1])
    m = out["metrics"]
    assert m["eval/accuracy"] == pytest.approx(out["accuracy"])
    assert m["eval/accuracy_ci_low"] == pytest.approx(out["lo"]) and m["eval/accuracy_ci_high"] == pytest.approx(out["hi"])
    assert {"eval/f1_macro", "eval/f1_micro"} <= set(m)
    assert out["artifacts"] == ["eval/report.json"] and out["json_task"] == "classification"
    assert out["runs"] == 1
