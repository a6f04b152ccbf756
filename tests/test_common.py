"""scikit-learn's own estimator checks on tiny instances of every deepzoo estimator."""

import numpy as np
import pytest
from float32 import assert_float32_close
from sklearn.base import clone, is_classifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepzoo import (
    BernoulliRBM,
    ConvNetClassifier,
    ConvNetSegmenter,
    LSTMForecaster,
    MLPClassifier,
    MLPRegressor,
    SelfOrganizingMap,
    SequenceClassifier,
    StackedAutoEncoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# tiny but able to learn the checks' easy problems (accuracy > 0.83, R^2 > 0.5) in a few epochs
ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, learning_rate=0.05, random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), max_iter=10, learning_rate=0.05, random_state=0),
    BernoulliRBM(n_components=4, max_iter=2, random_state=0),
    StackedAutoEncoder(hidden_layer_sizes=(4,), max_iter=5, random_state=0),
    SelfOrganizingMap((3, 3), max_iter=10, random_state=0),
    # 2-D X is read as 1-pixel-high images; a quarter-width small_vgg learns the checks' problems
    ConvNetClassifier("small_vgg", width=0.25, max_iter=10, learning_rate=0.01, random_state=0),
    # 2-D X is read as windows (n_samples, n_timesteps) of one feature
    LSTMForecaster((16,), max_iter=40, learning_rate=0.02, random_state=0),
    # the checks' float features are not token ids: most checks stop at that error (listed below)
    SequenceClassifier("conv1d", embedding_dim=4, n_filters=4, max_length=8, max_iter=5, random_state=0),
    # images (n, C, H, W) and masks (n, H, W) only: its tags say it takes no 2-D X, so scikit-learn runs
    # the one check that needs no data (cloneable); test_segmentation.py runs the API checks that apply
    # and covers the rest of the contract (fit/predict, clone, pickle, same seed, warm start, bad input)
    ConvNetSegmenter(width=0.25, depth=1, max_iter=1, random_state=0),
]

