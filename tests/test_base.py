"""base.py: parameter checks in scikit-learn's wording, device resolution, seeds."""

import numbers
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from deepzoo.engine.base import (
    Interval,
    Options,
    TorchEstimator,
    check_params,
    local_torch_seed,
    not_fitted_message,
    numpy_out,
    resolve_device,
    seed_from,
)


class Toy(TorchEstimator):
    _parameter_constraints = {
        "rate": [Interval(numbers.Real, 0, 1, closed="right")],
        "size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "cell": [Options("gru", "lstm")],
        "flag": [bool],
        "random_state": ["random_state"],
        "device": ["device"],
        "path": [str, "pathlike", None],
        "weights": ["dict", Options("balanced"), None],
        "layers": ["int_tuple"],
    }

    def __init__(
        self,
        rate=0.5,
        *,
        size=None,
        cell="lstm",
        flag=False,
        random_state=None,
        device="auto",
        path=None,
        weights=None,
        layers=(4,),
    ):
        self.rate = rate
        self.size = size
        self.cell = cell
        self.flag = flag
        self.random_state = random_state
        self.device = device
        self.path = path
        self.weights = weights
        self.layers = layers


def test_valid_parameters_pass():
    from pathlib import Path

    Toy()._check_params()
    Toy(
        rate=1,
        size=3,
        cell="gru",
        flag=np.bool_(True),
        random_state=np.random.RandomState(0),
        device=torch.device("cpu"),
        path=Path("x"),
        weights={0: 2.0},
        layers=[3, 2],
    )._check_params()
    Toy(size=np.int64(5), layers=7)._check_params()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"rate": 0}, "The 'rate' parameter of Toy must be a float in the range (0, 1]. Got 0 instead."),
        ({"rate": 1.5}, "The 'rate' parameter of Toy must be a float in the range (0, 1]. Got 1.5 instead."),
        (
            {"rate": "high"},
            "The 'rate' parameter of Toy must be a float in the range (0, 1]. Got 'high' instead.",
        ),
        (
            {"rate": float("nan")},
            "The 'rate' parameter of Toy must be a float in the range (0, 1]. Got nan instead.",
        ),
        (
            {"size": 0},
            "The 'size' parameter of Toy must be an int in the range [1, inf) or None. Got 0 instead.",
        ),
        (
            {"size": 2.0},
            "The 'size' parameter of Toy must be an int in the range [1, inf) or None. Got 2.0 instead.",
        ),
        (
            {"size": True},
            "The 'size' parameter of Toy must be an int in the range [1, inf) or None. Got True instead.",
        ),
        (
            {"cell": "lstn"},
            "The 'cell' parameter of Toy must be a str among {'gru', 'lstm'}. Got 'lstn' instead. "
            "Did you mean 'lstm'?",
        ),
        (
            {"cell": "transformer"},
            "The 'cell' parameter of Toy must be a str among {'gru', 'lstm'}. Got 'transformer' instead.",
        ),
        ({"flag": 1}, "The 'flag' parameter of Toy must be a bool. Got 1 instead."),
        (
            {"random_state": "0"},
            "The 'random_state' parameter of Toy must be an int in the range [0, 4294967295], a numpy "
            "RandomState or None. Got '0' instead.",
        ),
        (
            {"random_state": -1},
            "The 'random_state' parameter of Toy must be an int in the range [0, 4294967295]",
        ),
        ({"random_state": 2**32}, "The 'random_state' parameter of Toy must be an int in the range"),
        ({"random_state": True}, "The 'random_state' parameter of Toy must be an int in the range"),
        ({"device": 0}, "The 'device' parameter of Toy must be a str such as 'auto'"),
        (
            {"path": 3},
            "The 'path' parameter of Toy must be an instance of 'str', a path or None. Got 3 instead.",
        ),
        (
            {"weights": "balnced"},
            "The 'weights' parameter of Toy must be a dict, a str among {'balanced'} or None. "
            "Got 'balnced' instead. Did you mean 'balanced'?",
        ),
        (
            {"layers": (4, -1)},
            "The 'layers' parameter of Toy must be a tuple of positive ints. Got (4, -1) instead.",
        ),
        ({"layers": (True,)}, "The 'layers' parameter of Toy must be a tuple of positive ints."),
    ],
)
def test_bad_parameters_raise_with_sklearn_wording(params, message):
    with pytest.raises(ValueError) as info:
        Toy(**params)._check_params()
    assert str(info.value).startswith(message)


