"""Small trained zoo models shared by the explain tests (session fixtures: trained once per pytest worker)."""
from __future__ import annotations
import pytest
import torch


def _trained(recipe: str, dataset, epochs: int):
    "(pipeline, train, test): `recipe` fitted on three quarters of `dataset`, one torch thread (two workers, two cores)."
    from mlzoo_nb.models.zoo import zoo
    torch.set_num_threads(1)
    train, test = dataset.split(0.25, seed=0)
    pipe = zoo.create(recipe); pipe.fit(train, epochs=epochs, lr=3e-3, progress=False)
    return pipe, train, test


@pytest.fixture(scope="session")
def tabular():
    "The breast-cancer MLP trained for 15 epochs (~1 s)."
    from mlzoo_nb.core import data
    return _trained("tabular/mlp-breast-cancer", data.breast_cancer(), 15)


@pytest.fixture(scope="session")
def image():
    "The digits CNN trained for 6 epochs (~1 s)."
    from mlzoo_nb.core import data
    return _trained("vision/cnn-digits", data.digits(), 6)


@pytest.fixture(scope="session")
def text():
    "bert-tiny fine-tuned on 450 synthetic reviews for 4 epochs (~4 s)."
    from mlzoo_nb.core import data
    return _trained("text/bert-tiny", data.synthetic_text("sentiment", n=600, seed=0), 4)


@pytest.fixture(scope="session")
def lm():
    "The tiny Llama trained briefly on synthetic sentences (so its continuations depend on the prompt)."
    from mlzoo_nb.core import data
    from mlzoo_nb.models.zoo import zoo
    torch.set_num_threads(1)
    pipe = zoo.create("lm/llama-tiny", max_length=64)
    pipe.fit(data.synthetic_text("lm", n=400, seed=0), epochs=2, lr=3e-3, progress=False)
    return pipe
