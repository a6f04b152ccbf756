"""GAN: shapes and layouts, seeds, checkpoints, the collapse detector, bad input; the FD against SciPy."""

from __future__ import annotations

import gzip
import pickle
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

import deepzoo
from deepzoo.models.gan.estimator import GAN, Discriminator, Generator, check_images
from deepzoo.models.gan.metrics import FrechetEvaluator, fit_feature_classifier, frechet_distance

DIGITS = load_digits().images[:128] / 16.0  # (128, 8, 8) in [0, 1]


def tiny(**params) -> GAN:
    settings_ = dict(latent_dim=4, n_filters=4, batch_size=32, max_iter=1, n_eval_samples=16, random_state=0)
    return GAN(**{**settings_, **params})


# -- shapes and layouts --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_networks_fit_the_image_size(shape):
    G, D = Generator(16, shape, 8), Discriminator(shape, 8)
    images = G(torch.randn(5, 16))
    assert images.shape == (5, *shape)
    assert float(images.detach().abs().max()) <= 1.0
    assert D(images).shape == (5,)


def test_sample_keeps_the_input_layout_and_range():
    gan = tiny().fit(DIGITS)
    images = gan.sample(6)
    assert images.shape == (6, 8, 8) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    rgb = np.random.default_rng(0).random((8, 3, 32, 32))
    assert tiny(max_iter=1).fit(rgb).sample(2).shape == (2, 3, 32, 32)
    uint8 = (DIGITS[:, None] * 255).astype(np.uint8)  # (n, 1, 8, 8) uint8 0-255
    gan = tiny().fit(uint8)
    assert gan.sample(3).shape == (3, 1, 8, 8) and gan.image_shape_ == (1, 8, 8)


def test_uint8_and_float_inputs_are_the_same_images():
    as_uint8 = (DIGITS * 255).round().astype(np.uint8)
    a = tiny().fit(as_uint8).sample(4)
    b = tiny().fit(as_uint8 / 255.0).sample(4)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_history_and_evaluator():
    calls = []

    def evaluator(images):
        calls.append(images.shape)
        return float(images.mean())

    gan = tiny(max_iter=2).fit(DIGITS, evaluator=evaluator)
    assert set(gan.history_) == {"d_loss", "g_loss", "d_real", "d_fake", "pixel_diversity", "fd"}
    assert all(len(v) == 2 for v in gan.history_.values())
    assert calls == [(16, 8, 8)] * 3  # untrained, then after each epoch
    assert gan.fd_untrained_ is not None and gan.n_iter_ == 2
    assert 0 <= gan.history_["d_real"][0] <= 1 and not gan.collapse_


def test_interpolate_runs_between_the_ends():
    gan = tiny().fit(DIGITS)
    z0, z1 = np.random.default_rng(1).standard_normal((2, 4))
    strip = gan.interpolate(z0, z1, steps=5)
    assert strip.shape == (5, 8, 8)
    ends = gan._generate(torch.as_tensor(np.stack([z0, z1]), dtype=torch.float32))
    np.testing.assert_allclose(strip[[0, -1]], ends, atol=1e-5)
    with pytest.raises(ValueError, match=r"z1 of shape \(4,\)"):
        gan.interpolate(z0, np.zeros(3))
    with pytest.raises(ValueError, match="steps to be an int >= 2"):
        gan.interpolate(z0, z1, steps=1)


def test_optimizer_presets():
    gan = tiny(optimizer="rmsprop").fit(DIGITS)
    opt_g, opt_d = gan._optimizers(gan.module_)
    assert isinstance(opt_d, torch.optim.RMSprop)
    assert opt_d.param_groups[0]["lr"] == 8e-4 and opt_g.param_groups[0]["lr"] == 4e-4
    assert opt_d.param_groups[0]["alpha"] == 0.9
    opt_g, opt_d = tiny(optimizer="adam").fit(DIGITS)._optimizers(gan.module_)
    assert opt_g.param_groups[0]["betas"] == (0.5, 0.999) and opt_g.param_groups[0]["lr"] == 2e-4
    opt_g, _ = tiny(learning_rate=0.01)._optimizers(gan.module_)
    assert opt_g.param_groups[0]["lr"] == 0.01


# -- seeds, copies, saving -------------------------------------------------------------------------------
def test_same_seed_same_result_and_global_rng_untouched():
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    a, b = tiny(max_iter=2).fit(DIGITS), tiny(max_iter=2).fit(DIGITS)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(numpy_state[1], np.random.get_state()[1])
    assert a.history_ == b.history_
    np.testing.assert_array_equal(a.sample(5), b.sample(5))
    assert not np.array_equal(a.sample(5), tiny(max_iter=2, random_state=1).fit(DIGITS).sample(5))
    assert not np.array_equal(a.sample(5), a.sample(5, random_state=7))


