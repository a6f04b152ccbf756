"""scikit-learn's own estimator checks on tiny instances of every deepzoo estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepzoo import (
    BernoulliRBM,
    ConvNetClassifier,
    MLPClassifier,
    MLPRegressor,
    SelfOrganizingMap,
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
]

# Both come from float32 arithmetic, not from a wrong result: the checks compare to rtol=1e-7, about
# one float32 rounding step. Whether a given case trips depends on the CPU's BLAS kernels, so a check
# listed here may also pass (XPASS) on some machines.
_SAMPLE_WEIGHT = (
    "float32 training: weights and repeated rows give the same gradients up to rounding (~1e-7 relative), "
    "which the check's rtol=1e-7 does not allow; test_mlp.py checks zero weights against dropped rows."
)
_SUBSET = (
    "float32 matrix products: a row's output can change by one rounding step (~2e-7) with the size of "
    "the batch it is computed in (BLAS blocking); the check allows 1e-7."
)
_PSEUDO_LIKELIHOOD = (
    "score_samples flips one randomly chosen unit per row (scikit-learn's pseudo-likelihood, same draw "
    "as its BernoulliRBM): reordering or subsetting the rows changes which unit each row gets."
)
EXPECTED_FAILURES = {
    "SelfOrganizingMap": {
        "check_clustering": "labels_ are grid positions (unit indices): a unit that wins no sample leaves a "
        "gap, so the labels are not always 0..k-1 consecutive as the check asks; test_som.py checks them.",
    },
    "BernoulliRBM": {
        "check_methods_sample_order_invariance": _PSEUDO_LIKELIHOOD,
        "check_methods_subset_invariance": _PSEUDO_LIKELIHOOD,
    },
    "MLPClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT,
        "check_methods_subset_invariance": _SUBSET,
    },
    "MLPRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT,
        "check_methods_subset_invariance": _SUBSET,
    },
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
