"""BernoulliRBM: free energy and CD update against NumPy, pseudo-likelihood against scikit-learn."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import RidgeClassifier
from sklearn.neural_network import BernoulliRBM as SklearnRBM
from sklearn.pipeline import make_pipeline

import deepzoo
from deepzoo import BernoulliRBM
from deepzoo.models.rbm import RBM, sample_bernoulli


def softplus(x):
    return np.logaddexp(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_free_energy(v, W, b_h, b_v, visible="bernoulli", mask=None):
    """F(v) written out in NumPy: the reference the module must match."""
    mask = np.ones_like(v) if mask is None else mask
    v = v * mask
    hidden = softplus(v @ W.T + b_h).sum(axis=1)
    if visible == "bernoulli":
        return -(v * b_v * mask).sum(axis=1) - hidden
    return 0.5 * (((v - b_v) ** 2) * mask).sum(axis=1) - hidden


def random_module(n_visible=7, n_hidden=5, visible="bernoulli", seed=0):
    torch.manual_seed(seed)
    module = RBM(n_visible, n_hidden, visible).double()
    with torch.no_grad():
        module.weight.normal_(0, 0.5)
        module.hidden_bias.normal_(0, 0.5)
        module.visible_bias.normal_(0, 0.5)
    return module


def params_of(module):
    return [p.detach().numpy() for p in (module.weight, module.hidden_bias, module.visible_bias)]


def binary_digits(n=None):
    X = (load_digits().data / 16 > 0.5).astype(np.float32)
    return X if n is None else X[:n]


# -- oracles -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("masked", [False, True])
def test_free_energy_matches_numpy(visible, masked):
    module = random_module(visible=visible)
    rng = np.random.default_rng(0)
    v = rng.integers(0, 2, (6, 7)).astype(float) if visible == "bernoulli" else rng.normal(size=(6, 7))
    mask = (rng.random((6, 7)) > 0.3).astype(float) if masked else None
    v_in = v if mask is None else v * mask
    got = (
        module.free_energy(torch.as_tensor(v_in), None if mask is None else torch.as_tensor(mask))
        .detach()
        .numpy()
    )
    # both in float64 (~1e-16 per operation, vectorised exp/log1p within an ulp or two); 1e-10 leaves
    # a factor 1e6 for cancellation, a wrong term is off by 1e-2
    np.testing.assert_allclose(got, numpy_free_energy(v, *params_of(module), visible, mask), rtol=1e-10)


def test_cd_gradient_matches_numpy_update():
    """Autograd on mean(F(v0) - F(vk)) is minus the CD update <v h>_data - <v h>_model."""
    module = random_module()
    rng = np.random.default_rng(1)
    v0 = rng.integers(0, 2, (8, 7)).astype(float)
    vk = rng.integers(0, 2, (8, 7)).astype(float)
    loss = (module.free_energy(torch.as_tensor(v0)) - module.free_energy(torch.as_tensor(vk))).mean()
    loss.backward()
    W, b_h, b_v = params_of(module)
    h0, hk = sigmoid(v0 @ W.T + b_h), sigmoid(vk @ W.T + b_h)
    n = len(v0)
    # float64 autograd against float64 NumPy, as above
    np.testing.assert_allclose(module.weight.grad.numpy(), -(h0.T @ v0 - hk.T @ vk) / n, rtol=1e-10)
    np.testing.assert_allclose(module.hidden_bias.grad.numpy(), -(h0 - hk).sum(0) / n, rtol=1e-10)
    np.testing.assert_allclose(module.visible_bias.grad.numpy(), -(v0 - vk).sum(0) / n, rtol=1e-10)


def test_sample_bernoulli_draws_ones_at_rate_p():
    p = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0]).repeat(40_000, 1)
    states = sample_bernoulli(p, torch.Generator().manual_seed(0))
    assert states.dtype == p.dtype and set(states.unique().tolist()) <= {0.0, 1.0}
    np.testing.assert_allclose(states.mean(0).numpy(), [0.0, 0.1, 0.5, 0.9, 1.0], atol=0.01)


def test_cd_loss_runs_the_chain_from_the_data():
    """The estimator's loss is F(v0) - F(v1) with v1 drawn h0 ~ P(h|v0), v1 ~ P(v|h0)."""
    X = binary_digits(20)
    rbm = BernoulliRBM(n_components=6, max_iter=1, random_state=0, device="cpu").fit(X)
    module = rbm.module_
    v0 = torch.as_tensor(X)
    with torch.no_grad():
        logits = module(v0)
        got = rbm._cd_loss(torch.Generator().manual_seed(5), has_missing=False)(logits, v0)
        gen = torch.Generator().manual_seed(5)
        h0 = sample_bernoulli(torch.sigmoid(logits), gen)
        v1 = sample_bernoulli(module.visible_mean(h0), gen)
    W, b_h, b_v = params_of(module)
    expected = numpy_free_energy(X, W, b_h, b_v) - numpy_free_energy(v1.numpy(), W, b_h, b_v)
    # the model's float32 free energies (sums of 64 softplus terms ~10) against float64: ~1e-6
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_pseudo_likelihood_matches_scikit_learn_on_the_same_weights():
    X = binary_digits(200)
    ours = BernoulliRBM(n_components=16, max_iter=2, random_state=3, device="cpu").fit(X)
    theirs = SklearnRBM(n_components=16, random_state=3)
    theirs.components_ = ours.components_.astype(np.float64)
    theirs.intercept_hidden_ = ours.intercept_hidden_.astype(np.float64)
    theirs.intercept_visible_ = ours.intercept_visible_.astype(np.float64)
    theirs.n_features_in_ = 64
    # float32 against scikit-learn's float64 on the same weights and the same flipped units: a pseudo-
    # likelihood of 64 terms (~1e-5 of rounding); transform's probabilities in [0, 1] round at ~1e-7
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-5)


