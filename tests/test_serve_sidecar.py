"The NDJSON sidecar as a real child process: every method, concurrency, cancel, streaming, bad lines, shutdown."
from __future__ import annotations
import importlib.util
import json, signal, subprocess, sys, time
import pytest
from serve_fixtures import saved_models, loaded
from mlzoo_nb.serve.sidecar import SidecarClient, SidecarError, SIDECAR_CMD, protocol_schema, METHODS


@pytest.fixture(scope="module")
def client():
    m = saved_models()
    with SidecarClient([m["iris"], f"lm={m['llama']}"], args=["--max-wait-ms", "20"]) as c:
        yield c


def rows(n=4):
    from mlzoo_nb.core.data import iris
    return iris().inputs.values[:n].tolist()


def test_list_load_unload_predict(client):
    names = {m["name"] for m in client.request("models.list")["models"]}
    assert names == {"iris", "lm"}
    info = client.request("models.load", path=str(saved_models()["bert"]), name="bert")
    assert info["input"]["kind"] == "text" and info["version"] == "1"
    out = client.request("predict", model="bert", inputs=["a good film", "a bad film"])
    assert [p["label"] for p in out["predictions"]] == list(loaded("bert").predict(["a good film", "a bad film"]))
    assert client.request("models.unload", name="bert") == {"unloaded": ["1"]}
    with pytest.raises(SidecarError, match="not_found"): client.request("predict", model="bert", inputs=["x"])
    out = client.request("predict", model="iris", inputs=rows(6))
    from mlzoo_nb.core.data import iris
    assert [p["label"] for p in out["predictions"]] == list(loaded("iris").predict(iris().inputs[:6]))
    probs = out["predictions"][0]["probabilities"]
    assert abs(sum(probs.values()) - 1) < 1e-6


def test_explain_health_and_params(client):
    if importlib.util.find_spec("mlzoo_nb.explain") is None:  # without the explain package: a coded error, the sidecar goes on
        with pytest.raises(SidecarError, match="explain_unavailable"):
            client.request("explain", {"model": "iris", "inputs": rows(1), "method": "ig"})
    else:
        ex = client.request("explain", {"model": "iris", "inputs": rows(1), "method": "ig"})
        assert len(ex["explanation"]["scores"]) == 4 and ex["explanation"]["method"] == "ig"
    h = client.request("health")
    assert h["status"] == "ok" and h["ready"] and h["protocol"] == 1
    with pytest.raises(SidecarError, match="invalid_params"): client.request("predict", model="iris")
    with pytest.raises(SidecarError, match="invalid_params"): client.request("predict", model="iris", inputs=[[1, 2]])
    with pytest.raises(SidecarError, match="invalid_params"): client.request("generate", model="lm", prompt=3)
    with pytest.raises(SidecarError, match="invalid_params"): client.request("generate", model="iris", prompt="hi")


def test_streaming_generate(client):
    gen = client.stream(model="lm", prompt="hello", max_new_tokens=12)
    parts = []
    try:
        while True: parts.append(next(gen))
    except StopIteration as stop: final = stop.value
    assert len(parts) >= 2 and final["text"] == "".join(parts) and final["n_pieces"] == len(parts)


def test_out_of_order_and_cancel(client):
    slow, qs = client.send("generate", {"model": "lm", "prompt": "once upon", "max_new_tokens": 200})
    fast = [client.send("health") for _ in range(3)] + [client.send("predict", {"model": "iris", "inputs": rows(2)})]
    for rid, q in fast: client._final(rid, q, 30)
    # the fast requests were answered while the slow one was still running: responses arrived out of request order
    finals = [m["id"] for m in client.received if ("result" in m or "error" in m) and m["id"] in {slow, *[r for r, _ in fast]}]
    assert slow not in finals
    assert client.request("cancel", id=slow) == {"cancelled": True}
    with pytest.raises(SidecarError, match="cancelled"): client._final(slow, qs, 30)
    assert client.request("cancel", id="no-such-id") == {"cancelled": False}


def test_malformed_lines_keep_going(client):
    before = len(client.stray)
    for line in ["{not json", "[]", '{"method": "health"}', '{"id": 1.5, "method": "health"}', '{"id": "q1", "method": "fly"}',
                 '{"id": "q2", "method": "health", "params": [1]}', '{"id": "q3", "v": 2, "method": "health"}', "\x00\xff"]:
        client.send_raw(line)
    deadline = time.time() + 20
    while len(client.stray) - before < 8 and time.time() < deadline: time.sleep(0.02)
    got = client.stray[before:]
    codes = sorted(m["error"]["code"] for m in got)
    assert codes == sorted(["parse_error", "invalid_request", "invalid_request", "invalid_request", "unknown_method",
                            "invalid_params", "invalid_request", "parse_error"]), got
    assert client.request("health")["status"] == "ok"
    dup, q = client.send("generate", {"model": "lm", "prompt": "x", "max_new_tokens": 200}, id="dup")
    client.send_raw(json.dumps({"id": "dup", "method": "health"}))
    first = q.get(timeout=20)
    while "partial" in first: first = q.get(timeout=20)
    assert first["error"]["code"] == "duplicate_id"
    client.request("cancel", id="dup")
    with pytest.raises(SidecarError, match="cancelled"): client._final(dup, q, 30)


def test_schema_lists_every_method():
    s = protocol_schema()
    assert s["$defs"]["request"]["properties"]["method"]["enum"] == list(METHODS)
    assert set(METHODS) == {"models.list", "models.load", "models.unload", "predict", "explain", "generate", "cancel", "health", "shutdown"}


def _spawn(*models):
    argv = SIDECAR_CMD + [a for m in models for a in ("--model", str(m))]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_eof_finishes_in_flight():
    m = saved_models()
    p = _spawn(m["iris"], m["llama"])
    reqs = [{"id": i, "method": "predict", "params": {"model": "iris", "inputs": rows(3)}} for i in range(20)]
    reqs.append({"id": "g", "method": "generate", "params": {"model": "llama", "prompt": "hi", "max_new_tokens": 12}})
    out, err = p.communicate(("\n".join(json.dumps(r) for r in reqs) + "\n").encode(), timeout=60)
    assert p.returncode == 0, err.decode()[-2000:]
    msgs = [json.loads(l) for l in out.decode().splitlines()]
    finals = {m["id"] for m in msgs if "result" in m}
    assert finals == set(range(20)) | {"g"}
    assert all("result" in m or "partial" in m for m in msgs)


def test_sigterm_and_shutdown():
    m = saved_models()
    p = _spawn(m["llama"])
    p.stdin.write(b'{"id": "h", "method": "health"}\n'); p.stdin.flush()
    assert json.loads(p.stdout.readline())["id"] == "h"  # up and serving
    p.stdin.write(b'{"id": "g", "method": "generate", "params": {"model": "llama", "prompt": "hi", "max_new_tokens": 24}}\n')
    p.stdin.flush()
    assert "partial" in json.loads(p.stdout.readline())
    p.send_signal(signal.SIGTERM)
    rest = [json.loads(l) for l in p.stdout.read().decode().splitlines()]
    assert p.wait(30) == 0
    assert rest[-1]["id"] == "g" and "result" in rest[-1]  # the in-flight generate finished before exit
    # (the `shutdown` method is tested at the end of test_serve_fuzz.py, on the sidecar the fuzzer used)
