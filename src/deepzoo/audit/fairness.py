"""Scores by group: do the model's scores depend on gender, age or origin?

:func:`fairness_report` compares the groups of one or several sensitive columns: per group the count,
mean score, selection rate (share predicted positive at ``threshold``), accuracy, true and false
positive rates; per column the demographic-parity and equalized-odds differences and ratios (the
definitions of fairlearn, which the tests use as an oracle), and a two-sample Kolmogorov-Smirnov test
of each group's score distribution against the rest. Every figure but the KS test (which has its
p-value) gets a seeded percentile-bootstrap confidence interval: the rows are resampled with
replacement ``n_bootstrap`` times, so groups keep their natural share of the sample.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["FairnessReport", "fairness_report"]

GROUP_METRICS = ("mean_score", "selection_rate", "accuracy", "tpr", "fpr")
SUMMARY_METRICS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
)


@dataclass
class FairnessReport:
    """What :func:`fairness_report` returns.

    Attributes
    ----------
    by_group : DataFrame
        One row per (attribute, group): count, the GROUP_METRICS with ``_low``/``_high`` bootstrap
        bounds, ks_statistic and ks_pvalue (the group against all other rows).
    summary : DataFrame
        One row per attribute: the SUMMARY_METRICS with bootstrap bounds, and n_groups.
    threshold, confidence, n_bootstrap : the settings used.
    """

    by_group: pd.DataFrame
    summary: pd.DataFrame
    threshold: float
    confidence: float
    n_bootstrap: int
    attributes: list = field(default_factory=list)
    scores: np.ndarray | None = field(default=None, repr=False)
    """The scores compared (for ECDF plots); not part of ``to_dict``."""
    groups: dict | None = field(default=None, repr=False)
    """{attribute: group of each row}; not part of ``to_dict``."""

    def to_dict(self) -> dict:
        """Plain JSON-ready data (NaN becomes None)."""

        def records(frame):
            return json.loads(frame.to_json(orient="records"))

        return {
            "threshold": self.threshold,
            "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap,
            "summary": records(self.summary),
            "by_group": records(self.by_group),
        }

    def to_markdown(self) -> str:
        """A short Markdown summary (used by model cards)."""
        pct = int(round(self.confidence * 100))
        lines = [
            f"Threshold {self.threshold:g}; {pct}% bootstrap intervals from {self.n_bootstrap} resamples.",
            "",
            "| attribute | group | n | mean score | selection rate | TPR | FPR | KS p-value |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in self.by_group.itertuples():
            lines.append(
                f"| {row.attribute} | {row.group} | {row.count} | {row.mean_score:.3f} | "
                f"{row.selection_rate:.3f} [{row.selection_rate_low:.3f}, {row.selection_rate_high:.3f}] | "
                f"{row.tpr:.3f} | {row.fpr:.3f} | {row.ks_pvalue:.3g} |"
            )
        lines += [
            "",
            "| attribute | DP difference | DP ratio | EO difference | EO ratio |",
            "|---|---|---|---|---|",
        ]
        for row in self.summary.itertuples():
            lines.append(
                f"| {row.attribute} | {row.demographic_parity_difference:.3f} | "
                f"{row.demographic_parity_ratio:.3f} | {row.equalized_odds_difference:.3f} | "
                f"{row.equalized_odds_ratio:.3f} |"
            )
        return "\n".join(lines) + "\n"


def _columns(groups, n: int) -> dict[str, np.ndarray]:
    """The sensitive columns as {name: 1-d array}, checked."""
    if isinstance(groups, pd.DataFrame):
        columns = {str(c): groups[c].to_numpy() for c in groups.columns}
    elif isinstance(groups, dict):
        columns = {str(k): np.asarray(v) for k, v in groups.items()}
    elif isinstance(groups, pd.Series):
        columns = {str(groups.name) if groups.name is not None else "group": groups.to_numpy()}
    else:
        columns = {"group": np.asarray(groups)}
    if not columns:
        raise ValueError("fairness_report needs at least one group column; got none.")
    checked = {}
    for name, values in columns.items():
        values = np.asarray(values, dtype=object) if np.asarray(values).dtype.kind not in "biufU" else values
        if values.ndim != 1 or len(values) != n:
            raise ValueError(
                f"The group column {name!r} has shape {np.shape(values)}; "
                f"expected one value per score ({n},)."
            )
        missing = pd.isna(values)
        if missing.any():
            raise ValueError(
                f"The group column {name!r} has {int(missing.sum())} missing values; fill them (e.g. with "
                "'unknown') or drop those rows, so that no one is silently left out of the comparison."
            )
        labels = np.unique(values.astype(str))
        if len(labels) < 2:
            raise ValueError(
                f"The group column {name!r} has only one group ({str(labels[0])!r}); a fairness "
                "comparison needs at least two groups."
            )
        checked[name] = values.astype(str)
    return checked


def _rates(W: np.ndarray, onehot: np.ndarray, score, pred, y) -> dict[str, np.ndarray]:
    """Per-group figures for each row of sample weights W (R, n): arrays of shape (R, n_groups)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        count = W @ onehot
        pos = W @ (onehot * y[:, None])
        neg = count - pos
        return {
            "count": count,
            "mean_score": (W @ (onehot * score[:, None])) / count,
            "selection_rate": (W @ (onehot * pred[:, None])) / count,
            "accuracy": (W @ (onehot * (pred == y)[:, None])) / count,
            "tpr": (W @ (onehot * (pred * y)[:, None])) / pos,
            "fpr": (W @ (onehot * (pred * (1 - y))[:, None])) / neg,
        }


