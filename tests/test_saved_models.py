"""Models saved by an earlier layout of the package still load and predict what they predicted then.

The folders under tests/saved_models/ were written by tests/saved_models/make.py with the flat package of
2026-12-07, before engine/, models/ and serving/ existed; a saved folder names its class, never a module
path, so moving a module must not break it.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import deepzoo

HERE = Path(__file__).parent / "saved_models"

# Tiny float32 networks (values of order 1), saved on one CPU and scored on another: torch's kernels
# (AVX-512, AVX2, the portable path) round matrix products differently, a few float32 steps (~1e-6
# relative) per layer; 1e-4 is well above that and far below any change a wrong weight would make.
RTOL, ATOL = 1e-4, 1e-5

CASES = {
    "mlp_classifier": ("MLPClassifier", lambda m, i: {"proba": m.predict_proba(i["X"])}),
    "mlp_regressor": ("MLPRegressor", lambda m, i: {"pred": m.predict(i["X"])}),
    "bernoulli_rbm": ("BernoulliRBM", lambda m, i: {"transform": m.transform(i["X"])}),
    "stacked_autoencoder": ("StackedAutoEncoder", lambda m, i: {"transform": m.transform(i["X"])}),
    "som": (
        "SelfOrganizingMap",
        lambda m, i: {"predict": m.predict(i["X"]), "transform": m.transform(i["X"])},
    ),
    "lstm_forecaster": ("LSTMForecaster", lambda m, i: {"pred": m.predict(i["X"])}),
    "sequence_classifier": ("SequenceClassifier", lambda m, i: {"proba": m.predict_proba(i["X"])}),
    "convnet": ("ConvNetClassifier", lambda m, i: {"proba": m.predict_proba(i["X"])}),
    "segmenter": ("ConvNetSegmenter", lambda m, i: {"proba": m.predict_proba(i["X"])}),
    "bias_recommender": ("BiasRecommender", lambda m, i: {"pred": m.predict(i["X"][:, 0], i["X"][:, 1])}),
    "fit_table": (
        "Pipeline",
        lambda m, i: {"proba": m.predict_proba(pd.read_csv(HERE / "fit_table" / "rows.csv"))},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_model_saved_by_the_flat_layout_loads_and_predicts_the_same(name):
    class_name, predict = CASES[name]
    model = deepzoo.load(HERE / name / "model", device="cpu")
    assert type(model).__name__ == class_name
    saved = np.load(HERE / name / "expected.npz", allow_pickle=False)
    inputs = {k[3:]: saved[k] for k in saved.files if k.startswith("in_")}
    got = predict(model, inputs)
    for key, value in got.items():
        np.testing.assert_allclose(np.asarray(value, dtype=float), saved[key], rtol=RTOL, atol=ATOL)


def test_every_case_has_its_fixture():
    assert sorted(
        p.name for p in HERE.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    ) == sorted(CASES)
