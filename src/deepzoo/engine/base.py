"""TorchEstimator: what every deepzoo estimator shares.

Hyperparameter checks with scikit-learn's sentence shape, device resolution, seeding from
``random_state`` without touching the caller's global RNG, input checks and ``save``.
"""

from __future__ import annotations

import difflib
import numbers
import os
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

from .device import local_torch_seed, resolve_device, seed_from

__all__ = [
    "Interval",
    "Options",
    "TorchEstimator",
    "check_params",
    "local_torch_seed",
    "resolve_device",
    "seed_from",
]


@dataclass(frozen=True)
class Interval:
    """A numeric range for a hyperparameter; ``None`` bounds are open-ended."""

    kind: type  # numbers.Integral or numbers.Real
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if value != value:  # NaN compares False with every bound: refuse it explicitly
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def describe(self) -> str:
        name = "an int" if self.kind is numbers.Integral else "a float"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{name} in the range {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """A closed set of strings for a hyperparameter."""

    values: frozenset

    def __init__(self, *values: str):
        object.__setattr__(self, "values", frozenset(values))

    def accepts(self, value) -> bool:
        return isinstance(value, str) and value in self.values

    def describe(self) -> str:
        return "a str among {" + ", ".join(repr(v) for v in sorted(self.values)) + "}"


def _describe(constraint) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, (Interval, Options)):
        return constraint.describe()
    if constraint is bool:
        return "a bool"
    if constraint == "random_state":
        return "an int in the range [0, 4294967295], a numpy RandomState or None"
    if constraint == "device":
        return "a str such as 'auto', 'cpu', 'cuda' or 'cuda:0', or a torch.device"
    if constraint == "int_tuple":
        return "a tuple of positive ints"
    if constraint == "dict":
        return "a dict"
    if constraint == "pathlike":
        return "a path"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    raise AssertionError(f"unknown constraint {constraint!r}")


def _accepts(constraint, value) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, (Interval, Options)):
        return constraint.accepts(value)
    if constraint is bool:
        return isinstance(value, (bool, np.bool_))
    if constraint == "random_state":
        # scikit-learn's range: the seeds NumPy's RandomState takes
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return 0 <= value <= 2**32 - 1
        return value is None or isinstance(value, np.random.RandomState)
    if constraint == "device":
        return isinstance(value, (str, torch.device))
    if constraint == "int_tuple":
        return (
            isinstance(value, (tuple, list))
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in value)
        ) or (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0)
    if constraint == "dict":
        return isinstance(value, dict)
    if constraint == "pathlike":
        return isinstance(value, os.PathLike)
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    raise AssertionError(f"unknown constraint {constraint!r}")


def check_params(estimator, constraints: dict) -> None:
    """Raise ``ValueError`` in scikit-learn's wording for the first parameter that breaks its constraints.

    ``constraints`` maps a parameter name to a list of accepted constraints (any one suffices). A bad
    string for a closed set also suggests the nearest valid one.
    """
    params = estimator.get_params(deep=False)
    for name, accepted in constraints.items():
        value = params[name]
        if any(_accepts(c, value) for c in accepted):
            continue
        described = [_describe(c) for c in accepted]
        if len(described) == 1:
            must = described[0]
        else:
            must = ", ".join(described[:-1]) + " or " + described[-1]
        message = (
            f"The {name!r} parameter of {type(estimator).__name__} must be {must}. Got {value!r} instead."
        )
        options = [c for c in accepted if isinstance(c, Options)]
        if isinstance(value, str) and options:
            close = difflib.get_close_matches(value, sorted(set().union(*(o.values for o in options))), n=1)
            if close:
                message += f" Did you mean {close[0]!r}?"
        raise ValueError(message)


class TorchEstimator(BaseEstimator):
    """Base class of deepzoo's estimators.

    Subclasses declare ``_parameter_constraints`` and call ``self._check_params()`` first thing in
    ``fit``. Public methods take and return NumPy arrays on the CPU.
    """

    _parameter_constraints: dict = {}
    # the fitted attributes (besides ``module_``) that ``save`` writes and ``load`` accepts back; None
    # accepts any public name ending in "_"
    _fitted_attributes: frozenset | None = None

    def _check_params(self) -> None:
        check_params(self, self._parameter_constraints)

    def _check_fitted(self, attribute: str = "module_") -> None:
        check_is_fitted(self, attribute)

    def _validate_numeric(self, X, *, reset: bool, allow_nan: bool = False) -> np.ndarray:
        """scikit-learn's ``validate_data`` to float32; text in X gets a message that names the fix."""
        try:
            return validate_data(
                self, X, reset=reset, dtype=np.float32, ensure_all_finite="allow-nan" if allow_nan else True
            )
        except ValueError as exc:
            if "convert" not in str(exc):
                raise
            raise ValueError(
                f"{type(self).__name__} expects numeric features; got non-numeric values ({exc}). "
                "Encode categorical columns first, e.g. with OneHotEncoder in a Pipeline."
            ) from exc

    def save(self, path) -> None:
        """Save the fitted estimator to the folder ``path`` (JSON config + safetensors weights).

        Load it back with :func:`deepzoo.load`; loading never runs code from the files.
        """
        from .persistence import save

        save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def numpy_out(tensor: torch.Tensor) -> np.ndarray:
    """A float tensor on any device as a NumPy array on the CPU."""
    return tensor.detach().float().cpu().numpy()


def not_fitted_message(estimator) -> NotFittedError:
    """The NotFittedError deepzoo raises, with scikit-learn's wording."""
    return NotFittedError(
        f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate "
        "arguments before using this estimator."
    )
