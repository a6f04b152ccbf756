"""Training curves and classifier scores: loss, ROC, precision-recall, confusion matrix, score
distributions, cross-validation and model comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from sklearn.metrics import auc, average_precision_score, confusion_matrix, precision_recall_curve, roc_curve

from ._common import _PALETTE, _REFERENCE_GID, _axes, _binary_scores, _has_reference, _style, _wrap_label


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
    if all(label in present_set for label in labels) or present_set <= set(labels):
        # scikit-learn's meaning: the class values themselves, which orders or selects them; a class
        # with no test row and no prediction (kept whole in training) is an empty row and column
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


def plot_predicted_vs_actual(y_true, y_pred, ax: Axes | None = None, *, max_points: int = 5000) -> Axes:
    """Predicted against true values of a regression, with the diagonal where they agree.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    ax : matplotlib Axes, default=None
    max_points : int, default=5000
        At most this many points are drawn (an evenly spaced subset), so that large tests stay readable.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from deepzoo.plots import plot_predicted_vs_actual
    >>> ax = plot_predicted_vs_actual([1.0, 2.0, 3.0], [1.1, 1.9, 3.2])
    >>> len(ax.lines)
    1
    """
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {len(y_true)} and {len(y_pred)}.")
    step = max(1, len(y_true) // max_points)
    ax = _axes(ax, figsize=(4.6, 4.2))
    ax.scatter(y_true[::step], y_pred[::step], s=8, alpha=0.45, color=_PALETTE[0], edgecolors="none")
    finite = np.isfinite(y_true) & np.isfinite(y_pred)
    if finite.any():
        low = float(min(y_true[finite].min(), y_pred[finite].min()))
        high = float(max(y_true[finite].max(), y_pred[finite].max()))
        ax.plot([low, high], [low, high], color="0.35", lw=1, ls="--", label="prediction = truth")
    _style(ax, "Predicted vs actual (test)", "actual", "predicted")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return ax