def test_clone_pickle_save_load(tmp_path):
    gan = tiny().fit(DIGITS)
    assert clone(gan).get_params() == gan.get_params()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(gan)).sample(3), gan.sample(3))
    deepzoo.save(gan, tmp_path / "gan")
    loaded = deepzoo.load(tmp_path / "gan")
    assert isinstance(loaded, GAN) and loaded.history_ == gan.history_
    np.testing.assert_allclose(loaded.sample(3), gan.sample(3), atol=1e-6)


def test_scikit_learn_parameter_checks():
    for check in (
        check_parameters_default_constructible,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
    ):
        check("GAN", GAN())


def test_resume_ends_where_an_uninterrupted_fit_ends(tmp_path):
    ckpt = tmp_path / "gan.ckpt"
    straight = tiny(max_iter=3).fit(DIGITS, evaluator=lambda im: float(im.std()))
    tiny(max_iter=2, checkpoint=ckpt).fit(DIGITS, evaluator=lambda im: float(im.std()))  # "killed" after 2
    resumed = tiny(max_iter=3, checkpoint=ckpt, resume=True).fit(DIGITS, evaluator=lambda im: float(im.std()))
    # exact on purpose: in one process a resume replays the same operations in the same order
    assert resumed.n_iter_ == 3 and resumed.history_ == straight.history_
    assert resumed.fd_untrained_ == straight.fd_untrained_
    np.testing.assert_array_equal(resumed.sample(4), straight.sample(4))
    assert not list(tmp_path.glob("*.tmp*"))
    with pytest.raises(ValueError, match="other images or settings"):
        tiny(max_iter=3, latent_dim=5, checkpoint=ckpt, resume=True).fit(DIGITS)
    ckpt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        tiny(checkpoint=ckpt, resume=True).fit(DIGITS)


# -- the collapse detector -------------------------------------------------------------------------------
def _scripted(monkeypatch, epochs):
    """Replace the training epoch by scripted statistics (the weights stay as they are)."""
    script = iter(epochs)
    monkeypatch.setattr(GAN, "_train_epoch", lambda self, *args: dict(next(script)))


def test_nan_loss_stops_keeps_last_good_weights(monkeypatch):
    good = {"d_loss": 0.6, "g_loss": 1.0, "d_real": 0.6, "d_fake": 0.4}
    _scripted(monkeypatch, [good, {**good, "g_loss": float("nan")}, good])
    with pytest.warns(RuntimeWarning, match="non-finite loss at epoch 2"):
        gan = tiny(max_iter=3).fit(DIGITS)
    assert gan.collapse_ and "lower learning_rate" in gan.collapse_reason_.lower()
    assert gan.n_iter_ == 1 and len(gan.history_["g_loss"]) == 1
    assert np.all(np.isfinite(gan.sample(2)))


def test_discriminator_winning_is_flagged(monkeypatch):
    floor = -(0.1 * np.log(0.1) + 0.9 * np.log(0.9)) / 2  # lowest d_loss with label_smoothing=0.1
    won = {"d_loss": floor + 0.01, "g_loss": 9.0, "d_real": 0.9, "d_fake": 0.0001}
    _scripted(monkeypatch, [won] * 3)
    with pytest.warns(RuntimeWarning, match="discriminator won at epoch 2"):
        gan = tiny(max_iter=3).fit(DIGITS)
    assert gan.collapse_ and gan.n_iter_ == 3  # flagged, training goes on


def test_mode_collapse_needs_diversity_to_fall():
    gan = tiny()
    gan.label_smoothing, gan.collapse_, gan.collapse_reason_ = 0.1, False, ""
    healthy = {"d_loss": [0.6] * 4, "g_loss": [1.0] * 4}
    gan.history_, gan.n_iter_ = {**healthy, "pixel_diversity": [0.05, 0.08, 0.1, 0.15]}, 4
    gan._check_collapse()  # a young generator: low but rising diversity is no collapse
    assert not gan.collapse_
    gan.history_ = {**healthy, "pixel_diversity": [0.5, 0.9, 0.1, 0.05]}
    with pytest.warns(RuntimeWarning, match="mode collapse at epoch 4"):
        gan._check_collapse()
    assert gan.collapse_ and "90%" in gan.collapse_reason_


# -- bad input ---------------------------------------------------------------------------------------------
def test_images_of_mixed_sizes():
    images = [np.zeros((28, 28))] * 3 + [np.zeros((32, 32))]
    with pytest.raises(
        ValueError, match=r"one size; got shape \(28, 28\) at index 0 and \(32, 32\) at index 3"
    ):
        tiny().fit(images)


def test_latent_dim_of_zero():
    with pytest.raises(ValueError, match="The 'latent_dim' parameter of GAN must be an int in the range"):
        tiny(latent_dim=0).fit(DIGITS)


