"""Fairness report: the figures fairlearn also computes equal its to 1e-9; KS and bootstrap behave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    mean_prediction,
    selection_rate,
    true_positive_rate,
)
from scipy.stats import ks_2samp
from sklearn.metrics import accuracy_score

from deepzoo.audit import FairnessReport, fairness_report


def sample(n=600, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south"], n)
    y = rng.integers(0, 2, n)
    score = np.clip(0.35 * y + rng.uniform(0, 0.65, n) + shift * (group == "b"), 0, 1)
    return y, score, group, region


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.62])
def test_equals_fairlearn(threshold):
    y, score, group, region = sample()
    report = fairness_report(y, score, {"g": group, "r": region}, threshold=threshold, n_bootstrap=20)
    pred = (score >= threshold).astype(int)
    for name, values in {"g": group, "r": region}.items():
        frame = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "accuracy": accuracy_score,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
            },
            y_true=y,
            y_pred=pred,
            sensitive_features=values,
        ).by_group
        means = MetricFrame(
            metrics=mean_prediction, y_true=y, y_pred=score, sensitive_features=values
        ).by_group
        ours = report.by_group[report.by_group.attribute == name].set_index("group")
        for metric in ("selection_rate", "accuracy", "tpr", "fpr"):
            np.testing.assert_allclose(ours[metric], frame[metric].loc[ours.index], rtol=0, atol=1e-9)
        np.testing.assert_allclose(ours["mean_score"], means.loc[ours.index], rtol=0, atol=1e-9)
        row = report.summary.set_index("attribute").loc[name]
        kwargs = dict(y_true=y, y_pred=pred, sensitive_features=values)
        assert abs(row.demographic_parity_difference - demographic_parity_difference(**kwargs)) < 1e-9
        assert abs(row.demographic_parity_ratio - demographic_parity_ratio(**kwargs)) < 1e-9
        assert abs(row.equalized_odds_difference - equalized_odds_difference(**kwargs)) < 1e-9
        assert abs(row.equalized_odds_ratio - equalized_odds_ratio(**kwargs)) < 1e-9


def test_ks_and_counts_per_group():
    y, score, group, _ = sample(shift=0.3)
    report = fairness_report(y, score, pd.Series(group, name="Gender"), n_bootstrap=0)
    rows = report.by_group.set_index("group")
    assert report.attributes == ["Gender"] and rows["count"].sum() == len(y)
    expected = ks_2samp(score[group == "b"], score[group != "b"])
    assert rows.loc["b", "ks_statistic"] == pytest.approx(expected.statistic)
    assert rows.loc["b", "ks_pvalue"] < 1e-6  # group b's scores were shifted
    assert np.isnan(rows.loc["b", "mean_score_low"])  # no bootstrap asked


def test_bootstrap_intervals_are_seeded_and_cover_the_point():
    y, score, group, region = sample()
    frame = pd.DataFrame({"g": group, "r": region})
    first = fairness_report(y, score, frame, n_bootstrap=100, random_state=3)
    again = fairness_report(y, score, frame, n_bootstrap=100, random_state=3)
    other = fairness_report(y, score, frame, n_bootstrap=100, random_state=4)
    pd.testing.assert_frame_equal(first.by_group, again.by_group)
    assert not first.by_group.selection_rate_low.equals(other.by_group.selection_rate_low)
    for metric in ("mean_score", "selection_rate", "tpr", "fpr", "accuracy"):
        table = first.by_group
        assert (table[f"{metric}_low"] <= table[metric] + 1e-12).all()
        assert (table[metric] <= table[f"{metric}_high"] + 1e-12).all()
        assert (table[f"{metric}_high"] - table[f"{metric}_low"] > 0).all()
    summary = first.summary
    assert (summary.demographic_parity_difference_low <= summary.demographic_parity_difference_high).all()


def test_fair_scores_give_small_gaps_and_outputs_serialise():
    y, score, group, _ = sample(n=4000)
    report = fairness_report(y, score, group, n_bootstrap=50)
    assert report.summary.demographic_parity_difference[0] < 0.06
    assert report.summary.demographic_parity_ratio[0] > 0.85
    data = report.to_dict()
    assert data["summary"][0]["attribute"] == "group" and len(data["by_group"]) == 3
    assert "| group | a |" in report.to_markdown()
    assert isinstance(report, FairnessReport)


def test_predict_proba_columns_and_boolean_labels():
    y, score, group, _ = sample()
    a = fairness_report(y.astype(bool), np.c_[1 - score, score], group, n_bootstrap=0)
    b = fairness_report(y, score, group, n_bootstrap=0)
    pd.testing.assert_frame_equal(a.by_group, b.by_group)


def test_bad_input():
    y, score, group, _ = sample(n=50)
    with pytest.raises(ValueError, match=r"The group column 'Gender' has only one group \('Male'\)"):
        fairness_report(y, score, {"Gender": np.full(50, "Male")})
    with_missing = pd.Series(group, dtype=object, name="Geography")
    with_missing[[3, 7]] = None
    with pytest.raises(ValueError, match="The group column 'Geography' has 2 missing values; fill them"):
        fairness_report(y, score, with_missing)
    nan_groups = np.where(np.arange(50) == 1, np.nan, 1.0)
    with pytest.raises(ValueError, match="has 1 missing values"):
        fairness_report(y, score, nan_groups)
    with pytest.raises(ValueError, match=r"expected one value per score \(50,\)"):
        fairness_report(y, score, group[:10])
    with pytest.raises(ValueError, match="y_true must hold 0/1 labels; got values"):
        fairness_report(y + 1, score, group)
    with pytest.raises(ValueError, match="scores contain NaN"):
        fairness_report(y, np.where(np.arange(50) == 0, np.nan, score), group)
    with pytest.raises(ValueError, match="threshold must be a float in"):
        fairness_report(y, score, group, threshold=1.5)
    with pytest.raises(ValueError, match="y_true has shape"):
        fairness_report(y[:10], score, group)
