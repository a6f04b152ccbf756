"""models.video.metrics: the papers' squared error per frame, SSIM (kornia as the oracle), baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepzoo.models.video.metrics import baseline_forecasts, frame_errors, mse_per_frame, ssim


def _pair(seed=0, shape=(3, 4, 1, 20, 24)):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    return a, np.clip(a + rng.normal(0, 0.2, shape), 0, 1)


def test_mse_per_frame_sums_pixels_and_averages_frames():
    truth = np.zeros((2, 3, 1, 8, 8))
    truth[0, :, 0, :2, :2] = 1.0  # 4 white pixels in each frame of clip 0
    truth[1, 2, 0, 0, 0] = 0.5
    assert frame_errors(truth, np.zeros_like(truth)).tolist() == [2.0, 2.0, 2.125]
    assert mse_per_frame(truth, np.zeros_like(truth)) == pytest.approx((2 + 2 + 2.125) / 3)
    pixels = np.rint(truth * 255)
    assert mse_per_frame(pixels.astype(np.uint8), pixels / 255) == pytest.approx(
        0, abs=1e-12
    )  # uint8 is /255


def test_ssim_matches_kornia_valid_window():
    """Oracle: kornia's SSIM with the same 11x11 Gaussian window (sigma 1.5), over the positions where
    the window fits (padding='valid'). Both filter in float64, but ours first stores the pixels as
    float32 (relative rounding 6e-8), which moves an SSIM near 0.8 by ~1e-8."""
    kornia = pytest.importorskip("kornia")
    a, b = _pair()
    ours = ssim(a, b, per_frame=True)
    ta, tb = torch.as_tensor(a).flatten(0, 1), torch.as_tensor(b).flatten(0, 1)
    theirs = kornia.metrics.ssim(ta, tb, 11, padding="valid").mean(dim=(1, 2, 3)).reshape(3, 4).mean(0)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=1e-7)
    assert ssim(a, b) == pytest.approx(ours.mean())


def test_ssim_properties_and_bad_input():
    a, b = _pair(shape=(2, 2, 3, 16, 16))  # RGB: channels are averaged
    assert ssim(a, a) == pytest.approx(1.0) and ssim(a, b) < 1.0
    assert ssim(a, b) == pytest.approx(ssim(b, a))
    with pytest.raises(ValueError, match="window_size=11 must be between 1 and the frames' side"):
        ssim(a[..., :8, :8], b[..., :8, :8])
    with pytest.raises(ValueError, match=r"y_true has shape \(2, 2, 3, 16, 16\) but y_pred has"):
        ssim(a, b[:1])
    with pytest.raises(ValueError, match=r"expects y_pred of shape \(n_clips, n_frames, channels"):
        mse_per_frame(a, b[0])


def test_baselines():
    X = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 1, 2, 2) * 10
    forecasts = baseline_forecasts(X, 5)
    assert {k: v.shape for k, v in forecasts.items()} == dict.fromkeys(
        ("last_frame", "black", "mean_frame"), (2, 5, 1, 2, 2)
    )
    np.testing.assert_allclose(forecasts["last_frame"][:, 3], X[:, -1] / 255.0)
    np.testing.assert_allclose(forecasts["mean_frame"][:, 0], X.mean(1) / 255.0, rtol=1e-6)
    assert not forecasts["black"].any()