# -- behaviour ---------------------------------------------------------------------------------------
def test_learns_digits_better_than_its_start():
    X = binary_digits()
    start = BernoulliRBM(n_components=64, max_iter=1, learning_rate=1e-6, random_state=0, device="cpu").fit(X)
    rbm = BernoulliRBM(n_components=64, max_iter=10, random_state=0, device="cpu").fit(X)
    assert rbm.score(X) > start.score(X) + 10  # about -44 at the start, better than -25 after
    assert rbm.n_iter_ == 10 and len(rbm.history_["loss"]) == 10
    H = rbm.transform(X)
    assert H.shape == (len(X), 64) and H.min() >= 0 and H.max() <= 1
    recon = rbm.inverse_transform(H)
    assert recon.shape == X.shape
    majority = np.mean((X.mean(axis=0) > 0.5) == X)  # every pixel at its most common value: ~0.75
    assert np.mean((recon > 0.5) == X) > majority + 0.04


def test_persistent_cd_learns_too():
    X = binary_digits(400)
    start = BernoulliRBM(n_components=32, max_iter=1, learning_rate=1e-6, random_state=0, device="cpu").fit(X)
    rbm = BernoulliRBM(
        n_components=32, method="pcd", solver="sgd", learning_rate=0.05, max_iter=10, random_state=0
    ).fit(X)
    assert rbm.score(X) > start.score(X) + 5
    assert len(rbm.module_.chains) == 0  # chains are training state, not kept


def test_gibbs_and_sample():
    X = binary_digits(100)
    rbm = BernoulliRBM(n_components=16, max_iter=3, random_state=0, device="cpu").fit(X)
    step = rbm.gibbs(X[:5])
    assert step.shape == (5, 64) and set(np.unique(step)) <= {0.0, 1.0}
    drawn = rbm.sample(7, n_steps=20)
    assert drawn.shape == (7, 64) and drawn.min() >= 0 and drawn.max() <= 1
    assert not np.array_equal(rbm.gibbs(X[:20]), rbm.gibbs(X[:20]))  # a stream, not the same draw
    with pytest.raises(ValueError, match="positive int"):
        rbm.sample(0)


