"""The forecast task of deepzoo fit: a dated table -> SeriesForecaster beside persistence, Ridge and the
mean on a time-ordered held-out tail -> report, model/, deepzoo predict; and each bad input of a series."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from helpers import one_line_error
from sklearn.base import clone
from typer.testing import CliRunner

import deepzoo
from deepzoo import SeriesForecaster, cli
from deepzoo.data.sequences import (
    dated_rows,
    fit_series_encoding,
    seasonal_period,
    series_channels,
    series_frequency,
)
from deepzoo.models.sequence.forecasting import min_training_rows, window_length
from deepzoo.tasks.predict import model_kind
from deepzoo.tasks.series import evaluate, leaderboard, predict_series

runner = CliRunner()
# tiny budgets below stop before convergence on purpose
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def monthly(n: int = 120, seed: int = 0, start: str = "2000-01") -> pd.DataFrame:
    """Monthly sales with a trend, a yearly season and noise, dates as 'YYYY-MM'."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    sales = 100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)
    months = pd.date_range(start, periods=n, freq="MS").strftime("%Y-%m")
    return pd.DataFrame({"month": months, "sales": sales.round(2)})


def write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


# -- the calendar, the encoding, the window rule ----------------------------------------------------
@pytest.mark.parametrize(
    "dates, name, season",
    [
        (pd.date_range("2000-01", periods=30, freq="MS"), "monthly", 12),
        (pd.date_range("2000-01", periods=30, freq="QS"), "quarterly", 4),
        (pd.bdate_range("2012-01-02", periods=30), "business-daily", 5),
        (pd.date_range("2012-01-02", periods=30, freq="D"), "daily", 7),
        (pd.date_range("2012-01-02", periods=30, freq="h"), "hourly", 24),
    ],
)
def test_series_frequency(dates, name, season):
    frequency = series_frequency(dates)
    assert frequency["name"] == name and frequency["season"] == season


def test_business_days_with_holidays_stay_business_daily():
    days = pd.bdate_range("2012-01-02", periods=60).delete([10, 30, 31])  # holidays: missing rows
    assert series_frequency(days)["name"] == "business-daily"


def test_seasonal_period_only_when_the_changes_repeat():
    changes = np.diff(monthly(120)["sales"].to_numpy())
    assert seasonal_period(changes, 12) == 12
    noise = np.random.default_rng(0).normal(size=500)
    assert seasonal_period(noise, 12) is None
    assert seasonal_period(changes[:30], 12) is None  # under three seasons


def test_window_length_rule():
    assert window_length(12, 115) == 24  # two seasons of monthly data
    assert window_length(None, 1000) == 20
    assert window_length(12, 40) == 13  # at most a third of the training rows
    assert min_training_rows() == 15 and min_training_rows(24) == 35


def test_encoding_log_ratio_for_positive_and_difference_otherwise():
    values, _ = dated_rows(monthly(60), "month", ["sales"])
    encoding = fit_series_encoding(values, "sales")
    assert encoding["log"] and [c["kind"] for c in encoding["channels"]] == ["change"]  # a trend
    shifted = values.assign(sales=values["sales"] - 150)  # negative values: differences
    assert not fit_series_encoding(shifted, "sales")["log"]
    flat = values.assign(sales=np.sin(np.arange(60)) + 5)  # no trend: the level is an input too
    assert [c["kind"] for c in fit_series_encoding(flat, "sales")["channels"]] == ["change", "level"]


def test_encoding_gap_of_a_column_on_the_target_scale():
    rng = np.random.default_rng(0)
    frame = monthly(60).assign(high=lambda f: f["sales"] * 1.02, volume=rng.uniform(1e6, 2e6, 60))
    values, _ = dated_rows(frame, "month", ["sales", "high", "volume"])
    encoding = fit_series_encoding(values, "sales", ("high", "volume"))
    kinds = [(c["column"], c["kind"]) for c in encoding["channels"]]
    assert ("high", "gap") in kinds and ("volume", "gap") not in kinds
    channels = series_channels(values, encoding)
    # the first row has no change before it; the log-ratio change of the target scaled to ~unit size
    assert channels.shape == (60, len(kinds)) and channels[0, 0] == 0.0
    assert np.abs(channels).max() <= 5.0


