"""Real Pipelines through the local model hub: push, pull, integrity checks (root=tmp_path, never the user's hub)."""
from __future__ import annotations
import json
import os
import stat
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from _util import run_python

from mlzoo_nb.core import data
from mlzoo_nb.core.errors import IntegrityError
from mlzoo_nb.models import hub
from mlzoo_nb.models.pipeline import Pipeline
from mlzoo_nb.models.zoo import zoo


def _same_state(a: Pipeline, b: Pipeline):
    sa, sb = a.module.state_dict(), b.module.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa: assert torch.equal(sa[k], sb[k]), k


@pytest.fixture
def iris_pipe():
    pipe = zoo.create("tabular/mlp-iris")
    pipe.fit(data.load("iris"), epochs=2, progress=False)
    return pipe


def _flip_byte(path, offset: int):
    b = bytearray(path.read_bytes())
    b[offset] ^= 0x01
    path.write_bytes(bytes(b))


def test_push_pull_tabular_pipeline(iris_pipe, tmp_path):
    root = tmp_path / "hub"
    res = hub.push(iris_pipe, "me/iris", root=root, metadata={"epochs": 2})
    assert res.new and res.name == "me/iris" and res.n_files >= 2
    assert hub.list_models(root=root)["name"].tolist() == ["me/iris"]
    assert hub.revisions("me/iris", root=root) == [res.revision]
    pulled = hub.pull("me/iris", root=root)
    assert isinstance(pulled, Pipeline) and pulled.recipe == "tabular/mlp-iris" and pulled.labels == iris_pipe.labels
    _same_state(iris_pipe, pulled)
    x = data.load("iris").inputs
    np.testing.assert_array_equal(pulled.predict_proba(x), iris_pipe.predict_proba(x))
    np.testing.assert_array_equal(pulled.predict(x), iris_pipe.predict(x))
    # pushing the same content again is the same revision, not a new one
    again = hub.push(iris_pipe, "me/iris", root=root, metadata={"epochs": 2})
    assert again.revision == res.revision and not again.new
    assert hub.pull(f"me/iris@{res.revision}", root=root, as_path=True).name == res.revision


def test_default_hub_root_is_mlzoo_hub(iris_pipe, isolated_cache):
    "Without root=, push/pull use $MLZOO_HUB (here the test's tmp folder, never the user's hub)."
    res = hub.push(iris_pipe, "me/iris")
    assert str(isolated_cache["hub"]) in res.path
    assert isinstance(hub.pull("me/iris"), Pipeline)


def test_tampered_weights_refused(iris_pipe, tmp_path):
    root = tmp_path / "hub"
    res = hub.push(iris_pipe, "me/iris", root=root)
    weights = hub.pull("me/iris", root=root, as_path=True) / "model.safetensors"
    size = weights.stat().st_size
    _flip_byte(weights, size - 3)  # a byte of tensor data: same size, different content
    assert weights.stat().st_size == size
    with pytest.raises(IntegrityError, match="model.safetensors"):
        hub.pull("me/iris", root=root)
    with pytest.raises(IntegrityError):
        hub.pull("me/iris", root=root, as_path=True)  # the folder is not handed out either
    # pushing the same model again repairs the damaged copy
    assert hub.push(iris_pipe, "me/iris", root=root).revision == res.revision
    _same_state(iris_pipe, hub.pull("me/iris", root=root))


def test_tampered_manifest_refused(iris_pipe, tmp_path):
    "Rewriting the manifest to match tampered weights is caught too (the revision is the manifest's hash)."
    from mlzoo_nb.core.io import sha256_file
    root = tmp_path / "hub"
    hub.push(iris_pipe, "me/iris", root=root)
    folder = hub.pull("me/iris", root=root, as_path=True)
    _flip_byte(folder / "model.safetensors", (folder / "model.safetensors").stat().st_size - 3)
    m = json.loads((folder / "manifest.json").read_text())
    m["files"]["model.safetensors"]["sha256"] = sha256_file(folder / "model.safetensors")
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IntegrityError):
        hub.pull("me/iris", root=root)


def test_bert_tiny_with_tokenizer_subfolder_round_trips(tmp_path):
    root = tmp_path / "hub"
    pipe = zoo.create("text/bert-tiny")
    ds = data.synthetic_text("sentiment", n=64)
    pipe.fit(ds, epochs=1, batch_size=16, progress=False)
    res = hub.push(pipe, "me/bert-tiny", root=root)
    files = hub.info("me/bert-tiny", root=root)["files"]
    assert "tokenizer/tokenizer.json" in files and "model.safetensors" in files and "config.json" in files
    assert res.n_files == len(files)
    pulled = hub.pull("me/bert-tiny", root=root)
    assert pulled.recipe == "text/bert-tiny"
    _same_state(pipe, pulled)
    texts = ds.inputs[:16]
    assert pulled.preprocessor.tokenizer(texts)["input_ids"] == pipe.preprocessor.tokenizer(texts)["input_ids"]
    np.testing.assert_array_equal(pulled.predict_proba(texts), pipe.predict_proba(texts))
    # a changed tokenizer file (in the subfolder) is refused as well
    folder = hub.pull("me/bert-tiny", root=root, as_path=True)
    tok = folder / "tokenizer" / "tokenizer.json"
    tok.write_text(tok.read_text().replace('"[UNK]"', '"[UNX]"', 1))
    with pytest.raises(IntegrityError, match="tokenizer/tokenizer.json"):
        hub.pull("me/bert-tiny", root=root)


def test_extra_file_in_revision_refused(tmp_path):
    root = tmp_path / "hub"
    pipe = zoo.create("text/bert-tiny")
    hub.push(pipe, "me/bert-tiny", root=root)
    folder = hub.pull("me/bert-tiny", root=root, as_path=True)
    (folder / "tokenizer" / "special_tokens_map.json.py").write_text("print('hi')\n")
    with pytest.raises(IntegrityError, match="unexpected"):
        hub.pull("me/bert-tiny", root=root)


def test_tabular_fit_predict_emit_no_warnings():
    "In a fresh process (torch shows that warning once per process), fitting and predicting warn about nothing."
    run_python(textwrap.dedent("""
        import warnings
        from mlzoo_nb.models.zoo import zoo
        from mlzoo_nb.core import data
        ds = data.load("iris")
        pipe = zoo.create("tabular/mlp-iris")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipe.fit(ds, epochs=1, progress=False)
            pipe.predict(ds.inputs)
        assert not caught, [f"{w.filename}:{w.lineno}: {w.message}" for w in caught]
    """), timeout=120)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try: yield
    finally: os.umask(old)


def test_saved_and_pushed_models_respect_the_umask(iris_pipe, tmp_path, umask_022):
    saved = iris_pipe.save(tmp_path / "m")
    rev = Path(hub.push(iris_pipe, "team/iris", root=tmp_path / "hub").path)
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode)
             for top in (saved, rev) for p in [top, *top.rglob("*")]}
    private = {k: oct(m) for k, m in modes.items() if not m & stat.S_IROTH}
    assert not private, f"not world-readable under umask 022: {private}"