def test_gaussian_visible_units_reconstruct_real_values():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 3))
    X = (Z @ rng.normal(size=(3, 10)) + 0.1 * rng.normal(size=(500, 10))).astype(np.float32)
    X = (X - X.mean(0)) / X.std(0)
    rbm = BernoulliRBM(n_components=32, visible="gaussian", max_iter=30, learning_rate=0.005, random_state=0)
    rbm.fit(X)
    recon = rbm.inverse_transform(rbm.transform(X))
    assert np.corrcoef(recon.ravel(), X.ravel())[0, 1] > 0.8
    np.testing.assert_allclose(rbm.score_samples(X), -rbm.free_energy(X))


def test_missing_units_are_masked():
    X = binary_digits(300).copy()
    rng = np.random.default_rng(0)
    X[rng.random(X.shape) < 0.3] = np.nan
    rbm = BernoulliRBM(n_components=16, max_iter=5, random_state=0, device="cpu").fit(X)
    # a missing unit acts as absent: the same hidden probabilities as a 0 there
    np.testing.assert_allclose(rbm.transform(X[:10]), rbm.transform(np.nan_to_num(X[:10])), atol=1e-6)
    step = rbm.gibbs(X[:10])
    assert np.array_equal(np.isnan(step), np.isnan(X[:10]))
    np.testing.assert_allclose(rbm.free_energy(X[:10]), rbm.free_energy(np.nan_to_num(X[:10])), rtol=1e-5)
    with pytest.raises(ValueError, match="method='cd'"):
        BernoulliRBM(method="pcd", max_iter=1).fit(X)
    with pytest.raises(ValueError, match="complete rows"):
        rbm.score_samples(X)


def test_same_seed_same_model_and_clone_pickle():
    X = binary_digits(200)
    a = BernoulliRBM(n_components=8, max_iter=3, random_state=7, device="cpu").fit(X)
    b = clone(a).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.transform(X), a.transform(X))


def test_warm_start_and_partial_fit_continue():
    X = binary_digits(200)
    rbm = BernoulliRBM(n_components=8, max_iter=2, warm_start=True, random_state=0, device="cpu").fit(X)
    rbm.fit(X)
    assert rbm.n_iter_ == 4 and len(rbm.history_["loss"]) == 4
    rbm.partial_fit(X)
    assert rbm.n_iter_ == 5


def test_save_load_round_trip(tmp_path):
    X = binary_digits(100)
    rbm = BernoulliRBM(n_components=8, max_iter=2, random_state=0, device="cpu").fit(X)
    rbm.save(tmp_path / "rbm")
    back = deepzoo.load(tmp_path / "rbm")
    np.testing.assert_allclose(back.transform(X), rbm.transform(X))
    np.testing.assert_allclose(back.score_samples(X), rbm.score_samples(X))


def test_in_a_pipeline_features_help_a_classifier():
    digits = load_digits()
    X, y = (digits.data / 16 > 0.5).astype(np.float32), digits.target
    model = make_pipeline(BernoulliRBM(n_components=64, max_iter=20, random_state=0), RidgeClassifier())
    model.fit(X[:1200], y[:1200])
    assert model.score(X[1200:], y[1200:]) > 0.8  # chance is 0.1


# -- bad input ---------------------------------------------------------------------------------------
def test_values_outside_unit_interval_are_named():
    with pytest.warns(UserWarning, match=r"expects values in \[0, 1\].*MinMaxScaler"):
        BernoulliRBM(max_iter=1).fit(load_digits().data)


def test_bad_parameters_named_with_the_nearest_option():
    with pytest.raises(ValueError, match="'method' parameter of BernoulliRBM.*Did you mean 'pcd'"):
        BernoulliRBM(method="pdc").fit(binary_digits(10))
    with pytest.raises(ValueError, match="'n_components' parameter"):
        BernoulliRBM(n_components=0).fit(binary_digits(10))


def test_not_fitted_and_wrong_shapes():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        BernoulliRBM().transform(binary_digits(3))
    rbm = BernoulliRBM(n_components=4, max_iter=1, random_state=0).fit(binary_digits(20))
    with pytest.raises(ValueError, match="64 features"):
        rbm.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\)"):
        rbm.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="infinity|inf"):
        rbm.fit(np.full((5, 64), np.inf))
