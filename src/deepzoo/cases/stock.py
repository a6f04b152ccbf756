"""Case study ``stock``: forecast tomorrow's Google opening price (Deep Learning A-Z, "Building a RNN").

load (the course's Google_Stock_Price_{Train,Test}.csv with ``--data``; offline, matplotlib's bundled
goog.npz with its last 20 days held out) -> the course's recipe trained in the same run, and the
previous close as a forecast -> one call into the forecast task of ``deepzoo fit``
(:func:`deepzoo.tasks.series.fit_and_report`: the LSTM on windows of changes beside persistence,
Ridge, the training mean and the course's two forecasts, the same leaderboard and pictures) -> write.

What is special to the course is only this module: its two files, the Close column of the training
file that is not split-adjusted before 27 March 2014 (halved there, and said so), and the recipe
(Open only, 60-day windows scaled to [0, 1], 4 x LSTM(50) with dropout 0.2, batch 32). Beating
persistence on daily prices is hard; the network reads Open, High, Low and Close, and most of what it
gains over persistence is the overnight information in yesterday's close.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.registry import dataset_file
from ..data.sequences import SeriesScaler, load_goog, make_windows, read_prices, test_windows
from ..engine.persistence import save
from ..models.sequence.recurrent import LSTMForecaster
from ..report import RunReport
from ..tasks import series
from ..tasks.base import FitConfig


@dataclass
class Config:
    """Settings of the stock case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder with Google_Stock_Price_{Train,Test}.csv (the course's data); None: bundled goog.npz."""
    seed: int = 0
    """Seed of the networks."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets for tests and smoke runs."""
    test_days: int = 20
    """Days held out at the end of goog.npz (the course's file has its own 20 test days)."""
    features: tuple = ("Open", "High", "Low", "Close")
    """Columns the LSTM reads; the first is the one predicted."""
    n_timesteps: int | None = None
    """Past days each prediction reads; None: the forecast task's rule (20 for daily prices)."""
    hidden_layer_sizes: tuple | None = None
    """Units of each stacked LSTM layer; None: the forecast task's rule."""
    max_iter: int | None = None
    """Epochs at most; None: the forecast task's rule."""
    course_recipe: bool = True
    """Also train the course's recipe in the same run: Open only, 4 x LSTM(50), dropout 0.2, batch 32."""
    course_epochs: int = 100
    """Epochs of the course's recipe (the course uses 100)."""
    course_timesteps: int = 60
    """Past days each prediction of the course's recipe reads (the course uses 60)."""
    verbose: bool = False
    """Show progress bars while training."""


def _budget(config: Config) -> Config:
    if not config.quick:
        return config
    return dataclasses.replace(
        config,
        max_iter=min(config.max_iter or 2, 2),
        course_epochs=min(config.course_epochs, 1),
        course_timesteps=20,
    )


def load_prices(config: Config) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    """(train, test, source, notes): the course's two files, or goog.npz with its last days held out."""
    notes: list[str] = []
    if config.data is None:
        frame = load_goog()
        return (
            frame.iloc[: -config.test_days],
            frame.iloc[-config.test_days :],
            "goog.npz (matplotlib)",
            notes,
        )
    train_file = dataset_file("google_stock", "Google_Stock_Price_Train.csv", config.data)
    train = read_prices(train_file)
    test = read_prices(train_file.parent / "Google_Stock_Price_Test.csv")
    for frame in (train, test):
        notes += frame.attrs.get("issues", [])
    if "Close" in train and "Open" in train:
        unadjusted = (train["Close"] / train["Open"]) > 1.5  # before the April 2014 2:1 split
        if unadjusted.any():
            train.loc[unadjusted, "Close"] /= 2.0
            notes.append(
                f"Close was not split-adjusted on {int(unadjusted.sum())} training days (to "
                f"{train.index[unadjusted][-1].date()}); halved there, as Open/High/Low are."
            )
    return train, test, "Google_Stock_Price_Train/Test.csv (Deep Learning A-Z)", notes


def _course_recipe(train, test, column: str, config: Config) -> tuple[np.ndarray, float]:
    """The course's recipe on one column (Open): scale on train, 60-day windows, 4 x LSTM(50), dropout 0.2,
    each test day predicted from the real days before it; (predictions, fit seconds)."""
    model = LSTMForecaster(
        (50, 50, 50, 50),
        dropout=0.2,
        batch_size=32,
        max_iter=config.course_epochs,
        tol=0.0,
        n_iter_no_change=config.course_epochs,
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
    )
    scaler = SeriesScaler().fit(train[[column]].to_numpy())
    s_train = scaler.transform(train[[column]].to_numpy())
    s_test = scaler.transform(test[[column]].to_numpy())
    X, y = make_windows(s_train, config.course_timesteps)
    X_test, _ = test_windows(s_train, s_test, config.course_timesteps)
    started = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - started
    return scaler.inverse_transform(model.predict(X_test)), seconds


def run(config: Config, out_dir) -> dict:
    """Run the stock case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Tomorrow's Google opening price with an LSTM",
        dataclasses.asdict(config),
        description="Deep Learning A-Z's RNN case study: read the previous trading days, predict the next "
        "day's opening price, for each of the 20 test days. The naive forecasts are always shown beside "
        "the networks.",
    )
    # load (the course's files and their quirks)
    train, test, source, notes = load_prices(config)
    features = list(config.features)
    missing = [c for c in features if c not in train.columns]
    if missing:
        raise ValueError(
            f"features {missing} are not columns of the prices; choose among {list(train.columns)}."
        )
    target = features[0]
    rows = pd.concat([train, test])[features].rename_axis("Date").reset_index()
    n_test = len(test)
    # the course's forecasts beside the road's: yesterday's close as a forecast, and the course's recipe
    others = {}
    if "Close" in train.columns and target == "Open":
        close = pd.concat([train, test])["Close"].to_numpy()
        others["previous close"] = (close[-n_test - 1 : -1], "previous_close", 0.0)
    if config.course_recipe:
        course, course_seconds = _course_recipe(train, test, target, config)
        others["course recipe (4 x LSTM(50))"] = (course, "course", course_seconds)
    # the forecast task of deepzoo fit: the same model, baselines, leaderboard and pictures
    settings = {
        k: v
        for k, v in (
            ("n_timesteps", config.n_timesteps),
            ("hidden_layer_sizes", config.hidden_layer_sizes),
            ("max_iter", config.max_iter),
        )
        if v is not None
    }
    fit_config = FitConfig(
        task="forecast",
        out=str(out_dir),
        seed=config.seed,
        device=config.device,
        verbose=config.verbose,
        settings=settings,
    )
    report.config["fit"] = fit_config.to_dict()
    outcome = series.fit_and_report(
        report,
        rows,
        n_test,
        {"date": "Date", "target": target},
        features[1:],
        fit_config,
        others=others,
        notes=notes,
        caption="Same test days, each forecast from the real days before it.",
        title=f"{target} price, {n_test} test days ({source})",
    )
    model, metrics = outcome.model, outcome.metrics
    # the course's names for the figures, and what they say
    extras = {
        "persistence_mae": metrics["baseline_persistence_mae"],
        "n_train_days": len(train),
        "n_test_days": n_test,
        "beats_persistence": bool(metrics["rmse"] < metrics["persistence_rmse"]),
    }
    if "baseline_previous_close_rmse" in metrics:
        extras["previous_close_rmse"] = metrics["baseline_previous_close_rmse"]
    if "baseline_course_rmse" in metrics:
        extras.update(course_rmse=metrics["baseline_course_rmse"], course_fit_seconds=course_seconds)
    metrics = report.add_metrics(**extras)
    anchor = model.encoding_.get("anchor", model.target)
    zero = "persistence" if anchor == model.target else f"yesterday's {anchor}"
    reading = (
        f"The LSTM's RMSE {metrics['rmse']:.2f} is "
        + ("below" if metrics["beats_persistence"] else "NOT below")
        + f" persistence's {metrics['persistence_rmse']:.2f}"
        + (
            "."
            if model.uses_network_
            else f" (the network did not beat {zero} before the test days, so "
            f"the model forecasts {zero}; the network alone scores {metrics['network_rmse']:.2f})."
        )
    )
    if "previous_close_rmse" in metrics:
        reading += (
            f" The previous close alone gives {metrics['previous_close_rmse']:.2f}: most of the gain over "
            "persistence is the overnight information in yesterday's close."
        )
    if "course_rmse" in metrics:
        reading += f" The course's recipe gives {metrics['course_rmse']:.2f}."
    report.add_text("Reading the numbers", reading)
    save(model, out_dir / "model")
    report.write()
    return metrics
