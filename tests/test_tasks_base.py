"""tasks/base.py: the leaderboard's verdict (a tie is not a win), and the task kinds' shared types."""

import numpy as np

from deepzoo.tasks.base import Leaderboard


def board(primary: str, deep: float, baseline: float) -> Leaderboard:
    out = Leaderboard(primary)
    out.add("MLP (deepzoo)", {primary: deep}, 1.0, role="deep")
    out.add("Ridge", {primary: baseline}, 0.1, key="ridge")
    out.add("mean", {primary: 9.0 if primary == "rmse" else 0.5}, 0.0, key="mean", role="trivial")
    return out


def test_the_deep_model_wins_only_when_strictly_better_in_the_metric_direction():
    assert board("rmse", 2.0, 2.5).deep_wins() and not board("rmse", 2.5, 2.0).deep_wins()
    assert board("roc_auc", 0.9, 0.8).deep_wins() and not board("roc_auc", 0.8, 0.9).deep_wins()
    assert board("rmse", 2.0, 2.5).verdict().startswith("MLP (deepzoo) wins on rmse: 2 against 2.5")
    assert board("roc_auc", 0.8, 0.9).verdict().startswith("A baseline wins: Ridge reaches roc_auc 0.9")


def test_a_tie_is_not_a_win_and_the_verdict_says_so():
    for deep, baseline in ((0.85, 0.85), (0.84412, 0.84409)):  # equal as the verdict prints them
        tied = board("roc_auc", deep, baseline)
        assert tied.tie() and not tied.deep_wins()
        assert tied.verdict().startswith("A tie on roc_auc: MLP (deepzoo) and Ridge both reach")
    assert not board("roc_auc", 0.8442, 0.8441).tie()


def test_a_deep_model_without_a_score_does_not_win():
    assert not board("rmse", float("nan"), 2.0).deep_wins()
    assert np.isnan(board("rmse", float("nan"), 2.0).metrics()["rmse"])
