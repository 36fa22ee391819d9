"Hypothesis throws bad inputs at the REST server, the gRPC server and the sidecar: no 5xx, no crash, no hang."
from __future__ import annotations
import json, time
import grpc, httpx, pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from serve_fixtures import saved_models
from mlzoo_nb.serve.batching import ModelService
from mlzoo_nb.serve.server import serve_in_thread
from mlzoo_nb.serve.grpc import grpc_stub, proto_modules
from mlzoo_nb.serve.sidecar import SidecarClient, METHODS, ERROR_CODES

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda kids: st.lists(kids, max_size=6) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
                           max_leaves=30)
models = st.sampled_from(["iris", "bert", "ghost", "", "../x", "%2e%2e"])
KEYS = ["model", "inputs", "prompt", "max_new_tokens", "id", "path", "name", "version", "method", "target"]
params = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5)


@pytest.fixture(scope="module")
def servers():
    m = saved_models()
    svc = ModelService(max_batch_size=8, max_wait_ms=2)
    for name in ("iris", "bert"): svc.load(m[name])  # no LM: a valid generate would be slow, not interesting
    with serve_in_thread(svc, max_body_bytes=20_000) as s:
        s.http = httpx.Client(base_url=s.url, timeout=30)
        s.stub, channel = grpc_stub(s.grpc_target)
        yield s
        s.http.close(); channel.close()


@FUZZ
@given(model=models, endpoint=st.sampled_from(["predict", "explain", "generate"]), body=json_values)
def test_rest_json_bodies(servers, model, endpoint, body):
    r = servers.http.post(f"/v1/models/{model}/{endpoint}", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text


@FUZZ
@given(model=models, inputs=json_values, raw=st.binary(max_size=200))
def test_rest_inputs_and_raw_bytes(servers, model, inputs, raw):
    r = servers.http.post(f"/v1/models/{model}/predict", content=json.dumps({"inputs": inputs}), headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text
    r = servers.http.post(f"/v1/models/{model}/predict", content=raw, headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text


@FUZZ
@given(model=models, inputs=json_values | st.text(max_size=40), version=st.text(max_size=5))
def test_grpc_predict(servers, model, inputs, version):
    pb = proto_modules()[0]
    text = inputs if isinstance(inputs, str) else json.dumps(inputs)
    for call, req in ((servers.stub.Predict, pb.PredictRequest(model=model, version=version, inputs_json=text)),
                      (servers.stub.Explain, pb.ExplainRequest(model=model, version=version, inputs_json=text, method=version))):
        try: call(req, timeout=30)
        except grpc.RpcError as e:
            assert e.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED), e


def test_servers_still_healthy(servers):
    assert servers.http.get("/healthz").json()["status"] == "ok"
    assert servers.http.post("/v1/models/iris/predict", json={"inputs": [[5.1, 3.5, 1.4, 0.2]]}).status_code == 200


@pytest.fixture(scope="module")
def sidecar():
    m = saved_models()
    with SidecarClient([m["iris"], m["bert"]]) as c: yield c


@FUZZ
@given(method=st.sampled_from([x for x in METHODS if x != "shutdown"]) | st.text(max_size=12), p=params)
def test_sidecar_requests(sidecar, method, p):
    rid, q = sidecar.send(method, p)
    msg = q.get(timeout=30)  # an answer always comes (no hang)
    while "partial" in msg: msg = q.get(timeout=30)
    assert msg["id"] == rid
    if "error" in msg: assert msg["error"]["code"] in ERROR_CODES and msg["error"]["code"] != "internal", msg


@FUZZ
@given(line=st.text(max_size=80) | json_values.map(json.dumps))
def test_sidecar_raw_lines(sidecar, line):
    sidecar.send_raw(line.replace("\n", " ").replace("\r", " "))
    assert sidecar.proc.poll() is None


def test_sidecar_survived(sidecar):
    time.sleep(0.5)
    assert sidecar.request("health")["status"] == "ok"
    assert not any(m.get("error", {}).get("code") == "internal" for m in sidecar.received)
    # `shutdown` with stdin still open: an in-flight predict still gets its answer, then the process exits 0
    rid, q = sidecar.send("predict", {"model": "iris", "inputs": [[5.1, 3.5, 1.4, 0.2]]})
    assert sidecar.request("shutdown") == {"ok": True}
    assert "result" in q.get(timeout=30)
    assert sidecar.proc.wait(30) == 0
