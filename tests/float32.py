"""Comparisons of float32 results with a tolerance that follows float32 rounding at the size of the
values, not a constant that happened to hold on one CPU's kernels.

Two float32 computations of the same quantity (another batch size, another runtime, another kernel path:
AVX-512, AVX2, or torch's portable kernels under ATEN_CPU_CAPABILITY=default) each round at about
eps = 1.2e-7 of the values they carry, and the order of a sum is the kernel's choice. One network
evaluation agrees to a few eps of its outputs' size; ``rel=1e-5`` (about 80 eps) leaves room for a few
layers and for summation orders, and still refuses a real difference (a wrong weight, a missing scaler,
dropout left on), which moves outputs by 1e-3 and more.
"""

from __future__ import annotations

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)


def float32_atol(desired, rel: float = 1e-5) -> float:
    """``rel`` of the values' size (max |desired|, at least 1: below that the absolute part rules)."""
    desired = np.asarray(desired, dtype=np.float64)
    return rel * max(1.0, float(np.max(np.abs(desired), initial=0.0)))


def assert_float32_close(actual, desired, *, rel: float = 1e-5, err_msg: str = "") -> None:
    """``actual`` equals ``desired`` to float32 rounding: |actual - desired| <= rel * max(1, max|desired|)."""
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64),
        np.asarray(desired, dtype=np.float64),
        rtol=0,
        atol=float32_atol(desired, rel),
        err_msg=err_msg,
    )
