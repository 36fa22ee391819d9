"A Node.js client written from the protocol docs alone drives the sidecar (needs `node` on PATH)."
from __future__ import annotations
import json, shutil, subprocess, sys
from pathlib import Path
import pytest
from serve_fixtures import saved_models, loaded


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_client():
    m = saved_models()
    out = subprocess.run(["node", str(Path(__file__).parent / "serve_node_client.mjs"), sys.executable, str(m["iris"]), str(m["llama"])],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    import pandas as pd
    from mlzoo_nb.core.data import iris
    rows = pd.DataFrame([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], columns=iris().inputs.columns)
    assert r["models"] == ["iris", "lm"]
    assert r["labels"] == list(loaded("iris").predict(rows))
    assert (r["badCode"], r["unknownCode"], r["healthy"], r["exitCode"]) == ("invalid_params", "unknown_method", "ok", 0)
    assert r["genText"] == "".join(r["genPartials"]) and len(r["genPartials"]) >= 2
