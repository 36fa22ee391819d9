"Saved zoo pipelines shared by the tests/test_serve_*.py files (built once per test session, in a temp folder)."
from __future__ import annotations
import functools, tempfile
from pathlib import Path


@functools.lru_cache(maxsize=1)
def saved_models() -> dict:
    "{'iris': Path, 'bert': Path, 'llama': Path}: mlp-iris fitted briefly, text/bert-tiny, lm/llama-tiny."
    from mlzoo_nb.models.zoo import zoo
    from mlzoo_nb.core.data import iris
    root = Path(tempfile.mkdtemp(prefix="mlzoo_serve_models_"))
    p = zoo.create("tabular/mlp-iris"); p.fit(iris(), epochs=3, progress=False); p.save(root / "iris")
    zoo.create("text/bert-tiny").save(root / "bert")
    zoo.create("lm/llama-tiny").save(root / "llama")
    return {k: root / k for k in ("iris", "bert", "llama")}


@functools.lru_cache(maxsize=4)
def loaded(name: str):
    "The Pipeline saved as `name`, loaded once."
    from mlzoo_nb.models.pipeline import Pipeline
    return Pipeline.load(saved_models()[name])