def test_check_params_reports_the_first_bad_one_and_nothing_for_unchecked():
    class Partial(Toy):
        _parameter_constraints = {"cell": [Options("gru", "lstm")]}

    Partial(rate=-5)._check_params()  # rate is not constrained here
    with pytest.raises(ValueError, match="'cell'"):
        check_params(Partial(cell="x"), Partial._parameter_constraints)


def test_interval_describe_and_bounds():
    assert Interval(numbers.Real, 0, None, closed="neither").describe() == "a float in the range (0, inf)"
    assert Interval(numbers.Integral, None, 3).describe() == "an int in the range [-inf, 3]"
    closed = Interval(numbers.Real, 0, 1)
    assert closed.accepts(0) and closed.accepts(1) and closed.accepts(0.5)
    assert not closed.accepts(-1e-9) and not closed.accepts(1 + 1e-9) and not closed.accepts(False)
    assert not Interval(numbers.Integral, 0, 10).accepts(2.0)
    assert Interval(numbers.Real, 0, 10).accepts(2)  # an int is a real number
    assert Options("a", "b").describe() == "a str among {'a', 'b'}"


def test_resolve_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match=r"device='bogus' is not a device torch knows; use 'auto', 'cpu'"):
        resolve_device("bogus")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:1", torch.device("cuda", 0)])
def test_resolve_device_without_gpu(device):
    with pytest.raises(ValueError, match=r"asks for CUDA but torch sees no GPU.*Use device='auto' or 'cpu'"):
        resolve_device(device)


def test_seed_from():
    assert seed_from(7) == 7
    assert seed_from(np.int64(3)) == 3
    assert seed_from(np.random.RandomState(0)) == seed_from(np.random.RandomState(0))
    rs = np.random.RandomState(0)
    assert seed_from(rs) != seed_from(rs)  # a RandomState advances, like in scikit-learn
    state = np.random.get_state()
    fresh = {seed_from(None) for _ in range(5)}
    assert len(fresh) == 5 and all(0 <= s < 2**63 for s in fresh)
    assert all(np.array_equal(a, b) for a, b in zip(state, np.random.get_state()))


def test_local_torch_seed_restores_the_global_state():
    before = torch.get_rng_state()
    with local_torch_seed(5, torch.device("cpu")):
        first = torch.rand(3)
    with local_torch_seed(5, torch.device("cpu")):
        second = torch.rand(3)
    assert torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), before)


def test_helpers():
    out = numpy_out(torch.ones(2, 2, dtype=torch.bfloat16, requires_grad=True))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    error = not_fitted_message(Toy())
    assert isinstance(error, NotFittedError) and "This Toy instance is not fitted yet" in str(error)
    assert Toy().__sklearn_tags__().non_deterministic is False
    assert pickle.loads(pickle.dumps(Toy(cell="gru"))).get_params()["cell"] == "gru"


@settings(max_examples=50, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["both", "left", "right", "neither"]))
def test_property_interval_agrees_with_plain_comparisons(value, closed):
    interval = Interval(numbers.Real, -1.0, 2.0, closed=closed)
    low_ok = value > -1 or (value == -1 and closed in ("both", "left"))
    high_ok = value < 2 or (value == 2 and closed in ("both", "right"))
    assert interval.accepts(value) == (low_ok and high_ok)
