"""RBM filters, image grids, reconstructions, 2-D codes and recommendations."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ._common import _PALETTE, _axes, _style, _wrap_label


def _mosaic(images: np.ndarray, n_cols: int, normalise_each: bool) -> np.ndarray:
    """Tile (n, h, w) images, or (n, h, w, 3) colour ones, into one array with a 1-pixel gap: NaN gaps
    (drawn as background) between single-channel images, white ones between colour images."""
    n, h, w = images.shape[:3]
    n_cols = max(1, min(n_cols, n))
    n_rows = int(np.ceil(n / n_cols))
    gap = np.nan if images.ndim == 3 else 1.0
    canvas = np.full((n_rows * (h + 1) - 1, n_cols * (w + 1) - 1, *images.shape[3:]), gap)
    for k, image in enumerate(images):
        if normalise_each:
            low, high = np.nanmin(image), np.nanmax(image)
            image = (image - low) / (high - low) if high > low else np.zeros_like(image)
        r, c = divmod(k, n_cols)
        canvas[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = image
    return canvas


def plot_image_grid(
    images,
    image_shape: tuple | None = None,
    ax: Axes | None = None,
    *,
    n_cols: int = 10,
    title: str = "Images",
    normalise_each: bool = False,
    cmap: str = "gray_r",
) -> Axes:
    """Draw rows of flat images (n, h*w) or images (n, h, w) as one mosaic.

    Parameters
    ----------
    images : array of shape (n, h * w), (n, h, w) or (n, h, w, 3) (colour, values in [0, 1])
    image_shape : (h, w), default=None
        Needed for flat rows; a square is assumed when None.
    ax : matplotlib Axes, default=None
    n_cols : int, default=10
    title : str, default='Images'
    normalise_each : bool, default=False
        Scale each image to its own [min, max] (for filters, whose ranges differ).
    cmap : str, default='gray_r'

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.plots import plot_image_grid
    >>> ax = plot_image_grid(np.random.default_rng(0).random((12, 64)), (8, 8), n_cols=6)
    >>> ax.images[0].get_array().shape
    (17, 53)
    """
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:
        if image_shape is None:
            side = int(round(np.sqrt(images.shape[1])))
            if side * side != images.shape[1]:
                raise ValueError(
                    f"plot_image_grid got rows of {images.shape[1]} pixels, not a square; pass "
                    "image_shape=(h, w)."
                )
            image_shape = (side, side)
        if int(np.prod(image_shape)) != images.shape[1]:
            raise ValueError(
                f"image_shape={tuple(image_shape)} holds {int(np.prod(image_shape))} pixels but the "
                f"rows have {images.shape[1]}."
            )
        images = images.reshape(len(images), *image_shape)
    colour = images.ndim == 4 and images.shape[-1] == 3
    if not (images.ndim == 3 or colour) or len(images) == 0:
        raise ValueError(
            "plot_image_grid expects (n, h*w), (n, h, w) or colour (n, h, w, 3) images, n >= 1; got shape "
            f"{images.shape}."
        )
    canvas = _mosaic(images, n_cols, normalise_each)
    width = min(1.0 * min(n_cols, len(images)), 10)
    ax = _axes(ax, figsize=(width, width * canvas.shape[0] / canvas.shape[1] + 0.6))
    ax.imshow(
        np.clip(canvas, 0, 1) if colour else np.ma.masked_invalid(canvas), cmap=cmap, interpolation="nearest"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title, fontsize=12, fontweight="bold", loc="left")
    return ax


def plot_rbm_filters(rbm, image_shape: tuple | None = None, ax: Axes | None = None, *, n: int = 64) -> Axes:
    """The weights of the first ``n`` hidden units of a fitted RBM, each drawn as an image.

    Parameters
    ----------
    rbm : fitted :class:`deepzoo.BernoulliRBM` (or any estimator with ``components_``)
    image_shape : (h, w), default=None
        Shape of one input image; a square is assumed when None.
    ax : matplotlib Axes, default=None
    n : int, default=64

    Returns
    -------
    ax : matplotlib Axes
    """
    components = getattr(rbm, "components_", None)
    if components is None:
        raise TypeError(f"plot_rbm_filters expects a fitted RBM with components_; got {type(rbm).__name__}.")
    weights = np.asarray(components)[:n]
    return plot_image_grid(
        weights,
        image_shape,
        ax,
        n_cols=int(np.ceil(np.sqrt(len(weights)))),
        title=f"Filters of {len(weights)} hidden units",
        normalise_each=True,
        cmap="RdBu_r",
    )


def plot_reconstructions(
    X, reconstructed, image_shape: tuple | None = None, ax: Axes | None = None, *, n: int = 10
) -> Axes:
    """Originals (top row) above their reconstructions (bottom row), for the first ``n`` images."""
    X, reconstructed = np.asarray(X, dtype=float), np.asarray(reconstructed, dtype=float)
    if X.shape != reconstructed.shape:
        raise ValueError(
            f"plot_reconstructions got originals of shape {X.shape} and reconstructions of shape "
            f"{reconstructed.shape}; pass one reconstruction per original."
        )
    n = min(n, len(X))
    return plot_image_grid(
        np.concatenate([X[:n], reconstructed[:n]]),
        image_shape,
        ax,
        n_cols=n,
        title="Originals (top) and reconstructions (bottom)",
    )


def plot_codes(codes, y=None, ax: Axes | None = None, *, title: str = "2-D codes") -> Axes:
    """Scatter of 2-D codes (e.g. ``StackedAutoEncoder((..., 2)).transform(X)``), coloured by label."""
    codes = np.asarray(codes, dtype=float)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise ValueError(f"plot_codes expects codes of shape (n_samples, 2); got {codes.shape}.")
    ax = _axes(ax, figsize=(5.4, 4.6))
    if y is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=6, color=_PALETTE[0], alpha=0.6)
    else:
        from matplotlib import colormaps

        y = np.asarray(y)
        classes = np.unique(y)
        palette = colormaps["tab10" if len(classes) <= 10 else "tab20"]
        for k, label in enumerate(classes):
            pts = codes[y == label]
            ax.scatter(pts[:, 0], pts[:, 1], s=6, color=palette(k % palette.N), alpha=0.6, label=str(label))
        ax.legend(markerscale=3, fontsize=8, frameon=False, ncol=2, loc="best")
    _style(ax, title, "code 1", "code 2")
    return ax


def plot_recommendations(table, ax: Axes | None = None, *, label: str = "title", score: str = "score",
                         title: str = "Recommendations") -> Axes:  # fmt: skip
    """Horizontal bars of the recommended items' scores, best at the top, labelled with their titles.

    Parameters
    ----------
    table : DataFrame
        One row per recommended item, best first, with a ``label`` and a ``score`` column (for
        example ``recommender.recommend(user, 10)`` joined with the titles).
    """
    labels = [str(v) for v in table[label]]
    values = np.asarray(table[score], dtype=float)
    ax = _axes(ax, figsize=(6.4, 0.35 * len(values) + 1.0))
    positions = np.arange(len(values))[::-1]
    ax.barh(positions, values, color=_PALETTE[0])
    ax.set_yticks(positions, [_wrap_label(t, 40) for t in labels], fontsize=8)
    for pos, value in zip(positions, values):
        ax.text(value, pos, f" {value:.2f}", va="center", fontsize=8)
    _style(ax, title, score, "", grid_axis="x")
    return ax
