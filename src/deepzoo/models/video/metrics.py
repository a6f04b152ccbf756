"""How good a forecast of frames is: squared error per frame, SSIM, and the naive forecasts to beat.

The conventions of the video-prediction papers on Moving MNIST (Shi et al.'s ConvLSTM, Wang et al.'s
PredRNN): pixels in [0, 1]; ``mse_per_frame`` is the *sum* of squared errors over the pixels of one
frame, averaged over the predicted frames and the clips; SSIM (Wang et al., 2004) is computed frame by
frame and averaged. Three naive forecasts come with them: repeat the last observed frame, an all-black
frame, and the mean of the observed frames.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["BASELINES", "baseline_forecasts", "frame_errors", "mse_per_frame", "ssim"]

BASELINES = ("last_frame", "black", "mean_frame")


def _pair(y_true, y_pred, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """Both as float arrays (n_clips, n_frames, C, H, W) in [0, 1] (uint8 is divided by 255)."""
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = np.asarray(y)
        y = y.astype(np.float32) / 255.0 if y.dtype == np.uint8 else y.astype(np.float32, copy=False)
        if y.ndim != 5:
            raise ValueError(
                f"{caller} expects {name} of shape (n_clips, n_frames, channels, height, width); got "
                f"{y.shape}."
            )
        arrays.append(y)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"{caller}: y_true has shape {arrays[0].shape} but y_pred has {arrays[1].shape}.")
    return arrays[0], arrays[1]


def frame_errors(y_true, y_pred) -> np.ndarray:
    """Sum of squared pixel errors of each predicted frame, averaged over the clips: shape (n_frames,).

    The error usually grows with the frame's distance from the last observed one.
    """
    y_true, y_pred = _pair(y_true, y_pred, "frame_errors")
    return ((y_true.astype(np.float64) - y_pred) ** 2).sum(axis=(2, 3, 4)).mean(axis=0)


def mse_per_frame(y_true, y_pred) -> float:
    """The papers' Moving MNIST figure: squared errors summed over a frame's pixels (in [0, 1]), averaged
    over frames and clips. For 64x64 frames, 0 is perfect and an all-black guess scores the frames' ink.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.models.video.metrics import mse_per_frame
    >>> truth = np.zeros((1, 2, 1, 4, 4)); truth[:, :, :, 0, 0] = 1.0
    >>> mse_per_frame(truth, np.zeros_like(truth))  # one white pixel missed in each frame
    1.0
    """
    return float(frame_errors(y_true, y_pred).mean())


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    """The normalised (size, size) Gaussian window of SSIM."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(y_true, y_pred, *, window_size: int = 11, sigma: float = 1.5, per_frame: bool = False):
    """Structural similarity (Wang et al., 2004) of predicted frames, averaged over frames and clips.

    Each frame (and channel) is compared through local means, variances and covariance in an
    11x11 Gaussian window (sigma 1.5), with pixels in [0, 1] (so C1 = 0.01², C2 = 0.03²), over the
    positions where the window fits inside the frame, as Wang et al. (and scikit-image's
    ``structural_similarity(gaussian_weights=True, use_sample_covariance=False)``) define it. 1 means
    identical frames.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_clips, n_frames, channels, height, width)
        uint8, or floats in [0, 1].
    window_size : int, default=11
        At most the frames' height and width.
    sigma : float, default=1.5
    per_frame : bool, default=False
        Return the mean SSIM of each frame index, shape (n_frames,), instead of one number.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.models.video.metrics import ssim
    >>> frames = np.random.default_rng(0).random((2, 3, 1, 16, 16))
    >>> round(ssim(frames, frames), 6), ssim(frames, 1 - frames) < 0
    (1.0, True)
    """
    y_true, y_pred = _pair(y_true, y_pred, "ssim")
    n, t, c, h, w = y_true.shape
    if window_size > min(h, w) or window_size < 1:
        raise ValueError(f"window_size={window_size} must be between 1 and the frames' side ({min(h, w)}).")
    window = _gaussian_window(window_size, sigma)[None, None]  # (1, 1, k, k)
    c1, c2 = 0.01**2, 0.03**2
    scores = []
    for start in range(0, n, 64):  # chunks keep the five filtered copies of the frames small
        # np.array copies: the inputs may be read-only views (np.broadcast_to of a baseline)
        a = torch.from_numpy(np.array(y_true[start : start + 64], np.float64)).reshape(-1, 1, h, w)
        b = torch.from_numpy(np.array(y_pred[start : start + 64], np.float64)).reshape(-1, 1, h, w)
        mu_a, mu_b = F.conv2d(a, window), F.conv2d(b, window)  # (M, 1, h', w') local means
        var_a = F.conv2d(a * a, window) - mu_a**2
        var_b = F.conv2d(b * b, window) - mu_b**2
        cov = F.conv2d(a * b, window) - mu_a * mu_b
        index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
        scores.append(index.mean(dim=(1, 2, 3)).reshape(-1, t, c).mean(2))  # (clips, T)
    per_index = torch.cat(scores).mean(0).numpy()  # (T,)
    return per_index if per_frame else float(per_index.mean())


def baseline_forecasts(X, n_frames: int) -> dict[str, np.ndarray]:
    """The naive forecasts of ``n_frames`` frames after observed clips ``X`` (n_clips, T, C, H, W):
    ``last_frame`` repeats the last observed frame, ``black`` is all zeros, ``mean_frame`` repeats the
    mean of the observed frames. Floats in [0, 1], each of shape (n_clips, n_frames, C, H, W)."""
    X = np.asarray(X)
    X = X.astype(np.float32) / 255.0 if X.dtype == np.uint8 else X.astype(np.float32, copy=False)
    shape = (len(X), n_frames, *X.shape[2:])
    return {
        "last_frame": np.broadcast_to(X[:, -1:], shape),
        "black": np.zeros(shape, np.float32),
        "mean_frame": np.broadcast_to(X.mean(axis=1, keepdims=True), shape),
    }
