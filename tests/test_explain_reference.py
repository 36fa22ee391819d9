"""Our shap / lime / captum results equal what calling those libraries directly gives (same model, inputs, settings).

Each reference below is written the way a user of the library would write it, from the pipeline's own pieces
(`pipe.module`, `pipe.predict_proba`, the tokenizer), never through mlzoo_nb.explain's adapters. Where both sides batch
the model calls the same way the results are bit-for-bit equal; where the library decides its own batches (lime's
images, shap's string masker, predict_proba's batches of 256) they are equal up to float32 rounding (atol 1e-6).
"""
from __future__ import annotations
import numpy as np
import pytest
import torch

from _explain_models import tabular, image, text  # noqa: F401  (session fixtures)
from mlzoo_nb.explain.methods import explain

captum_attr = pytest.importorskip("captum.attr")
shap = pytest.importorskip("shap")
lime_text = pytest.importorskip("lime.lime_text")

REVIEW = "honestly, the movie was terrible but the music was excellent."   # whole-word tokens only
SUBWORDS = "the service was slow but the pasta was excellent."                # 'slow' is 'sl' + '##ow'



def standardised(pipe, row) -> torch.Tensor:
    "A raw table row as the model sees it, by hand: (x - training mean) / training std."
    pre = pipe.preprocessor
    return ((torch.tensor(row.to_numpy(), dtype=torch.float64) - pre.mean) / pre.std).float()


def tabular_probs(pipe):
    return lambda x: torch.softmax(pipe.module.head(pipe.module.backbone(x=x)), -1)


def text_probs(pipe):
    return lambda ids, mask: torch.softmax(pipe.module({"input_ids": ids, "attention_mask": mask}), -1)


def text_inputs(pipe, text):
    tok = pipe.preprocessor.tokenizer
    enc = tok(text, return_tensors="pt")
    base = enc["input_ids"].clone(); base[0, 1:-1] = tok.mask_token_id   # [CLS] and [SEP] kept
    return tok, enc["input_ids"], enc["attention_mask"], base


# ---------------------------------------------------------------------------------------------------- captum
def test_integrated_gradients_equal_captum_tabular(tabular):
    pipe, _, test = tabular
    row = test.inputs.iloc[[3]]
    ours = explain(pipe, row, "ig", faithfulness=False)
    x = standardised(pipe, row)
    ref, delta = captum_attr.IntegratedGradients(tabular_probs(pipe)).attribute(
        x, baselines=torch.zeros_like(x), target=ours.target, n_steps=50, return_convergence_delta=True)
    np.testing.assert_array_equal(ours.scores, ref[0].double().numpy())
    assert ours.meta["convergence_delta"] == pytest.approx(float(delta.abs()), abs=1e-6)


def test_layer_integrated_gradients_equal_captum_text(text):
    pipe, _, _ = text
    ours = explain(pipe, REVIEW, "ig", n_steps=40, faithfulness=False)
    tok, ids, mask, base = text_inputs(pipe, REVIEW)
    lig = captum_attr.LayerIntegratedGradients(text_probs(pipe), pipe.backbone.model.get_input_embeddings())
    ref = lig.attribute(ids, baselines=base, target=ours.target, additional_forward_args=(mask,), n_steps=40)
    np.testing.assert_array_equal(ours.scores, ref[0].double().sum(-1)[1:-1].numpy())  # tokens: summed over the embedding
    assert ours.units == [tok.decode([int(i)]) for i in ids[0, 1:-1]]


def test_occlusion_and_ablation_equal_captum_image(image):
    pipe, _, test = image
    img = test.inputs[7]
    x = torch.tensor(img, dtype=torch.float32)[None, None]  # digits are floats in [0, 1]
    f = lambda x: torch.softmax(pipe.module({"pixel_values": x}), -1)  # ImagePreprocessor(mean=0, std=1)
    ours = explain(pipe, img, "occlusion", window=3, faithfulness=False)
    ref = captum_attr.Occlusion(f).attribute(x, sliding_window_shapes=(1, 3, 3), strides=(1, 1, 1), baselines=0,
                                             target=ours.target, perturbations_per_eval=256)
    np.testing.assert_allclose(ours.scores, ref[0, 0].double().numpy(), atol=1e-6)
    ours = explain(pipe, img, "ablation", faithfulness=False)
    ref = captum_attr.FeatureAblation(f).attribute(x, baselines=0, target=ours.target, perturbations_per_eval=256)
    np.testing.assert_allclose(ours.scores, ref[0, 0].double().numpy(), atol=1e-6)


