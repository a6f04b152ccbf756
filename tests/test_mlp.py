"""MLPClassifier and MLPRegressor: they learn, reproduce, compose with scikit-learn and refuse bad input."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification, make_moons, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import log_loss, recall_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepzoo import MLPClassifier, MLPRegressor
from deepzoo.models.mlp import ACTIVATIONS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def moons(n=300, seed=0):
    return make_moons(n, noise=0.15, random_state=seed)


def small_clf(**params):
    """A small, fast classifier; tests override what they exercise."""
    # no validation part: most tests judge learning on the training rows (300 moons would hold out 30)
    defaults = dict(
        hidden_layer_sizes=(32,), learning_rate=0.01, max_iter=100, random_state=0, early_stopping=False
    )
    return MLPClassifier(**{**defaults, **params})


# -- learning ------------------------------------------------------------------------------------
def test_classifier_learns_moons():
    X, y = moons()
    clf = small_clf(hidden_layer_sizes=(32, 32)).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert clf.classes_.tolist() == [0, 1]
    assert clf.n_features_in_ == 2
    assert clf.predict(X).shape == (300,)


def test_classifier_learns_multiclass_string_labels():
    X, y = make_blobs(300, centers=4, cluster_std=1.0, random_state=0)
    names = np.array(["ant", "bee", "cat", "dog"])[y]
    clf = small_clf().fit(X, names)
    assert clf.classes_.tolist() == ["ant", "bee", "cat", "dog"]
    pred = clf.predict(X)
    assert pred.dtype == names.dtype
    assert np.mean(pred == names) > 0.9
    assert clf.predict_proba(X).shape == (300, 4)
    assert clf.decision_function(X).shape == (300, 4)


def test_binary_decision_function_agrees_with_predict():
    X, y = moons()
    clf = small_clf(max_iter=20).fit(X, np.where(y == 1, "yes", "no"))
    decision = clf.decision_function(X)
    assert decision.shape == (300,)
    np.testing.assert_array_equal(np.where(decision > 0, "yes", "no"), clf.predict(X))


def test_regressor_r2():
    X, y = make_regression(300, n_features=5, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    reg = MLPRegressor((32,), learning_rate=0.01, max_iter=200, random_state=0).fit(X, y / y.std())
    assert reg.score(X, y / y.std()) > 0.9
    assert reg.predict(X).shape == (300,)


def test_regressor_multi_output_keeps_the_shape():
    X, y = make_regression(200, n_features=4, n_targets=3, random_state=0)
    reg = MLPRegressor((16,), learning_rate=0.01, max_iter=50, random_state=0).fit(X, y / y.std())
    assert reg.predict(X).shape == (200, 3)
    column = MLPRegressor((16,), max_iter=2, random_state=0).fit(X, y[:, :1])
    assert column.predict(X).shape == (200, 1)


# -- reproducibility and the global RNG ---------------------------------------------------------
def test_same_seed_same_predictions_and_different_seeds_differ():
    X, y = moons()
    a = small_clf(max_iter=20, dropout=0.1).fit(X, y).predict_proba(X)
    b = small_clf(max_iter=20, dropout=0.1).fit(X, y).predict_proba(X)
    c = small_clf(max_iter=20, dropout=0.1, random_state=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_global_rngs_untouched():
    X, y = moons()
    torch_before, numpy_before = torch.get_rng_state(), np.random.get_state()
    threads_before = torch.get_num_threads()
    small_clf(max_iter=3, dropout=0.2).fit(X, y)
    MLPClassifier((8,), max_iter=3, random_state=None).fit(X, y)  # a fresh seed is drawn, not taken
    assert torch.equal(torch.get_rng_state(), torch_before)
    numpy_after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(numpy_before, numpy_after))
    assert torch.get_num_threads() == threads_before


def test_random_state_instance_is_accepted():
    X, y = moons()
    clf = small_clf(max_iter=3, random_state=np.random.RandomState(0)).fit(X, y)
    assert clf.n_iter_ == 3


# -- scikit-learn plumbing ----------------------------------------------------------------------
def test_clone_and_pickle_round_trip():
    X, y = moons()
    clf = small_clf(max_iter=10).fit(X, y)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "module_")
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.history_ == clf.history_


def test_warm_start_continues_training():
    X, y = moons()
    clf = small_clf(max_iter=5, warm_start=True).fit(X, y)
    first_history = list(clf.history_["loss"])
    weights = [p.detach().clone() for p in clf.module_.parameters()]
    clf.fit(X, y)
    assert clf.n_iter_ == 10
    assert len(clf.history_["loss"]) == 10
    assert clf.history_["loss"][:5] == first_history
    # the second fit started from the trained network: its first loss is near the last one, not the first
    assert abs(clf.history_["loss"][5] - first_history[-1]) < abs(clf.history_["loss"][5] - first_history[0])
    assert any(not torch.equal(a, b) for a, b in zip(weights, clf.module_.parameters()))


def test_best_epoch_indexes_the_whole_history_after_a_warm_start():
    X, y = moons()
    clf = small_clf(max_iter=4, warm_start=True, early_stopping=True).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 8 and len(clf.history_["val_loss"]) == 8
    assert 4 <= clf.best_epoch_ < 8  # the second fit's best epoch, counted from the first fit's start


def test_without_warm_start_fit_starts_over():
    X, y = moons()
    clf = small_clf(max_iter=5).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 5
    assert len(clf.history_["loss"]) == 5


def test_partial_fit_needs_classes_first_then_one_epoch_per_call():
    X, y = make_blobs(300, centers=3, random_state=0)
    clf = small_clf()
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    clf.partial_fit(X[100:110][y[100:110] == 0], y[100:110][y[100:110] == 0])  # a batch of one class
    for _ in range(30):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 32
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="differs from the classes of the first partial_fit"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_regressor_partial_fit():
    X, y = make_regression(200, n_features=3, random_state=0)
    reg = MLPRegressor((16,), learning_rate=0.01, random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y / y.std())
    assert reg.n_iter_ == 3 and len(reg.history_["loss"]) == 3


def test_predict_proba_rows_sum_to_one():
    X, y = make_blobs(200, centers=3, random_state=0)
    proba = small_clf(max_iter=5).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)  # normalised in float64
    assert (proba >= 0).all()


def test_single_class_training_predicts_that_class():
    X, _ = moons(50)
    clf = small_clf(max_iter=2).fit(X, np.full(50, "only"))
    assert (clf.predict(X) == "only").all()
    np.testing.assert_allclose(clf.predict_proba(X), 1.0)


def test_balanced_class_weight_raises_minority_recall():
    X, y = make_classification(600, n_features=5, weights=[0.93], class_sep=0.6, flip_y=0.02, random_state=0)
    plain = small_clf(max_iter=50).fit(X, y)
    balanced = small_clf(max_iter=50, class_weight="balanced").fit(X, y)
    plain_recall = recall_score(y, plain.predict(X))
    balanced_recall = recall_score(y, balanced.predict(X))
    assert balanced_recall > plain_recall + 0.1


def test_zero_sample_weight_is_like_dropping_the_rows():
    # one full batch per epoch: the weighted mean over all rows equals the mean over the kept rows
    X, y = moons(200)
    keep = np.arange(200) % 4 != 0
    weights = keep.astype(float)
    params = dict(max_iter=30, batch_size=500)
    weighted = small_clf(**params).fit(X, y, sample_weight=weights)
    dropped = small_clf(**params).fit(X[keep], y[keep])
    # the same mean over other rows, summed in another order: float32 rounding per step (measured 2e-7
    # relative on the losses after 30 steps); 1e-5 allows ~80 such steps, a row that counts moves it 1e-2
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(weighted.history_["loss"], dropped.history_["loss"], rtol=1e-5)


def test_sample_weight_errors():
    X, y = moons(50)
    with pytest.raises(ValueError, match="Negative values in data passed to `?sample_weight"):
        small_clf(max_iter=1).fit(X, y, sample_weight=-np.ones(50))
    with pytest.raises(ValueError, match="sums to zero|at least one non-zero"):
        small_clf(max_iter=1).fit(X, y, sample_weight=np.zeros(50))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(49,\), expected \(50,\)"):
        small_clf(max_iter=1).fit(X, y, sample_weight=np.ones(49))


def test_early_stopping_restores_the_best_weights():
    # few noisy samples, a big net and a high learning rate: the validation loss turns up and stays up
    X, y = make_classification(200, n_features=20, n_informative=3, flip_y=0.2, random_state=0)
    clf = MLPClassifier(
        (128,),
        learning_rate=0.02,
        early_stopping=True,
        n_iter_no_change=8,
        validation_fraction=0.25,
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    val_loss = clf.history_["val_loss"]
    assert len(val_loss) == clf.n_iter_ == clf.best_epoch_ + 1 + 8  # stopped 8 epochs after the best
    assert val_loss[clf.best_epoch_] == min(val_loss)
    assert val_loss[-1] > min(val_loss)  # the last weights were worse: restoring mattered
    # the same held-out rows as fit_loop (random_state=0 -> seed 0), scored with the restored weights
    _, val = train_test_split(np.arange(200), test_size=0.25, random_state=0, stratify=y)
    restored = log_loss(y[np.sort(val)], clf.predict_proba(X[np.sort(val)]))
    # scikit-learn's float64 log loss of float32 probabilities against the loop's float32 mean
    assert restored == pytest.approx(val_loss[clf.best_epoch_], rel=1e-5)
    assert set(clf.history_) == {"loss", "score", "val_loss", "val_score"}


def test_convergence_warning_and_tol_stop():
    X, y = moons()
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        small_clf(max_iter=3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = small_clf(max_iter=500, tol=0.1, n_iter_no_change=2).fit(X, y)
    assert clf.n_iter_ < 500


def test_pipeline_grid_search_and_cross_val_score():
    X, y = moons(200)
    pipe = make_pipeline(StandardScaler(), small_clf(max_iter=30))
    assert pipe.fit(X, y).score(X, y) > 0.85
    grid = GridSearchCV(small_clf(max_iter=20), {"hidden_layer_sizes": [(4,), (16,)]}, cv=2).fit(X, y)
    assert grid.best_params_["hidden_layer_sizes"] in [(4,), (16,)]
    scores = cross_val_score(small_clf(max_iter=30), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8


@pytest.mark.parametrize(
    "layer", [{"batch_norm": True}, {"dropout": 0.3}, {"batch_norm": True, "dropout": 0.2}]
)
def test_batch_norm_and_dropout_train(layer):
    X, y = moons()
    clf = small_clf(hidden_layer_sizes=(32, 32), max_iter=60, **layer).fit(X, y)
    assert clf.score(X, y) > 0.9
    modules = [type(m).__name__ for m in clf.module_.modules()]
    assert ("BatchNorm1d" in modules) == layer.get("batch_norm", False)
    assert ("Dropout" in modules) == ("dropout" in layer)
    # evaluation mode: predictions do not change from one call to the next
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


def test_batch_norm_with_a_last_batch_of_one_sample():
    X, y = moons(201)  # 201 = 200 + 1: the single leftover sample joins the batch before it
    clf = small_clf(batch_norm=True, batch_size=100, max_iter=2).fit(X, y)
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match="Batch normalisation needs at least 2 samples per batch"):
        small_clf(batch_norm=True, batch_size=1, max_iter=1).fit(X, y)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_learns(activation):
    X, y = moons()
    clf = small_clf(hidden_layer_sizes=(32, 32), learning_rate=0.02, activation=activation, max_iter=60)
    assert clf.fit(X, y).score(X, y) > 0.85


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd"])
def test_every_solver_learns(solver):
    X, y = moons()
    lr = 0.1 if solver == "sgd" else 0.01
    clf = small_clf(solver=solver, learning_rate=lr, max_iter=60, clip_grad_norm=5.0).fit(X, y)
    assert clf.score(X, y) > 0.85


def test_verbose_shows_progress(capsys):
    X, y = moons(100)
    small_clf(max_iter=2, verbose=True).fit(X, y)
    assert "MLPClassifier" in capsys.readouterr().out


# -- bad input ----------------------------------------------------------------------------------
def test_unknown_option_suggests_the_nearest():
    X, y = moons(50)
    with pytest.raises(ValueError, match=r"must be a str among .*Got 'rlu' instead\. Did you mean 'relu'\?"):
        small_clf(activation="rlu").fit(X, y)
    with pytest.raises(ValueError, match=r"Did you mean 'adam'\?"):
        small_clf(solver="adan").fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"learning_rate": -0.1},
            r"'learning_rate' parameter of MLPClassifier must be a float in the range "
            r"\(0, inf\)\. Got -0\.1 instead",
        ),
        ({"learning_rate": float("nan")}, r"'learning_rate' parameter .* Got nan instead"),
        ({"batch_size": 0}, r"'batch_size' parameter .* an int in the range \[1, inf\)\. Got 0"),
        ({"dropout": 1.0}, r"'dropout' parameter .* a float in the range \[0, 1\)"),
        ({"hidden_layer_sizes": (8, 0)}, r"'hidden_layer_sizes' parameter .* a tuple of positive ints"),
        ({"class_weight": "balance"}, r"Did you mean 'balanced'\?"),
        ({"clip_grad_norm": 0}, r"'clip_grad_norm' parameter .* or None\. Got 0 instead"),
        ({"early_stopping": "yes"}, r"'early_stopping' parameter .* must be a bool"),
    ],
)
def test_bad_hyperparameters(params, match):
    X, y = moons(50)
    with pytest.raises(ValueError, match=match):
        small_clf(**params).fit(X, y)


def test_nan_and_inf_in_X():
    X, y = moons(50)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        small_clf().fit(X_nan, y)
    X_big = X.copy()
    X_big[0, 0] = 1e300  # finite in float64, infinite in the float32 the network uses
    with pytest.raises(ValueError, match="Input X contains infinity or a value too large"):
        small_clf().fit(X_big, y)
    fitted = small_clf(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict(X_nan)


def test_string_features_ask_for_encoding():
    X = np.array([["red", 1.0], ["blue", 2.0], ["red", 3.0], ["blue", 0.5]], dtype=object)
    with pytest.raises(ValueError, match="expects numeric features.*OneHotEncoder"):
        small_clf().fit(X, [0, 1, 0, 1])
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"colour": ["red", "blue", "red", "blue"], "size": [1.0, 2.0, 3.0, 0.5]})
    with pytest.raises(ValueError, match="expects numeric features.*OneHotEncoder"):
        small_clf().fit(frame, [0, 1, 0, 1])


def test_wrong_number_of_features_at_predict():
    X, y = moons(50)
    clf = small_clf(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 2 features"):
        clf.predict(np.ones((4, 3)))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
def test_predict_before_fit(method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(small_clf(), method)(np.ones((3, 2)))


def test_regressor_predict_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MLPRegressor().predict(np.ones((3, 2)))


def test_length_mismatch_empty_and_missing_y():
    X, y = moons(50)
    with pytest.raises(ValueError, match="X and y have different numbers of samples: 50 and 49"):
        small_clf().fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        small_clf().fit(np.empty((0, 2)), [])
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        small_clf().fit(X, None)


def test_bad_targets():
    X, _ = moons(50)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        small_clf().fit(X, np.linspace(0, 1, 50))
    with pytest.raises(ValueError, match="fit one classifier per label"):
        small_clf().fit(X, np.ones((50, 2), dtype=int))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MLPRegressor().fit(X, np.full(50, np.nan))
    with pytest.raises(ValueError, match="expects numeric targets"):
        MLPRegressor().fit(X, np.array(["a"] * 50))


def test_unseen_label_in_warm_start():
    X, y = moons(60)
    clf = small_clf(max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"y contains labels \[2\] not seen in the first fit"):
        clf.fit(X, np.where(np.arange(60) == 0, 2, y))


def test_warm_start_with_other_feature_count():
    X, y = moons(60)
    clf = small_clf(max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 2"):
        clf.fit(np.ones((60, 3)), y)


def test_diverging_loss_says_lower_the_learning_rate():
    X, y = make_regression(200, n_features=5, random_state=0)
    reg = MLPRegressor((32,), solver="sgd", learning_rate=1e6, max_iter=20, random_state=0)
    with pytest.raises(FloatingPointError, match=r"training diverged\. Lower learning_rate \(now 1e\+06\)"):
        reg.fit(X * 1e3, y)


def test_early_stopping_with_too_few_samples():
    with pytest.raises(ValueError, match="leaves no training sample"):
        small_clf(early_stopping=True, validation_fraction=0.5).fit([[0.0], [1.0]][:1], [0])


def test_device_errors_are_clear():
    X, y = moons(20)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="asks for CUDA but torch sees no GPU"):
            small_clf(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="is not a device torch knows"):
        small_clf(device="tpu7").fit(X, y)


# -- properties ---------------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(
    n_samples=st.integers(1, 40),
    n_features=st.integers(1, 6),
    n_classes=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_predict_proba_is_a_distribution(n_samples, n_features, n_classes, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * 10
    y = rng.integers(0, n_classes, size=n_samples)
    clf = MLPClassifier((5,), max_iter=2, learning_rate=0.05, random_state=seed).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (n_samples, len(np.unique(y)))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)  # normalised in float64
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


@settings(max_examples=10, deadline=None)
@given(shape=st.tuples(st.integers(1, 30), st.integers(1, 4)), n_targets=st.integers(1, 3))
def test_property_regressor_output_shape(shape, n_targets):
    X = np.random.default_rng(0).normal(size=shape)
    y = X[:, :1] @ np.ones((1, n_targets))
    reg = MLPRegressor((4,), max_iter=1, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (shape[0], n_targets)
    assert np.all(np.isfinite(reg.predict(X)))


# -- the defaults and options for tables (issue 13) ----------------------------------------------------
def test_early_stopping_auto_turns_on_from_three_hundred_rows():
    from deepzoo.models.mlp import EARLY_STOPPING_MIN_SAMPLES

    assert EARLY_STOPPING_MIN_SAMPLES == 300  # the one rule of Python and deepzoo fit (tasks/table.py)
    X, y = make_classification(400, 5, random_state=0)
    big = small_clf(max_iter=5, early_stopping="auto").fit(X[:300], y[:300])
    small = small_clf(max_iter=5, early_stopping="auto").fit(X[:299], y[:299])
    assert "val_loss" in big.history_ and "val_loss" not in small.history_


def test_regressor_learns_targets_in_any_units():
    X, y = make_regression(300, 4, noise=1.0, random_state=0)
    # the same problem in units a million times larger: standardised targets make the same fit
    a = MLPRegressor((16,), learning_rate=0.01, max_iter=60, random_state=0, early_stopping=False).fit(X, y)
    b = MLPRegressor((16,), learning_rate=0.01, max_iter=60, random_state=0, early_stopping=False)
    b.fit(X, y * 1e6 + 5e6)
    # float32 training on targets scaled back: relative agreement to ~1e-5 of the targets' spread
    np.testing.assert_allclose(b.predict(X), a.predict(X) * 1e6 + 5e6, rtol=0, atol=1e-4 * 1e6 * y.std())
    assert a.score(X, y) > 0.9
    assert b.target_scale_[0] == pytest.approx(y.std() * 1e6)


def test_piecewise_linear_encoding_learns_a_threshold():
    rng = np.random.default_rng(0)
    X = rng.exponential(size=(600, 3))
    y = (X[:, 0] > 1.5).astype(int) ^ (X[:, 1] > 0.4).astype(int)  # two thresholds on skewed inputs
    with_bins = small_clf(hidden_layer_sizes=(16,), n_bins=16, max_iter=60).fit(X, y)
    edges = with_bins.module_.layers[0]
    assert edges.lower.shape == (3, 16) and torch.isfinite(edges.lower).all()
    assert with_bins.score(X, y) > 0.95


def test_members_train_side_by_side_and_their_average_is_the_prediction():
    X, y = make_classification(400, 6, random_state=0)
    clf = small_clf(n_members=4, max_iter=20).fit(X, y)
    module = clf.module_.train()
    logits = module(torch.as_tensor(X[:5], dtype=torch.float32)).detach()  # (5, 4, 2): every member
    assert logits.shape == (5, 4, 2) and not torch.allclose(logits[:, 0], logits[:, 1])
    np.testing.assert_allclose(clf.predict_proba(X[:5]), torch.softmax(logits, -1).mean(1).numpy(), atol=1e-6)
    reg = MLPRegressor((8,), n_members=3, learning_rate=0.01, max_iter=60, random_state=0).fit(X, X[:, 0])
    assert reg.predict(X).shape == (400,) and reg.score(X, X[:, 0]) > 0.8


def test_table_options_are_checked():
    X, y = moons()
    with pytest.raises(
        ValueError, match="'n_members' parameter of MLPClassifier must be an int in the range"
    ):
        small_clf(n_members=0).fit(X, y)
    with pytest.raises(ValueError, match="'early_stopping' parameter"):
        small_clf(early_stopping="sometimes").fit(X, y)


def test_varying_bins_skip_two_valued_columns_and_keep_the_first_layer_narrow():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(size=600), rng.integers(0, 2, 600), rng.normal(size=600)])
    y = ((X[:, 0] > 1.0) ^ (X[:, 1] == 1)).astype(int)
    clf = small_clf(hidden_layer_sizes=(16,), n_bins=8, bin_columns="varying", max_iter=60).fit(X, y)
    assert clf.bin_columns_ == [0, 2]  # the 0/1 column gets no bins
    first = clf.module_.layers[1]
    assert first.in_features == 3 + 2 * 8  # 'all' would make it 3 * 9 = 27 wide
    old_layout = small_clf(hidden_layer_sizes=(16,), n_bins=8, max_iter=2).fit(X, y)
    assert old_layout.bin_columns_ is None and old_layout.module_.layers[1].in_features == 27
    # the same threshold as a plain network with all bins would find
    assert clf.score(X, y) > 0.95


def test_shared_members_compute_the_first_layer_once_and_differ_after_it():
    X, y = make_classification(400, 6, random_state=0)
    clf = small_clf(hidden_layer_sizes=(16, 8), n_members=4, ensemble="shared", max_iter=30).fit(X, y)
    layers = clf.module_.layers
    assert isinstance(layers[0], torch.nn.Linear) and layers[0].weight.shape == (16, 6)  # one copy
    independent = small_clf(hidden_layer_sizes=(16, 8), n_members=4, max_iter=1).fit(X, y)
    n_shared = sum(p.numel() for p in clf.module_.parameters())
    n_independent = sum(p.numel() for p in independent.module_.parameters())
    assert n_shared < n_independent
    module = clf.module_.train()
    logits = module(torch.as_tensor(X[:5], dtype=torch.float32)).detach()  # (5, 4, 2)
    assert logits.shape == (5, 4, 2) and not torch.allclose(logits[:, 0], logits[:, 1])
    np.testing.assert_allclose(clf.predict_proba(X[:5]), torch.softmax(logits, -1).mean(1).numpy(), atol=1e-6)
    # learns as well as a plain logistic regression on this linear-ish problem (margin for 400 rows)
    from sklearn.linear_model import LogisticRegression

    assert clf.score(X, y) > LogisticRegression().fit(X, y).score(X, y) - 0.03
    reg = MLPRegressor((8,), n_members=3, ensemble="shared", learning_rate=0.01, max_iter=60, random_state=0)
    assert reg.fit(X, X[:, 0]).score(X, X[:, 0]) > 0.8


def test_new_table_options_are_checked_and_saved(tmp_path):
    import deepzoo

    X, y = moons()
    with pytest.raises(ValueError, match="'ensemble' parameter of MLPClassifier must be a str among"):
        small_clf(ensemble="tied").fit(X, y)
    with pytest.raises(ValueError, match="'bin_columns' parameter of MLPClassifier must be a str among"):
        small_clf(bin_columns="some").fit(X, y)
    clf = small_clf(n_bins=4, bin_columns="varying", n_members=2, ensemble="shared", max_iter=3).fit(X, y)
    deepzoo.save(clf, tmp_path / "m")
    again = deepzoo.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_linear_path_starts_as_the_plain_network_and_is_saved(tmp_path):
    import deepzoo
    from deepzoo.models.mlp import MLP

    torch.manual_seed(0)
    plain = MLP(5, (16,), 2, n_members=3)
    torch.manual_seed(0)
    with_path = MLP(5, (16,), 2, n_members=3, linear_path=True)
    x = torch.randn(7, 5)
    # zero at the start, and the layers draw the same weights: the same outputs as without it
    torch.testing.assert_close(with_path.eval()(x), plain.eval()(x))
    # a regressor whose network is decayed hard (alpha=1) still fits a linear target through the path
    # (R^2 0.88-0.89 on data seeds 0-2; the decayed network alone 0.10-0.12)
    X, y = make_regression(120, 5, noise=1.0, random_state=0)
    params = dict(hidden_layer_sizes=(16,), alpha=1.0, learning_rate=0.01, max_iter=150, n_members=2)
    reg = MLPRegressor(**params, linear_path=True, random_state=0, early_stopping=False).fit(X, y)
    plain_r2 = MLPRegressor(**params, random_state=0, early_stopping=False).fit(X, y).score(X, y)
    assert reg.score(X, y) > max(0.7, plain_r2 + 0.4)
    deepzoo.save(reg, tmp_path / "m")
    np.testing.assert_array_equal(deepzoo.load(tmp_path / "m").predict(X), reg.predict(X))