def test_dated_rows_sorts_and_parses():
    frame = pd.DataFrame({"when": ["1/4/2012 09:30:00", "1/3/2012 09:30:00"], "v": ["1,200", "7"]})
    values, order = dated_rows(frame, "when", ["v"])
    assert values["v"].tolist() == [7.0, 1200.0] and order.tolist() == [1, 0]
    assert values.index[0] == pd.Timestamp("2012-01-03 09:30")


# -- the estimator ----------------------------------------------------------------------------------
def test_forecaster_fit_predict_save_load(tmp_path):
    frame = monthly(100)
    model = SeriesForecaster("month", "sales", max_iter=3, random_state=0).fit(frame)
    assert model.period_ == 12 and model.frequency_["name"] == "monthly"
    pred = model.predict(frame)
    assert pred.shape == (100,)
    assert np.isnan(pred[: model.n_timesteps_]).all() and np.isfinite(pred[model.n_timesteps_ :]).all()
    dates = model.forecast_dates(frame)
    assert dates.iloc[-1] == pd.Timestamp("2008-05-01") and dates.iloc[0] == pd.Timestamp("2000-02-01")
    deepzoo.save(model, tmp_path / "model")
    loaded = deepzoo.load(tmp_path / "model", device="cpu")
    assert model_kind(loaded) == "series"
    # the same weights on the same CPU: equal up to float32 rounding of the network's output
    np.testing.assert_allclose(loaded.predict(frame), pred, rtol=1e-5)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict(frame), pred, rtol=1e-5)
    assert clone(model).get_params() == model.get_params()


def test_forecaster_reads_rows_in_any_order():
    frame = monthly(80)
    model = SeriesForecaster("month", "sales", max_iter=2, fallback=None, random_state=0).fit(frame)
    shuffled = frame.sample(frac=1.0, random_state=0)
    # each row keeps its forecast wherever it stands in the table
    np.testing.assert_allclose(model.predict(shuffled), model.predict(frame)[shuffled.index], rtol=1e-6)


def test_fallback_forecasts_persistence_on_a_random_walk():
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2010-01-04", periods=400)
    frame = pd.DataFrame(
        {"day": days.strftime("%Y-%m-%d"), "price": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))}
    )
    model = SeriesForecaster("day", "price", max_iter=5, random_state=0).fit(frame)
    # a random walk has nothing to learn: the network is not trusted, the forecast is the last value
    assert not model.uses_network_ and model.skill_ < 2.0
    pred = model.predict(frame)
    np.testing.assert_array_equal(pred[model.n_timesteps_ :], frame["price"].to_numpy()[model.n_timesteps_ :])
    # the leaderboard names the fallback, and a tie with persistence is not reported as the LSTM's win
    board = leaderboard(evaluate(model, frame, 40), 1.0)
    assert board.deep.name == "LSTM (deepzoo), fell back to persistence"
    assert not board.deep_wins() and board.verdict().startswith("A tie on rmse")


def test_the_change_starts_from_a_column_that_forecasts_the_target_better(tmp_path):
    # today's open is yesterday's close up to a small overnight move; "other" is on the same scale
    # but carries no forecast: the anchor is the close, and without it the open itself
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2010-01-04", periods=400)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    frame = pd.DataFrame(
        {
            "day": days.strftime("%Y-%m-%d"),
            "open": np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.001, 400)),
            "close": close,
            "other": close * np.exp(rng.normal(0, 0.05, 400)),
        }
    )
    model = SeriesForecaster("day", "open", ("close", "other"), max_iter=3, random_state=0).fit(frame)
    assert model.encoding_["anchor"] == "close"
    # the close is a random walk: nothing to learn beyond it, so the model forecasts the last close
    assert not model.uses_network_
    T = model.n_timesteps_
    np.testing.assert_allclose(model.predict(frame)[T:], close[T:], rtol=1e-12)
    board = leaderboard(evaluate(model, frame, 40), 1.0)
    assert board.deep.name == "LSTM (deepzoo), fell back to the last close"
    alone = SeriesForecaster("day", "open", ("other",), max_iter=1, random_state=0).fit(frame)
    assert alone.encoding_["anchor"] == "open"
    # a saved model keeps its anchor
    deepzoo.save(model, tmp_path / "model")
    assert deepzoo.load(tmp_path / "model", device="cpu").encoding_["anchor"] == "close"