@pytest.mark.parametrize(
    "X, message",
    [
        (
            np.zeros((10, 784)),
            r"got shape \(10, 784\). For flattened 28x28 images use X.reshape\(-1, 28, 28\)",
        ),
        (np.zeros((10, 8)), r"\(n_samples, height, width\)"),
        (np.zeros((4, 32, 32, 3)), r"channels-last images; pass X.transpose\(0, 3, 1, 2\)"),
        (np.zeros((0, 8, 8)), "got 0 images"),
        (np.zeros((1, 8, 8)), "at least 2 images"),
        (np.zeros((4, 8, 10)), "square images"),
        (np.zeros((4, 7, 7)), r"got 7x7. Pad or resize"),
        (np.full((4, 8, 8), 2.0), r"float pixels in \[0, 1\]"),
        (np.full((4, 8, 8), -0.5), r"For images in \[-1, 1\] pass \(X \+ 1\) / 2"),
        (np.full((4, 8, 8), 300), "integer pixels in 0-255"),
        (np.array([[["a"] * 8] * 8] * 4), "numeric images"),
    ],
)
def test_bad_images(X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tiny().fit(X)


def test_nan_pixels():
    X = DIGITS.copy()
    X[3, 2, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite pixel values"):
        tiny().fit(X)


def test_bad_parameters_and_calls():
    with pytest.raises(ValueError, match="Did you mean 'adam'"):
        tiny(optimizer="adm").fit(DIGITS)
    with pytest.raises(ValueError, match="label_smoothing"):
        tiny(label_smoothing=0.5).fit(DIGITS)
    with pytest.raises(deepzoo.engine.base.NotFittedError):
        tiny().sample(2)
    with pytest.raises(ValueError, match="positive int"):
        tiny().fit(DIGITS).sample(0)


def test_check_images_scales_to_unit_range():
    images, ndim = check_images((DIGITS * 255).astype(np.uint8))
    assert ndim == 3 and images.shape == (128, 1, 8, 8) and images.dtype == np.float32
    assert images.max() == pytest.approx(DIGITS.max(), abs=1 / 255)


# -- the Fréchet distance and the evaluator ----------------------------------------------------------------
def _reference_fd(a, b):
    """The textbook formula with SciPy's general matrix square root (the oracle)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s_a @ s_b)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * np.real(root)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_distance_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((300, 6)) @ rng.standard_normal((6, 6))
    b = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6)) + rng.standard_normal(6)
    assert frechet_distance(a, b) == pytest.approx(_reference_fd(a, b), rel=1e-6)


def test_frechet_distance_of_identical_sets_is_zero():
    a = np.random.default_rng(0).standard_normal((100, 20))  # rank-deficient covariances too
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a[:10], a[:10]) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="same n_features"):
        frechet_distance(a, a[:, :3])


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.floats(-3, 3))
def test_frechet_distance_is_symmetric_and_sees_a_shift(seed, shift):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((50, 3)), rng.standard_normal((40, 3))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6, abs=1e-9)
    assert frechet_distance(a, a + shift) == pytest.approx(3 * shift**2, rel=1e-6, abs=1e-6)


def test_evaluator_scores_real_vs_collapsed_images():
    digits = load_digits()
    X = digits.images / 16.0
    net = fit_feature_classifier(X, digits.target, max_iter=1, random_state=0)
    evaluator = FrechetEvaluator(net, X)
    assert evaluator(X) == pytest.approx(0.0, abs=1e-6)
    assert evaluator.diversity(X[:1000]) == pytest.approx(1.0, rel=1e-9)
    collapsed = np.repeat(X[:1], 50, axis=0)
    assert evaluator.diversity(collapsed) == pytest.approx(0.0, abs=1e-6)
    assert evaluator(collapsed) > evaluator(X[:900])
    assert evaluator.predict(X[:5]).shape == (5,)


@pytest.mark.slow
def test_gan_learns_digits_fd_falls():
    digits = load_digits()
    X = digits.images / 16.0
    evaluator = FrechetEvaluator(fit_feature_classifier(X, digits.target, max_iter=10, random_state=0), X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no collapse warning
        gan = GAN(latent_dim=16, max_iter=12, n_eval_samples=300, random_state=0, device="cpu")
        gan.fit(X, evaluator=evaluator)
    assert gan.history_["fd"][-1] < gan.fd_untrained_ / 5
    assert evaluator.diversity(gan.sample(300)) > 0.5


# -- the apples case's IDX reader --------------------------------------------------------------------------
def test_read_idx(tmp_path):
    from deepzoo.cases.apples import read_idx

    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in data.shape)
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + data.tobytes()))
    np.testing.assert_array_equal(read_idx(path), data)
    path.write_bytes(gzip.compress(header + data.tobytes()[:-1]))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(tmp_path / "bad")
