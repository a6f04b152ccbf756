"""The recurrent family: forecasts, word vectors, token saliency."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes

from ._common import _PALETTE, _axes, _style


def plot_forecast(
    actual,
    predictions: Mapping,
    ax: Axes | None = None,
    *,
    index=None,
    persistence=None,
    title: str = "Forecast vs actual",
    ylabel: str = "price",
) -> Axes:
    """Real values, each model's predictions and the persistence forecast ("tomorrow = today").

    Parameters
    ----------
    actual : array-like of shape (n,)
    predictions : mapping of name -> array-like of shape (n,)
    index : array-like of shape (n,), optional
        The x values (dates); default 0..n-1.
    persistence : array-like of shape (n,), optional
        The naive forecast, drawn dashed grey so that every picture shows the baseline.

    Examples
    --------
    >>> from deepzoo.plots import plot_forecast
    >>> ax = plot_forecast([1, 2, 3], {"LSTM": [1.1, 2.1, 2.9]}, persistence=[1, 1, 2])
    >>> len(ax.lines)
    3
    """
    actual = np.asarray(actual, dtype=float).ravel()
    x = np.arange(len(actual)) if index is None else np.asarray(index)
    ax = _axes(ax, figsize=(7.0, 3.8))
    ax.plot(x, actual, color="#222222", linewidth=2.0, marker="o", markersize=3, label="actual")
    if persistence is not None:
        ax.plot(
            x,
            np.asarray(persistence, dtype=float).ravel(),
            color="#8c8c8c",
            linestyle="--",
            linewidth=1.4,
            label="persistence (tomorrow = today)",
        )
    for i, (name, values) in enumerate(predictions.items()):
        values = np.asarray(values, dtype=float).ravel()
        if len(values) != len(actual):
            raise ValueError(
                f"plot_forecast: {name!r} has {len(values)} values but actual has {len(actual)}."
            )
        ax.plot(x, values, color=_PALETTE[i % len(_PALETTE)], linewidth=1.6, label=str(name))
    ax.legend(fontsize=8, frameon=False)
    if index is not None and np.issubdtype(np.asarray(index).dtype, np.datetime64):
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    _style(ax, title, "date" if index is not None else "step", ylabel)
    return ax


def plot_residuals(
    actual,
    predictions: Mapping,
    ax: Axes | None = None,
    *,
    index=None,
    title: str = "Forecast errors",
    ylabel: str = "actual - forecast",
) -> Axes:
    """Each forecast's errors over time (truth minus forecast), with its RMSE in the legend: where a
    model lags a turn, or drifts, shows at once.

    Parameters
    ----------
    actual : array-like of shape (n,)
    predictions : mapping of name -> array-like of shape (n,)
    index : array-like of shape (n,), optional
        The x values (dates); default 0..n-1.

    Examples
    --------
    >>> from deepzoo.plots import plot_residuals
    >>> ax = plot_residuals([1, 2, 3], {"LSTM": [1.1, 2.1, 2.9], "persistence": [1, 1, 2]})
    >>> len(ax.lines)
    3
    """
    actual = np.asarray(actual, dtype=float).ravel()
    x = np.arange(len(actual)) if index is None else np.asarray(index)
    ax = _axes(ax, figsize=(7.0, 3.4))
    ax.axhline(0.0, color="#222222", linewidth=0.8)
    for i, (name, values) in enumerate(predictions.items()):
        values = np.asarray(values, dtype=float).ravel()
        if len(values) != len(actual):
            raise ValueError(
                f"plot_residuals: {name!r} has {len(values)} values but actual has {len(actual)}."
            )
        error = actual - values
        rmse = float(np.sqrt(np.mean(error**2)))
        ax.plot(
            x,
            error,
            color=_PALETTE[i % len(_PALETTE)],
            linewidth=1.3,
            marker="o",
            markersize=2,
            label=f"{name} (RMSE {rmse:.4g})",
        )
    ax.legend(fontsize=8, frameon=False)
    if index is not None and np.issubdtype(np.asarray(index).dtype, np.datetime64):
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    _style(ax, title, "date" if index is not None else "step", ylabel)
    return ax


def plot_word_vectors(
    vectors, words, ax: Axes | None = None, *, groups=None, title: str = "Word vectors (PCA to 2-D)"
) -> Axes:
    """A 2-D PCA projection of word vectors, each point labelled with its word.

    Parameters
    ----------
    vectors : array of shape (n_words, vector_size), or a fitted Word2Vec (its vectors of ``words``)
    words : list of str
    groups : list, optional
        A colour group per word (e.g. the query word each neighbour belongs to).

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.plots import plot_word_vectors
    >>> ax = plot_word_vectors(np.eye(3), ["a", "b", "c"])
    >>> len(ax.texts)
    3
    """
    words = [str(w) for w in words]
    array = vectors.transform(words) if hasattr(vectors, "transform") else np.asarray(vectors, dtype=float)
    if len(array) != len(words):
        raise ValueError(f"plot_word_vectors got {len(array)} vectors for {len(words)} words.")
    centred = array - array.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T if vt.shape[0] >= 2 else np.c_[centred @ vt[:1].T, np.zeros(len(words))]
    ax = _axes(ax, figsize=(6.0, 5.0))
    keys = list(dict.fromkeys(groups)) if groups is not None else [None]
    colours = {k: _PALETTE[i % len(_PALETTE)] for i, k in enumerate(keys)}
    for i, word in enumerate(words):
        colour = colours[groups[i] if groups is not None else None]
        ax.scatter(xy[i, 0], xy[i, 1], s=14, color=colour)
        ax.annotate(word, xy[i], fontsize=8, color=colour, xytext=(3, 2), textcoords="offset points")
    _style(ax, title, "component 1", "component 2")
    return ax


def plot_token_saliency(
    tokens,
    weights,
    ax: Axes | None = None,
    *,
    title: str = "Token saliency",
    line_chars: int = 70,
    max_tokens: int = 120,
) -> Axes:
    """A document's tokens, each on a background whose colour shows its weight (e.g. input gradients).

    Positive weights (towards the explained class) are green, negative red; the strongest is fully
    coloured. Long documents are cut at ``max_tokens``.

    Examples
    --------
    >>> from deepzoo.plots import plot_token_saliency
    >>> ax = plot_token_saliency(["a", "great", "film"], [0.0, 1.0, 0.2])
    >>> len(ax.texts)
    3
    """
    tokens = [str(t) for t in tokens][:max_tokens]
    weights = np.asarray(weights, dtype=float).ravel()[: len(tokens)]
    if len(weights) != len(tokens):
        raise ValueError(f"plot_token_saliency got {len(weights)} weights for {len(tokens)} tokens.")
    scale = max(float(np.abs(weights).max()), 1e-12) if len(weights) else 1.0
    n_lines = max(1, int(np.ceil(sum(len(t) + 1 for t in tokens) / line_chars)) + 1)
    ax = _axes(ax, figsize=(7.0, 0.3 * n_lines + 0.8))
    ax.set_axis_off()
    ax.set_xlim(0, line_chars)
    ax.set_ylim(-n_lines, 0.5)
    col, row = 0, 0
    for token, weight in zip(tokens, weights, strict=True):
        if col + len(token) > line_chars and col > 0:
            col, row = 0, row + 1
        strength = min(abs(weight) / scale, 1.0)
        colour = (0.2, 0.65, 0.3, strength) if weight >= 0 else (0.8, 0.25, 0.25, strength)
        ax.text(
            col,
            -row,
            token,
            fontsize=9,
            family="monospace",
            va="center",
            bbox=dict(boxstyle="square,pad=0.1", facecolor=colour, edgecolor="none"),
        )
        col += len(token) + 1
    ax.set_title(title, fontsize=11, fontweight="bold", loc="left")
    return ax
