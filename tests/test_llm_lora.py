"""mlzoo_nb.llm.lora with real weights: LoRA on all-MiniLM-L6-v2 (text classification) and on SmolLM2-135M (causal LM).

The notebook nbs/llm/02_lora.ipynb covers the mechanics on tiny random-init models (trainable counts, save/load/merge
equality, QLoRA). Here: adapters on pretrained models learn (accuracy, loss), and their save/load/merge round trips
hold at real sizes.
"""
from __future__ import annotations
import pytest
import torch

from mlzoo_nb.core.data import synthetic_text
from mlzoo_nb.llm.generation import generate
from mlzoo_nb.llm.lora import load_adapter, lora
from mlzoo_nb.models.pipeline import Pipeline
from mlzoo_nb.models.zoo import zoo


@pytest.mark.heavy
def test_lora_on_minilm_learns_sentiment_with_under_one_percent_of_the_weights(minilm_available, tmp_path):
    train, test = synthetic_text("sentiment", n=240, seed=0).split(0.25, seed=0)
    tuned = lora(zoo.create("text/minilm-cls"), r=8, alpha=16)
    assert tuned.settings["target_modules"] == ["key", "query", "value"]
    assert tuned.trainable["fraction"] < 0.01
    tuned.fit(train, epochs=2, lr=2e-3, batch_size=16, progress=False)
    acc = tuned.pipe.evaluate(test)["accuracy"]
    assert acc > 0.8, acc  # measured 0.92 with 400 examples; an untrained head is at chance
    folder = tuned.save_adapter(tmp_path / "adapter")
    assert sum(f.stat().st_size for f in folder.iterdir()) < 1e6  # the model itself is ~90 MB
    loaded = load_adapter(zoo.create("text/minilm-cls"), folder)
    texts = test.inputs[:16]
    assert (loaded.pipe.predict_proba(texts) == tuned.pipe.predict_proba(texts)).all()


@pytest.fixture(scope="module")
def smol_for_lora(smollm2_dir):
    return zoo.create("lm/smollm2-135m-instruct", path=str(smollm2_dir))  # its own copy: LoRA wraps it in place


@pytest.mark.heavy
def test_lora_on_smollm2_lowers_loss_and_round_trips(smol_for_lora, smollm2_dir, tmp_path):
    pipe = smol_for_lora
    texts = [f"The secret word of the day is zebracorn number {i}." for i in range(8)]
    before = pipe.evaluate(texts)["loss"]
    tuned = lora(pipe, r=4, alpha=8, target_modules=["q_proj", "v_proj"])
    assert tuned.trainable["fraction"] < 0.005
    tuned.fit(texts, epochs=3, lr=3e-3, batch_size=8, progress=False)
    after = pipe.evaluate(texts)["loss"]
    assert after < before - 0.5, (before, after)
    probe = pipe.preprocessor.encode(["The secret word of the day is"])
    with torch.no_grad(): adapted = pipe.module(probe)
    folder = tuned.save_adapter(tmp_path / "smol-adapter")
    fresh = load_adapter(zoo.create("lm/smollm2-135m-instruct", path=str(smollm2_dir)), folder)
    with torch.no_grad(): assert torch.equal(fresh.pipe.module(probe), adapted)
    merged = fresh.merge()
    with torch.no_grad(): torch.testing.assert_close(merged.module(probe), adapted, atol=2e-4, rtol=1e-4)
    assert generate(merged, "The secret word of the day is", max_new_tokens=4) == generate(pipe, "The secret word of the day is", max_new_tokens=4)
    base = tuned.unload()
    assert abs(base.evaluate(texts)["loss"] - before) < 1e-5
