"""deepzoo fit on large generated tables, beside scikit-learn's MLPClassifier, in one run.

    python benchmarks/bench_scale.py                  # 50,000 rows, then 1,000,000 rows
    python benchmarks/bench_scale.py --rows 1000000

For each size it writes a seeded CSV (30 columns: 24 numbers, some skewed and some with blank cells,
3 categories, a date, a 0/1 target that depends on them non-linearly), then

1. runs ``deepzoo fit CSV --target y`` as a child process (the deep model and every baseline, report and
   saved model) and reads its wall time and peak memory (the child's maximum resident set size);
2. on the same split and the same encoded features, fits scikit-learn's MLPClassifier with its defaults
   and with deepzoo's layers (the issue's two comparisons) and reports each one's test ROC-AUC and seconds
   beside deepzoo's MLP (its fit_seconds in metrics.json): the ratio is scikit-learn's time over deepzoo's.

Issue 13's targets: 50,000 rows fit (deep model and baselines) in under 2 minutes, the MLP reaching its
quality sooner than scikit-learn's MLPClassifier with its defaults; 1,000,000 rows under 4 GiB of peak
memory, deepzoo's MLP at least 3x sooner than scikit-learn's (same layers) to its held-out score.

Parquet (issue 21, tables larger than memory):

    python benchmarks/bench_scale.py --rows 10000000 --parquet /tmp/big.parquet [--set stream=true]
        [--time-limit 1200] [--nproc 2]

writes the same rows as Parquet (row groups of ``--row-group-rows``) when the file is missing, then runs
``deepzoo fit PATH --target y`` in a child (under ``torchrun --nproc-per-node N`` with ``--nproc``) and
prints its test ROC-AUC, epochs, seconds per epoch and peak memory (the largest resident set of the
child and its descendants). deepzoo decides itself whether to stream (it prints why).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _chunks(n_rows: int, seed: int = 0, chunk: int = 200_000):
    """The seeded table in frames of ``chunk`` rows (missing numbers as NaN, the day as m/d/Y text):
    the same rows whatever the file format, so that the first 1,000,000 rows of a 10,000,000-row file
    are the 1,000,000-row file."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=24)
    for start in range(0, n_rows, chunk):
        n = min(chunk, n_rows - start)
        X = rng.normal(size=(n, 24))
        X[:, :6] = np.exp(X[:, :6])  # skewed columns, as prices and counts are
        plan = rng.choice(["basic", "pro", "max", "free"], n, p=[0.4, 0.3, 0.2, 0.1])
        region = rng.choice([f"r{i}" for i in range(12)], n)
        channel = rng.choice(["web", "shop", "phone"], n)
        day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")
        logit = (
            X[:, 6:] @ w[6:] * 0.4
            + np.log(X[:, 0]) * 1.2
            - (X[:, 1] > 2.0) * 1.5
            + np.sin(2 * X[:, 7]) * 1.5
            + X[:, 8] * X[:, 9]
            + (plan == "max") * 1.0
            - (channel == "phone") * 0.8
            + 0.6 * np.sin(2 * np.pi * day.day_of_year.to_numpy() / 365)
        )
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(24)]).round(4)
        missing = rng.random((n, 3)) < 0.05
        for j in range(3):
            frame.loc[missing[:, j], f"x{10 + j}"] = np.nan
        frame["plan"], frame["region"], frame["channel"] = plan, region, channel
        frame["day"] = day.strftime("%m/%d/%Y")
        frame["y"] = y
        yield frame


def generate(path: Path, n_rows: int, seed: int = 0, chunk: int = 200_000) -> None:
    """A seeded CSV of ``n_rows`` rows written chunk by chunk (memory stays small); missing numbers are
    blank cells."""
    for k, frame in enumerate(_chunks(n_rows, seed, chunk)):
        frame.to_csv(path, mode="w" if k == 0 else "a", header=k == 0, index=False, na_rep="")


