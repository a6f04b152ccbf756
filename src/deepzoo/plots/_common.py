"""What every picture shares: the palette, new axes, styling, reference lines, score checks."""

from __future__ import annotations

import re

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

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