# ---------------------------------------------------------------------------------------------------- shap
def test_shap_permutation_and_kernel_equal_shap_tabular(tabular):
    pipe, _, test = tabular
    row = test.inputs.iloc[[5]]
    x = standardised(pipe, row).numpy()
    f = lambda a: tabular_probs(pipe)(torch.as_tensor(a, dtype=torch.float32)).detach().double().numpy()
    bg = np.zeros((1, 30), dtype=np.float32)
    ours = explain(pipe, row, "shap", faithfulness=False)                    # 30 features: permutation (shap's rule)
    ref = shap.explainers.Permutation(f, shap.maskers.Independent(bg), seed=0)(x, max_evals=500, silent=True)
    np.testing.assert_allclose(ours.scores, ref.values[0][:, ours.target], atol=1e-7)
    assert ours.base_value == pytest.approx(ref.base_values[0][ours.target], abs=1e-9)
    ours = explain(pipe, row, "shap", algorithm="kernel", nsamples=300, faithfulness=False)
    np.random.seed(0)
    ref = shap.KernelExplainer(f, bg).shap_values(x, nsamples=300, silent=True)
    np.testing.assert_allclose(ours.scores, np.asarray(ref)[0, :, ours.target], atol=1e-7)


def test_shap_exact_equals_shap_on_few_features():
    from mlzoo_nb.core import data
    from mlzoo_nb.models.zoo import zoo
    train, test = data.iris().split(0.25, seed=0)
    pipe = zoo.create("tabular/mlp-iris"); pipe.fit(train, epochs=20, lr=1e-2, progress=False)
    row = test.inputs.iloc[[1]]
    ours = explain(pipe, row, "shap", background=train.inputs, faithfulness=False)   # 4 features: exact enumeration
    assert ours.meta["algorithm"] == "exact"
    f = lambda a: tabular_probs(pipe)(torch.as_tensor(a, dtype=torch.float32)).detach().double().numpy()
    bg = torch.cat([standardised(pipe, train.inputs.iloc[[i]]) for i in range(len(train.inputs))]).numpy()
    ref = shap.explainers.Exact(f, shap.maskers.Independent(bg, max_samples=len(bg)))(standardised(pipe, row).numpy(), silent=True)
    np.testing.assert_allclose(ours.scores, ref.values[0][:, ours.target], atol=1e-7)
    assert ours.base_value == pytest.approx(ref.base_values[0][ours.target], abs=1e-7)


@pytest.mark.parametrize("review", [REVIEW, SUBWORDS])
def test_shap_partition_equals_shap_text(text, review):
    pipe, _, _ = text
    ours = explain(pipe, review, "shap", faithfulness=False)
    tok = pipe.preprocessor.tokenizer
    # shap's token-id masker (no re-tokenization), called directly
    f_ids = lambda ids: text_probs(pipe)(torch.as_tensor(ids), torch.ones(np.shape(ids), dtype=torch.long)).detach().double().numpy()
    ref = shap.explainers.Partition(f_ids, shap.maskers.Text(tok, output_type="token_ids"))([review], max_evals=500, silent=True)
    np.testing.assert_allclose(ours.scores, ref.values[0][1:-1, ours.target], atol=1e-6)
    assert ours.base_value == pytest.approx(ref.base_values[0][ours.target], abs=1e-6)
    if review is REVIEW:
        # the everyday way, the string masker: its masked strings go back through the tokenizer, which gives the same
        # ids when every token is a whole word (with a subword, masking 'sl' of 'slow' leaves 'ow', re-tokenized differently)
        ref = shap.Explainer(lambda s: pipe.predict_proba(list(s)), shap.maskers.Text(tok), algorithm="partition")([review], silent=True)
        np.testing.assert_allclose(ours.scores, ref.values[0][1:-1, ours.target], atol=1e-6)


