"""Responsible use: scores by group (:mod:`.fairness`) and explanations (:mod:`.explain`)."""

from .explain import (
    input_gradients,
    integrated_gradients,
    permutation_importance_table,
    standardized_coefficients,
)

__all__ = [
    "input_gradients",
    "integrated_gradients",
    "permutation_importance_table",
    "standardized_coefficients",
]
