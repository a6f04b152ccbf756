"""LSTMForecaster against the course's Keras recipe re-written in plain PyTorch, in one run.

Data: the course's Google files (registry name 'google_stock'): train 2012-2016, predict each of the
20 trading days of January 2017 from the 60 real days before it (min-max scaling fitted on train).

* ``course (plain PyTorch)``  Deep Learning A-Z's recipe: Open only, LSTM(50) x 4 each followed by
  Dropout(0.2), Dense(1), Adam (lr 1e-3), MSE, batch 32, ``--course-epochs`` epochs (course: 100);
  a hand-written loop over shuffled minibatches, as Keras' ``fit`` does.
* ``deepzoo``  LSTMForecaster as in the ``stock`` case: Open, High, Low, Close (split-adjusted), one
  LSTM(64), learning the change from the last close (``persistence_skip``), batch 64, at most 60
  epochs, stopping after 10 without improvement.
* ``persistence`` and ``previous close``: the naive forecasts, no training.

Both networks run on the CPU with torch's default threads, one after the other, in this process.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_lstm.py
    python benchmarks/bench_lstm.py --course-epochs 25   # a shorter run on a loaded machine
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
import torch
from torch import nn

from deepzoo.cases.stock import Config, load_prices
from deepzoo.data.registry import resolve
from deepzoo.data.sequences import SeriesScaler, make_windows, test_windows
from deepzoo.models.sequence.recurrent import LSTMForecaster


class CourseLSTM(nn.Module):
    """The course's Keras model: 4 x (LSTM(50) -> Dropout(0.2)) -> Dense(1)."""

    def __init__(self):
        super().__init__()
        self.lstms = nn.ModuleList([nn.LSTM(1 if i == 0 else 50, 50, batch_first=True) for i in range(4)])
        self.dropout = nn.Dropout(0.2)
        self.dense = nn.Linear(50, 1)

    def forward(self, x):
        for lstm in self.lstms:
            x = self.dropout(lstm(x)[0])  # (N, T, 50)
        return self.dense(x[:, -1])  # (N, 1)


def course_recipe(X, y, X_test, epochs: int, seed: int) -> tuple[np.ndarray, float]:
    torch.manual_seed(seed)
    model = CourseLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)[:, None]
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), 32):
            idx = order[start : start + 32]
            loss = nn.functional.mse_loss(model(X_t[idx]), y_t[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X_test))[:, 0].numpy(), seconds


def rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course-epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="google_stock folder; default: the registry")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    train, test, _, _ = load_prices(Config(data=args.data or str(resolve("google_stock"))))
    actual = test["Open"].to_numpy()
    results = {
        "persistence": {"rmse": rmse(np.r_[train["Open"].iloc[-1], actual[:-1]], actual)},
        "previous close": {
            "rmse": rmse(np.r_[train["Close"].iloc[-1], test["Close"].to_numpy()[:-1]], actual)
        },
    }
    load_before = os.getloadavg()

    # course recipe: Open only
    scaler = SeriesScaler().fit(train[["Open"]].to_numpy())
    s_train, s_test = (
        scaler.transform(train[["Open"]].to_numpy()),
        scaler.transform(test[["Open"]].to_numpy()),
    )
    X, y = make_windows(s_train, 60)
    X_test, _ = test_windows(s_train, s_test, 60)
    pred, seconds = course_recipe(X, y, X_test, args.course_epochs, args.seed)
    results["course (plain PyTorch)"] = {
        "rmse": rmse(scaler.inverse_transform(pred), actual),
        "fit_seconds": seconds,
        "epochs": args.course_epochs,
    }

    # deepzoo, the stock case's settings
    features = ["Open", "High", "Low", "Close"]
    scaler = SeriesScaler().fit(train[features].to_numpy())
    s_train, s_test = (
        scaler.transform(train[features].to_numpy()),
        scaler.transform(test[features].to_numpy()),
    )
    X, y = make_windows(s_train, 60)
    X_test, _ = test_windows(s_train, s_test, 60)
    model = LSTMForecaster(
        (64,),
        persistence_skip=True,
        target_index=3,
        learning_rate=2e-3,
        batch_size=64,
        max_iter=60,
        tol=0.0,
        device="cpu",
        random_state=args.seed,
    )
    started = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - started
    results["deepzoo LSTMForecaster"] = {
        "rmse": rmse(scaler.inverse_transform(model.predict(X_test)), actual),
        "fit_seconds": seconds,
        "epochs": model.n_iter_,
    }
    load_after = os.getloadavg()
    course, ours = results["course (plain PyTorch)"], results["deepzoo LSTMForecaster"]
    print(
        f"{platform.node()} {time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(json.dumps(results, indent=1))
    speedup = course["fit_seconds"] / ours["fit_seconds"]
    print(
        f"speed-up (course fit seconds / deepzoo fit seconds): {speedup:.1f}x; "
        f"RMSE deepzoo {ours['rmse']:.2f} vs course {course['rmse']:.2f} vs persistence "
        f"{results['persistence']['rmse']:.2f}"
    )


if __name__ == "__main__":
    main()
