"""``deepzoo fit big.parquet``: a table larger than the memory budget, streamed row group by row group.

The road is the table task's (:mod:`deepzoo.tasks.table`), read through :mod:`deepzoo.data.stream`:

1. **decide** (:func:`plan`): the file's uncompressed size against the memory budget
   (``--set memory_budget=2GiB``; default 2 GiB, at most half the available memory; ``--set
   stream=true/false`` forces it); the decision is printed and written to config.json;
2. **one pass over the row groups** (:func:`detect_streamed`): every row's part, train / validation / test,
   is a hash of its global row index (deterministic, the same in every process); the pass keeps a
   random sample of the training rows (``sample_rows``, default 200,000), the validation rows (about
   100,000) and 2,000 test rows for the importance chart, and counts the rows and classes. The schema
   is inferred on the sample, as ``deepzoo fit`` infers it on a whole table;
3. **fit** (:func:`run`): the TableEncoder and the MLP's numeric bins are fitted on the sample (its first
   pass), then every epoch takes the row groups in a new shuffled order, encodes each once (the encoded
   rows are cached on disk in the run folder and deleted at the end), and trains on chunks of rows
   shuffled within a window of row groups (at most the plan's ``max_groups`` in memory). The validation
   loss is checked every ~2,000,000 rows; training stops after 3 checks without improvement and keeps
   the best weights. Under torchrun each process reads its own row groups (every ``world``-th of the
   epoch's order) and takes the same number of steps;
4. **score**: the baselines are fitted on the sample (the report says so); every model is scored on all
   the test rows, read group by group.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..data import stream as rows
from ..engine import distributed
from ..engine.base import resolve_device
from ..engine.training import sharded_batches
from ..models.mlp import MLPClassifier, MLPRegressor
from .base import (
    FitConfig,
    Leaderboard,
    Outcome,
    Source,
    baseline_threads,
    classification_scores,
    primary_metric,
    regression_scores,
    stopwatch,
)

__all__ = ["STREAM_SETTINGS", "StreamedTable", "detect_streamed", "plan", "run"]

STREAM_SETTINGS = ("stream", "memory_budget", "sample_rows")
"""``--set`` keys read here, not by the MLP."""
SAMPLE_ROWS = 200_000
VALIDATION_ROWS = 100_000
IMPORTANCE_ROWS = 2_000
# the validation loss is checked every CHECK_ROWS training rows (and at the end of every epoch)
CHECK_ROWS = 2_000_000
PATIENCE = 3
# gradient steps at most over the whole stream (the epochs follow from the rows); with batches of 4,096
# rows, 8,000,000 training rows are 1,953 steps an epoch
STREAM_STEPS = 6_000
# batches per call of partial_fit: one chunk of rows encoded, shuffled and handed to the network
CHUNK_BATCHES = 64


def _is_parquet(data) -> bool:
    if not isinstance(data, (str, Path)):
        return False
    path = Path(data)
    if not path.is_file():
        return False
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def plan(data, config: FitConfig):
    """``(config without the streaming settings, MemoryPlan or None)``: for a Parquet file, whether it is
    streamed and why (printed unless quiet); None for any other data."""
    settings = dict(config.settings)
    asked = {k: settings.pop(k) for k in STREAM_SETTINGS if k in settings}
    config = dataclasses.replace(config, settings=settings)
    if asked and not _is_parquet(data):
        raise ValueError(
            f"--set {', '.join(asked)}: streaming reads Parquet files only; {data!r} is not one. Save the "
            "table as Parquet (pandas.DataFrame.to_parquet, row groups of ~100,000 rows) to stream it."
        )
    if not _is_parquet(data):
        return config, None
    stream = asked.get("stream", "auto")
    if isinstance(stream, str) and stream.lower() in ("true", "false", "auto"):
        stream = {"true": True, "false": False, "auto": "auto"}[stream.lower()]
    if stream not in (True, False, "auto"):
        raise ValueError(f"--set stream must be true, false or auto; got {stream!r}.")
    budget = rows.parse_bytes(asked["memory_budget"]) if "memory_budget" in asked else None
    decided = rows.memory_plan(rows.RowGroups(data), budget, stream)
    if decided.stream and config.tune is not None or decided.stream and config.tune_time is not None:
        raise ValueError(
            "--tune does not stream: tune on a sample of the table (a Parquet file that fits the memory "
            "budget), then fit the whole file with --set NAME=VALUE."
        )
    sample_rows = asked.get("sample_rows", SAMPLE_ROWS)
    if not isinstance(sample_rows, int) or isinstance(sample_rows, bool) or sample_rows < 100:
        raise ValueError(f"--set sample_rows must be an integer of at least 100; got {sample_rows!r}.")
    decided.sample_rows = sample_rows
    if config.verbose and distributed.is_main_process():
        from rich.console import Console

        Console().print(f"memory: {decided.reason}", markup=False, highlight=False)
    return config, decided


@dataclass
class StreamedTable:
    """What the pass over the row groups learned, handed to :func:`run` in ``Source.stream``."""

    groups: rows.RowGroups
    plan: object
    target: str
    features: list
    validation: pd.DataFrame
    test_sample: pd.DataFrame
    train_rows: np.ndarray
    """Training rows (with a target) of each row group."""
    classes: np.ndarray | None
    n_test: int
    test_size: float
    validation_size: float
    seed: int
    notes: list = field(default_factory=list)


def _parts(frame: pd.DataFrame, test_size: float, validation_size: float, seed: int) -> np.ndarray:
    """TRAIN, VALIDATION or TEST of each row of a row group (by its global index)."""
    return rows.row_parts(frame.index.to_numpy(dtype=np.int64), test_size, validation_size, seed)


def detect_streamed(path, config: FitConfig, decided, detect_frame) -> Source:
    """The table task for a streamed Parquet file: one pass over its row groups (see the module's
    docstring), then ``detect_frame(sample, config)`` (the road's detection on a DataFrame) on the
    sample of training rows. Refuses data whose task is not a table with a target."""
    groups = rows.RowGroups(path)
    validation_size = min(0.1 * (1 - config.test_size), VALIDATION_ROWS / max(groups.n_rows, 1))
    rng = np.random.default_rng(config.seed)
    n_train_guess = groups.n_rows * (1 - config.test_size - validation_size)
    keep = min(1.0, decided.sample_rows / max(n_train_guess, 1))
    keep_test = min(1.0, IMPORTANCE_ROWS / max(groups.n_rows * config.test_size, 1))
    target = config.target
    if target is not None and target not in groups.columns:
        raise ValueError(
            f"--target {target!r} is not a column of {Path(path).name}; columns: {groups.columns}."
        )
    samples, validation, tests, values = [], [], [], []
    train_rows = np.zeros(groups.n_groups, dtype=np.int64)
    n_test = 0
    for g in range(groups.n_groups):
        frame = groups.read(g)
        parts = _parts(frame, config.test_size, validation_size, config.seed)
        labelled = frame[target].notna().to_numpy() if target is not None else np.ones(len(frame), bool)
        train = (parts == rows.TRAIN) & labelled
        train_rows[g] = int(train.sum())
        n_test += int(((parts == rows.TEST) & labelled).sum())
        samples.append(frame[train & (rng.random(len(frame)) < keep)])
        validation.append(frame[(parts == rows.VALIDATION) & labelled])
        tests.append(frame[(parts == rows.TEST) & labelled & (rng.random(len(frame)) < keep_test)])
        if target is not None:
            values.append(pd.unique(frame.loc[labelled, target]))
    sample = pd.concat(samples)
    sample.attrs["source"] = f"a sample of {len(sample):,} training rows of {Path(path).name}"
    source = detect_frame(sample, config)
    if source.task not in ("classify", "regress") or source.schema is None:
        raise ValueError(
            f"Streaming reads tables with a target (classify or regress); {Path(path).name} was taken as "
            f"{source.task}. Pass --target COLUMN, or give a file that fits the memory budget."
        )
    target = source.schema.target
    if not values:  # the target was found on the sample: count its values over the whole file
        values = [pd.unique(groups.read(g, [target])[target].dropna()) for g in range(groups.n_groups)]
    classes = None
    if source.task == "classify":
        classes = np.unique(_labels(np.concatenate([np.asarray(v) for v in values])))
    table = StreamedTable(
        groups=groups,
        plan=decided,
        target=target,
        features=list(source.schema.features),
        validation=pd.concat(validation),
        test_sample=pd.concat(tests),
        train_rows=train_rows,
        classes=classes,
        n_test=n_test,
        test_size=config.test_size,
        validation_size=validation_size,
        seed=config.seed,
    )
    return dataclasses.replace(source, path=Path(path), stream=table)


class _EncodedGroups:
    """A row group's training rows and test rows, encoded (X float32, y): each group is read and encoded
    once, when training first reaches it, and kept on disk (``folder``) for the later epochs and the
    test scores."""

    def __init__(self, table: StreamedTable, encoder, folder: Path, y_of):
        self.table, self.encoder, self.folder, self.y_of = table, encoder, folder, y_of
        folder.mkdir(parents=True, exist_ok=True)

    def _encoded(self, group: int) -> dict:
        path = self.folder / f"group{group:06d}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as saved:
                return dict(saved)
        t = self.table
        frame = t.groups.read(group, [*t.features, t.target])
        parts = _parts(frame, t.test_size, t.validation_size, t.seed)
        labelled = frame[t.target].notna().to_numpy()
        out = {}
        for name, part in (("train", rows.TRAIN), ("test", rows.TEST)):
            rows_ = frame[(parts == part) & labelled]
            out[f"X_{name}"] = self.encoder.transform(rows_[t.features])
            out[f"y_{name}"] = self.y_of(rows_[t.target])
        tmp = path.with_name(f"{path.stem}.tmp{id(self)}.npz")  # atomic: another process may read it
        np.savez(tmp, **out)
        tmp.replace(path)
        return out

    def train(self, group: int):
        encoded = self._encoded(group)
        return encoded["X_train"], encoded["y_train"]

    def test(self, group: int):
        encoded = self._encoded(group)
        return encoded["X_test"], encoded["y_test"]


def _labels(y: np.ndarray) -> np.ndarray:
    """Labels held as Python objects (text) become NumPy strings: the encoded rows are saved without
    pickle, and every part (sample, validation, stream, test) must spell a class alike."""
    return y.astype(str) if y.dtype == object else y


def _estimator(task: str, config: FitConfig, settings: dict):
    Estimator = MLPClassifier if task == "classify" else MLPRegressor
    mlp = Estimator(random_state=config.seed, device=config.device, verbose=False)
    try:
        mlp.set_params(**settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    return mlp


class _Checks:
    """The streamed fit's validation checks: each check's row (epoch, rows seen, loss), the best weights
    so far, and how many checks in a row have not improved on them (what calling it returns)."""

    def __init__(self, task: str, mlp, X: np.ndarray, y: np.ndarray):
        self.task, self.mlp, self.X, self.y = task, mlp, X, y
        self.rows: list[dict] = []
        self.best, self.best_loss, self.waited = None, np.inf, 0

    def __call__(self, epoch: int, seen: int) -> int:
        loss = _validation_loss(self.task, self.mlp, self.X, self.y)
        self.rows.append({"epoch": epoch, "rows_seen": seen, "val_loss": loss})
        if loss < self.best_loss - 1e-5:
            self.best, self.best_loss, self.waited = copy.deepcopy(self.mlp.module_.state_dict()), loss, 0
        else:
            self.waited += 1
        return self.waited


def _validation_loss(task: str, mlp, X: np.ndarray, y: np.ndarray) -> float:
    """Log-loss (classes) or mean squared error in the target's standard units, on the validation rows."""
    if task == "classify":
        proba = np.clip(mlp.predict_proba(X), 1e-12, 1.0)
        return float(-np.log(proba[np.arange(len(y)), np.searchsorted(mlp.classes_, y)]).mean())
    scale = np.asarray(mlp.target_scale_).reshape(-1)[0]
    return float(np.mean(((mlp.predict(X) - y) / scale) ** 2))


def train_streamed(
    table: StreamedTable, task: str, config: FitConfig, settings: dict, encoder, X_sample, y_sample
):
    """``encoder`` and the MLP fitted on the sample, then the MLP on the stream (the module's docstring,
    step 3): ``(Pipeline, facts)``."""
    from .table import target_values

    encoder.fit(X_sample)
    mlp = _estimator(task, config, settings)
    y_of = lambda s: _labels(target_values(s, task))  # noqa: E731
    device = distributed.device_for_rank(resolve_device(config.device))
    distributed.ensure_initialized(device)
    world, rank = distributed.world_size(), distributed.rank()
    n_train = int(table.train_rows.sum())
    batch = int(mlp.batch_size)
    steps_per_epoch = max(1, math.ceil(n_train / batch))
    epochs = int(settings["max_iter"]) if "max_iter" in config.settings else None
    epochs = epochs or int(np.clip(math.ceil(STREAM_STEPS / steps_per_epoch), 1, settings["max_iter"]))
    # each process's chunk: a whole number of its batches (the global batch split across the processes)
    local_batch = max(1, batch // world)
    chunk_rows = local_batch * CHUNK_BATCHES
    encode = _EncodedGroups(table, encoder, Path(config.out) / "stream_cache", y_of)
    val_X = encoder.transform(table.validation[table.features])
    val_y = y_of(table.validation[table.target])
    with stopwatch() as seconds:
        first = encoder.transform(X_sample)
        # the first pass, over the sample, also sets the numeric bins' edges from it
        if task == "classify":
            mlp.partial_fit(first, y_of(y_sample), classes=table.classes)
        else:
            mlp.partial_fit(first, y_of(y_sample))
        del first
        check = _Checks(task, mlp, val_X, val_y)
        stats: dict = {}
        check_every = max(1, math.ceil(n_train / max(1, round(n_train / CHECK_ROWS))))
        deadline = None if config.time_limit is None else time.monotonic() + config.time_limit
        epoch_seconds, stop = [], False
        for epoch in range(epochs):
            started = time.perf_counter()
            rng = np.random.default_rng([table.seed, epoch])
            order = rng.permutation(table.groups.n_groups)
            mine = order[rank::world]
            n_chunks, size = None, chunk_rows
            if world > 1:  # every process takes the same number of equal steps: the smallest share
                # decides, cut into equal chunks (fewer than n_chunks of its rows are left out this epoch)
                share = min(int(table.train_rows[order[r::world]].sum()) for r in range(world))
                n_chunks = max(1, math.ceil(share / chunk_rows))
                size = max(1, share // n_chunks)
            seen, next_check = 0, check_every
            chunks = rows.shuffled_chunks(
                mine, encode.train, chunk_rows=size, max_groups=table.plan.max_groups, rng=rng,
                n_chunks=n_chunks, stats=stats,
            )  # fmt: skip
            for X, y in chunks:
                with sharded_batches(world > 1):
                    mlp.partial_fit(X, y)
                seen += len(X) * world
                late = deadline is not None and time.monotonic() > deadline
                if seen >= next_check or late:
                    next_check += check_every
                    stop = distributed.broadcast_object(check(epoch + 1, seen) >= PATIENCE or late)
                    if stop:
                        break
            epoch_seconds.append(time.perf_counter() - started)
            if stop:
                break
            last = check.rows[-1] if check.rows else {}
            if last.get("rows_seen") != seen or last.get("epoch") != epoch + 1:
                if distributed.broadcast_object(check(epoch + 1, seen) >= PATIENCE):
                    break
        if check.best is not None:
            mlp.module_.load_state_dict(check.best)
    facts = {
        "encoded": encode,
        "epochs": len(epoch_seconds),
        "epoch_seconds": epoch_seconds,
        "checks": check.rows,
        "max_groups_held": stats.get("max_groups_held", 0),
        "fit_seconds": seconds(),
        "world": world,
    }
    return Pipeline([("encode", encoder), ("mlp", mlp)]), facts


def run(source: Source, config: FitConfig, report) -> Outcome:
    """Fit and score the table task on a streamed Parquet file (the module's docstring, steps 3-4)."""
    from .table import (
        _say,
        add_importance,
        add_pictures,
        baselines,
        encoder_for,
        mlp_settings,
        target_values,
    )

    table: StreamedTable = source.stream
    schema, task = source.schema, source.task
    _say(report, "Streaming", table.plan.reason, config.verbose)
    sample = source.frame
    n_train = int(table.train_rows.sum())
    settings = {**mlp_settings(n_train, task), **config.settings}
    model, facts = train_streamed(
        table, task, config, settings, encoder_for(schema), sample[table.features], sample[table.target]
    )
    encoder, mlp = model[0], model[-1]
    classes = mlp.classes_ if task == "classify" else None
    n_features = int(encoder.n_features_out_)
    sizes = dict(n_rows=len(sample), n_features=n_features, n_classes=0 if classes is None else len(classes))
    others = baselines(task, [("encode", encoder)], config.seed, **sizes)
    took = {}
    y_sample = target_values(sample[table.target], task)
    for key, baseline in others.items():
        with stopwatch() as seconds, baseline_threads(len(sample) * n_features):
            baseline.fit(sample[table.features], y_sample)
        took[key] = seconds()
    # every model on every test row, read group by group (the baselines' encoder is the same fit on the
    # same sample as the MLP's, so the rows are encoded once)
    outputs = {"MLP (deepzoo)": []}
    outputs.update({key[0]: [] for key in others})
    y_test = []
    encoded = facts["encoded"]
    for g in range(table.groups.n_groups):
        X, y = encoded.test(g)  # cached when training read the group, else read and encoded now
        if not len(y):
            continue
        y_test.append(y)
        for name, model_ in [("MLP (deepzoo)", mlp)] + [(k[0], b[-1]) for k, b in others.items()]:
            outputs[name].append(model_.predict_proba(X) if task == "classify" else model_.predict(X))
    distributed.barrier()  # every process has scored before the encoded rows are removed
    if distributed.is_main_process():
        shutil.rmtree(encoded.folder, ignore_errors=True)
    y_test = np.concatenate(y_test)
    outputs = {name: np.concatenate(parts) for name, parts in outputs.items()}
    board = Leaderboard(primary_metric(task, None if classes is None else len(classes)))

    def scores(out):
        return (
            classification_scores(y_test, out, classes)
            if task == "classify"
            else regression_scores(y_test, out)
        )

    board.add("MLP (deepzoo)", scores(outputs["MLP (deepzoo)"]), facts["fit_seconds"], key="mlp", role="deep")
    for (name, key, role), _ in others.items():
        board.add(name, scores(outputs[name]), took[(name, key, role)], key=key, role=role)
    report.add_metrics(
        **board.metrics(),
        n_train=n_train,
        n_test=len(y_test),
        epochs=facts["epochs"],
        streamed=True,
        baseline_sample_rows=len(sample),
        epoch_seconds=[round(s, 2) for s in facts["epoch_seconds"]],
        max_row_groups_held=facts["max_groups_held"],
        processes=facts["world"],
    )
    caption = (
        f"Every model on the same {len(y_test):,} test rows (a hash of each row's index puts it in the "
        f"test part), encoded by the same TableEncoder into {n_features:,} features. The MLP was trained "
        f"on all {n_train:,} training rows, streamed row group by row group; the baselines on a random "
        f"sample of {len(sample):,} of them (the sample the encoder was fitted on), so that they fit in "
        "memory."
    )
    board.add_to_report(report, caption)
    report.add_table(
        "stream_checks",
        pd.DataFrame(facts["checks"]).round(5),
        "The validation loss during the streamed fit (the best check's weights were kept).",
    )
    report.keep(model, verdict=board.verdict())  # saved before anything is drawn
    add_pictures(report, task, mlp, y_test, outputs, classes)
    test_sample = table.test_sample
    with report.section("permutation importance"):
        add_importance(
            report, model, test_sample[table.features], test_sample[table.target], task, config.seed
        )
    return Outcome(task, model, report.metrics, board.frame(), report.out_dir, schema, board.verdict())
