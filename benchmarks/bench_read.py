"""Reading a large CSV: deepzoo's read_table against pandas' own read_csv on the same file, same run.

    python benchmarks/bench_read.py                    # bench_scale.py's 1,000,000-row table
    python benchmarks/bench_read.py --rows 200000 --repeats 5

Issue 20's target: read_table (sniffing the dialect, cleaning the columns, counting missing markers,
keeping leading-zero codes) takes at most 1.5x ``pandas.read_csv(path)`` with its defaults. The two are
timed alternately, ``--repeats`` times each, so that a machine shared with other work slows both alike;
the ratio of the medians is the figure, with the ratio of the best times beside it. The time read_table
spends after pandas' parse (its own cleaning) is timed apart, to show where the difference goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import generate  # noqa: E402  (the same seeded table as the scale benchmark)

from deepzoo.data import tabular  # noqa: E402


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=None, help="where the CSV goes (default: a temp dir)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench_read_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"table_{args.rows}.csv"
    if not path.exists():
        seconds, _ = timed(lambda: generate(path, args.rows))
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB) in {seconds:.0f} s")
    pd.read_csv(path, nrows=1000)  # the file in the page cache before either is timed
    times = {"pandas.read_csv": [], "deepzoo read_table": [], "  of which cleaning": []}
    for _ in range(args.repeats):
        seconds, theirs = timed(lambda: pd.read_csv(path))
        times["pandas.read_csv"].append(seconds)
        seconds, ours = timed(lambda: tabular.read_table(path))
        times["deepzoo read_table"].append(seconds)
        options, _ = tabular._table_options(path, None, None, None)
        parsed = pd.read_csv(path, **options)
        decimal = options["decimal"]
        seconds, _ = timed(lambda parsed=parsed, decimal=decimal: tabular.clean_frame(parsed, decimal))
        times["  of which cleaning"].append(seconds)
    if ours.shape != theirs.shape:
        raise SystemExit(f"the two readers disagree on the shape: {ours.shape} vs {theirs.shape}")
    size = path.stat().st_size / 2**20
    print(f"\n{args.rows:,} rows x {ours.shape[1]} columns, {size:.0f} MiB, {args.repeats} runs each")
    print(f"{'':22s} {'median s':>9s} {'best s':>9s}")
    for name, values in times.items():
        print(f"{name:22s} {statistics.median(values):9.2f} {min(values):9.2f}")
    median = statistics.median(times["deepzoo read_table"]) / statistics.median(times["pandas.read_csv"])
    best = min(times["deepzoo read_table"]) / min(times["pandas.read_csv"])
    verdict = "within" if median <= 1.5 else "ABOVE"
    print(
        f"ratio read_table / read_csv: {median:.2f}x (medians), {best:.2f}x (best); {verdict} the 1.5x target"
    )


if __name__ == "__main__":
    main()
