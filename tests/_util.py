"""Helpers shared by the test modules (imported as `from _util import ...`; pytest puts tests/ on sys.path)."""
from __future__ import annotations
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def subprocess_env(**extra) -> dict:
    "The environment for a child python: this one (isolated cache, offline flags) plus `extra`."
    env = dict(os.environ)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_python(code: str, *, cwd=None, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    "Run `code` in a fresh interpreter of this venv; fail the test with its output if it exits non-zero."
    p = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env or subprocess_env(), capture_output=True,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        pytest.fail(f"child python exited {p.returncode}\n--- stdout ---\n{p.stdout[-4000:]}\n--- stderr ---\n{p.stderr[-4000:]}")
    return p
