"REST and gRPC on real loopback ports: identical predictions to pipe.predict, batching, auth, size limit, validation."
from __future__ import annotations
import importlib.util
import asyncio, json
import grpc, httpx, pytest
from serve_fixtures import saved_models, loaded
from mlzoo_nb.serve.batching import ModelService
from mlzoo_nb.serve.server import serve_in_thread
from mlzoo_nb.serve.grpc import grpc_stub, proto_modules

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
META = (("authorization", f"Bearer {TOKEN}"),)


@pytest.fixture(scope="module")
def servers():
    m = saved_models()
    svc = ModelService(max_batch_size=32, max_wait_ms=20)
    for name in ("iris", "bert", "llama"): svc.load(m[name])
    with serve_in_thread(svc, token=TOKEN, max_body_bytes=50_000) as s:
        stub, channel = grpc_stub(s.grpc_target)
        s.stub, s.pb = stub, proto_modules()[0]
        yield s
        channel.close()


def iris_rows(n=10):
    from mlzoo_nb.core.data import iris
    df = iris().inputs[:n]
    return df, df.values.tolist()


def test_identical_predictions(servers):
    df, rows = iris_rows(12)
    want = list(loaded("iris").predict(df))
    probs = loaded("iris").predict_proba(df)
    r = httpx.post(f"{servers.url}/v1/models/iris/predict", json={"inputs": rows}, headers=AUTH).json()
    g = servers.stub.Predict(servers.pb.PredictRequest(model="iris", inputs_json=json.dumps(rows)), metadata=META)
    assert [p["label"] for p in r["predictions"]] == want == [p.label for p in g.predictions]
    labels = loaded("iris").labels
    for i, p in enumerate(g.predictions):
        assert [p.probabilities[l] for l in labels] == pytest.approx(probs[i].tolist(), abs=1e-6)
        assert [r["predictions"][i]["probabilities"][l] for l in labels] == pytest.approx(probs[i].tolist(), abs=1e-6)
    texts = ["a lovely day", "terrible service", "ok"]
    r = httpx.post(f"{servers.url}/v1/models/bert/predict", json={"inputs": texts}, headers=AUTH).json()
    g = servers.stub.Predict(servers.pb.PredictRequest(model="bert", inputs_json=json.dumps(texts)), metadata=META)
    assert [p["label"] for p in r["predictions"]] == list(loaded("bert").predict(texts)) == [p.label for p in g.predictions]
    models = httpx.get(f"{servers.url}/v1/models", headers=AUTH).json()["models"]
    assert {m["name"] for m in models} == {"iris", "bert", "llama"}
    assert [m.name for m in servers.stub.ListModels(servers.pb.ListModelsRequest(), metadata=META).models] == [m["name"] for m in models]


def test_batching_forms_batches(servers):
    _, rows = iris_rows(32)
    async def burst():
        async with httpx.AsyncClient(headers=AUTH, timeout=30) as c:
            return await asyncio.gather(*[c.post(f"{servers.url}/v1/models/iris/predict", json={"inputs": [r]}) for r in rows])
    b = servers.service.batcher(servers.service.registry.get("iris"))
    before = sum(b.batch_sizes.values())
    out = asyncio.run(burst())
    assert all(r.status_code == 200 for r in out)
    n_batches = sum(b.batch_sizes.values()) - before
    assert n_batches < 32 and max(b.batch_sizes) > 1, dict(b.batch_sizes)
    text = httpx.get(f"{servers.url}/metrics", headers=AUTH).text
    assert 'mlzoo_batch_size_count{model="iris"}' in text and "mlzoo_in_flight" in text and "mlzoo_queue_depth" in text
    assert 'mlzoo_request_latency_seconds_bucket' in text


def test_auth(servers):
    assert httpx.get(f"{servers.url}/v1/models").status_code == 401
    assert httpx.get(f"{servers.url}/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(f"{servers.url}/healthz").status_code == 200 and httpx.get(f"{servers.url}/readyz").status_code == 200
    with pytest.raises(grpc.RpcError) as e: servers.stub.Health(servers.pb.HealthRequest())
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert servers.stub.Health(servers.pb.HealthRequest(), metadata=META).ready


def test_size_limit_and_validation(servers):
    big = {"inputs": [[1.0, 2.0, 3.0, 4.0]] * 5000}
    assert httpx.post(f"{servers.url}/v1/models/iris/predict", json=big, headers=AUTH).status_code == 413
    with pytest.raises(grpc.RpcError) as e:
        servers.stub.Predict(servers.pb.PredictRequest(model="iris", inputs_json=json.dumps(big["inputs"])), metadata=META)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    r = httpx.post(f"{servers.url}/v1/models/iris/predict", json={"inputs": [[1, 2, "x", 4]]}, headers=AUTH)
    assert r.status_code == 422 and "expected a finite number" in r.json()["detail"]
    r = httpx.post(f"{servers.url}/v1/models/bert/predict", json={"inputs": [3]}, headers=AUTH)
    assert r.status_code == 422 and "expected strings" in r.json()["detail"]
    r = httpx.post(f"{servers.url}/v1/models/nope/predict", json={"inputs": [[1, 2, 3, 4]]}, headers=AUTH)
    assert r.status_code == 404
    with pytest.raises(grpc.RpcError) as e:
        servers.stub.Predict(servers.pb.PredictRequest(model="iris", inputs_json="[[1, 2]]"), metadata=META)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "expected 4 numbers" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        servers.stub.Predict(servers.pb.PredictRequest(model="ghost", inputs_json="[[1, 2, 3, 4]]"), metadata=META)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_generate_streams_and_explain(servers):
    with httpx.stream("POST", f"{servers.url}/v1/models/llama/generate", headers=AUTH,
                      json={"prompt": "hello", "max_new_tokens": 8, "stream": True}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [l for l in r.iter_lines() if l.startswith("data: ")]
    pieces = [json.loads(e[6:])["text"] for e in events]
    assert len(pieces) >= 3 and pieces[-1] == "".join(pieces[:-1])
    chunks = list(servers.stub.Generate(servers.pb.GenerateRequest(model="llama", prompt="hello", max_new_tokens=8), metadata=META))
    assert chunks[-1].done and chunks[-1].text == "".join(c.text for c in chunks[:-1]) == pieces[-1]
    r = httpx.post(f"{servers.url}/v1/models/iris/explain", json={"inputs": [[5.1, 3.5, 1.4, 0.2]]}, headers=AUTH)
    if importlib.util.find_spec("mlzoo_nb.explain") is None:  # without the explain package: a clear 501, not a crash
        assert r.status_code == 501 and "explain" in r.text
    else:
        assert r.status_code == 200 and len(r.json()["explanation"]["scores"]) == 4
        g = servers.stub.Explain(servers.pb.ExplainRequest(model="iris", inputs_json="[[5.1, 3.5, 1.4, 0.2]]"), metadata=META)
        assert json.loads(g.explanation_json)["scores"] == pytest.approx(r.json()["explanation"]["scores"])
    spec = httpx.get(f"{servers.url}/openapi.json", headers=AUTH).json()
    assert "/v1/models/{name}/predict" in spec["paths"]


def test_readyz_without_models():
    with serve_in_thread(ModelService(), grpc_port=None) as s:
        assert httpx.get(f"{s.url}/readyz").status_code == 503
        assert httpx.get(f"{s.url}/healthz").status_code == 200
