"""StackedAutoEncoder: mirrored stacks, denoising, masked loss for sparse input, the transformer API."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

import deepzoo
from deepzoo import StackedAutoEncoder
from deepzoo.models.autoencoder import AutoEncoder, masked_squared_error

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def low_rank(n=400, n_features=12, rank=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, n_features))
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32)


def test_decoder_mirrors_the_encoder():
    net = AutoEncoder(10, (8, 4, 2), activation="tanh")
    widths = [m.out_features for m in net.encoder if isinstance(m, torch.nn.Linear)]
    back = [m.out_features for m in net.decoder if isinstance(m, torch.nn.Linear)]
    assert widths == [8, 4, 2] and back == [4, 8, 10]
    assert net(torch.zeros(3, 10)).shape == (3, 10)


def test_masked_loss_ignores_missing_entries():
    out = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    target = torch.tensor([[1.0, float("nan"), 5.0, float("nan")]])
    # only entry 3 is wrong (by 2): 4 / n_features
    np.testing.assert_allclose(masked_squared_error(out, target).numpy(), [1.0])
    dense = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(masked_squared_error(out, dense).numpy(), [(1 + 4 + 9 + 16) / 4])


def test_learns_a_low_rank_structure_like_pca():
    X = low_rank()
    ae = StackedAutoEncoder((3,), activation="identity", learning_rate=0.01, max_iter=300, random_state=0)
    ae.fit(X)
    pca_error = np.mean((PCA(3).fit(X).inverse_transform(PCA(3).fit(X).transform(X)) - X) ** 2)
    assert pca_error < 1e-6  # the data is exactly rank 3
    assert np.mean((ae.reconstruct(X) - X) ** 2) < 0.02
    assert ae.transform(X).shape == (400, 3)
    # the same float32 layers in two calls; values ~1, rounding ~1e-7, allowed 1e-5
    np.testing.assert_allclose(ae.inverse_transform(ae.transform(X)), ae.reconstruct(X), atol=1e-5)


def test_digits_two_dimensional_codes_and_reconstructions():
    X = (load_digits().data / 16).astype(np.float32)
    ae = StackedAutoEncoder(
        (32, 2),
        activation="tanh",
        output_activation="sigmoid",
        learning_rate=0.005,
        max_iter=40,
        random_state=0,
    ).fit(X)
    codes = ae.transform(X)
    assert codes.shape == (len(X), 2) and np.all(np.abs(codes) <= 1)
    recon = ae.reconstruct(X)
    assert recon.min() >= 0 and recon.max() <= 1
    baseline = np.mean((X - X.mean(0)) ** 2)  # predicting the mean digit
    assert np.mean((recon - X) ** 2) < 0.8 * baseline  # PCA with 2 components: ~0.72
    # a float32 mean of 115,008 squared errors against NumPy's float64 one: ~1e-6 relative
    assert ae.score(X) == pytest.approx(-np.mean((recon - X) ** 2), rel=1e-4)


def test_sparse_input_learns_only_from_observed_entries():
    """Hide 40% of a low-rank matrix: the held-out entries are predicted from the others."""
    X = low_rank(n=600, n_features=20)
    rng = np.random.default_rng(1)
    hidden = rng.random(X.shape) < 0.4
    X_obs = np.where(hidden, np.nan, X)
    ae = StackedAutoEncoder((3,), activation="tanh", learning_rate=0.01, max_iter=200, random_state=0)
    ae.fit(X_obs)
    filled = ae.reconstruct(X_obs)
    assert np.mean((filled[hidden] - X[hidden]) ** 2) < 0.3 * np.var(X[hidden])  # ~0.12
    # the NaN entries were never a target: their values do not change the loss
    assert np.isfinite(ae.history_["loss"]).all()


@pytest.mark.parametrize("params", [dict(noise=0.3), dict(input_dropout=0.3), dict(dropout=0.2)])
def test_denoising_and_dropout_train_and_switch_off_at_predict(params):
    X = low_rank()
    ae = StackedAutoEncoder((8,), max_iter=20, learning_rate=0.01, random_state=0, **params).fit(X)
    np.testing.assert_array_equal(ae.reconstruct(X), ae.reconstruct(X))  # no noise outside training
    assert np.mean((ae.reconstruct(X) - X) ** 2) < 0.6


def test_same_seed_clone_pickle_save_load(tmp_path):
    X = low_rank()
    a = StackedAutoEncoder((6, 3), max_iter=5, random_state=3).fit(X)
    b = clone(a).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.reconstruct(X), a.reconstruct(X))
    a.save(tmp_path / "ae")
    np.testing.assert_allclose(deepzoo.load(tmp_path / "ae").transform(X), a.transform(X))


def test_warm_start_early_stopping_partial_fit():
    X = low_rank()
    ae = StackedAutoEncoder((4,), max_iter=3, warm_start=True, random_state=0).fit(X)
    ae.fit(X)
    assert ae.n_iter_ == 6
    ae.partial_fit(X)
    assert ae.n_iter_ == 7
    es = StackedAutoEncoder((4,), max_iter=50, early_stopping=True, n_iter_no_change=3, random_state=0).fit(X)
    assert "val_loss" in es.history_ and es.best_epoch_ is not None


def test_bad_input_messages():
    X = low_rank()
    with pytest.raises(ValueError, match="'activation' parameter of StackedAutoEncoder.*Did you mean 'relu'"):
        StackedAutoEncoder(activation="rellu").fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        StackedAutoEncoder(hidden_layer_sizes=(0,)).fit(X)
    with pytest.raises(NotFittedError):
        StackedAutoEncoder().transform(X)
    ae = StackedAutoEncoder((4,), max_iter=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"codes of shape \(n_samples, 4\)"):
        ae.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="12 features"):
        ae.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="numeric features"):
        StackedAutoEncoder().fit([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="infinity"):
        StackedAutoEncoder().fit(np.full((4, 3), np.inf))