def test_deep_and_gradient_shap_equal_shap_image(image):
    pipe, _, test = image
    img = test.inputs[11]

    class Probs(torch.nn.Module):
        def __init__(self):
            super().__init__(); self.net, self.softmax = pipe.module, torch.nn.Softmax(-1)
        def forward(self, x): return self.softmax(self.net({"pixel_values": x}))

    ours = explain(pipe, img, "shap", faithfulness=False)
    x = torch.tensor(img, dtype=torch.float32)[None, None]
    e = shap.DeepExplainer(Probs(), torch.zeros_like(x))
    ref = np.asarray(e.shap_values(x))[0, 0, :, :, ours.target]
    np.testing.assert_allclose(ours.scores, ref, atol=1e-7)
    assert ours.base_value == pytest.approx(float(e.expected_value[ours.target]), abs=1e-7)
    ours = explain(pipe, img, "shap", algorithm="gradient", nsamples=64, seed=3, faithfulness=False)
    ref = shap.GradientExplainer(Probs(), torch.zeros_like(x), batch_size=256).shap_values(x, nsamples=64, rseed=3)
    np.testing.assert_allclose(ours.scores, np.asarray(ref)[0, 0, :, :, ours.target], atol=1e-7)


# ---------------------------------------------------------------------------------------------------- lime
def test_lime_equal_lime_text(text):
    pipe, _, _ = text
    tok = pipe.preprocessor.tokenizer
    enc = tok(REVIEW, return_offsets_mapping=True)
    words = [REVIEW[a:b] for a, b in enc["offset_mapping"][1:-1]]
    assert all(not t.startswith("##") for t in tok.convert_ids_to_tokens(enc["input_ids"])), "pick a text of whole-word tokens"
    ours = explain(pipe, REVIEW, "lime", num_samples=400, faithfulness=False)
    e = lime_text.LimeTextExplainer(class_names=pipe.labels, bow=False, split_expression=lambda s: words,
                                    mask_string=tok.mask_token, random_state=0)
    exp = e.explain_instance(REVIEW, pipe.predict_proba, labels=(ours.target,), num_features=len(words), num_samples=400)
    ref = dict(exp.local_exp[ours.target])
    np.testing.assert_allclose(ours.scores, [ref[i] for i in range(len(words))], atol=1e-6)
    assert ours.base_value == pytest.approx(exp.intercept[ours.target], abs=1e-6)


def test_lime_equal_lime_tabular(tabular):
    lime_tabular = pytest.importorskip("lime.lime_tabular")
    pipe, train, test = tabular
    row = test.inputs.iloc[[2]]
    ours = explain(pipe, row, "lime", background=train.inputs, num_samples=1500, faithfulness=False)
    e = lime_tabular.LimeTabularExplainer(train.inputs.to_numpy(), feature_names=list(train.inputs.columns),
                                          class_names=pipe.labels, random_state=0)
    exp = e.explain_instance(row.to_numpy()[0], pipe.predict_proba, labels=(ours.target,), num_features=30, num_samples=1500)
    ref = dict(exp.local_exp[ours.target])
    np.testing.assert_allclose(ours.scores, [ref[i] for i in range(30)], atol=1e-6)


def test_lime_equal_lime_image(image):
    lime_image = pytest.importorskip("lime.lime_image")
    pipe, _, test = image
    img = test.inputs[4]
    ours = explain(pipe, img, "lime", patch=2, num_samples=300, faithfulness=False)
    grid = np.repeat(np.repeat(np.arange(16).reshape(4, 4), 2, 0), 2, 1)
    e = lime_image.LimeImageExplainer(random_state=0)
    exp = e.explain_instance(img.astype(np.float64), pipe.predict_proba, labels=(ours.target,), hide_color=0, top_labels=None,
                             num_features=16, num_samples=300, segmentation_fn=lambda im: grid)
    ref = dict(exp.local_exp[ours.target])
    np.testing.assert_allclose(ours.scores, np.vectorize(lambda g: ref.get(g, 0.0))(grid), atol=1e-6)
