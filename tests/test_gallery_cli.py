"""`mlzoo gallery run` and `mlzoo leaderboard` as a user runs them: real subprocesses, real papermill, real files."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gallery"
MLZOO = [str(Path(sys.executable).parent / "mlzoo")]  # the installed console script, as a user runs it


def mlzoo(*args, cwd):
    return subprocess.run([*MLZOO, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def gallery(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "gallery")
    return tmp_path


def test_failing_notebook_is_reported_and_the_rest_still_run(gallery):
    r = mlzoo("gallery", "run", "--jobs", "2", "-p", "score=0.5", cwd=gallery)
    assert r.returncode == 1, r.stderr
    assert "failed notebooks: b_failing" in r.stderr
    table = r.stdout
    assert "a_good" in table and "ok" in table
    assert "cell 4: RuntimeError: deliberate failure for the runner tests" in table  # where it broke
    assert (gallery / "gallery" / "_executed" / "a_good.ipynb").is_file()
    runs = list((gallery / "gallery" / "results").glob("*.json"))
    assert len(runs) == 1
    run = json.loads(runs[0].read_text())
    figs = {f["name"]: f["value"] for f in run["figures"]}
    assert figs["fixture/score"] == 0.5  # the -p value was injected
    assert {"gallery/a_good/runtime", "gallery/b_failing/runtime"} <= set(figs)  # the gallery's own cost
    assert {n["name"]: n["status"] for n in run["notebooks"]} == {"a_good": "ok", "b_failing": "failed"}


def test_two_runs_make_a_history_with_a_change_column(gallery):
    assert mlzoo("gallery", "run", "--only", "a_good", "-p", "score=0.5", cwd=gallery).returncode == 0
    assert mlzoo("gallery", "run", "--only", "a_good", "-p", "score=0.75", cwd=gallery).returncode == 0
    r = mlzoo("leaderboard", cwd=gallery)
    line = next(l for l in r.stdout.splitlines() if l.strip().startswith("fixture/score"))
    assert "0.75" in line and "▲ +50.0%" in line and line.split()[-1] == "2", line
    board = json.loads(mlzoo("leaderboard", "--json", cwd=gallery).stdout)
    row = next(b for b in board if b["name"] == "fixture/score")
    assert row["previous"] == 0.5 and row["latest"] == 0.75 and row["best"] == 0.75


@pytest.mark.parametrize("args, message", [
    (["--only", "nothing-matches"], "no gallery notebook matches 'nothing-matches'; available: a_good, b_failing"),
    (["-p", "no_equals_sign"], "expected a parameter as key=value"),
    (["--out", "gallery/a_good.ipynb/sub"], "cannot create the output folder"),
    (["--jobs", "0"], "jobs must be an int >= 1"),
])
def test_bad_input_gives_a_clear_error(gallery, args, message):
    r = mlzoo("gallery", "run", *args, cwd=gallery)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (gallery / "gallery" / "results").exists()  # nothing ran, nothing recorded
