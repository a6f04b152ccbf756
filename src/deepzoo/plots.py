"""Pictures of a fit and of its predictions: pure matplotlib, one function per picture.

Every function takes what it draws (a fitted estimator, a history dict, labels and scores) and an
optional ``ax``, draws on it and returns it. Without ``ax`` a new :class:`matplotlib.figure.Figure`
is made directly, not through ``pyplot``: no GUI backend is needed, no global figure is left open
and ``plt.show()`` is never called. Put the result in a report with
:meth:`deepzoo.report.RunReport.add_figure`, or save it with ``ax.figure.savefig(...)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import auc, average_precision_score, confusion_matrix, precision_recall_curve, roc_curve

__all__ = [
    "plot_codes",
    "plot_component_planes",
    "plot_confusion_matrix",
    "plot_cv_scores",
    "plot_hit_map",
    "plot_image_grid",
    "plot_label_map",
    "plot_loss",
    "plot_model_comparison",
    "plot_precision_recall",
    "plot_rbm_filters",
    "plot_recommendations",
    "plot_reconstructions",
    "plot_roc",
    "plot_score_distribution",
    "plot_umatrix",
]

_PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")
# The gid of reference lines (chance diagonal, prevalence) drawn once per Axes, however many models.
_REFERENCE_GID = "deepzoo-reference"


def _axes(ax: Axes | None, figsize=(5.4, 3.8)) -> Axes:
    """The given Axes, or the Axes of a new pyplot-free Figure with a constrained layout."""
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def _style(ax: Axes, title: str, xlabel: str, ylabel: str, *, grid_axis: str = "both") -> None:
    """Title, axis labels, a light grid and no top/right frame."""
    ax.set_title(title, fontsize=12, fontweight="bold", loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if grid_axis:
        ax.grid(True, axis=grid_axis, color="#d0d4da", linewidth=0.7, alpha=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _wrap_label(name: str, width: int = 18) -> str:
    """Break a long tick label at spaces and CamelCase joints: 'HistGradient\nBoostingClassifier'."""
    lines = [""]
    for piece in re.split(r"(?<=[a-z])(?=[A-Z])|(?<=\s)", name):
        if lines[-1] and len(lines[-1]) + len(piece.rstrip()) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(line.strip() for line in lines)


def _has_reference(ax: Axes) -> bool:
    return any(line.get_gid() == _REFERENCE_GID for line in ax.lines)


def _binary_scores(y_true, scores, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """Check 1-D binary labels and scores of the same length; (n, 2) probabilities give column 1."""
    y_true = np.asarray(y_true).ravel()
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]
    if scores.ndim != 1:
        raise ValueError(
            f"{caller} expects scores of shape (n_samples,), the score of the positive class; got "
            f"shape {scores.shape}. For predict_proba output pass proba[:, 1]."
        )
    if len(scores) != len(y_true):
        raise ValueError(
            f"{caller} got {len(y_true)} labels but {len(scores)} scores; pass one score per label."
        )
    if len(scores) == 0:
        raise ValueError(f"{caller} needs at least one sample; got 0.")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{caller} got NaN or infinite scores; drop those rows first.")
    if len(np.unique(y_true)) != 2:
        raise ValueError(
            f"{caller} needs binary labels with both classes present; got classes "
            f"{np.unique(y_true).tolist()[:10]}. For several classes plot one class against the rest."
        )
    return y_true, scores


def _history_of(estimator_or_history) -> tuple[Mapping, int | None]:
    """The history dict and best epoch (0-based) of a fitted estimator, or of a plain dict."""
    if isinstance(estimator_or_history, Mapping):
        return estimator_or_history, None
    history = getattr(estimator_or_history, "history_", None)
    if not isinstance(history, Mapping):
        raise TypeError(
            "plot_loss expects a fitted estimator (with a history_ dict) or a dict of lists such as "
            f"{{'loss': [...], 'val_loss': [...]}}; got {type(estimator_or_history).__name__}. "
            "Call fit first."
        )
    return history, getattr(estimator_or_history, "best_epoch_", None)


def plot_loss(estimator_or_history, ax: Axes | None = None) -> Axes:
    """Learning curves: the loss per epoch, and the score on a second y axis when recorded.

    Keys ending in ``loss`` or ``error`` are drawn on the left axis, keys ending in ``score`` on a
    twin right axis (dotted). When no key ends in ``loss`` or ``error`` every key goes on the left
    axis. Training curves are blue and validation curves (``val_...``) orange.

    Parameters
    ----------
    estimator_or_history : fitted estimator or dict of lists
        An estimator with ``history_`` (for example :class:`deepzoo.MLPClassifier`), or its
        history dict itself, e.g. ``{'loss': [...], 'val_loss': [...]}``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The left (loss) axis. When the estimator has ``best_epoch_`` (0-based) a dashed vertical
        line and a dot mark that epoch on the monitored curve (``val_loss`` when present).

    Examples
    --------
    >>> from deepzoo.plots import plot_loss
    >>> ax = plot_loss({"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.75]})
    >>> len(ax.lines)
    2
    """
    history, best_epoch = _history_of(estimator_or_history)
    series = {str(k): np.asarray(v, dtype=float).ravel() for k, v in history.items() if len(v) > 0}
    if not series:
        raise ValueError("plot_loss got an empty history: nothing was recorded. Fit the estimator first.")
    ax = _axes(ax)
    loss_keys = [k for k in series if k.endswith(("loss", "error"))]
    score_keys = [k for k in series if k.endswith("score")]
    ylabel = "loss"
    if not loss_keys:  # e.g. only scores or rewards were recorded: everything on one axis
        loss_keys, score_keys, ylabel = list(series), [], "value"

    def color(key: str) -> str:
        return "#dd8452" if key.startswith("val") else "#4c72b0"

    handles, top = [], ax
    for key in loss_keys:
        values = series[key]
        (line,) = ax.plot(np.arange(1, len(values) + 1), values, color=color(key), lw=2, label=key)
        handles.append(line)
    if score_keys:
        twin = top = ax.twinx()
        for key in score_keys:
            values = series[key]
            (line,) = twin.plot(
                np.arange(1, len(values) + 1), values, color=color(key), lw=1.6, ls=":", label=key
            )
            handles.append(line)
        twin.set_ylabel("score")
        twin.spines["top"].set_visible(False)

    monitored = next((k for k in ("val_loss", "loss") if k in series), loss_keys[0])
    if best_epoch is not None and 0 <= int(best_epoch) < len(series[monitored]):
        epoch = int(best_epoch) + 1
        ax.axvline(epoch, color="#6b7280", lw=1, ls="--", zorder=1)
        (dot,) = ax.plot(
            [epoch],
            [series[monitored][epoch - 1]],
            "o",
            ms=8,
            color="#c44e52",
            zorder=5,
            label=f"best epoch ({epoch})",
        )
        handles.append(dot)

    _style(ax, "Learning curves", "epoch", ylabel)
    longest = max(len(v) for v in series.values())
    ax.set_xlim(0.5, longest + 0.5)
    if longest <= 12:
        ax.set_xticks(np.arange(1, longest + 1))
    # below the plot, on the topmost axes: it never hides a curve
    top.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=min(len(handles), 5),
        frameon=False,
        fontsize=9,
    )
    return ax


def plot_roc(y_true, scores, ax: Axes | None = None, label: str | None = None, *, pos_label=None) -> Axes:
    """ROC curve of a binary classifier, with its AUC in the legend.

    Call it several times on the same ``ax`` to compare models; the chance diagonal is drawn once.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.
    scores : array-like of shape (n_samples,) or (n_samples, 2)
        Scores of the positive class (``predict_proba(X)[:, 1]`` or ``decision_function(X)``); a
        two-column ``predict_proba`` output is accepted and its second column used.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    label : str, default=None
        Name of the model in the legend.
    pos_label : int, float, bool or str, default=None
        The positive class, as in :func:`sklearn.metrics.roc_curve`.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from deepzoo.plots import plot_roc
    >>> ax = plot_roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], label="model")
    >>> ax.get_legend_handles_labels()[1]
    ['chance', 'model (AUC = 0.750)']
    """
    y_true, scores = _binary_scores(y_true, scores, "plot_roc")
    fpr, tpr, _ = roc_curve(y_true, scores, pos_label=pos_label)
    area = auc(fpr, tpr)
    ax = _axes(ax, figsize=(4.8, 4.4))
    if not _has_reference(ax):
        ax.plot([0, 1], [0, 1], ls="--", lw=1, color="#9ca3af", gid=_REFERENCE_GID, label="chance")
    text = f"AUC = {area:.3f}" if label is None else f"{label} (AUC = {area:.3f})"
    ax.plot(fpr, tpr, lw=2, label=text)
    _style(ax, "ROC curve", "False positive rate", "True positive rate")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    return ax


def plot_precision_recall(
    y_true, scores, ax: Axes | None = None, label: str | None = None, *, pos_label=None
) -> Axes:
    """Precision-recall curve of a binary classifier, with its average precision in the legend.

    Call it several times on the same ``ax`` to compare models; the horizontal line of a classifier
    without skill (the share of positives) is drawn once.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.
    scores : array-like of shape (n_samples,) or (n_samples, 2)
        Scores of the positive class, as for :func:`plot_roc`.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    label : str, default=None
        Name of the model in the legend.
    pos_label : int, float, bool or str, default=None
        The positive class; by default 1 (or True), as in scikit-learn.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from deepzoo.plots import plot_precision_recall
    >>> ax = plot_precision_recall([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> len(ax.lines)
    2
    """
    y_true, scores = _binary_scores(y_true, scores, "plot_precision_recall")
    if pos_label is None:
        classes = set(np.unique(y_true).tolist())
        if not (classes <= {0, 1} or classes <= {-1, 1}):
            raise ValueError(
                f"plot_precision_recall cannot tell the positive class among {sorted(classes, key=str)}; "
                "pass pos_label=..."
            )
        pos_label = 1
    precision, recall, _ = precision_recall_curve(y_true, scores, pos_label=pos_label)
    ap = average_precision_score(y_true, scores, pos_label=pos_label)
    ax = _axes(ax, figsize=(4.8, 4.4))
    if not _has_reference(ax):
        prevalence = float(np.mean(y_true == pos_label))
        ax.axhline(prevalence, ls="--", lw=1, color="#9ca3af", gid=_REFERENCE_GID, label="no skill")
    text = f"AP = {ap:.3f}" if label is None else f"{label} (AP = {ap:.3f})"
    ax.plot(recall, precision, lw=2, label=text, drawstyle="steps-post")
    _style(ax, "Precision-recall curve", "Recall", "Precision")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.02)
    ax.legend(loc="lower left", frameon=False, fontsize=9)
    return ax


def _confusion_labels(y_true, y_pred, labels):
    """(values passed to confusion_matrix, names shown on the axes)."""
    present = np.unique(np.concatenate([np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()]))
    if labels is None:
        return None, [str(v) for v in present]
    labels = list(labels)
    present_set = set(present.tolist())
    if all(label in present_set for label in labels):
        # scikit-learn's meaning: the class values themselves, which orders or selects them
        return labels, [str(v) for v in labels]
    if len(labels) == len(present):
        # display names of the sorted classes, e.g. ["stays", "leaves"] for 0 and 1
        return None, [str(v) for v in labels]
    raise ValueError(
        f"plot_confusion_matrix got labels {labels}: neither values found in y_true/y_pred "
        f"({present.tolist()[:10]}) nor one display name per class ({len(present)} classes)."
    )


def plot_confusion_matrix(
    y_true, y_pred, labels=None, ax: Axes | None = None, normalize: str | None = None
) -> Axes:
    """Confusion matrix as a heat map with the count (or share) written in every cell.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels : list, default=None
        Either class values found in the data (scikit-learn's meaning: they select and order the
        rows and columns), or one display name per class in sorted class order, e.g.
        ``["stays", "leaves"]`` for the labels 0 and 1.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    normalize : {'true', 'pred', 'all'} or None, default=None
        Divide by the row sums (true), the column sums (pred) or the total; the cells then show the
        share with the count below it.

    Returns
    -------
    ax : matplotlib Axes
        With one text per cell.

    Examples
    --------
    >>> from deepzoo.plots import plot_confusion_matrix
    >>> ax = plot_confusion_matrix([0, 1, 1, 0], [0, 1, 0, 0], labels=["no", "yes"])
    >>> [t.get_text() for t in ax.texts]
    ['2', '0', '1', '1']
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            "The 'normalize' parameter of plot_confusion_matrix must be a str among "
            f"{{'all', 'pred', 'true'}} or None. Got {normalize!r} instead."
        )
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"plot_confusion_matrix got {len(y_true)} true labels but {len(y_pred)} predictions; "
            "pass one prediction per sample."
        )
    values, names = _confusion_labels(y_true, y_pred, labels)
    counts = confusion_matrix(y_true, y_pred, labels=values)
    shown = confusion_matrix(y_true, y_pred, labels=values, normalize=normalize) if normalize else counts
    n = len(names)
    size = min(3.0 + 0.5 * n, 12)
    ax = _axes(ax, figsize=(size + 0.4, size))
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=max(float(shown.max()), 1e-12))
    threshold = shown.max() / 2
    fontsize = 12 if n <= 4 else 9 if n <= 10 else 7
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}\n({counts[i, j]})" if normalize else f"{counts[i, j]}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if shown[i, j] > threshold else "#1f2937",
            )
    title = f"Confusion matrix (normalized over {normalize})" if normalize else "Confusion matrix"
    _style(ax, title, "Predicted label", "True label", grid_axis="")
    ax.set_xticks(np.arange(n), labels=names, rotation=45 if max(map(len, names)) > 6 else 0)
    ax.set_yticks(np.arange(n), labels=names)
    ax.spines[:].set_visible(False)
    ax.tick_params(length=0)
    return ax


