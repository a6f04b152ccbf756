"""Responsible use: scores by group (:mod:`.fairness`) and explanations (:mod:`.explain`)."""

from .explain import (
    input_gradients,
    integrated_gradients,
    permutation_importance_table,
    standardized_coefficients,
)
from .fairness import FairnessReport, fairness_report

__all__ = [
    "FairnessReport",
    "fairness_report",
    "input_gradients",
    "integrated_gradients",
    "permutation_importance_table",
    "standardized_coefficients",
]