def _summary(rates: dict) -> dict[str, np.ndarray]:
    """DP and EO differences and ratios (fairlearn's 'between_groups', 'worst_case') from group rates."""

    def spread(values):
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample without positives in a group
            high, low = np.nanmax(values, axis=1), np.nanmin(values, axis=1)
            ratio = np.where(high > 0, low / high, np.where(high == 0, 1.0, np.nan))
        return high - low, ratio

    dp_diff, dp_ratio = spread(rates["selection_rate"])
    tpr_diff, tpr_ratio = spread(rates["tpr"])
    fpr_diff, fpr_ratio = spread(rates["fpr"])
    return {
        "demographic_parity_difference": dp_diff,
        "demographic_parity_ratio": dp_ratio,
        "equalized_odds_difference": np.maximum(tpr_diff, fpr_diff),
        "equalized_odds_ratio": np.minimum(tpr_ratio, fpr_ratio),
    }


def fairness_report(
    y_true,
    scores,
    groups,
    threshold: float = 0.5,
    *,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    random_state=0,
) -> FairnessReport:
    """Compare a binary classifier's scores and decisions across the groups of sensitive columns.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, 0/1 (or booleans).
    scores : array-like of shape (n_samples,) or (n_samples, 2)
        Predicted probability of the positive class (a ``predict_proba`` output is accepted).
    groups : array-like, Series, DataFrame or dict of columns
        One sensitive column, or several (each compared on its own).
    threshold : float in [0, 1], default=0.5
        A score at or above it is a positive decision.
    n_bootstrap : int, default=200
        Bootstrap resamples for the confidence intervals (0: no intervals).
    confidence : float in (0, 1), default=0.95
    random_state : int, default=0
        Seeds the bootstrap: the same inputs give the same intervals.

    Returns
    -------
    FairnessReport

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.audit import fairness_report
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> scores = np.clip(0.3 * y + rng.uniform(0, 0.7, 400), 0, 1)
    >>> gender = rng.choice(["Female", "Male"], 400)
    >>> report = fairness_report(y, scores, {"Gender": gender}, n_bootstrap=50)
    >>> report.by_group.group.tolist()
    ['Female', 'Male']
    >>> bool(report.summary.demographic_parity_difference[0] < 0.2)
    True
    """
    from scipy.stats import ks_2samp

    score = np.asarray(scores, dtype=float)
    if score.ndim == 2 and score.shape[1] == 2:
        score = score[:, 1]
    if score.ndim != 1 or len(score) == 0:
        raise ValueError(
            f"scores must be a non-empty 1-D array (or predict_proba's (n, 2)); got {score.shape}."
        )
    if not np.all(np.isfinite(score)):
        raise ValueError(
            "scores contain NaN or infinity; fairness figures need a finite score for every row."
        )
    y = np.asarray(y_true)
    if y.shape != score.shape:
        raise ValueError(f"y_true has shape {y.shape} but scores {score.shape}; give one label per score.")
    if y.dtype == bool:
        y = y.astype(int)
    if not np.isin(y, (0, 1)).all():
        raise ValueError(
            f"y_true must hold 0/1 labels; got values {np.unique(y).tolist()[:5]}. Encode the positive "
            "class as 1 (e.g. y == 'leaves')."
        )
    if not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        raise ValueError(f"threshold must be a float in [0, 1]; got {threshold!r}.")
    if not (isinstance(n_bootstrap, (int, np.integer)) and n_bootstrap >= 0):
        raise ValueError(f"n_bootstrap must be a non-negative int; got {n_bootstrap!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence!r}.")
    columns = _columns(groups, len(score))
    y = y.astype(float)
    pred = (score >= threshold).astype(float)
    n = len(score)
    rng = np.random.default_rng(random_state)
    # one weight matrix for every column: row r counts how often each sample is drawn in resample r
    W_boot = rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstrap).astype(float) if n_bootstrap else None
    tail = (1 - confidence) / 2
    group_rows, summary_rows = [], []
    for name, values in columns.items():
        labels, codes = np.unique(values, return_inverse=True)
        onehot = np.eye(len(labels))[codes]
        point = _rates(np.ones((1, n)), onehot, score, pred, y)
        point_summary = _summary(point)
        if W_boot is not None:
            boot = _rates(W_boot, onehot, score, pred, y)
            boot_summary = _summary(boot)

            def bounds(values):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    return np.nanquantile(values, [tail, 1 - tail], axis=0)

        for g, label in enumerate(labels):
            inside = codes == g
            ks = ks_2samp(score[inside], score[~inside])
            row = {"attribute": name, "group": str(label), "count": int(inside.sum())}
            for metric in GROUP_METRICS:
                row[metric] = float(point[metric][0, g])
                low, high = bounds(boot[metric][:, g]) if W_boot is not None else (np.nan, np.nan)
                row[f"{metric}_low"], row[f"{metric}_high"] = float(low), float(high)
            row.update(ks_statistic=float(ks.statistic), ks_pvalue=float(ks.pvalue))
            group_rows.append(row)
        row = {"attribute": name, "n_groups": len(labels)}
        for metric in SUMMARY_METRICS:
            row[metric] = float(point_summary[metric][0])
            low, high = bounds(boot_summary[metric]) if W_boot is not None else (np.nan, np.nan)
            row[f"{metric}_low"], row[f"{metric}_high"] = float(low), float(high)
        summary_rows.append(row)
    return FairnessReport(
        by_group=pd.DataFrame(group_rows),
        summary=pd.DataFrame(summary_rows),
        threshold=float(threshold),
        confidence=float(confidence),
        n_bootstrap=int(n_bootstrap),
        attributes=list(columns),
        scores=score,
        groups=columns,
    )