def generate_parquet(path: Path, n_rows: int, seed: int = 0, row_group_rows: int = 100_000) -> None:
    """The same rows as :func:`generate`, as Parquet with row groups of ``row_group_rows`` rows (what
    ``deepzoo fit`` streams when the file is larger than its memory budget); written chunk by chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + ".tmp")
    writer = None
    try:
        for frame in _chunks(n_rows, seed):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=row_group_rows)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)


def fit_with_cli(csv: Path, out: Path, extra: tuple = (), nproc: int = 1) -> dict:
    """``deepzoo fit`` in a child process (``extra`` options; under torchrun with ``nproc`` > 1): its
    metrics, wall seconds and peak memory (GiB, the largest resident set of any descendant)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    launcher = [sys.executable]
    if nproc > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]
    command = [
        *launcher,
        "-m",
        "deepzoo",
        "fit",
        str(csv),
        "--target",
        "y",
        "--out",
        str(out),
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        if line.startswith("memory:"):
            print(line)  # deepzoo's decision: streamed or read whole, and why
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:] or result.stdout[-2000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    metrics = json.loads((out / "metrics.json").read_text())
    return {"metrics": metrics, "seconds": seconds, "peak_gib": max(peak, before) / 2**20}


def sklearn_side(csv: Path, out: Path, seed: int = 0) -> list[dict]:
    """scikit-learn's MLPClassifier on deepzoo's split and encoded features: its defaults, and deepzoo's
    layers with its other defaults."""
    from sklearn.metrics import roc_auc_score
    from sklearn.neural_network import MLPClassifier

    import deepzoo
    from deepzoo.data.schema import infer_schema
    from deepzoo.data.tabular import read_table
    from deepzoo.tasks.base import FitConfig
    from deepzoo.tasks.table import encoder_for, split

    frame = read_table(csv)
    schema = infer_schema(frame, "y")
    X_train, X_test, y_train, y_test, _ = split(
        frame[schema.features], frame["y"], "classify", FitConfig(seed=seed)
    )
    del frame
    model = deepzoo.load(out / "model")
    encoder = encoder_for(schema).fit(X_train)
    A, B = encoder.transform(X_train), encoder.transform(X_test)
    layers = tuple(model[-1].hidden_layer_sizes)
    rows = []
    for label, sizes in (
        ("scikit-learn MLPClassifier, its defaults", (100,)),
        (f"scikit-learn, layers {layers}", layers),
    ):
        started = time.perf_counter()
        clf = MLPClassifier(hidden_layer_sizes=sizes, random_state=seed).fit(A, y_train)
        seconds = time.perf_counter() - started
        rows.append(
            {
                "model": label,
                "roc_auc": roc_auc_score(y_test, clf.predict_proba(B)[:, 1]),
                "seconds": seconds,
                "epochs": clf.n_iter_,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", type=int, default=[50_000, 1_000_000])
    parser.add_argument(
        "--folder", type=Path, default=None, help="where the CSVs and runs go (default: a temp dir)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the deepzoo run found in --folder; run the peer only"
    )
    parser.add_argument("--parquet", type=Path, default=None, help="write/read this Parquet file instead")
    parser.add_argument("--row-group-rows", type=int, default=100_000)
    parser.add_argument("--set", dest="settings", action="append", default=[], help="passed to deepzoo fit")
    parser.add_argument("--time-limit", type=float, default=None, help="passed to deepzoo fit")
    parser.add_argument("--nproc", type=int, default=1, help="processes under torchrun (Parquet mode)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench_scale_"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.parquet is not None:
        parquet_run(args, folder)
        return
    for n_rows in args.rows:
        csv = folder / f"table_{n_rows}.csv"
        if not csv.exists():
            started = time.perf_counter()
            generate(csv, n_rows)
            print(
                f"wrote {csv} ({csv.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f} s"
            )
        out = folder / f"run_{n_rows}"
        if args.reuse and (out / "metrics.json").exists():  # the peer only, beside an earlier deepzoo run
            run = {"metrics": json.loads((out / "metrics.json").read_text()), "seconds": float("nan")}
            run["peak_gib"] = float("nan")
        else:
            run = fit_with_cli(csv, out)
        m = run["metrics"]
        print(
            f"\n== {n_rows:,} rows: deepzoo fit (MLP + baselines, report, saved model) "
            f"{run['seconds']:.1f} s, peak memory {run['peak_gib']:.2f} GiB"
        )
        print(
            f"deepzoo MLP: test ROC-AUC {m['roc_auc']:.4f} in {m['fit_seconds']:.1f} s "
            f"({m['epochs']} epochs); LogisticRegression {m['baseline_logistic_regression_roc_auc']:.4f}, "
            f"HistGradientBoosting {m['baseline_hist_gradient_boosting_roc_auc']:.4f}"
        )
        for row in sklearn_side(csv, folder / f"run_{n_rows}"):
            ratio = row["seconds"] / m["fit_seconds"]
            reached = "reaches" if m["roc_auc"] >= row["roc_auc"] else "does NOT reach"
            print(
                f"{row['model']}: ROC-AUC {row['roc_auc']:.4f} in {row['seconds']:.1f} s "
                f"({row['epochs']} epochs) -> deepzoo {reached} it, {ratio:.2f}x sooner"
            )


def parquet_run(args, folder: Path) -> None:
    """``--parquet``: one ``deepzoo fit`` of the Parquet file (written first when missing)."""
    (n_rows,) = args.rows
    if not args.parquet.exists():
        started = time.perf_counter()
        generate_parquet(args.parquet, n_rows, row_group_rows=args.row_group_rows)
        print(f"wrote {args.parquet} in {time.perf_counter() - started:.0f} s")
    extra = ["--quiet"] if args.nproc == 1 else []  # under torchrun --quiet would hide the decision too
    extra += [f"--set={item}" for item in args.settings]
    if args.time_limit is not None:
        extra += ["--time-limit", str(args.time_limit)]
    name = f"run_{args.parquet.stem}_{args.nproc}proc"
    run = fit_with_cli(args.parquet, folder / name, tuple(extra), args.nproc)
    m = run["metrics"]
    print(
        f"== {args.parquet.name} ({n_rows:,} rows), {args.nproc} process(es): deepzoo fit "
        f"{run['seconds']:.0f} s in all, peak memory {run['peak_gib']:.2f} GiB; MLP test ROC-AUC "
        f"{m['roc_auc']:.4f} ({m['fit_seconds']:.0f} s, {m['epochs']} epochs, streamed: "
        f"{m.get('streamed', False)}, seconds per epoch {m.get('epoch_seconds')}); LogisticRegression "
        f"{m['baseline_logistic_regression_roc_auc']:.4f}, HistGradientBoosting "
        f"{m['baseline_hist_gradient_boosting_roc_auc']:.4f}"
    )


if __name__ == "__main__":
    main()
