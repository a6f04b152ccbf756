"""The RBM and autoencoder case studies run from the CLI with --quick, write their files and beat their
baselines on the same held-out digits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from deepzoo import cli, plots
from deepzoo.cases import CASES

runner = CliRunner()


def run_quick(name, out, *extra):
    result = runner.invoke(cli.app, ["run", name, "--quick", "--out", str(out), "--quiet", *map(str, extra)])
    assert result.exit_code == 0, result.output
    for file in ("config.json", "metrics.json", "history.csv", "report.html", "model/deepzoo.json"):
        assert (out / file).is_file(), file
    assert json.loads((out / "config.json").read_text())["quick"] is True
    return json.loads((out / "metrics.json").read_text())


def test_cases_are_registered_with_their_data():
    assert CASES["movies_rbm"].dataset == "movielens_100k"
    assert CASES["movies_autoencoder"].dataset == "movielens_100k"
    assert CASES["rbm_digits"].offline and CASES["autoencoder_digits"].offline
    assert CASES["rbm_digits"].tour and CASES["autoencoder_digits"].tour


@pytest.mark.slow  # about 3 s: the RBM, four models on the digits and 50 Gibbs steps
def test_rbm_digits_quick_features_beat_the_majority(tmp_path):
    metrics = run_quick("rbm_digits", tmp_path / "rbm")
    assert {"pseudo_likelihood", "feature_accuracy", "seconds_per_epoch"} <= set(metrics)
    # two epochs of CD already give features a linear model reads far above the majority class (0.10);
    # seeds 0-2 reach 0.70-0.74 (the pixels themselves: 0.91-0.94)
    assert metrics["feature_accuracy"] > metrics["baseline_majority_accuracy"] + 0.4
    assert metrics["baseline_logistic_regression_accuracy"] > metrics["baseline_majority_accuracy"] + 0.6
    figures = {p.stem for p in (tmp_path / "rbm" / "figures").glob("*.png")}
    assert {"leaderboard", "confusion_matrix", "filters", "gibbs_samples", "reconstructions"} <= figures
    board = pd.read_csv(tmp_path / "rbm" / "tables" / "leaderboard.csv")
    assert sorted(board["kind"]) == ["baseline", "baseline", "deep", "trivial"]


def test_autoencoder_digits_quick_beats_the_mean_digit(tmp_path):
    metrics = run_quick("autoencoder_digits", tmp_path / "ae")
    assert {"test_mse", "pca_mse", "mean_digit_mse"} <= set(metrics)
    # ten epochs rebuild held-out digits with 0.74-0.75 of the mean digit's squared error (seeds 0-2)
    assert metrics["test_mse"] < 0.9 * metrics["mean_digit_mse"]
    assert metrics["test_mse"] == pytest.approx(metrics["rmse"] ** 2)
    figures = {p.stem for p in (tmp_path / "ae" / "figures").glob("*.png")}
    assert {"leaderboard", "reconstructions", "worst_reconstructions", "codes"} <= figures
    board = pd.read_csv(tmp_path / "ae" / "tables" / "leaderboard.csv")
    assert sorted(board["kind"]) == ["baseline", "deep", "trivial"]


@pytest.mark.slow
def test_movies_rbm_quick(shared_data_dir, tmp_path):
    out = tmp_path / "movies_rbm"
    metrics = run_quick("movies_rbm", out, "--data", shared_data_dir / "movielens_100k")
    assert {"accuracy", "roc_auc", "mae", "baseline_bias_roc_auc", "baseline_majority_accuracy"} <= set(
        metrics
    )
    assert 0 <= metrics["accuracy"] <= 1
    # the road's combined model is named for what it is, and the course's machine alone is a row beside it
    board = pd.read_csv(out / "tables" / "leaderboard.csv")
    assert board.loc[board["kind"] == "deep", "model"].tolist() == ["RBM + bias model (deepzoo)"]
    assert "baseline_course_roc_auc" in metrics
    top = (out / "tables" / "recommendations.csv").read_text()
    assert "title" in top.splitlines()[0] and len(top.splitlines()) == 11  # header + 10 titles


@pytest.mark.slow
def test_movies_autoencoder_quick(shared_data_dir, tmp_path):
    out = tmp_path / "movies_ae"
    metrics = run_quick("movies_autoencoder", out, "--data", shared_data_dir / "movielens_100k")
    assert {"rmse", "mae", "baseline_bias_rmse", "baseline_mean_rmse", "precision_at_10"} <= set(metrics)
    assert "baseline_svd_rmse" not in metrics  # quick skips Surprise
    figures = {p.stem for p in (out / "figures").glob("*.png")}
    assert {"recommendations", "leaderboard", "predicted_vs_actual", "error_by_user_activity"} <= figures


def test_movies_case_without_data_is_one_line(tmp_path):
    result = runner.invoke(
        cli.app, ["run", "movies_rbm", "--quick", "--data", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.output


# -- the pictures -------------------------------------------------------------------------------------
def test_image_grid_and_bad_shapes():
    ax = plots.plot_image_grid(np.random.default_rng(0).random((5, 12)), (3, 4), n_cols=3)
    assert ax.images[0].get_array().shape == (2 * 4 - 1, 3 * 5 - 1)
    with pytest.raises(ValueError, match="not a square"):
        plots.plot_image_grid(np.zeros((2, 12)))
    with pytest.raises(ValueError, match="one reconstruction per original"):
        plots.plot_reconstructions(np.zeros((2, 4)), np.zeros((3, 4)))


def test_codes_and_recommendation_plots_draw_on_a_given_ax():
    import pandas as pd

    ax = Figure().add_subplot()
    assert plots.plot_codes(np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 3, ax=ax) is ax
    assert len(ax.collections) == 3
    table = pd.DataFrame({"title": ["A (1995)", "B (1996)"], "score": [4.5, 4.1]})
    ax = plots.plot_recommendations(table)
    heights = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert heights["A (1995)"] > heights["B (1996)"]  # the best at the top
    with pytest.raises(TypeError, match="components_"):
        plots.plot_rbm_filters(object())
