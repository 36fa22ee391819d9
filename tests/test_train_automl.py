"""Two processes working on one Optuna study through its sqlite storage."""
from __future__ import annotations
import subprocess
import sys

import pytest
from _util import subprocess_env

pytestmark = pytest.mark.distributed  # a second process tunes alongside this one (~15 s)

TUNE = r'''
import sys
from mlzoo_nb.train.automl import tune
from mlzoo_nb.core import data
train, val = data.iris().split(test_size=0.3, seed=0)
tune("tabular/mlp-iris", train, val, space={"lr": ("log", 1e-3, 1e-1)}, n_trials=3, epochs=2, batch_size=32,
     study_name="shared", storage=sys.argv[1], tracker=None, progress=False, seed=int(sys.argv[2]))
'''


def test_two_processes_share_one_study(tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    monkeypatch.setenv("MLZOO_DIR", str(tmp_path / ".mlzoo"))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    from mlzoo_nb.train.automl import tune
    from mlzoo_nb.core import data
    import optuna
    train, val = data.iris().split(test_size=0.3, seed=0)
    tune("tabular/mlp-iris", train, val, space={"lr": ("log", 1e-3, 1e-1)}, n_trials=1, epochs=1, batch_size=32,
         study_name="shared", storage=storage, tracker=None, progress=False)      # create the study first
    other = subprocess.Popen([sys.executable, "-c", TUNE, storage, "1"], env=subprocess_env(MLZOO_DIR=str(tmp_path / ".mlzoo")),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    res = tune("tabular/mlp-iris", train, val, space={"lr": ("log", 1e-3, 1e-1)}, n_trials=3, epochs=2, batch_size=32,
               study_name="shared", storage=storage, tracker=None, progress=False, seed=2)
    out, _ = other.communicate(timeout=300)
    assert other.returncode == 0, out[-3000:]
    study = optuna.load_study(study_name="shared", storage=storage)
    assert len(study.trials) == 7 and {t.state.name for t in study.trials} <= {"COMPLETE", "PRUNED"}
    assert len({t.number for t in study.trials}) == 7                          # no trial number given twice
    assert res.best_value == pytest.approx(study.best_value)
