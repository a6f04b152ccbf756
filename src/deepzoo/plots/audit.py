"""Fairness and explanations (deepzoo.audit): score ECDFs, group rates, importances, attributions."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ._common import _PALETTE, _axes, _style, _wrap_label


def plot_score_ecdf(scores, groups, ax: Axes | None = None) -> Axes:
    """Empirical CDF of the scores, one step curve per group: identical groups give one curve.

    The largest vertical gap between a group's curve and the others' is what the Kolmogorov-Smirnov
    test of :func:`deepzoo.audit.fairness_report` measures.

    Parameters
    ----------
    scores : array-like of shape (n_samples,) or (n_samples, 2)
    groups : array-like of shape (n_samples,)
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes, with one line per group

    Examples
    --------
    >>> from deepzoo.plots import plot_score_ecdf
    >>> ax = plot_score_ecdf([0.1, 0.8, 0.3, 0.6], ["a", "b", "a", "b"])
    >>> len(ax.lines)
    2
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]
    groups = np.asarray(groups).ravel()
    if scores.ndim != 1 or len(scores) != len(groups) or len(scores) == 0:
        raise ValueError(
            f"plot_score_ecdf expects one group per score; got scores of shape {scores.shape} and "
            f"{len(groups)} groups."
        )
    ax = _axes(ax)
    for k, name in enumerate(np.unique(groups.astype(str))):
        part = np.sort(scores[groups.astype(str) == name])
        ax.step(
            np.r_[part[0], part],
            np.r_[0.0, np.arange(1, len(part) + 1) / len(part)],
            where="post",
            color=_PALETTE[k % len(_PALETTE)],
            label=f"{name} (n={len(part)})",
        )
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    _style(ax, "Score ECDF by group", "score", "share of the group at or below")
    return ax


def plot_group_rates(report, attribute: str | None = None, ax: Axes | None = None) -> Axes:
    """Selection rate and true positive rate per group, with the report's bootstrap intervals.

    Parameters
    ----------
    report : deepzoo.audit.FairnessReport
    attribute : str, default=None
        Which sensitive column; the first of the report when None.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes, with one bar per group and rate (selection rate, TPR)

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.audit import fairness_report
    >>> from deepzoo.plots import plot_group_rates
    >>> report = fairness_report([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7], ["a", "a", "b", "b"], n_bootstrap=10)
    >>> len(plot_group_rates(report).patches)  # two groups, two bars each
    4
    """
    attribute = report.attributes[0] if attribute is None else attribute
    rows = report.by_group[report.by_group.attribute == attribute]
    if rows.empty:
        raise ValueError(f"The report has no attribute {attribute!r}; it has {report.attributes}.")
    ax = _axes(ax, figsize=(max(4.0, 1.1 * len(rows) + 2.5), 3.8))
    x = np.arange(len(rows))
    for k, (metric, label) in enumerate(
        (("selection_rate", "selection rate"), ("tpr", "true positive rate"))
    ):
        values = rows[metric].to_numpy(dtype=float)
        low = rows[f"{metric}_low"].to_numpy(dtype=float)
        high = rows[f"{metric}_high"].to_numpy(dtype=float)
        errors = None
        if np.isfinite(low).all() and np.isfinite(high).all():
            errors = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
        ax.bar(
            x + (k - 0.5) * 0.38,
            values,
            width=0.38,
            yerr=errors,
            capsize=3,
            color=_PALETTE[k],
            label=label,
        )
    ax.set_xticks(x, [_wrap_label(str(g), 12) for g in rows.group])
    pct = int(round(report.confidence * 100))
    ax.legend(frameon=False, fontsize=9)
    _style(ax, f"Decisions by {attribute} ({pct}% CI)", attribute, "rate", grid_axis="y")
    return ax


def plot_importance(table, ax: Axes | None = None, *, top: int = 15) -> Axes:
    """Horizontal bars of permutation importance (mean drop of the score, error bar = std).

    ``table`` is :func:`deepzoo.audit.permutation_importance_table`'s output.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.plots import plot_importance
    >>> table = pd.DataFrame({"feature": ["Age", "Tenure"], "importance_mean": [0.1, 0.01],
    ...                       "importance_std": [0.01, 0.005]})
    >>> len(plot_importance(table).patches)
    2
    """
    rows = table.head(top)
    ax = _axes(ax, figsize=(5.4, 0.32 * len(rows) + 1.3))
    positions = np.arange(len(rows))[::-1]
    ax.barh(positions, rows.importance_mean, xerr=rows.importance_std, color=_PALETTE[0], capsize=2)
    ax.set_yticks(positions, [str(f) for f in rows.feature], fontsize=8)
    _style(ax, "Network: permutation importance", "score drop when shuffled", "", grid_axis="x")
    return ax


def plot_coefficients(table, ax: Axes | None = None, *, top: int = 15) -> Axes:
    """Horizontal bars of a logistic regression's standardised coefficients (sign kept).

    ``table`` is :func:`deepzoo.audit.standardized_coefficients`' output.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.plots import plot_coefficients
    >>> table = pd.DataFrame({"feature": ["Age", "Tenure"], "coefficient": [0.7, -0.1]})
    >>> len(plot_coefficients(table).patches)
    2
    """
    rows = table.head(top)
    ax = _axes(ax, figsize=(5.4, 0.32 * len(rows) + 1.3))
    positions = np.arange(len(rows))[::-1]
    values = np.asarray(rows.coefficient, dtype=float)
    ax.barh(positions, values, color=[_PALETTE[3] if v < 0 else _PALETTE[2] for v in values])
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_yticks(positions, [str(f) for f in rows.feature], fontsize=8)
    _style(ax, "Logistic regression: standardised weights", "log-odds per std. dev.", "", grid_axis="x")
    return ax


def plot_attributions(attributions, feature_names=None, ax: Axes | None = None, *, title: str = "") -> Axes:
    """One row's attributions (integrated gradients or saliency) as signed horizontal bars.

    Examples
    --------
    >>> from deepzoo.plots import plot_attributions
    >>> len(plot_attributions([0.3, -0.1, 0.05], ["Age", "Balance", "Tenure"]).patches)
    3
    """
    values = np.asarray(attributions, dtype=float).ravel()
    names = (
        [f"x{i}" for i in range(len(values))] if feature_names is None else [str(f) for f in feature_names]
    )
    if len(names) != len(values):
        raise ValueError(f"plot_attributions got {len(values)} attributions but {len(names)} feature names.")
    order = np.argsort(np.abs(values))
    ax = _axes(ax, figsize=(5.4, 0.32 * len(values) + 1.3))
    ax.barh(
        np.arange(len(values)),
        values[order],
        color=[_PALETTE[3] if v < 0 else _PALETTE[2] for v in values[order]],
    )
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_yticks(np.arange(len(values)), [names[i] for i in order], fontsize=8)
    _style(ax, title or "Integrated gradients of one prediction", "attribution (logit)", "", grid_axis="x")
    return ax
