"""deepzoo fit on ratings: detection, the split, the recommenders beside the bias model, predict, errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.data.ratings import make_ratings
from deepzoo.models.recommend import ColdStartWarning
from deepzoo.tasks import FitConfig
from deepzoo.tasks.detect import detect
from deepzoo.tasks.ratings import split

runner = CliRunner()
# a bounded budget: these tests check the road, not the model's best figures (benchmarks/ do that)
QUICK = {"max_iter": 100}


def easy_ratings(**kwargs) -> pd.DataFrame:
    """150 users x 100 items, 3,000 ratings with a strong taste signal (a low-rank model can learn it)."""
    options = dict(rank=2, taste=1.0, bias=0.5, noise=0.3, random_state=0)
    return make_ratings(150, 100, 3000, **{**options, **kwargs})


# -- the data -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["userId", "movieId", "rating", "timestamp"], ("userId", "movieId", "rating")),
        (["User-ID", "ISBN", "Book-Rating"], ("User-ID", "ISBN", "Book-Rating")),
        (["customer_id", "product_id", "stars", "date"], ("customer_id", "product_id", "stars")),
        (["visitor", "article", "clicked"], ("visitor", "article", "clicked")),
    ],
)
def test_ratings_columns_are_found_by_name(columns, expected):
    frame = pd.DataFrame([[1, 2, 3, 4][: len(columns)]] * 4, columns=columns)
    source = detect(frame, FitConfig())
    assert source.task == "recommend"
    assert (source.columns["user"], source.columns["item"], source.columns["rating"]) == expected


def test_user_and_item_names_with_other_features_or_no_rating_scale_are_a_table():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 50, n),
            "product_id": rng.integers(0, 30, n),
            "age": rng.integers(18, 80, n),
            "rating": rng.integers(1, 6, n),
        }
    )
    source = detect(frame, FitConfig(target="rating"))  # a rating, but also a feature (age): a table
    assert source.task == "classify" and any("other feature columns (age)" in n for n in source.schema.notes)
    amount = frame.drop(columns="rating").assign(amount=rng.uniform(1, 500, n).round(2))
    source = detect(amount[["customer_id", "product_id", "amount"]], FitConfig(target="amount"))
    assert source.task == "regress" and any("not a rating scale" in n for n in source.schema.notes)
    assert detect(frame, FitConfig(task="recommend")).task == "recommend"  # the override still works


def test_ratings_columns_by_position_headerless_and_with_task_recommend(tmp_path):
    ratings = easy_ratings()
    path = tmp_path / "u.data"
    ratings.assign(timestamp=881250949).to_csv(path, sep="\t", header=False, index=False)
    source = detect(path, FitConfig())
    assert source.task == "recommend" and source.columns["rating"] == "2"
    assert "user '0', item '1', rating '2'" in source.rule
    named = ratings.rename(columns={"user": "who", "item": "what", "rating": "how_much"})
    assert detect(named, FitConfig()).task != "recommend"  # names say nothing: a plain table
    source = detect(named, FitConfig(task="recommend"))
    assert (source.columns["user"], source.columns["rating"]) == ("who", "how_much")
    source = detect(named[["how_much", "who", "what"]], FitConfig(task="recommend", target="how_much"))
    assert (source.columns["user"], source.columns["item"]) == ("who", "what")


def test_split_keeps_every_test_user_and_item_in_training_and_is_seeded():
    ratings = make_ratings(120, 400, 1500, popularity=1.2, random_state=1)  # many items rated once
    train, test = split(ratings, 0.2, seed=3)
    assert len(train) + len(test) == len(ratings)
    assert test["user"].isin(train["user"]).all() and test["item"].isin(train["item"]).all()
    assert 0.05 * len(ratings) < len(test) <= 0.2 * len(ratings) + 3 * np.sqrt(len(ratings))
    again, _ = split(ratings, 0.2, seed=3)
    pd.testing.assert_frame_equal(train, again)
    other, _ = split(ratings, 0.2, seed=4)
    assert not train.equals(other)
    with pytest.raises(ValueError, match="No rating can be held out"):
        split(ratings.drop_duplicates("user"), 0.2, seed=0)  # one rating per user: none can be tested


# -- graded ratings end to end -------------------------------------------------------------------------
@pytest.mark.slow
def test_fit_graded_ratings_beats_the_bias_model_and_writes_the_run(tmp_path):
    result = deepzoo.fit(easy_ratings(), out=tmp_path / "run", settings=QUICK)
    assert result.task == "recommend"
    assert type(result.model).__name__ == "AutoEncoderRecommender"
    board = result.leaderboard
    assert sorted(board["kind"]) == ["baseline", "deep", "trivial"]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"rmse", "mae", "r2", "baseline_bias_rmse", "baseline_mean_rmse", "rmse_vs_bias"} <= set(metrics)
    # a strong taste signal: learning it beats the biases alone (measured ratio 0.88; a network that
    # learned nothing gives the bias model's answer, ratio 1; 0.95 leaves room for other CPUs' rounding)
    assert metrics["rmse"] < 0.95 * metrics["baseline_bias_rmse"] < metrics["baseline_mean_rmse"]
    assert metrics["rating_scale"] == [1.0, 5.0]
    figures = {p.stem for p in (tmp_path / "run" / "figures").glob("*.png")}
    assert {"leaderboard", "learning_curves", "predicted_vs_actual", "error_by_user_activity"} <= figures
    assert "recommendations" in figures
    top = pd.read_csv(tmp_path / "run" / "tables" / "recommendations.csv")
    assert len(top) == 10 and top["predicted_rating"].is_monotonic_decreasing
    back = deepzoo.load(tmp_path / "run" / "model")
    test = easy_ratings().iloc[:50]
    np.testing.assert_allclose(
        back.predict(test["user"], test["item"]), result.model.predict(test["user"], test["item"]), rtol=1e-6
    )


@pytest.mark.slow
def test_half_stars_are_read_from_the_data(tmp_path):
    ratings = easy_ratings(scale=(0.5, 5), step=0.5)
    assert set(ratings["rating"] % 1) == {0.0, 0.5}
    result = deepzoo.fit(ratings, out=tmp_path / "run", settings=QUICK)
    assert result.metrics["rating_scale"] == [0.5, 5.0]
    assert result.metrics["rmse"] < result.metrics["baseline_bias_rmse"]
    pred = result.predict(ratings.iloc[:200])["prediction"]
    assert pred.between(0.5, 5).all()


# -- binary ratings ------------------------------------------------------------------------------------
def test_binary_ratings_go_to_the_rbm_judged_by_roc_auc(tmp_path):
    liked = easy_ratings(liked_share=0.8)
    result = deepzoo.fit(liked, out=tmp_path / "run", settings={"max_iter": 20})
    assert type(result.model).__name__ == "RBMRecommender"
    metrics = result.metrics
    assert {"roc_auc", "accuracy", "baseline_bias_roc_auc", "baseline_majority_accuracy"} <= set(metrics)
    assert metrics["baseline_majority_accuracy"] == pytest.approx(0.8, abs=0.03)
    # the users' and items' biases alone rank the likes at about 0.8; the RBM must rank as well within
    # 0.03 (data and fit seeds 0-2: -0.003 to +0.003 from the bias model; one that learns nothing: 0.5)
    assert metrics["roc_auc"] > metrics["baseline_bias_roc_auc"] - 0.03
    assert (tmp_path / "run" / "figures" / "roc_curve.png").is_file()
    out = result.predict(liked.iloc[:100])
    assert out["prediction"].between(0, 1).all() and out["liked"].dtype == bool


# -- the command line ----------------------------------------------------------------------------------
def test_cli_fit_then_predict_with_unseen_users_and_items(tmp_path):
    ratings = easy_ratings().rename(columns={"user": "userId", "item": "movieId"})
    data = tmp_path / "ratings.csv"
    ratings.to_csv(data, index=False)
    out = tmp_path / "run"
    settings = ["--set", "hidden_layer_sizes=[64]", "--set", "max_iter=30"]
    result = runner.invoke(cli.app, ["fit", str(data), "--out", str(out), "--quiet", *settings])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["decided"]["task"] == "recommend"
    assert config["decided"]["columns"]["user"] == "userId"
    new = pd.DataFrame({"userId": [1, 2, 99999, 3], "movieId": [5, 6, 7, 123456], "note": ["", "", "", ""]})
    new.to_csv(tmp_path / "new.csv", index=False)
    result = runner.invoke(
        cli.app, ["predict", str(out / "model"), str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "2 of 4 pairs" in result.output and "bias model" in result.output
    assert "Ignoring the column(s) ['note']" in result.output
    pred = pd.read_csv(tmp_path / "p.csv")
    assert list(pred.columns) == ["prediction"] and len(pred) == 4
    model = deepzoo.load(out / "model")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColdStartWarning)
        np.testing.assert_allclose(
            pred["prediction"], model.predict(new["userId"], new["movieId"]), rtol=1e-6
        )
    # an unknown user's answer is the bias model's: the global mean plus the item's bias
    i = np.searchsorted(model.items_, 7)
    assert pred["prediction"][2] == pytest.approx(model.global_mean_ + model.item_bias_[i], rel=1e-6)
    result = runner.invoke(
        cli.app,
        ["predict", str(out / "model"), str(data.with_name("x.csv")), "--out", str(tmp_path / "q.csv")],
    )
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_cli_predict_names_the_missing_columns(tmp_path):
    ratings = easy_ratings()
    out = tmp_path / "run"
    deepzoo.fit(ratings, out=out, settings={**QUICK, "max_iter": 5})
    pd.DataFrame({"user": [1, 2]}).to_csv(tmp_path / "only_users.csv", index=False)
    result = runner.invoke(
        cli.app,
        ["predict", str(out / "model"), str(tmp_path / "only_users.csv"), "--out", str(tmp_path / "p.csv")],
    )
    assert result.exit_code != 0
    assert "lack the column(s) ['item']" in result.output and "Traceback" not in result.output


def test_ratings_that_are_not_numbers_give_one_line_naming_the_column_and_a_value(tmp_path):
    ratings = easy_ratings().astype({"rating": object})
    ratings.loc[7, "rating"] = "great"
    data = tmp_path / "ratings.csv"
    ratings.to_csv(data, index=False)
    result = runner.invoke(cli.app, ["fit", str(data), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code != 0
    assert "rating column 'rating' holds 'great'" in result.output and "Traceback" not in result.output
    with pytest.raises(ValueError, match="rating column 'rating' holds 'great' \\(row 7\\)"):
        deepzoo.fit(ratings, out=tmp_path / "run2")


def test_bad_settings_and_missing_values(tmp_path):
    ratings = easy_ratings()
    with pytest.raises(ValueError, match="--set: .*hidden_units"):
        deepzoo.fit(ratings, out=tmp_path / "a", settings={"hidden_units": 3})
    holes = ratings.astype({"rating": float})
    holes.loc[[3, 9], "rating"] = np.nan
    result = deepzoo.fit(holes, out=tmp_path / "b", settings={**QUICK, "max_iter": 5})
    assert result.metrics["rows_dropped"] == 2
    assert result.metrics["n_ratings"] == len(ratings) - 2


# -- the real data -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_movielens_100k_beats_the_bias_model(shared_data_dir, tmp_path):
    result = deepzoo.fit(shared_data_dir / "movielens_100k" / "u.data", out=tmp_path / "ml100k")
    assert result.task == "recommend"
    metrics = result.metrics
    assert metrics["n_ratings"] == 100_000 and metrics["rating_scale"] == [1.0, 5.0]
    # issue 13's target: at least 3% below the bias model (measured: see benchmarks/RESULTS.md)
    assert metrics["rmse"] <= 0.97 * metrics["baseline_bias_rmse"]