# Both come from float32 arithmetic, not from a wrong result: the checks compare to rtol=1e-7, about
# one float32 rounding step. Whether a given case trips depends on the CPU's kernels (AVX-512, AVX2 or
# torch's portable ones: ATEN_CPU_CAPABILITY=default), so a check listed here may also pass (XPASS) on
# some machines: the marks are not strict (xfail_strict=False below).
_SAMPLE_WEIGHT = (
    "float32 training: weights and repeated rows give the same gradients up to rounding (~1e-7 relative), "
    "which the check's rtol=1e-7 does not allow; test_mlp.py checks zero weights against dropped rows."
)
_SUBSET = (
    "float32 matrix products: a row's output can change by one rounding step (~2e-7) with the size of "
    "the batch it is computed in (the kernels block and vectorise one row otherwise than twenty); the "
    "check allows 1e-7. test_methods_subset_invariance_to_float32_rounding checks it to float32 rounding."
)
_PSEUDO_LIKELIHOOD = (
    "score_samples flips one randomly chosen unit per row (scikit-learn's pseudo-likelihood, same draw "
    "as its BernoulliRBM): reordering or subsetting the rows changes which unit each row gets."
)
_N_TIMESTEPS = (
    "n_features_in_ counts features per time step; a 2-D X is (n_samples, n_timesteps) windows of ONE "
    "feature, so it is 1, not X.shape[1]; test_recurrent.py checks the feature-count message."
)
_TOKEN_IDS = (
    "SequenceClassifier reads token ids (non-negative integers) or texts; the check passes continuous "
    "features, which it refuses with 'expects integer token ids'. test_recurrent.py covers the same "
    "behaviour (fit/predict, pickle, clone, same seed, bad input) on token ids and texts."
)
_TOKEN_ID_CHECKS = (
    "check_fit_score_takes_y check_estimators_overwrite_params check_dont_overwrite_parameters "
    "check_estimators_fit_returns_self check_readonly_memmap_input check_n_features_in_after_fitting "
    "check_estimators_dtypes check_dtype_object check_pipeline_consistency check_estimators_nan_inf "
    "check_estimators_pickle check_f_contiguous_array_estimator check_classifiers_classes "
    "check_classifiers_train check_supervised_y_2d check_non_transformer_estimators_n_iter "
    "check_decision_proba_consistency check_methods_sample_order_invariance check_methods_subset_invariance "
    "check_fit2d_1feature check_dict_unchanged check_fit_idempotent "
    "check_fit_check_is_fitted check_n_features_in check_fit2d_predict1d"
).split()
EXPECTED_FAILURES = {
    "LSTMForecaster": {
        "check_n_features_in_after_fitting": _N_TIMESTEPS,
        "check_n_features_in": _N_TIMESTEPS,
        "check_methods_subset_invariance": _SUBSET,
    },
    "SequenceClassifier": dict.fromkeys(_TOKEN_ID_CHECKS, _TOKEN_IDS),
    "SelfOrganizingMap": {
        "check_clustering": "labels_ are grid positions (unit indices): a unit that wins no sample leaves a "
        "gap, so the labels are not always 0..k-1 consecutive as the check asks; test_som.py checks them.",
    },
    "BernoulliRBM": {
        "check_methods_sample_order_invariance": _PSEUDO_LIKELIHOOD,
        "check_methods_subset_invariance": _PSEUDO_LIKELIHOOD,
    },
    # the networks below run a batch through matrix products (linear, convolution, recurrent layers)
    "StackedAutoEncoder": {"check_methods_subset_invariance": _SUBSET},
    "MLPClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT,
        "check_methods_subset_invariance": _SUBSET,
    },
    "MLPRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT,
        "check_methods_subset_invariance": _SUBSET,
    },
    "ConvNetClassifier": {
        "check_methods_subset_invariance": _SUBSET,
        "check_sample_weight_equivalence_on_dense_data": (
            "batch normalisation: repeating a row changes the batch statistics, a weight does not; "
            "test_convnet.py checks that scaling every weight changes nothing and that bad weights are "
            "refused."
        ),
    },
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=False)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    # texts and images refuse the check's 2-D numbers (test_segmentation.py checks a segmenter's
    # batch-size invariance on images)
    [e for e in ESTIMATORS if type(e).__name__ not in ("SequenceClassifier", "ConvNetSegmenter")],
    ids=lambda e: type(e).__name__,
)
def test_methods_subset_invariance_to_float32_rounding(estimator):
    """scikit-learn's check_methods_subset_invariance (each row alone against the whole batch, on the
    check's data) with a float32 tolerance: the rows agree to rounding, 1e-5 of the outputs' size, where
    a real dependence on the batch (batch statistics or dropout at predict) moves them by far more."""
    X = 3 * np.random.RandomState(0).uniform(size=(20, 3))
    estimator = clone(estimator).set_params(random_state=1).fit(X, X[:, 0].astype(int))
    methods = ["predict_proba", "decision_function", "transform"]
    if type(estimator).__name__ != "BernoulliRBM":  # its score_samples flips a random unit per row
        methods.append("score_samples")
    if not is_classifier(estimator):
        methods.append("predict")
    for method in [m for m in methods if hasattr(estimator, m)]:
        full = np.asarray(getattr(estimator, method)(X), dtype=np.float64)
        rows = np.concatenate([np.asarray(getattr(estimator, method)(x[None]), dtype=np.float64) for x in X])
        assert_float32_close(rows, full, err_msg=f"{type(estimator).__name__}.{method}")
    if is_classifier(estimator):  # labels agree wherever the top two classes are not tied to rounding
        proba = estimator.predict_proba(X)
        top = np.sort(proba, axis=1)
        clear = top[:, -1] - top[:, -2] > 1e-5
        labels = np.concatenate([estimator.predict(x[None]) for x in X])
        assert clear.sum() >= 10 and np.array_equal(labels[clear], estimator.predict(X)[clear])
