"""Tracking against a real MLflow server: a run made while the server is down is buffered, then flushed into it."""
from __future__ import annotations
import socket
import warnings

import pytest
from _train_util import shared_mlflow_cache  # noqa: F401 (fixture)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_unreachable_server_then_flush_into_mlflow_ui(tmp_path, monkeypatch, shared_mlflow_cache):
    pytest.importorskip("mlflow")
    port = _free_port()
    monkeypatch.setenv("MLZOO_DIR", str(tmp_path / ".mlzoo"))
    monkeypatch.setenv("MLZOO_CACHE", str(shared_mlflow_cache))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")     # nothing listens there yet
    from mlzoo_nb.train.trainer import fit
    from mlzoo_nb.train.tracking import TrackingWarning, flush_pending, mlflow_ui, compare_runs
    from mlzoo_nb.models.zoo import zoo
    from mlzoo_nb.core import data
    train, val = data.iris().split(test_size=0.3, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit(zoo.create("tabular/mlp-iris", seed=0), train, val, epochs=3, lr=1e-2, batch_size=16,
                  tracker="mlflow", progress=False)
    tracking_warnings = [w for w in caught if issubclass(w.category, TrackingWarning)]
    assert len(tracking_warnings) == 1 and "unreachable" in str(tracking_warnings[0].message)   # one warning
    assert res.run_id is None and len(res.history) == 3                        # training itself went on

    # the server comes up (the `mlzoo dashboard` function, on a sqlite store of its own): nothing was lost
    with mlflow_ui(port=port, backend_uri=f"sqlite:///{tmp_path / 'server.db'}", artifacts=tmp_path / "server-artifacts") as ui:
        assert ui.url == f"http://127.0.0.1:{port}"
        sent = flush_pending()
        assert len(sent) == 1 and all(sent.values())
        run_id = next(iter(sent.values()))
        import mlflow
        client = mlflow.MlflowClient(ui.url)
        assert sorted(m.step for m in client.get_metric_history(run_id, "train/loss")) == res.steps.step.tolist()
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED" and run.data.params["recipe"] == "tabular/mlp-iris"
        assert run.data.metrics["val/acc"] == pytest.approx(res.metrics["val/acc"])
        assert {a.path for a in client.list_artifacts(run_id)} >= {"model", "steps.csv"}
        cmp = compare_runs([run_id], uri=ui.url)
        assert cmp.table.run_id.tolist() == [run_id] and len(cmp.figure("train/loss").data) == 1
    assert ui.process.poll() is not None                                      # stopped with the block
    assert not list((tmp_path / ".mlzoo" / "spool").glob("*.jsonl"))         # nothing left to send
