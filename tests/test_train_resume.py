"""Crash and resume: kill -9 a training process mid-epoch, resume it, and get the uninterrupted run's result.

The MLflow run is continued, not restarted: same run id, every step logged exactly once.
"""
from __future__ import annotations
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from _util import subprocess_env
from _train_util import shared_mlflow_cache  # noqa: F401 (fixture)

pytestmark = pytest.mark.distributed  # spawns training subprocesses (~30 s)

SCRIPT = r'''
import json, os, sys, time
import torch
torch.set_num_threads(1)
from mlzoo_nb.train.trainer import fit, L
from mlzoo_nb.models.zoo import zoo
from mlzoo_nb.core import data

mode, out = sys.argv[1], sys.argv[2]
train, val = data.wine().split(test_size=0.3, seed=0)

class Hang(L.Callback):
    "In epoch 3, after two steps: tell the parent, then wait to be killed."
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.current_epoch == 2 and batch_idx == 1:
            open(out + ".ready", "w").close(); time.sleep(600)

def run(name, resume, callbacks=()):
    pipe = zoo.create("tabular/mlp-wine", hidden=(16,), seed=0)
    res = fit(pipe, train, val, epochs=4, lr=1e-2, batch_size=16, seed=3, run_name=name, resume=resume,
              tracker="mlflow", progress=False, callbacks=list(callbacks))
    return {"steps": res.steps["step"].tolist(), "loss": res.steps["train/loss"].tolist(),
            "metrics": res.metrics, "run_id": res.run_id, "eval": pipe.evaluate(val)}

if mode == "crash": run("crashy", False, [Hang()])
else: json.dump({"resumed": run("crashy", True), "reference": run("clean", False)}, open(out, "w"))
'''


def test_kill9_then_resume_matches_uninterrupted(tmp_path, shared_mlflow_cache):
    script = tmp_path / "train.py"; script.write_text(SCRIPT)
    env = subprocess_env(MLZOO_DIR=str(tmp_path / ".mlzoo"), MLZOO_CACHE=str(shared_mlflow_cache), MLFLOW_TRACKING_URI="")
    env.pop("MLFLOW_TRACKING_URI")
    out = tmp_path / "result.json"
    child = subprocess.Popen([sys.executable, str(script), "crash", str(out)], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not (tmp_path / "result.json.ready").exists():
        assert child.poll() is None, f"the training process ended before the crash point:\n{child.stdout.read()[-3000:]}"
        assert time.monotonic() < deadline, "the training process never reached epoch 3"
        time.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL); child.wait(30)
    assert child.returncode == -signal.SIGKILL

    run_dir = tmp_path / ".mlzoo" / "runs" / "crashy"
    crashed = json.loads((run_dir / "run.json").read_text())["tracker"]
    spool = tmp_path / ".mlzoo" / "spool" / f"{crashed['local_id']}.jsonl"
    assert spool.is_file()  # the uncommitted steps of epoch 3 were in the spool when the process died

    p = subprocess.run([sys.executable, str(script), "resume", str(out)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    res = json.loads(out.read_text())
    resumed, ref = res["resumed"], res["reference"]

    assert resumed["run_id"] == crashed["run_id"]                         # the same MLflow run, continued
    assert resumed["steps"] == ref["steps"] == list(range(1, len(ref["steps"]) + 1))
    assert resumed["loss"] == pytest.approx(ref["loss"], abs=1e-6)        # every step, the same numbers
    assert resumed["metrics"] == pytest.approx(ref["metrics"], abs=1e-6)
    assert resumed["eval"] == pytest.approx(ref["eval"], abs=1e-6)

    import mlflow
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / '.mlzoo' / 'mlflow.db'}")
    logged = sorted(m.step for m in client.get_metric_history(resumed["run_id"], "train/loss"))
    assert logged == ref["steps"]                                         # no duplicated, no missing step
    run = client.get_run(resumed["run_id"])
    assert run.info.status == "FINISHED" and run.data.metrics["val/acc"] == pytest.approx(ref["metrics"]["val/acc"])