def test_forecast_rolls_forward():
    frame = monthly(80)
    model = SeriesForecaster("month", "sales", max_iter=2, random_state=0).fit(frame)
    path = model.forecast(frame, 3)
    assert path["date"].tolist() == list(pd.date_range("2006-09-01", periods=3, freq="MS"))
    assert np.isfinite(path["prediction"]).all()
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        model.forecast(frame, 0)


# -- deepzoo.fit and the CLI ------------------------------------------------------------------------
def test_fit_forecast_end_to_end(tmp_path):
    frame = monthly(96)
    result = deepzoo.fit(frame, out=tmp_path / "run", settings={"max_iter": 3})
    assert result.task == "forecast"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in (
        "rmse",
        "mae",
        "direction_accuracy",
        "persistence_rmse",
        "baseline_seasonal_persistence_rmse",
        "baseline_ridge_rmse",
        "baseline_mean_rmse",
        "network_rmse",
    ):
        assert key in metrics, key
    assert metrics["persistence_rmse"] == metrics["baseline_persistence_rmse"]
    assert metrics["n_test"] == 19 and metrics["n_train"] == 77  # the last 20%, in time order
    for picture in ("forecast", "residuals", "learning_curves", "leaderboard"):
        assert (tmp_path / "run" / "figures" / f"{picture}.png").is_file()
    assert (tmp_path / "run" / "model" / "deepzoo.json").is_file()
    assert set(result.leaderboard["kind"]) == {"deep", "baseline", "trivial"}
    predictions = result.predict(frame)
    assert list(predictions.columns) == ["month", "forecast_date", "prediction"] and len(predictions) == 96


