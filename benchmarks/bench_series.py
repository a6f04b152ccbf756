"""The forecast task of ``deepzoo fit`` with its defaults on three real series, beside persistence.

Each series is fitted exactly as ``deepzoo fit DATA`` would (no per-dataset setting): the held-out tail
is the last 20% of the rows, or the data's own later test file (the Google training file comes with
one: January 2017). Printed per series: the deep model's RMSE, persistence's (the issue's bar: "no worse
than persistence on the held-out tail"), their ratio, the best baseline, whether the network was kept
by its fallback test, the fit seconds and the load of the machine.

* ``air_passengers``: ``$DEEPZOO_DATA_DIR/air_passengers/AirPassengers.csv`` (144 months, ``YYYY-MM``);
* ``google_stock``: ``$DEEPZOO_DATA_DIR/google_stock/Google_Stock_Price_Train.csv``, ``--target Open``
  (held out: its own test file, the 20 days of January 2017); ``google_stock_20%``: the same table
  given as a DataFrame, so that its last 20% (252 days of 2016) is held out;
* ``goog``: matplotlib's bundled goog.npz (1,047 days; the target found by name: Close).

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_series.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import deepzoo
from deepzoo.data.sequences import load_goog
from deepzoo.data.tabular import read_table


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", nargs="+", default=None, help="names of the series to run")
    args = parser.parse_args()
    data_dir = Path(os.environ.get("DEEPZOO_DATA_DIR", "../shared/datasets"))
    series = {
        "air_passengers": (data_dir / "air_passengers" / "AirPassengers.csv", None),
        "google_stock": (data_dir / "google_stock" / "Google_Stock_Price_Train.csv", "Open"),
        # the same file as a DataFrame: no sibling test file, so its own last 20% (2016) is held out
        "google_stock_20%": (read_table(data_dir / "google_stock" / "Google_Stock_Price_Train.csv"), "Open"),
        "goog": (load_goog().reset_index(), None),
    }
    print(f"{_cpu()}, {os.cpu_count()} CPUs, load before: {os.getloadavg()[0]:.1f}")
    print(
        "series           seed  target        n_test  deepzoo     persist.  ratio  "
        "best baseline (rmse)            network (its rmse)   seconds  load"
    )
    for name, (data, target) in series.items():
        if args.only and name not in args.only:
            continue
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                started = time.perf_counter()
                result = deepzoo.fit(data, target=target, out=out, seed=seed)
                seconds = time.perf_counter() - started
            m = result.metrics
            board = result.leaderboard
            best = board[board["kind"] != "deep"].iloc[0]
            print(
                f"{name:16s} {seed:4d}  {result.model.target:12s} {m['n_test']:6d}  {m['rmse']:9.3f}  "
                f"{m['persistence_rmse']:9.3f}  {m['rmse_ratio_to_persistence']:5.3f}  "
                f"{best['model'][:22]:22s} ({best['rmse']:7.3f})  "
                f"{'kept' if m['uses_network'] else 'fell back':9s} ({m['network_rmse']:7.3f})  "
                f"{seconds:7.1f}  {os.getloadavg()[0]:5.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