def _model_columns(model) -> list[str] | None:
    """The input columns a fitted model (or the first step of a Pipeline) was fitted with, if named."""
    first = model.steps[0][1] if hasattr(model, "steps") else model
    names = getattr(first, "feature_names_in_", None)
    return None if names is None else [str(c) for c in names]


def audit_model(
    model, data: pd.DataFrame, group_columns, *, target: str | None = None, **kwargs
) -> FairnessReport:
    """Score a table with a fitted binary classifier and compare the groups of ``group_columns``.

    Parameters
    ----------
    model : fitted classifier or Pipeline with ``predict_proba`` and two ``classes_``
    data : DataFrame
        The model's input columns, the true label and the group columns (which may also be inputs).
    group_columns : list of str
    target : str, default=None
        The label column; None takes the last column the model does not read (``Exited`` in
        Churn_Modelling.csv).
    **kwargs
        Passed to :func:`fairness_report` (threshold, n_bootstrap, confidence, random_state).

    Returns
    -------
    FairnessReport

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from deepzoo.audit.fairness import audit_model
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": rng.normal(size=200), "sex": rng.choice(["F", "M"], 200)})
    >>> frame["y"] = (frame.x > 0).astype(int)
    >>> model = LogisticRegression().fit(frame[["x"]], frame.y)
    >>> audit_model(model, frame, ["sex"], n_bootstrap=0).attributes
    ['sex']
    """
    group_columns = list(group_columns)
    if not group_columns:
        raise ValueError("Name at least one group column, e.g. --group Gender.")
    missing = [c for c in group_columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"The data has no column {missing[0]!r} to group by; its columns are "
            f"{', '.join(map(str, data.columns))}."
        )
    inputs = _model_columns(model)
    if target is None:
        unused = [
            c for c in data.columns if inputs is not None and c not in inputs and c not in group_columns
        ]
        if not unused:
            raise ValueError("Cannot tell which column holds the true labels; pass target= (--target NAME).")
        target = unused[-1]
    if target not in data.columns:
        raise ValueError(
            f"The data has no target column {target!r}; its columns are {', '.join(map(str, data.columns))}."
        )
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2 or not hasattr(model, "predict_proba"):
        raise ValueError(
            "A fairness audit needs a fitted binary classifier with predict_proba; got "
            f"{type(model).__name__}" + ("" if classes is None else f" with classes {list(classes)}") + "."
        )
    if inputs is not None:
        absent = [c for c in inputs if c not in data.columns]
        if absent:
            raise ValueError(
                f"The data lacks the model's input columns {absent}; give every one of {inputs}."
            )
        X = data[inputs]
    else:
        X = data.drop(columns=[target])
    labels = data[target].to_numpy()
    unknown = np.setdiff1d(pd.unique(labels), classes)
    if len(unknown):
        raise ValueError(
            f"The target column {target!r} holds {unknown.tolist()[:5]}, which are not the model's classes "
            f"{list(classes)}."
        )
    y = (labels == classes[1]).astype(int)
    scores = model.predict_proba(X)[:, 1]
    return fairness_report(y, scores, data[group_columns], **kwargs)
