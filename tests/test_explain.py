"""Explanations: gradients through the estimator contract, integrated gradients' completeness,
permutation importance and the logistic-regression contrast."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepzoo import MLPClassifier, MLPRegressor
from deepzoo.audit.explain import (
    input_gradients,
    integrated_gradients,
    permutation_importance_table,
    standardized_coefficients,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    return make_classification(200, 5, n_informative=2, n_redundant=0, shuffle=False, random_state=0)


@pytest.fixture(scope="module")
def tanh_clf(data):
    X, y = data
    return MLPClassifier((16,), activation="tanh", max_iter=40, learning_rate=0.01, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def relu_clf(data):
    X, y = data
    return MLPClassifier((16, 8), max_iter=40, learning_rate=0.01, random_state=0).fit(X, y)


def test_input_gradients_match_finite_differences():
    X, y = make_regression(60, 3, random_state=0)
    y = y / y.std()
    reg = MLPRegressor((8,), activation="tanh", max_iter=30, random_state=0).fit(X, y)
    grads = input_gradients(reg, X[:5])
    eps = 1e-2
    numeric = np.stack(
        [(reg.predict(X[:5] + eps * e) - reg.predict(X[:5] - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1
    )
    assert grads.shape == (5, 3)
    np.testing.assert_allclose(grads, numeric, atol=2e-3, rtol=1e-2)


@pytest.mark.parametrize("model", ["tanh_clf", "relu_clf"])
def test_integrated_gradients_completeness(model, data, request):
    # attributions of a row add up to f(x) - f(baseline) for the explained logit
    clf = request.getfixturevalue(model)
    X, _ = data
    attr, delta = integrated_gradients(clf, X[:40], n_steps=64, return_convergence_delta=True)
    logits = clf._explain_forward(clf._explain_inputs(X[:40])).detach().numpy()
    base = clf._explain_forward(clf._explain_inputs(np.zeros((1, 5)))).detach().numpy()
    target = logits.argmax(1)
    gap = logits[np.arange(40), target] - base[0, target]
    tol = 1e-4 if model == "tanh_clf" else 1e-2 * np.abs(gap).max()
    np.testing.assert_allclose(attr.sum(axis=1), gap, atol=tol)
    np.testing.assert_allclose(delta, attr.sum(axis=1) - gap, atol=1e-4)


def test_integrated_gradients_converge_with_steps_on_relu(relu_clf, data):
    X, _ = data
    errors = [
        np.abs(integrated_gradients(relu_clf, X[:30], n_steps=n, return_convergence_delta=True)[1]).max()
        for n in (4, 256)
    ]
    assert errors[1] < errors[0] / 4


def test_baseline_equal_to_input_gives_zero(tanh_clf, data):
    X, _ = data
    attr = integrated_gradients(tanh_clf, X[:4], baseline=X[:4].astype(np.float32))
    np.testing.assert_allclose(attr, 0.0, atol=1e-7)


def test_informative_features_get_most_attribution(tanh_clf, data):
    X, _ = data  # shuffle=False: columns 0 and 1 carry the signal
    attr = np.abs(integrated_gradients(tanh_clf, X[:100])).mean(axis=0)
    assert set(np.argsort(attr)[-2:]) == {0, 1}


def test_pipeline_and_string_labels(data):
    X, y = data
    labels = np.where(y == 1, "leaves", "stays")
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=20, random_state=0)).fit(X, labels)
    grads_leaves = input_gradients(pipe, X[:3], target="leaves")
    grads_stays = input_gradients(pipe, X[:3], target="stays")
    # two logits: their gradients differ (they need not be opposite, both are free)
    assert grads_leaves.shape == (3, 5) and not np.allclose(grads_leaves, grads_stays)
    attr = integrated_gradients(pipe, X[:3], target=np.array(["leaves", "stays", "leaves"]))
    assert attr.shape == (3, 5)


def test_integer_labels_are_labels_not_positions(data):
    X, y = data
    clf = MLPClassifier((8,), max_iter=10, random_state=0).fit(X, y + 5)  # classes 5 and 6
    np.testing.assert_allclose(
        input_gradients(clf, X[:2], target=6), input_gradients(clf, X[:2], target=[6, 6])
    )
    with pytest.raises(ValueError, match=r"target holds labels \[1\] that are not classes"):
        input_gradients(clf, X[:2], target=1)


def test_bad_inputs(tanh_clf, data):
    X, y = data
    with pytest.raises(TypeError, match="LogisticRegression cannot be explained by gradients"):
        input_gradients(LogisticRegression().fit(X, y), X[:2])
    with pytest.raises(ValueError, match=r"baseline of shape \(3,\) does not broadcast"):
        integrated_gradients(tanh_clf, X[:2], baseline=np.zeros(3))
    with pytest.raises(ValueError, match="baseline contains NaN"):
        integrated_gradients(tanh_clf, X[:2], baseline=np.nan)
    with pytest.raises(ValueError, match="n_steps must be a positive int; got 0"):
        integrated_gradients(tanh_clf, X[:2], n_steps=0)
    with pytest.raises(ValueError, match="target must be one index or one per row"):
        input_gradients(tanh_clf, X[:2], target=[0, 1, 1])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        input_gradients(tanh_clf, np.full((1, 5), np.nan))
    reg = MLPRegressor((4,), max_iter=3, random_state=0).fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="has 2 outputs; pass target="):
        input_gradients(reg, X[:2])
    assert input_gradients(reg, X[:2], target=1).shape == (2, 5)


def test_explaining_leaves_the_module_mode_alone(data):
    X, y = data
    clf = MLPClassifier((8,), dropout=0.5, max_iter=3, random_state=0).fit(X, y)
    clf.module_.train()
    first = input_gradients(clf, X[:3])
    np.testing.assert_array_equal(first, input_gradients(clf, X[:3]))  # dropout off while explaining
    assert clf.module_.training


def test_permutation_importance_ranks_informative_columns(data):
    X, y = data
    clf = MLPClassifier((16,), max_iter=60, learning_rate=0.01, random_state=0).fit(X, y)
    table = permutation_importance_table(clf, X, y, n_repeats=3, feature_names=list("abcde"))
    assert list(table.columns) == ["feature", "importance_mean", "importance_std"]
    assert set(table.feature[:2]) == {"a", "b"}
    with pytest.raises(ValueError, match="feature_names has 2 names for 5 features"):
        permutation_importance_table(clf, X, y, n_repeats=1, feature_names=["a", "b"])


def test_standardized_coefficients_put_the_signal_first():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=300) * 1000, rng.normal(size=300)]  # scale must not matter
    y = (X[:, 0] > 0).astype(int)
    table = standardized_coefficients(X, y, feature_names=["signal", "noise"])
    assert table.feature.tolist() == ["signal", "noise"] and table.coefficient[0] > 0
    with pytest.raises(ValueError, match="got NaN or infinite features"):
        standardized_coefficients(np.c_[X[:, :1], np.full(300, np.nan)], y)


# -- the other families on the same contract: per pixel and per token -------------------------------------
def test_convnet_per_pixel_attributions_are_complete():
    from sklearn.datasets import load_digits

    from deepzoo import ConvNetClassifier

    digits = load_digits()
    X = (digits.images[:150] * 16).astype(np.uint8)[:, None]
    clf = ConvNetClassifier("lenet5", max_iter=2, random_state=0, device="cpu").fit(X, digits.target[:150])
    saliency = input_gradients(clf, X[:4])
    assert saliency.shape == (4, *clf.input_shape_)
    attr, delta = integrated_gradients(clf, X[:4], n_steps=128, return_convergence_delta=True)
    inputs = clf._explain_inputs(X[:4])
    logits = clf._explain_forward(inputs).detach().numpy()
    base = clf._explain_forward(inputs * 0).detach().numpy()
    target = logits[:, : len(clf.classes_)].argmax(1)
    gap = logits[np.arange(4), target] - base[np.arange(4), target]
    np.testing.assert_allclose(attr.reshape(4, -1).sum(1), gap, atol=0.02 * np.abs(gap).max() + 1e-4)
    np.testing.assert_allclose(delta, attr.reshape(4, -1).sum(1) - gap, atol=1e-4)


@pytest.mark.slow
def test_sequence_classifier_per_token_attributions_are_complete():
    from deepzoo import SequenceClassifier

    texts = ["good film", "great fun film", "bad film", "awful boring film"] * 10
    clf = SequenceClassifier("lstm", max_iter=5, random_state=0).fit(texts, [1, 1, 0, 0] * 10)
    inputs = clf._explain_inputs(texts[:4]).numpy()
    # SequenceClassifier reads an all-zero embedding as padding, so the all-zero baseline (the empty
    # text) is a jump at the path's start that no quadrature sees; a baseline of scaled-down embeddings
    # keeps every token position and makes the path continuous
    baseline = 0.01 * inputs
    attr, delta = integrated_gradients(
        clf, texts[:4], baseline=baseline, n_steps=32, return_convergence_delta=True
    )
    per_token = attr.sum(axis=2)  # (N, T): one figure per token
    logits = clf._explain_forward(torch.as_tensor(inputs)).detach().numpy()
    base = clf._explain_forward(torch.as_tensor(baseline)).detach().numpy()
    target = logits.argmax(1)
    gap = logits[np.arange(4), target] - base[np.arange(4), target]
    np.testing.assert_allclose(per_token.sum(1), gap, atol=1e-3 * max(1.0, np.abs(gap).max()))
    assert np.abs(delta).max() < 1e-3 * max(1.0, np.abs(gap).max())
    padding = np.abs(inputs).sum(2) == 0
    np.testing.assert_array_equal(per_token[padding], 0.0)  # padding gets no attribution
