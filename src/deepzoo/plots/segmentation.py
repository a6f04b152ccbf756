"""Segmentation: predicted masks over the true ones, and the distribution of per-image IoU."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ._common import _PALETTE, _axes, _style
from .images import _display_images


def plot_mask_overlays(
    images, masks_true, masks_pred, ax: Axes | None = None, *, scores=None, n: int = 12, n_cols: int = 4
) -> Axes:
    """A grid of images with the predicted mask filled in red and the true mask's outline in green.

    Images of different sizes are welcome (pass lists). With ``scores`` (e.g. each image's IoU) the
    images are shown from the lowest score up, titled with it: the worst first.

    Parameters
    ----------
    images : array (n, C, H, W) or (n, H, W), or a list of such images
    masks_true, masks_pred : arrays (n, H, W) or lists of (H, W), the object (non-zero) pixels
        drawn; a mask of several classes is drawn as "not class 0".
    ax : matplotlib Axes, default=None
    scores : array-like of shape (n,), default=None
    n : int, default=12
    n_cols : int, default=4

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.plots import plot_mask_overlays
    >>> truth = np.zeros((2, 8, 8), int); truth[:, 2:6, 2:6] = 1
    >>> ax = plot_mask_overlays(np.zeros((2, 8, 8)), truth, truth, scores=[1.0, 1.0], n_cols=2)
    >>> ax.get_title(loc="left")
    '2 images, lowest IoU first'
    """
    images, masks_true, masks_pred = list(images), list(masks_true), list(masks_pred)
    if not len(images) == len(masks_true) == len(masks_pred):
        raise ValueError(
            f"plot_mask_overlays got {len(images)} images, {len(masks_true)} true and {len(masks_pred)} "
            "predicted masks; pass one of each per image."
        )
    order = np.argsort(np.asarray(scores, dtype=float), kind="stable") if scores is not None else None
    order = (np.arange(len(images)) if order is None else order)[: min(n, len(images))]
    n_rows = int(np.ceil(len(order) / n_cols))
    ax = _axes(ax, figsize=(2.6 * n_cols, 2.3 * n_rows + 0.4))
    ax.set_axis_off()
    title = f"{len(images)} images" + (", lowest IoU first" if scores is not None else "")
    ax.set_title(title, fontsize=12, fontweight="bold", loc="left")
    red = np.array([0.87, 0.2, 0.2])
    for k, index in enumerate(order):
        r, c = divmod(k, n_cols)
        inner = ax.inset_axes([c / n_cols, 1 - (r + 1) / n_rows, 0.95 / n_cols, 0.85 / n_rows])
        picture = _display_images(np.asarray(images[index])[None])[0]
        if picture.ndim == 2:
            picture = np.repeat(picture[..., None], 3, axis=-1)
        predicted = np.asarray(masks_pred[index]) != 0
        shown = np.where(predicted[..., None], 0.55 * picture + 0.45 * red, picture)
        inner.imshow(shown, interpolation="nearest")
        inner.contour(np.asarray(masks_true[index]) != 0, levels=[0.5], colors=[_PALETTE[2]], linewidths=1.2)
        inner.set_xticks([])
        inner.set_yticks([])
        if scores is not None:
            inner.set_title(f"IoU {float(scores[index]):.2f}", fontsize=8, pad=2)
    return ax


def plot_iou_distribution(ious, ax: Axes | None = None, *, reference: float | None = None) -> Axes:
    """Histogram of per-image IoU, with the mean (and a ``reference`` figure such as a target) marked.

    Examples
    --------
    >>> from deepzoo.plots import plot_iou_distribution
    >>> ax = plot_iou_distribution([0.5, 0.8, 0.9, 0.95], reference=0.8)
    >>> len(ax.lines)
    2
    """
    ious = np.asarray(ious, dtype=float)
    ious = ious[np.isfinite(ious)]
    ax = _axes(ax)
    ax.hist(ious, bins=np.linspace(0, 1, 21), color=_PALETTE[0], edgecolor="white")
    ax.axvline(ious.mean(), color=_PALETTE[1], linewidth=2, label=f"mean {ious.mean():.3f}")
    if reference is not None:
        ax.axvline(reference, color="#555555", linestyle="--", linewidth=1.2, label=f"target {reference:g}")
    ax.set_xlim(0, 1)
    ax.legend(frameon=False, loc="upper left")
    _style(ax, f"IoU of each of {len(ious)} test images", "intersection over union", "images", grid_axis="y")
    return ax
