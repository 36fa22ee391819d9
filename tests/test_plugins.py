"""Third-party plugins through the `mlzoo_nb.plugins` entry-point group, with real installed packages.

Plugins are loaded once per process, so every check runs in a fresh child interpreter.
"""
from __future__ import annotations
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _util import FIXTURES, run_python, subprocess_env

DEMO_DIST = "mlzoo-plugin-demo"


def _pip(*args, timeout=300) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0: pytest.fail(f"pip {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def _copy_fixture(name: str, tmp_path: Path) -> Path:
    "A copy of tests/fixtures/<name> in tmp_path, so build artefacts (build/, *.egg-info) never land in the repo."
    dst = tmp_path / name
    shutil.copytree(FIXTURES / name, dst, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return dst


@pytest.fixture
def venv_lock():
    "Serialise changes to this venv's site-packages across xdist workers and concurrent pytest runs."
    from filelock import FileLock
    with FileLock(str(Path(sys.prefix) / ".mlzoo-test-plugin-install.lock"), timeout=600):
        yield


@pytest.fixture
def demo_plugin_installed(tmp_path, venv_lock):
    "The demo plugin pip-installed into this venv for the duration of one test, uninstalled afterwards."
    src = _copy_fixture("mlzoo_plugin_demo", tmp_path)
    _pip("uninstall", "-y", DEMO_DIST)  # a leftover from an interrupted run
    _pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(src))
    try:
        yield src
    finally:
        _pip("uninstall", "-y", DEMO_DIST)


@pytest.mark.heavy
def test_demo_plugin_recipe_fit_predict_save_load(demo_plugin_installed, tmp_path):
    saved = tmp_path / "saved-demo"
    # 1. discover, create, fit, predict, save: one fresh process
    out = run_python(textwrap.dedent(f"""
        import json, sys, warnings
        import numpy as np
        from mlzoo_nb.models.zoo import zoo
        from mlzoo_nb.core.registry import backbones, load_plugins, plugin_errors
        from mlzoo_nb.core import data
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = zoo.list()
        assert not [w for w in caught if "plugin" in str(w.message)], [str(w.message) for w in caught]
        assert "demo/linear-iris" in list(table["name"]), list(table["name"])
        assert "tabular/mlp-iris" in list(table["name"])  # built-ins still there
        row = table.set_index("name").loc["demo/linear-iris"]
        assert row["task"] == "classification" and row["modality"] == "tabular", row
        assert "demo" in load_plugins() and "demo" not in plugin_errors(), (load_plugins(), plugin_errors())
        assert "demo-linear" in backbones
        pipe = zoo.create("demo/linear-iris")
        assert pipe.recipe == "demo/linear-iris" and type(pipe.backbone).__name__ == "LinearBackbone"
        assert pipe.n_params == row["params"], (pipe.n_params, row["params"])
        train, test = data.load("iris").split(0.3, seed=0)
        res = pipe.fit(train, epochs=30, lr=0.05, batch_size=16, progress=False)
        after = pipe.evaluate(test)["accuracy"]
        assert len(res.history) == 30 and res.final_loss < res.history["train_loss"].iloc[0]
        assert after >= 0.85, after
        pred = pipe.predict(test.inputs)
        assert set(pred) <= set(pipe.labels) and (pred == np.asarray(test.targets)).mean() == after
        pipe.save({str(saved)!r})
        np.save({str(tmp_path / "proba.npy")!r}, pipe.predict_proba(test.inputs))
        print(json.dumps({{"accuracy": after}}))
    """))
    print(out.stdout)
    cfg = json.loads((saved / "config.json").read_text())
    assert cfg["backbone"]["type"] == "demo-linear" and cfg["recipe"] == "demo/linear-iris"
    assert cfg["backbone"]["config"] == {"in_features": 4, "out_features": 16}
    # 2. load in another fresh process: the backbone type resolves through the plugin, by its registry name only
    run_python(textwrap.dedent(f"""
        import sys
        import numpy as np
        from mlzoo_nb.models.pipeline import Pipeline
        from mlzoo_nb.core import data
        assert "mlzoo_plugin_demo" not in sys.modules
        pipe = Pipeline.load({str(saved)!r})
        assert type(pipe.backbone).__module__ == "mlzoo_plugin_demo.backbone", type(pipe.backbone)
        _, test = data.load("iris").split(0.3, seed=0)
        np.testing.assert_array_equal(pipe.predict_proba(test.inputs), np.load({str(tmp_path / "proba.npy")!r}))
        s = Pipeline.load({str(saved)!r}).module.state_dict()
        assert all(np.array_equal(v.numpy(), s[k].numpy()) for k, v in pipe.module.state_dict().items())
    """))


def test_saved_plugin_model_without_plugin_names_the_missing_type(tmp_path):
    "A model whose backbone type no installed plugin provides fails with UnknownNameError, not a crash."
    from mlzoo_nb.models.zoo import zoo
    from mlzoo_nb.models.pipeline import Pipeline
    from mlzoo_nb.core.errors import UnknownNameError
    from mlzoo_nb.core import data
    pipe = zoo.create("tabular/mlp-iris")
    pipe.fit(data.load("iris"), epochs=1, progress=False)
    pipe.save(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["backbone"]["type"] = "demo-lineer"  # a plugin type that is not installed
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UnknownNameError, match="unknown backbone 'demo-lineer'"):
        Pipeline.load(tmp_path / "m")


@pytest.mark.heavy
def test_broken_plugin_warns_and_zoo_still_works(tmp_path):
    """A plugin whose register() raises, and one whose module is missing: both give a warning and a
    plugin_errors() entry, and the built-in recipes still list and build.

    Installed with `pip --target` into tmp_path (a real installed distribution, seen through PYTHONPATH), so a
    broken plugin never sits in the shared venv where the other xdist worker could load it."""
    src = _copy_fixture("mlzoo_plugin_broken", tmp_path)
    target = tmp_path / "site"
    _pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(src))
    assert any(target.glob("mlzoo_plugin_broken-*.dist-info/entry_points.txt"))
    code = textwrap.dedent("""
        import json, warnings
        from mlzoo_nb.models.zoo import zoo
        from mlzoo_nb.core.registry import load_plugins, plugin_errors
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            names = zoo.names()
        msgs = [str(w.message) for w in caught]
        errs = plugin_errors()
        assert "broken" in errs and "deliberately broken register()" in errs["broken"], errs
        assert "broken-import" in errs and "ModuleNotFoundError" in errs["broken-import"], errs
        assert any("'broken'" in m and "failed to load" in m for m in msgs), msgs
        assert any("'broken-import'" in m and "failed to load" in m for m in msgs), msgs
        assert "broken" not in load_plugins() and "broken-import" not in load_plugins()
        assert {"tabular/mlp-iris", "text/bert-tiny", "lm/llama-tiny"} <= set(names), names
        assert "tabular/mlp-iris" in list(zoo.list()["name"])
        pipe = zoo.create("tabular/mlp-iris")
        assert pipe.recipe == "tabular/mlp-iris"
        # a second lookup does not retry (nor warn again about) the broken plugins
        with warnings.catch_warnings(record=True) as again:
            warnings.simplefilter("always")
            zoo.names()
        assert not again, [str(w.message) for w in again]
        print(json.dumps(errs))
    """)
    import os
    pythonpath = os.pathsep.join([str(target), *filter(None, [os.environ.get("PYTHONPATH")])])
    out = run_python(code, env=subprocess_env(PYTHONPATH=pythonpath))
    print(out.stdout)
