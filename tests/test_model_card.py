"""Model cards: every saved folder has MODEL_CARD.md and card.json; load verifies the weights' sha256."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import make_classification
from tabular_model import churn_like, saved_model

import deepzoo
from deepzoo import MLPClassifier, MLPRegressor
from deepzoo.audit import fairness_report
from deepzoo.engine.model_card import file_sha256, read_card

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_card_of_a_pipeline_tells_inputs_metrics_fairness_and_checksums(tmp_path):
    frame = churn_like()
    fairness = fairness_report(frame.Exited, np.linspace(0, 1, len(frame)), frame[["Gender"]], n_bootstrap=10)
    folder, _, _ = saved_model(
        tmp_path,
        card={
            "title": "Churn MLP",
            "predicts": "the probability that a customer leaves",
            "target": "Exited",
            "data": "synthetic churn-like table, 300 rows",
            "metrics": {"accuracy": np.float64(0.8125), "n_test": np.int64(60)},
            "fairness": fairness,
            "intended_use": "tests",
            "limitations": "none known",
        },
    )
    text = (folder / "MODEL_CARD.md").read_text()
    for expected in (
        "# Model card: Churn MLP",
        "the probability that a customer leaves",
        "`Geography`: category (France, Germany, Spain)",
        "`Age`: number",
        "| accuracy | 0.8125 |",
        "| Gender | Female |",
        "synthetic churn-like table",
        f"`mlp/weights.safetensors`: `{file_sha256(folder / 'mlp' / 'weights.safetensors')}`",
        f"`encode.skops`: `{file_sha256(folder / 'encode.skops')}`",
    ):
        assert expected in text, expected
    card = read_card(folder)
    assert card["classes"] == [0, 1] and card["estimator"] == "MLPClassifier"
    assert card["metrics"] == {"accuracy": 0.8125, "n_test": 60}
    assert card["fairness"]["summary"][0]["attribute"] == "Gender"
    doc = json.loads((folder / "deepzoo.json").read_text())
    # a deepzoo step's JSON state (its fitted scales, classes) is covered too, beside the weights files
    assert set(doc["checksums"]) == {"mlp/weights.safetensors", "mlp/deepzoo.json", "encode.skops"}
    step = folder / "mlp" / "deepzoo.json"
    state = json.loads(step.read_text())
    state["fitted"]["__dict__"][0][1] += 1  # an edited fitted value (n_features_in_)
    step.write_text(json.dumps(state))
    with pytest.raises(ValueError, match="does not match the sha256"):
        deepzoo.load(folder)


def test_bare_estimator_card_without_extra_information(tmp_path):
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    reg = MLPRegressor((4,), max_iter=3, random_state=0).fit(X, y.astype(float))
    deepzoo.save(reg, tmp_path / "reg")
    text = (tmp_path / "reg" / "MODEL_CARD.md").read_text()
    assert "# Model card: MLPRegressor model" in text and "`x2`: number" in text
    assert "No group comparison was recorded" in text and "Not recorded when the model was saved." in text
    np.testing.assert_array_equal(deepzoo.load(tmp_path / "reg").predict(X), reg.predict(X))


def test_tampered_weights_are_refused(tmp_path):
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    clf = MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    deepzoo.save(clf, tmp_path / "m")
    weights = tmp_path / "m" / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # one bit of one weight: still a valid safetensors file
    weights.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match=r"weights.safetensors does not match the sha256 recorded .* refusing"
    ):
        deepzoo.load(tmp_path / "m")
    weights.unlink()
    with pytest.raises(ValueError, match="is missing from the saved model"):
        deepzoo.load(tmp_path / "m")


def test_tampered_pipeline_step_is_refused(tmp_path):
    folder, _, _ = saved_model(tmp_path)
    with open(folder / "encode.skops", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ValueError, match="encode.skops does not match the sha256"):
        deepzoo.load(folder)


def test_bad_card_arguments(tmp_path):
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"Unknown model card fields \['accuracy'\]; the card takes title"):
        deepzoo.save(clf, tmp_path / "a", card={"accuracy": 0.9})
    with pytest.raises(TypeError, match="card must be a dict of model card fields; got str"):
        deepzoo.save(clf, tmp_path / "b", card="great model")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