def test_cli_fit_then_predict(tmp_path):
    data = write(monthly(90), tmp_path / "sales.csv")
    out = tmp_path / "run"
    result = runner.invoke(cli.app, ["fit", data, "--out", str(out), "--set", "max_iter=2", "--quiet"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["decided"]["task"] == "forecast" and config["decided"]["columns"]["target"] == "sales"
    result = runner.invoke(cli.app, ["predict", str(out / "model"), data, "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(tmp_path / "p.csv")
    assert len(predictions) == 90 and predictions["month"].iloc[0] == "2000-01"
    assert predictions["forecast_date"].iloc[-1] == "2007-07-01"  # one month after the table's end
    assert predictions["prediction"].notna().sum() == 90 - deepzoo.load(out / "model").n_timesteps_


def test_descending_dates_and_extra_columns(tmp_path):
    rng = np.random.default_rng(1)
    frame = monthly(90).assign(price=lambda f: f["sales"] * rng.uniform(0.98, 1.02, 90))
    frame["month"] = pd.to_datetime(frame["month"]).dt.strftime("%m/%d/%Y %H:%M:%S")
    result = deepzoo.fit(frame.iloc[::-1], target="sales", out=tmp_path / "run", settings={"max_iter": 2})
    assert result.task == "forecast"
    assert result.model.features == ("price",) and result.model.frequency_["name"] == "monthly"


def test_a_class_target_in_time_order_is_a_table_not_a_forecast():
    from deepzoo.tasks import FitConfig
    from deepzoo.tasks.detect import detect

    rng = np.random.default_rng(0)
    frame = monthly(120).assign(
        churned=rng.integers(0, 2, 120), grade=rng.integers(1, 4, 120), amount=rng.normal(50, 5, 120)
    )
    for target, task in (("churned", "classify"), ("grade", "classify"), ("sales", "forecast")):
        source = detect(frame, FitConfig(target=target))
        assert source.task == task, target
    source = detect(frame, FitConfig(target="churned"))
    assert any("not a forecast: 'churned' holds classes" in n for n in source.schema.notes)
    assert detect(frame, FitConfig(target="churned", task="forecast")).task == "forecast"


@pytest.mark.slow
def test_beats_persistence_on_a_seasonal_series(tmp_path):
    result = deepzoo.fit(monthly(180), out=tmp_path / "run")
    # a trend with a yearly season: the LSTM (on its defaults) must do far better than "same as last month"
    assert result.model.uses_network_
    assert result.metrics["rmse"] < 0.8 * result.metrics["persistence_rmse"]


@pytest.mark.slow
def test_air_passengers(shared_data_dir, tmp_path):
    result = deepzoo.fit(shared_data_dir / "air_passengers" / "AirPassengers.csv", out=tmp_path / "run")
    metrics = result.metrics
    assert result.task == "forecast" and result.model.period_ == 12 and result.model.n_timesteps_ == 24
    assert metrics["n_test"] == 29 and metrics["n_train"] == 115
    # the target: no worse than persistence on the held-out tail (52.5 thousand passengers).
    # A model that falls back to persistence meets it whatever the network does, so the network must be
    # the one forecasting, and well below persistence (seeds 0-2: 0.37 to 0.47 of its error)
    # the same network's forecasts, computed in batches of another size: float32 rounding (~1e-7
    # relative per operation; 1e-10 apart with AVX2 kernels, 1e-10 to 1e-9 with the portable ones)
    assert result.model.uses_network_
    assert metrics["rmse"] == pytest.approx(metrics["network_rmse"], rel=1e-6)
    assert metrics["rmse"] < 0.7 * metrics["persistence_rmse"]
    assert metrics["persistence_rmse"] == pytest.approx(52.49, abs=0.01)


# -- bad input ---------------------------------------------------------------------------------------
def test_duplicate_dates_name_the_first(tmp_path):
    frame = monthly(60)
    frame.loc[31, "month"] = frame.loc[30, "month"]  # 2002-07 twice
    with pytest.raises(ValueError, match=r"The date 2002-07-01 appears more than once.*rows 30 and 31"):
        deepzoo.fit(frame, out=tmp_path / "run", settings={"max_iter": 1})
    line = one_line_error(
        runner.invoke(cli.app, ["fit", write(frame, tmp_path / "d.csv"), "--out", str(tmp_path / "cli")])
    )
    assert "2002-07-01 appears more than once" in line


def test_non_numeric_target_names_the_value(tmp_path):
    frame = monthly(60)
    frame["sales"] = frame["sales"].astype(str)
    frame.loc[40, "sales"] = "closed"
    with pytest.raises(ValueError, match=r"'sales' holds the non-numeric value 'closed' at row 40"):
        deepzoo.fit(frame, out=tmp_path / "run", task="forecast", settings={"max_iter": 1})
    # also when the task is detected: mostly numbers with a word is a series with a bad value
    with pytest.raises(ValueError, match="non-numeric value 'closed'"):
        deepzoo.fit(frame, target="sales", out=tmp_path / "run2", settings={"max_iter": 1})


def test_too_few_rows_say_how_many(tmp_path):
    with pytest.raises(
        ValueError, match=r"The series has 12 rows; .* at least 15 .* at least 19 rows in all"
    ):
        deepzoo.fit(monthly(12), out=tmp_path / "run", task="forecast")
    with pytest.raises(ValueError, match=r"needs at least 71 .* or a smaller n_timesteps"):
        deepzoo.fit(monthly(60), out=tmp_path / "run", settings={"n_timesteps": 60})
    model = SeriesForecaster("month", "sales", max_iter=1, random_state=0).fit(monthly(60))
    with pytest.raises(ValueError, match=rf"needs at least {model.n_timesteps_ + 1} rows .* has 5"):
        model.predict(monthly(5))


def test_unreadable_dates_name_the_cell(tmp_path):
    frame = monthly(60)
    frame.loc[7, "month"] = "the 8th month"
    with pytest.raises(ValueError, match=r"Cannot read the date column 'month': row 7 holds 'the 8th month'"):
        deepzoo.fit(frame, out=tmp_path / "run", task="forecast", settings={"max_iter": 1})
    frame.loc[7, "month"] = None
    with pytest.raises(ValueError, match=r"row 7 is empty"):
        deepzoo.fit(frame, out=tmp_path / "run", task="forecast", settings={"max_iter": 1})


def test_forecast_task_without_a_date_column(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    with pytest.raises(ValueError, match=r"--task forecast needs one date column.*--date"):
        deepzoo.fit(frame, target="b", task="forecast", out=tmp_path / "run")


def test_bad_setting_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"--set: .*n_timestep"):
        deepzoo.fit(monthly(60), out=tmp_path / "run", settings={"n_timestep": 5})


def test_predict_needs_the_training_columns(tmp_path):
    model = SeriesForecaster("month", "sales", max_iter=1, random_state=0).fit(monthly(60))
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['sales'\]"):
        model.predict(monthly(60).rename(columns={"sales": "revenue"}))
    with pytest.raises(TypeError, match="reads a table"):
        model.predict(np.zeros((5, 2)))
    with pytest.warns(UserWarning, match="Ignoring the columns the model does not use: note"):
        predict_series(model, monthly(60).assign(note="x"))


# -- deepzoo predict --horizon ----------------------------------------------------------------------------
@pytest.mark.slow  # two tiny fits: ~8 s on a busy 2-core machine
def test_predict_horizon_and_its_refusals(tmp_path):
    from tabular_model import saved_model

    data = write(monthly(60), tmp_path / "sales.csv")
    out = tmp_path / "run"
    assert (
        runner.invoke(cli.app, ["fit", data, "--out", str(out), "--set", "max_iter=1", "--quiet"]).exit_code
        == 0
    )
    result = runner.invoke(
        cli.app, ["predict", str(out / "model"), data, "--horizon", "13", "--out", str(tmp_path / "h.csv")]
    )
    assert result.exit_code == 0, result.output
    ahead = pd.read_csv(tmp_path / "h.csv")
    assert list(ahead.columns) == ["month", "prediction", "persistence", "seasonal_persistence"]
    assert ahead["month"].iloc[[0, 11, 12]].tolist() == ["2005-01", "2005-12", "2006-01"]
    model = deepzoo.load(out / "model")
    # the first step is what predict gives after the last row (float32 network, same windows)
    assert ahead["prediction"].iloc[0] == pytest.approx(model.predict(monthly(60))[-1], rel=1e-6)
    # seasonal persistence: 2005-01 gets 2004-01's value; beyond one season it repeats the last known
    # season (2006-01 gets 2004-01's too, since 2005-01 is itself a forecast)
    assert ahead["seasonal_persistence"].iloc[0] == monthly(60)["sales"].iloc[-12]
    assert ahead["seasonal_persistence"].iloc[12] == ahead["seasonal_persistence"].iloc[0]
    assert (ahead["persistence"] == monthly(60)["sales"].iloc[-1]).all()
    assert "positive" in one_line_error(
        runner.invoke(cli.app, ["predict", str(out / "model"), data, "--horizon", "0"])
    )
    # a model that also reads another column cannot roll forward
    rng = np.random.default_rng(1)
    frame = monthly(60).assign(price=lambda f: f["sales"] * rng.uniform(0.98, 1.02, 60))
    both = write(frame, tmp_path / "both.csv")
    out2 = tmp_path / "run2"
    fitted = runner.invoke(
        cli.app, ["fit", both, "--target", "sales", "--out", str(out2), "--set", "max_iter=1", "--quiet"]
    )
    assert fitted.exit_code == 0, fitted.output
    refused = runner.invoke(cli.app, ["predict", str(out2 / "model"), both, "--horizon", "3"])
    assert "future values are unknown" in one_line_error(refused)
    # another kind of model refuses --horizon
    model_dir, table, _ = saved_model(tmp_path / "table")
    table.to_csv(tmp_path / "table.csv", index=False)
    other = runner.invoke(cli.app, ["predict", str(model_dir), str(tmp_path / "table.csv"), "--horizon", "2"])
    assert "--horizon is for forecasters" in one_line_error(other)


@pytest.mark.slow  # one tiny fit
def test_outcome_predict_takes_a_horizon_as_the_cli_does(tmp_path):
    data = write(monthly(60), tmp_path / "sales.csv")
    outcome = deepzoo.fit(data, out=tmp_path / "run", settings={"max_iter": 1}, verbose=False)
    ahead = outcome.predict(data, horizon=3)
    assert len(ahead) == 3 and ahead["month"].tolist() == ["2005-01", "2005-02", "2005-03"]
    result = runner.invoke(
        cli.app,
        [
            "predict",
            str(tmp_path / "run" / "model"),
            data,
            "--horizon",
            "3",
            "--out",
            str(tmp_path / "h.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    # the same saved network and windows: the same numbers as the CLI writes (CSV keeps 17 digits)
    np.testing.assert_allclose(ahead["prediction"], pd.read_csv(tmp_path / "h.csv")["prediction"], rtol=1e-12)
