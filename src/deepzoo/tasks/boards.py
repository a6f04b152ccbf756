"""Leaderboards of the case studies that no kind of ``deepzoo fit`` runs: GAN, DQN, language model, video.

Their families are not a kind of user data, but their reports keep the rule every task keeps: the deep
model beside the classical and trivial baselines on the same data, and a verdict that says so when a
baseline wins (a tie is no win). Each such case builds a :class:`~deepzoo.tasks.base.Leaderboard` and
makes one call, :func:`add_board`.
"""

from __future__ import annotations

import math

from .base import Leaderboard

__all__ = ["add_board"]


def add_board(report, board: Leaderboard, metrics: dict, caption: str = "") -> dict:
    """Write ``board`` into ``report`` (verdict, ``leaderboard`` table and bar chart) and record the case's
    ``metrics`` followed by the board's (``baseline_<key>_<metric>``) in ``metrics.json``.

    The case's metric names stay as they are; a name it shares with the board (``fd``,
    ``baseline_black_mse_per_frame``) must carry the same figure, so that one name means one number.

    Parameters
    ----------
    report : RunReport
    board : Leaderboard
        The deep model (``role='deep'``) and at least one baseline or trivial answer.
    metrics : dict
        The case's own metrics.
    caption : str, default=''
        The sentence above the leaderboard table.

    Returns
    -------
    metrics : dict
        The case's metrics, then the board's new names.

    Examples
    --------
    >>> import tempfile
    >>> from deepzoo.report import RunReport
    >>> from deepzoo.tasks.base import Leaderboard
    >>> from deepzoo.tasks.boards import add_board
    >>> board = Leaderboard("accuracy")
    >>> board.add("CNN + LSTM (deepzoo)", {"accuracy": 0.98}, 12.0, key="cnn_lstm", role="deep")
    >>> board.add("majority class", {"accuracy": 0.13}, 0.0, key="majority", role="trivial")
    >>> report = RunReport(tempfile.mkdtemp(), "A case", {})
    >>> add_board(report, board, {"accuracy": 0.98, "fit_seconds": 12.0})
    {'accuracy': 0.98, 'fit_seconds': 12.0, 'baseline_majority_accuracy': 0.13}
    """
    assert board.deep is not None and len(board.entries) > 1, "a board needs the deep model and a baseline"
    scores = board.metrics()
    differ = [name for name in scores if name in metrics and not _same(metrics[name], scores[name])]
    assert not differ, f"the board and the case disagree on {differ}"
    merged = {**metrics, **{name: value for name, value in scores.items() if name not in metrics}}
    report.add_metrics(**merged)
    board.add_to_report(report, caption)
    return merged


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN (a figure a model could not reach)."""
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return a == b
    return a == b or (math.isnan(a) and math.isnan(b))
