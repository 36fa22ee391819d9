"""Faithfulness on trained zoo models, completeness on every modality, MLflow artifacts, bad inputs.

The orderings asserted here are the point of an explanation: deleting the units IG or SHAP rank first must hurt the
model's output more than deleting units in a random order (a lower deletion AUC), on every modality. Numbers are not
asserted, only orderings and tolerances.
"""
from __future__ import annotations
import json
import warnings
from pathlib import Path
import numpy as np
import pytest

from _explain_models import tabular, image, text, lm  # noqa: F401  (session fixtures)
from mlzoo_nb.core.errors import ConfigError, InputError
from mlzoo_nb.explain.explanation import Explanation
from mlzoo_nb.explain.methods import explain

pytest.importorskip("captum.attr")
pytest.importorskip("shap")

PROMPTS = ["i think the food is", "the team won the", "honestly, the hotel was", "we visited the museum"]


def inputs(modality, tabular, image, text, lm):
    "Four inputs of each modality, and the pipeline that takes them."
    if modality == "tabular": return tabular[0], [tabular[2].inputs.iloc[[i]] for i in (0, 10, 20, 30)]
    if modality == "image": return image[0], [image[2].inputs[i] for i in (0, 10, 20, 30)]
    if modality == "text": return text[0], list(text[2].inputs[:4])
    return lm, PROMPTS


@pytest.mark.parametrize("modality", ["tabular", "image", "text", "lm"])
def test_ig_and_shap_are_complete_and_beat_random_deletion(modality, tabular, image, text, lm):
    pipe, xs = inputs(modality, tabular, image, text, lm)
    for method in ("ig", "shap"):
        kw = {"n_steps": 128} if method == "ig" and modality == "lm" else {}
        exs = [explain(pipe, x, method, max_new_tokens=4, **kw) if modality == "lm" else explain(pipe, x, method, **kw) for x in xs]
        rel = [e.faithfulness["completeness_rel"] for e in exs]
        assert max(rel) < (0.02 if method == "ig" else 1e-3), (method, rel)
        ours = np.mean([e.faithfulness["deletion_auc"] for e in exs])
        rand = np.mean([e.faithfulness["random_deletion_auc"] for e in exs])
        assert ours < rand, (modality, method, ours, rand)
        ins, rins = np.mean([e.faithfulness["insertion_auc"] for e in exs]), np.mean([e.faithfulness["random_insertion_auc"] for e in exs])
        assert ins > rins, (modality, method, ins, rins)


def test_explanations_log_to_mlflow_when_tracking_is_on(tabular, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    pipe, _, test = tabular
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp_id = mlflow.create_experiment("explain", artifact_location=(tmp_path / "artifacts").as_uri())
    try:
        with mlflow.start_run(experiment_id=exp_id) as run:
            ex = explain(pipe, test.inputs.iloc[[0]], "ig", steps=5, n_random=2)     # tracking on: logged automatically
            ex.log_mlflow("by-hand")                                                  # by hand, with the picture
        local = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="explanations", dst_path=str(tmp_path / "dl")))
    finally:
        mlflow.set_tracking_uri(None)
    assert sorted(p.name for p in local.iterdir()) == ["by-hand.html", "by-hand.json", f"ig-tabular-{ex.target_name}.json"]
    assert "plotly" in (local / "by-hand.html").read_text()[:200_000].lower()
    back = Explanation.from_dict(json.loads((local / "by-hand.json").read_text()))
    np.testing.assert_array_equal(back.scores, ex.scores)
    assert back.faithfulness["deletion_auc"] == ex.faithfulness["deletion_auc"]


def test_bad_inputs_are_refused_with_clear_messages(tabular, image, text, lm):
    mlp, cnn, bert = tabular[0], image[0], text[0]
    row = tabular[2].inputs.iloc[[0]]
    cases = [
        (lambda: explain(mlp, row, "attention"), ConfigError, "methods for it: ablation, ig, lime, saliency, shap"),
        (lambda: explain(cnn, image[2].inputs[0], "rollout"), ConfigError, "methods for it: ablation, ig, lime, occlusion, saliency, shap"),
        (lambda: explain(lm, "hello", "lime"), ConfigError, "methods for it: ablation, attention, ig, occlusion, rollout, saliency, shap"),
        (lambda: explain(bert, "", "ig"), InputError, "expected a non-empty text"),
        (lambda: explain(lm, "  ", "ig"), InputError, "expected a non-empty prompt"),
        (lambda: explain(cnn, np.zeros(64), "ig"), InputError, "expected an image (H, W), (H, W, C) or a batch"),
        (lambda: explain(cnn, np.zeros((1, 2, 3, 8, 8)), "ig"), InputError, "expected an image"),
        (lambda: explain(mlp, row, "ig", target=2), InputError, "target class 2 is out of range: this model has 2 classes"),
        (lambda: explain(cnn, image[2].inputs[0], "ig", target=10), InputError, "target class 10 is out of range: this model has 10 classes"),
        (lambda: explain(bert, "good.", "ig", target="neutral"), InputError, "unknown target class 'neutral'"),
    ]
    for fn, kind, text_ in cases:
        with pytest.raises(kind) as err: fn()
        assert text_ in str(err.value), (text_, str(err.value))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = explain(bert, "the food was great. " * 40, "saliency", faithfulness=False)
    assert any("truncated to its first 64 tokens" in str(w.message) for w in caught)
    assert len(ex.units) == 62