def plot_score_distribution(scores, groups=None, ax: Axes | None = None) -> Axes:
    """Histograms of predicted probabilities, one per group when ``groups`` is given.

    With groups the histograms are densities, so that groups of different sizes compare; the
    legend gives each group's size and mean score.

    Parameters
    ----------
    scores : array-like of shape (n_samples,) or (n_samples, 2)
        Predicted probabilities (or any scores) of the positive class.
    groups : array-like of shape (n_samples,), default=None
        The group of each sample (for example a sensitive attribute).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        With one filled histogram patch per group (one in all without groups).

    Examples
    --------
    >>> from deepzoo.plots import plot_score_distribution
    >>> ax = plot_score_distribution([0.1, 0.8, 0.3, 0.6], groups=["a", "b", "a", "b"])
    >>> len(ax.patches)
    2
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]
    if scores.ndim != 1 or len(scores) == 0:
        raise ValueError(
            f"plot_score_distribution expects a non-empty 1-D array of scores; got shape {scores.shape}."
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("plot_score_distribution got NaN or infinite scores; drop those rows first.")
    probabilities = scores.min() >= 0 and scores.max() <= 1
    bins = np.linspace(0, 1, 21) if probabilities else np.histogram_bin_edges(scores, bins=20)
    ax = _axes(ax)
    if groups is None:
        ax.hist(scores, bins=bins, histtype="stepfilled", alpha=0.75, color=_PALETTE[0], edgecolor="white")
        ylabel = "count"
        title = f"Score distribution (n={len(scores)}, mean {scores.mean():.3f})"
    else:
        groups = np.asarray(groups).ravel()
        if len(groups) != len(scores):
            raise ValueError(
                f"plot_score_distribution got {len(scores)} scores but {len(groups)} groups; "
                "pass one group per score."
            )
        for name in np.unique(groups):
            part = scores[groups == name]
            ax.hist(
                part,
                bins=bins,
                density=True,
                histtype="stepfilled",
                alpha=0.4,
                linewidth=1.6,
                edgecolor=None,
                label=f"{name} (n={len(part)}, mean {part.mean():.3f})",
            )
        ylabel = "density"
        title = "Score distribution by group"
        ax.legend(frameon=False, fontsize=9)
    _style(ax, title, "predicted probability" if probabilities else "score", ylabel, grid_axis="y")
    if probabilities:
        ax.set_xlim(0, 1)
    return ax


def plot_cv_scores(scores, ax: Axes | None = None, *, metric: str = "accuracy") -> Axes:
    """Per-fold cross-validation scores as bars, with the mean and a ±1 standard deviation band.

    Parameters
    ----------
    scores : array-like of shape (n_folds,)
        For example the output of :func:`sklearn.model_selection.cross_val_score`.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    metric : str, default='accuracy'
        Name of the score, for the y axis.

    Returns
    -------
    ax : matplotlib Axes
        One bar (in ``ax.containers[0]``) and one value label per fold, a line at the mean and a
        shaded band of ±1 standard deviation.

    Examples
    --------
    >>> from deepzoo.plots import plot_cv_scores
    >>> ax = plot_cv_scores([0.85, 0.87, 0.86])
    >>> len(ax.containers[0]), len(ax.texts)
    (3, 3)
    """
    scores = np.asarray(scores, dtype=float).ravel()
    if len(scores) == 0 or not np.all(np.isfinite(scores)):
        raise ValueError(f"plot_cv_scores expects finite scores, one per fold; got {scores.tolist()}.")
    mean, std = float(scores.mean()), float(scores.std())
    folds = np.arange(1, len(scores) + 1)
    ax = _axes(ax, figsize=(max(4.8, 0.6 * len(scores) + 2.2), 3.8))
    span = max(float(np.ptp(scores)), std, 0.01)
    low, high = scores.min() - 1.5 * span, scores.max() + 1.0 * span
    if scores.min() >= 0 and scores.max() <= 1:
        low, high = max(low, 0.0), min(high, 1.0 + 0.02)
    ax.axhspan(mean - std, mean + std, color="#dd8452", alpha=0.15, lw=0, label=f"± std {std:.3f}")
    ax.axhline(mean, color="#dd8452", lw=2, label=f"mean {mean:.3f}")
    bars = ax.bar(folds, scores - low, bottom=low, width=0.6, color=_PALETTE[0], alpha=0.85)
    ax.bar_label(bars, labels=[f"{s:.3f}" for s in scores], padding=2, fontsize=8)
    _style(ax, f"Cross-validation: {mean:.3f} ± {std:.3f}", "fold", metric, grid_axis="y")
    ax.set_xticks(folds)
    ax.set_ylim(low, high)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False, fontsize=9)
    return ax


def plot_model_comparison(
    table: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = ("accuracy", "roc_auc"),
    ax: Axes | None = None,
) -> Axes:
    """Grouped bars: one group per model, one bar per metric, each bar labelled with its value.

    Parameters
    ----------
    table : dict of {model name: {metric name: value}}
        For example ``{"MLP": {"accuracy": 0.86, "roc_auc": 0.85}, "LogReg": {...}}``; models may
        carry other keys (they are ignored) and may lack a metric (its bar is left out).
    metrics : sequence of str, default=('accuracy', 'roc_auc')
        The metrics to draw, in order.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One bar patch and one value label per (model, metric) pair present.

    Examples
    --------
    >>> from deepzoo.plots import plot_model_comparison
    >>> table = {"MLP": {"accuracy": 0.86, "roc_auc": 0.85}, "LogReg": {"accuracy": 0.81, "roc_auc": 0.77}}
    >>> len(plot_model_comparison(table).patches)
    4
    """
    if not table:
        raise ValueError("plot_model_comparison got an empty table; give {model: {metric: value}}.")
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = list(metrics)
    known = sorted({key for row in table.values() for key in row})
    missing = [m for m in metrics if m not in known]
    if missing:
        raise ValueError(f"plot_model_comparison: no model has the metrics {missing}; the table has {known}.")
    models = list(table)
    x = np.arange(len(models))
    width = 0.8 / len(metrics)
    ax = _axes(ax, figsize=(max(5.2, 1.3 * len(models) + 2.0), 3.8))
    values_seen = []
    for k, metric in enumerate(metrics):
        present = [i for i, m in enumerate(models) if table[m].get(metric) is not None]
        values = [float(table[models[i]][metric]) for i in present]
        values_seen += values
        offsets = x[present] - 0.4 + width * (k + 0.5)
        color = _PALETTE[k % len(_PALETTE)]
        bars = ax.bar(offsets, values, width=width * 0.92, label=metric, color=color)
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], padding=2, fontsize=8)
    ax.set_xticks(x, labels=[_wrap_label(str(m)) for m in models])
    _style(ax, "Model comparison", "", "score", grid_axis="y")
    if values_seen and min(values_seen) >= 0 and max(values_seen) <= 1:
        ax.set_ylim(0, 1.15)
    else:
        ax.margins(y=0.15)
    ax.legend(loc="upper right", ncol=len(metrics), frameon=False, fontsize=9)
    return ax


# -- self-organizing maps ---------------------------------------------------------------------------


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


# -- RBM, autoencoder and recommender pictures -------------------------------------------------------


def _mosaic(images: np.ndarray, n_cols: int, normalise_each: bool) -> np.ndarray:
    """Tile (n, h, w) images into one array with a 1-pixel gap; NaN gaps draw as background."""
    n, h, w = images.shape
    n_cols = max(1, min(n_cols, n))
    n_rows = int(np.ceil(n / n_cols))
    canvas = np.full((n_rows * (h + 1) - 1, n_cols * (w + 1) - 1), np.nan)
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
    images : array of shape (n, h * w) or (n, h, w)
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
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(
            f"plot_image_grid expects (n, h*w) or (n, h, w) images, n >= 1; got shape {images.shape}."
        )
    canvas = _mosaic(images, n_cols, normalise_each)
    width = min(1.0 * min(n_cols, len(images)), 10)
    ax = _axes(ax, figsize=(width, width * canvas.shape[0] / canvas.shape[1] + 0.6))
    ax.imshow(np.ma.masked_invalid(canvas), cmap=cmap, interpolation="nearest")
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


# -- fairness and explanations (deepzoo.audit) ------------------------------------------------------


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


# -- recurrent family: forecasts, word vectors, token saliency ------------------------------------


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


# -- convolutional networks: predictions, filters, saliency ------------------------------------------


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
    if weights.shape[1] == 3:
        low = weights.min(axis=(1, 2, 3), keepdims=True)
        high = weights.max(axis=(1, 2, 3), keepdims=True)
        tiles = ((weights - low) / np.maximum(high - low, 1e-12)).transpose(0, 2, 3, 1)
        n_cols = int(np.ceil(np.sqrt(len(tiles) * 2)))
        k = tiles.shape[1]
        n_rows = int(np.ceil(len(tiles) / n_cols))
        canvas = np.ones((n_rows * (k + 1) - 1, n_cols * (k + 1) - 1, 3))
        for i, tile in enumerate(tiles):
            r, c = divmod(i, n_cols)
            canvas[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = tile
        ax.imshow(canvas, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"First-layer filters ({len(tiles)} of {conv.out_channels})", loc="left", fontsize=12)
        return ax
    return plot_image_grid(
        weights[:, 0],
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
