"""Helpers for the training tests (tests/test_train_*.py)."""
from __future__ import annotations
import pytest


@pytest.fixture(scope="session")
def shared_mlflow_cache(tmp_path_factory):
    "One MLZOO_CACHE for the training tests' child processes: MLflow's empty schema is built once (~5 s), then copied."
    return tmp_path_factory.getbasetemp() / "train-cache"
