"""Convolutional networks: predictions, first-layer filters, saliency maps."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ._common import _PALETTE, _axes
from .unsupervised import plot_image_grid


def _display_images(images) -> np.ndarray:
    """(n, C, H, W) or (n, H, W) pixels -> (n, H, W) or (n, H, W, 3) floats in [0, 1] for imshow."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 4:
        images = images.transpose(0, 2, 3, 1)
        if images.shape[-1] == 1:
            images = images[..., 0]
    low, high = images.min(), images.max()
    if high > 1.0 or low < 0.0:  # uint8 pixels, or normalised values: stretch to [0, 1]
        images = (images - low) / (high - low) if high > low else np.zeros_like(images)
    return images


def plot_predictions(
    images, y_true, y_pred, ax: Axes | None = None, *, n: int = 24, n_cols: int = 8, mistakes_first=True
) -> Axes:
    """A grid of images titled "predicted (true)", mistakes first and in red.

    Parameters
    ----------
    images : array of shape (n_samples, C, H, W) or (n_samples, H, W)
        Pixels as uint8 or floats.
    y_true, y_pred : array-like of shape (n_samples,)
    ax : matplotlib Axes, default=None
        The Axes whose area the grid fills (a new figure when None).
    n : int, default=24
    n_cols : int, default=8
    mistakes_first : bool, default=True

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.plots import plot_predictions
    >>> ax = plot_predictions(np.zeros((4, 8, 8)), [0, 1, 1, 0], [0, 1, 0, 0], n=4, n_cols=4)
    >>> ax.get_title(loc="left")
    '1 of 4 wrong; mistakes first'
    """
    images = _display_images(images)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not len(images) == len(y_true) == len(y_pred):
        raise ValueError(
            f"plot_predictions got {len(images)} images, {len(y_true)} true and {len(y_pred)} predicted "
            "labels; pass one of each per image."
        )
    wrong = y_true != y_pred
    order = np.argsort(~wrong, kind="stable") if mistakes_first else np.arange(len(images))
    order = order[: min(n, len(images))]
    n_rows = int(np.ceil(len(order) / n_cols))
    ax = _axes(ax, figsize=(1.3 * n_cols, 1.45 * n_rows + 0.4))
    ax.set_axis_off()
    label = f"{int(wrong.sum())} of {len(wrong)} wrong" + ("; mistakes first" if mistakes_first else "")
    ax.set_title(label, fontsize=12, fontweight="bold", loc="left")
    for k, index in enumerate(order):
        r, c = divmod(k, n_cols)
        inner = ax.inset_axes([c / n_cols, 1 - (r + 1) / n_rows, 0.92 / n_cols, 0.8 / n_rows])
        image = images[index]
        inner.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
        inner.set_xticks([])
        inner.set_yticks([])
        colour = _PALETTE[3] if wrong[index] else "#333333"
        inner.set_title(f"{y_pred[index]} ({y_true[index]})", fontsize=7, color=colour, pad=2)
        for side in inner.spines.values():
            side.set_color(colour)
            side.set_linewidth(1.5 if wrong[index] else 0.5)
    return ax


def plot_conv_filters(estimator, ax: Axes | None = None, *, n: int = 32) -> Axes:
    """The first convolution layer's kernels of a fitted ConvNetClassifier, each drawn as a small image.

    RGB kernels are drawn in colour (each scaled to [0, 1]), others as a blue-red map per input channel 0.
    """
    module = getattr(estimator, "module_", None)
    if module is None:
        raise TypeError(
            f"plot_conv_filters expects a fitted ConvNetClassifier; got {type(estimator).__name__}."
        )
    import torch

    conv = next((m for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if conv is None:
        raise ValueError("plot_conv_filters found no Conv2d layer in the network.")
    weights = conv.weight.detach().float().cpu().numpy()[:n]  # (n, C, k, k)
    ax = _axes(ax, figsize=(6.0, 3.4))
    colour = weights.shape[1] == 3  # (n, k, k, 3) tiles, each scaled to [0, 1] over its three channels
    return plot_image_grid(
        weights.transpose(0, 2, 3, 1) if colour else weights[:, 0],
        ax=ax,
        n_cols=int(np.ceil(np.sqrt(len(weights) * 2))),
        title=f"First-layer filters ({len(weights)} of {conv.out_channels})",
        normalise_each=True,
        cmap="RdBu_r",
    )


def plot_saliency(images, saliency, ax: Axes | None = None, *, labels=None, n: int = 6) -> Axes:
    """Images (top row) above their saliency maps (bottom row): where the gradient of the score is large.

    Parameters
    ----------
    images : array of shape (n_samples, C, H, W) or (n_samples, H, W)
    saliency : array of the same shape
        For example ``deepzoo.audit.explain.input_gradients(clf, X)``; the absolute value is summed
        over channels.
    labels : list of str, default=None
        A caption per image.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.plots import plot_saliency
    >>> ax = plot_saliency(np.zeros((2, 1, 8, 8)), np.ones((2, 1, 8, 8)))
    >>> len(ax.child_axes)
    4
    """
    shown = _display_images(images)[:n]
    saliency = np.abs(np.asarray(saliency, dtype=float))[:n]
    if saliency.ndim == 4:
        saliency = saliency.sum(axis=1)
    if saliency.shape[0] != shown.shape[0] or saliency.shape[1:] != shown.shape[1:3]:
        raise ValueError(
            f"plot_saliency got images of shape {np.shape(images)} and saliency of shape "
            f"{np.shape(saliency)}; pass one map per image, of the image's height and width."
        )
    count = len(shown)
    ax = _axes(ax, figsize=(1.6 * count, 3.6))
    ax.set_axis_off()
    ax.set_title("Saliency: |d score / d pixel|", fontsize=12, fontweight="bold", loc="left")
    for k in range(count):
        top = ax.inset_axes([k / count, 0.5, 0.94 / count, 0.42])
        top.imshow(shown[k], cmap="gray" if shown[k].ndim == 2 else None, interpolation="nearest")
        bottom = ax.inset_axes([k / count, 0.02, 0.94 / count, 0.42])
        bottom.imshow(shown[k] if shown[k].ndim == 2 else shown[k].mean(-1), cmap="gray", alpha=0.5)
        bottom.imshow(saliency[k], cmap="inferno", alpha=0.7, interpolation="bilinear")
        for inner in (top, bottom):
            inner.set_xticks([])
            inner.set_yticks([])
        if labels is not None:
            top.set_title(str(labels[k]), fontsize=7, pad=2)
    return ax
