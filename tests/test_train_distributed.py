"""Distributed training on CPU: DDP with 2 processes from a script, DeepSpeed ZeRO-2 with CPU optimizer offload."""
from __future__ import annotations
import json
import math
import subprocess
import sys

import pytest
from _util import subprocess_env

pytestmark = pytest.mark.distributed  # each test starts 2 training processes (~20 s)

DDP_SCRIPT = r'''
import json, sys
from mlzoo_nb.train.trainer import fit
from mlzoo_nb.models.zoo import zoo
from mlzoo_nb.core import data
train, val = data.breast_cancer().split(test_size=0.25, seed=0)
pipe = zoo.create("tabular/mlp-breast-cancer", seed=0)
res = fit(pipe, train, val, epochs=3, lr=1e-2, batch_size=32, strategy="ddp", devices=2, progress=False)
import torch.distributed as dist
if res.history is not None and len(res.history):   # rank 0 holds the history
    json.dump({"strategy": res.strategy, "steps": len(res.steps), "metrics": res.metrics, "world": dist.get_world_size()
               if dist.is_initialized() else None, "n_train": len(train), "eval": pipe.evaluate(val),
               "loss": res.history["train/loss"].tolist()}, open(sys.argv[1], "w"))
'''


def test_ddp_two_processes_from_a_script(tmp_path):
    script = tmp_path / "ddp.py"; script.write_text(DDP_SCRIPT)
    out = tmp_path / "out.json"
    p = subprocess.run([sys.executable, str(script), str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env=subprocess_env(MLZOO_DIR=str(tmp_path / ".mlzoo"), OMP_NUM_THREADS=1))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["strategy"] == "ddp" and r["world"] == 2                     # gloo, two processes
    assert r["steps"] == 3 * math.ceil(r["n_train"] / 2 / 32)             # each rank saw half of every epoch
    assert r["loss"][-1] < r["loss"][0] and r["metrics"]["val/acc"] > 0.9
    assert r["metrics"]["val/acc"] == pytest.approx(r["eval"]["accuracy"])   # metrics reduced over both ranks


def test_deepspeed_zero2_cpu_offload(tmp_path, monkeypatch):
    pytest.importorskip("deepspeed", reason="DeepSpeed is not installed (pip install 'mlzoo_nb[distributed]')")
    monkeypatch.setenv("MLZOO_DIR", str(tmp_path / ".mlzoo"))
    from mlzoo_nb.train.trainer import fit
    from mlzoo_nb.models.zoo import zoo
    from mlzoo_nb.core import data
    train, val = data.breast_cancer().split(test_size=0.25, seed=0)
    pipe = zoo.create("tabular/mlp-breast-cancer", seed=0)
    res = fit(pipe, train, val, epochs=3, lr=1e-2, batch_size=32, strategy="deepspeed_stage_2_offload", devices=2,
              progress=False)
    assert res.strategy == "deepspeed_stage_2_offload" and res.extra["backend"] == "deepspeed_cpu"
    assert res.extra["deepspeed_config"]["zero_optimization"]["offload_optimizer"] == {"device": "cpu"}
    assert res.history["train/loss"].iloc[-1] < 0.5 * res.history["train/loss"].iloc[0]   # the loss falls
    mem = res.extra["memory"]
    assert list(mem["rank"]) == [0, 1] and (mem["peak_rss_mb"] > 50).all()               # memory per rank
    adam_mb = 2 * 4 * pipe.n_params / 2**20                                               # exp_avg + exp_avg_sq, fp32
    assert mem["optimizer_state_mb"].tolist() == pytest.approx([adam_mb / 2] * 2, rel=0.05)  # ZeRO: sharded in two
    ev = pipe.evaluate(val)                                   # the trained weights came back into `pipe`
    assert ev["accuracy"] == pytest.approx(res.metrics["val/acc"]) and ev["accuracy"] > 0.9
