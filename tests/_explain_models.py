"""Small trained zoo models shared by the explain tests (session fixtures: trained once per pytest worker)."""
from __future__ import annotations
import pytest
import torch


def _threads():
    torch.set_num_threads(1)  # two workers on two cores: one thread each


@pytest.fixture(scope="session")
def tabular():
    "(pipeline, train, test): the breast-cancer MLP trained for 15 epochs (~1 s)."
    from mlzoo_nb.core import data
    from mlzoo_nb.models.zoo import zoo
    _threads()
    train, test = data.breast_cancer().split(0.25, seed=0)
    pipe = zoo.create("tabular/mlp-breast-cancer"); pipe.fit(train, epochs=15, lr=3e-3, progress=False)
    return pipe, train, test


@pytest.fixture(scope="session")
def image():
    "(pipeline, train, test): the digits CNN trained for 6 epochs (~1 s)."
    from mlzoo_nb.core import data
    from mlzoo_nb.models.zoo import zoo
    _threads()
    train, test = data.digits().split(0.25, seed=0)
    pipe = zoo.create("vision/cnn-digits"); pipe.fit(train, epochs=6, lr=3e-3, progress=False)
    return pipe, train, test


@pytest.fixture(scope="session")
def text():
    "(pipeline, train, test): bert-tiny fine-tuned on 450 synthetic reviews for 4 epochs (~4 s)."
    from mlzoo_nb.core import data
    from mlzoo_nb.models.zoo import zoo
    _threads()
    train, test = data.synthetic_text("sentiment", n=600, seed=0).split(0.25, seed=0)
    pipe = zoo.create("text/bert-tiny"); pipe.fit(train, epochs=4, lr=3e-3, progress=False)
    return pipe, train, test


@pytest.fixture(scope="session")
def lm():
    "The tiny Llama trained briefly on synthetic sentences (so its continuations depend on the prompt)."
    from mlzoo_nb.core import data
    from mlzoo_nb.models.zoo import zoo
    _threads()
    pipe = zoo.create("lm/llama-tiny", max_length=64)
    pipe.fit(data.synthetic_text("lm", n=400, seed=0), epochs=2, lr=3e-3, progress=False)
    return pipe
