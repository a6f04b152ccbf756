"""Self-organizing maps: U-matrix, hit map, component planes, label map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from ._common import _PALETTE, _axes, _style


def _som_cells(ax: Axes, som, values, cmap: str, *, vmin=None, vmax=None, offset=(0.0, 0.0)):
    """A square (or hexagon) per unit of a fitted SelfOrganizingMap, coloured by ``values``; row 0 on top."""
    from matplotlib.collections import PolyCollection

    if not hasattr(som, "module_"):
        raise ValueError("This plot needs a fitted SelfOrganizingMap; call fit first.")
    centres = som.module_.coordinates.cpu().numpy()[:, ::-1] + np.asarray(offset)  # (x = column, y = row)
    if som.topology == "hexagonal":
        angles = np.deg2rad(np.arange(6) * 60 + 30)
        shape = np.c_[np.cos(angles), np.sin(angles)] / np.sqrt(3)  # hexagons of width 1
    else:
        shape = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    cells = PolyCollection(centres[:, None, :] + shape[None], cmap=cmap, edgecolors="white", linewidths=0.4)
    cells.set_array(np.asarray(values, dtype=float).ravel())
    cells.set_clim(vmin, vmax)
    ax.add_collection(cells)
    ax.set_xlim(centres[:, 0].min() - 0.7, centres[:, 0].max() + 0.7)
    ax.set_ylim(centres[:, 1].max() + 0.7, centres[:, 1].min() - 0.7)  # row 0 at the top
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return cells, centres


def plot_umatrix(
    som,
    X=None,
    y=None,
    ax: Axes | None = None,
    *,
    labels: Mapping | None = None,
    markers: Sequence[str] = ("o", "s", "^", "D", "v", "P"),
    highlight=None,
) -> Axes:
    """The U-matrix of a fitted SelfOrganizingMap (light = far from its neighbours), with class markers.

    Parameters
    ----------
    som : fitted SelfOrganizingMap
    X, y : array-like, optional
        Samples to mark at their best-matching unit, one marker and colour per class of ``y``
        (each class shifted a little so that classes sharing a unit stay visible).
    ax : matplotlib Axes, default=None
    labels : dict, optional
        Legend text per class value, e.g. ``{0: "rejected", 1: "approved"}``.
    markers : sequence of str
    highlight : array-like of (row, column), optional
        Units to outline in red (e.g. the outlier cells of a fraud search).

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from deepzoo import SelfOrganizingMap
    >>> from deepzoo.plots import plot_umatrix
    >>> X, y = load_iris(return_X_y=True)
    >>> som = SelfOrganizingMap((6, 6), sigma=1.5, random_state=0).fit(X)
    >>> plot_umatrix(som, X, y).get_title(loc="left")
    'U-matrix'
    """
    ax = _axes(ax, figsize=(5.6, 5.0))
    cells, centres = _som_cells(ax, som, som.distance_map(), "bone", vmin=0, vmax=1)  # light = far
    ax.figure.colorbar(cells, ax=ax, fraction=0.046, pad=0.03, label="mean distance to neighbours (scaled)")
    if X is not None:
        units = som.predict(X)
        classes = np.unique(np.asarray(y)) if y is not None else np.array([None])
        shift = np.linspace(-0.18, 0.18, len(classes)) if len(classes) > 1 else [0.0]
        for k, value in enumerate(classes):
            chosen = units if value is None else units[np.asarray(y) == value]
            where = np.unique(chosen)
            name = "samples" if value is None else str((labels or {}).get(value, value))
            ax.scatter(
                centres[where, 0] + shift[k],
                centres[where, 1],
                marker=markers[k % len(markers)],
                facecolors="none",
                edgecolors=_PALETTE[k % len(_PALETTE)],
                s=60,
                linewidths=1.6,
                label=f"{name} ({len(chosen)})",
            )
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=min(len(classes), 4), frameon=False)
    if highlight is not None and len(highlight):
        cells_rc = np.atleast_2d(np.asarray(highlight))
        index = np.ravel_multi_index((cells_rc[:, 0], cells_rc[:, 1]), tuple(som.grid_shape))
        ax.scatter(
            centres[index, 0],
            centres[index, 1],
            marker="h" if som.topology == "hexagonal" else "s",
            s=420,
            facecolors="none",
            edgecolors="#c44e52",
            linewidths=2.2,
        )
    _style(ax, "U-matrix", "", "", grid_axis="")
    return ax


def plot_hit_map(som, X, ax: Axes | None = None) -> Axes:
    """How many samples each unit of a fitted SelfOrganizingMap wins, with the counts written in.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from deepzoo import SelfOrganizingMap
    >>> from deepzoo.plots import plot_hit_map
    >>> X, _ = load_iris(return_X_y=True)
    >>> ax = plot_hit_map(SelfOrganizingMap((4, 4), random_state=0).fit(X), X)
    >>> len(ax.texts)
    16
    """
    ax = _axes(ax, figsize=(5.4, 4.8))
    hits = som.activation_response(X)
    cells, centres = _som_cells(ax, som, hits, "Blues", vmin=0)
    ax.figure.colorbar(cells, ax=ax, fraction=0.046, pad=0.03, label="samples won")
    top = hits.max() or 1
    for (x, y), count in zip(centres, hits.ravel()):
        ax.text(
            x,
            y,
            str(count),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if count > 0.6 * top else "#1f2937",
        )
    _style(ax, "Hit map", "", "", grid_axis="")
    return ax


def plot_component_planes(
    som, feature_names: Sequence[str] | None = None, ax: Axes | None = None, *, n_columns: int | None = None
) -> Axes:
    """Each feature's weight across a fitted SelfOrganizingMap, one small map per feature, tiled in one Axes.

    Each plane is scaled to its own range (dark = low, light = high): units alike in a feature show
    as one patch, and features whose planes look alike are correlated.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from deepzoo import SelfOrganizingMap
    >>> from deepzoo.plots import plot_component_planes
    >>> X, _ = load_iris(return_X_y=True)
    >>> ax = plot_component_planes(SelfOrganizingMap((5, 5), random_state=0).fit(X), ["a", "b", "c", "d"])
    >>> [t.get_text() for t in ax.texts]
    ['a', 'b', 'c', 'd']
    """
    weights = som.cluster_centers_  # (U, n_features)
    n_features = weights.shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(n_features)]
    if len(names) != n_features:
        raise ValueError(f"plot_component_planes got {len(names)} feature names for {n_features} features.")
    columns = n_columns or int(np.ceil(np.sqrt(n_features)))
    rows = int(np.ceil(n_features / columns))
    n_r, n_c = som.grid_shape
    ax = _axes(ax, figsize=(1.9 * columns + 0.8, 1.9 * rows * n_r / n_c + 0.6))
    low, high = weights.min(0), weights.max(0)
    scaled = (weights - low) / np.where(high > low, high - low, 1.0)
    width, height = n_c + 1.5, n_r * (np.sqrt(3) / 2 if som.topology == "hexagonal" else 1) + 2.0
    cells = None
    for j in range(n_features):
        r, c = divmod(j, columns)
        cells, centres = _som_cells(
            ax, som, scaled[:, j], "viridis", vmin=0, vmax=1, offset=(c * width, r * height)
        )
        top = centres[:, 1].min() - 0.9
        ax.text(centres[:, 0].mean(), top, names[j], ha="center", va="bottom", fontsize=9)
    ax.set_xlim(-1, columns * width - 1.0)
    ax.set_ylim(rows * height - 1.0, -1.6)
    ax.figure.colorbar(cells, ax=ax, fraction=0.03, pad=0.02, label="weight (each plane: its min to max)")
    _style(ax, "Component planes", "", "", grid_axis="")
    return ax


def plot_label_map(som, X, y, ax: Axes | None = None) -> Axes:
    """The majority class of the samples each unit wins, written on the unit; colour by class,
    faint where the unit's samples disagree. Empty units stay blank.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo import SelfOrganizingMap
    >>> from deepzoo.plots import plot_label_map
    >>> X, y = load_digits(return_X_y=True)
    >>> ax = plot_label_map(SelfOrganizingMap((6, 6), sigma=2.0, random_state=0).fit(X), X, y)
    >>> ax.get_title(loc="left")
    'Majority label per unit'
    """
    from matplotlib import colormaps

    y = np.asarray(y)
    units = som.predict(X)
    classes = np.unique(y)
    n_units = int(np.prod(som.grid_shape))
    counts = np.zeros((n_units, len(classes)))
    np.add.at(counts, (units, np.searchsorted(classes, y)), 1)
    ax = _axes(ax, figsize=(5.6, 5.0))
    _, centres = _som_cells(ax, som, np.zeros(n_units), "Greys", vmin=0, vmax=1)
    palette = colormaps["tab10" if len(classes) <= 10 else "tab20"]
    for u in np.flatnonzero(counts.sum(1)):
        k = counts[u].argmax()
        purity = counts[u, k] / counts[u].sum()
        ax.text(
            *centres[u],
            str(classes[k]),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color=palette(k % palette.N),
            alpha=0.35 + 0.65 * purity,
        )
    _style(ax, "Majority label per unit", "", "", grid_axis="")
    return ax
