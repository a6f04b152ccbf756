"""What every task of ``deepzoo fit`` shares: its settings, the scores, the leaderboard and its verdict.

A task module (table, series, ratings, text, images, clusters) reads as one direction:
data -> split -> the family's deep model beside the classical and trivial baselines on the same split
-> :class:`Leaderboard` -> report sections -> saved model, and returns an :class:`Outcome`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "FitConfig",
    "Leaderboard",
    "Outcome",
    "FolderProbe",
    "Source",
    "TableProbe",
    "TaskKind",
    "classification_scores",
    "read_rows",
    "regression_scores",
]


def read_rows(path):
    """A table file, whole (what ``deepzoo predict`` reads for most kinds)."""
    from ..data.tabular import read_table

    return read_table(path)


def rows_in_chunks(path, chunksize: int):
    """A table file ``chunksize`` rows at a time, so a file larger than memory streams through."""
    from ..data.tabular import iter_table

    return iter_table(path, chunksize)


@dataclass
class Source:
    """The data as the chosen task receives it (what detection hands to a kind's ``run``)."""

    task: str
    rule: str
    frame: pd.DataFrame | None = None
    test_frame: pd.DataFrame | None = None
    schema: object = None
    path: Path | None = None
    arrays: tuple | None = None
    columns: dict = field(default_factory=dict)  # e.g. {"user": "0", "item": "1", "rating": "2"}
    stream: object = None
    """A Parquet table read row group by row group (:class:`deepzoo.tasks.stream.StreamedTable`)."""

    @property
    def target(self) -> str | None:
        return self.schema.target if self.schema is not None else self.columns.get("target")


@dataclass
class TableProbe:
    """A table on its way through detection: what each kind's ``detect_table`` reads. The schema is
    inferred once, when the first kind asks for it (the ratings rule decides from names alone)."""

    frame: pd.DataFrame
    test_frame: pd.DataFrame | None
    config: FitConfig
    task: str
    """'auto' or the --task asked for."""
    target: str | None
    """The --target column, checked to exist; None when not given."""

    @property
    def where(self) -> str:
        return self.frame.attrs.get("source", "the table")

    @property
    def overrides(self) -> dict:
        c = self.config
        return dict(drop=c.drop, categorical=c.categorical, numeric=c.numeric, text=c.text, date=c.date)

    @functools.cached_property
    def schema(self):
        from ..data.schema import find_target, infer_schema

        if (
            self.target is None
            and find_target(self.frame) is None
            and self.task in ("auto", "cluster", "forecast")
        ):
            return infer_schema(self.frame, None, **self.overrides)
        table_task = self.task if self.task in ("classify", "regress") else "auto"
        return infer_schema(self.frame, self.target, task=table_task, **self.overrides)


class FolderProbe:
    """A folder on its way through detection: its entries, sub-folder names and file suffixes."""

    def __init__(self, path: Path):
        self.path = path
        self.entries = [p for p in path.iterdir() if not p.name.startswith(".")]
        self.names = {p.name.lower() for p in self.entries if p.is_dir()}

    @functools.cached_property
    def suffixes(self) -> dict[str, int]:
        """How many files of each suffix the first 5,000 files under the folder have."""
        counts: dict[str, int] = {}
        files = (p for p in self.path.rglob("*") if p.is_file() and not p.name.startswith("."))
        for n, file in enumerate(files):
            if n >= 5000:
                break
            counts[file.suffix.lower()] = counts.get(file.suffix.lower(), 0) + 1
        return counts


@dataclass(frozen=True)
class TaskKind:
    """One kind of user data on the road of ``deepzoo fit``, declared once, at the foot of its module
    (``KIND = TaskKind(...)``) and listed in :data:`deepzoo.tasks.kinds.KINDS`; ``deepzoo fit``,
    ``deepzoo predict``, ``--task`` and the model card read it from there."""

    name: str
    """The module's name in deepzoo.tasks (table, series, ratings, ...)."""
    tasks: tuple
    """The values of ``--task`` it answers (table: classify and regress)."""
    rule: str
    """How it is detected, in one line (the --task help and deepzoo.tasks.detect show it)."""
    run: Callable
    """``run(source, config, report) -> Outcome``: split, fit beside the baselines, report."""
    predict: Callable
    """``predict(model, data) -> DataFrame``: what ``deepzoo predict`` writes, one row per input."""
    saves: tuple
    """The estimator classes its saved model ends in (a Pipeline's last step)."""
    serves: str
    """What ``deepzoo serve`` takes: 'rows', 'text', 'image', 'windows', 'series' or 'pairs'."""
    read: Callable = read_rows
    """``read(path)``: a data path as ``predict`` takes it (a table, texts, image files)."""
    chunks: Callable = rows_in_chunks
    """``chunks(path, chunksize)``: the same in pieces, for files larger than memory."""
    detect_folder: Callable | None = None
    """``detect_folder(FolderProbe) -> rule or None``: the sentence that claims a folder for this kind."""
    detect_table: Callable | None = None
    """``detect_table(TableProbe) -> Source or None``: claims a table; raises when this kind was asked
    for with --task and the table cannot be it (saying what is missing)."""
    writes_beside: str | None = None
    """``deepzoo predict`` also writes files (e.g. mask PNGs) into ``<out>_<writes_beside>/``, passed
    to ``predict`` as ``folder=``."""
    tune: Callable | None = None
    """``tune(source, config, report) -> Problem``: what ``deepzoo fit --tune`` needs of this kind (the
    validation part of the training rows, the search space, a trial's fit and score, the final road;
    :class:`deepzoo.tasks.tune.Problem`); None: the kind is not tuned (tables: built in tune.py)."""

    def saved(self, model) -> bool:
        final = model.steps[-1][1] if hasattr(model, "steps") else model
        return isinstance(final, self.saves)


# deepzoo fit --tune: the share of the training rows each trial is scored on (never the test rows)
TUNING_VALIDATION_FRACTION = 0.2


def tuning_metric(task: str, n_classes: int | None) -> tuple[str, str]:
    """``(metric, direction)`` the tuning trials are ranked by on the validation part: ROC-AUC for two
    classes, log-loss for more (smoother than accuracy on a few hundred rows), RMSE for numbers."""
    if task == "classify":
        return ("roc_auc", "maximize") if n_classes == 2 else ("log_loss", "minimize")
    return "rmse", "minimize"


@dataclass
class FitConfig:
    """What ``deepzoo fit`` was asked to do; written to ``config.json`` and read back by ``--config``."""

    data: str | None = None
    """The file or folder; None when the data came from Python (a DataFrame or arrays)."""
    target: str | None = None
    """The column to predict; None: a column named like a target, else the task's own rule."""
    task: str = "auto"
    """auto, classify, regress, forecast, recommend, cluster, images, text or segment."""
    out: str = "runs/fit"
    """The run folder."""
    time_limit: float | None = None
    """Seconds the deep model may train (stopping at the end of an epoch); None: until it converges."""
    seed: int = 0
    """Seed of the split, the networks and the baselines."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    drop: tuple = ()
    """Columns to leave out."""
    categorical: tuple = ()
    """Columns to treat as categories (one-hot)."""
    numeric: tuple = ()
    """Columns to treat as numbers (words in them become missing)."""
    text: tuple = ()
    """Columns to treat as free text."""
    date: tuple = ()
    """Columns to treat as dates (calendar features)."""
    group: tuple = ()
    """Columns to audit for fairness (scores by group) in the report."""
    settings: dict = field(default_factory=dict)
    """Overrides of the deep model's parameters (--set max_iter=50)."""
    test_size: float = 0.2
    """Share of the rows held out for the leaderboard (when the data bring no split of their own)."""
    sheet: str | int | None = None
    """A workbook's sheet, by name or position from 0; None: the first."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder."""
    tune: int | None = None
    """Optuna trials of the deep model's settings (``--tune N``, see :mod:`deepzoo.tasks.tune`); None: no
    tuning, the defaults."""
    tune_time: float | None = None
    """Seconds the tuning may take (``--tune-time``); with ``tune`` None, trials until it runs out."""
    tune_jobs: int = 1
    """Processes running trials at once on this machine, sharing the study's SQLite file."""
    verbose: bool = True
    """Progress bars and the printed schema."""

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> FitConfig:
        """A config from ``config.json``; unknown keys are refused with the known ones listed."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        values = dict(values.get("fit", values))
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(
                f"The config holds settings deepzoo fit does not know: {unknown}; known: {', '.join(known)}."
            )
        for name, value in values.items():
            if isinstance(value, list):
                values[name] = tuple(value)
        return cls(**values)


@dataclass
class Outcome:
    """What :func:`deepzoo.fit` returns: the fitted model, its figures beside the baselines, and where
    the run folder is.

    Attributes
    ----------
    task : str
        The task that ran (classify, regress, forecast, recommend, cluster, images, text, segment).
    model : estimator or Pipeline
        The deep model as saved in ``out_dir / "model"`` (raw inputs in, predictions out).
    metrics : dict
        The deep model's test figures under their usual names (``roc_auc``, ``rmse``, ...) and every
        baseline's as ``baseline_<name>_<metric>``.
    leaderboard : pandas.DataFrame
        One row per model on the same test split, best first, with fit seconds.
    out_dir : Path
        The run folder (``report.html``, ``metrics.json``, ``config.json``, ``model/``).
    schema : Schema or None
        The inferred columns of a table.
    """

    task: str
    model: object
    metrics: dict
    leaderboard: pd.DataFrame
    out_dir: Path
    schema: object = None
    verdict: str = ""
    predictor: Callable | None = field(default=None, repr=False)
    """``predictor(model, data)``: the task kind's predict (set by :func:`deepzoo.fit`)."""
    split: tuple | None = field(default=None, repr=False)
    """(X_train, X_test, y_train, y_test) the leaderboard was scored on (tables), for a case study's
    extras on the same rows."""

    @property
    def report(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def model_dir(self) -> Path:
        return self.out_dir / "model"

    def predict(self, data, *, horizon: int | None = None):
        """Predictions of the fitted model for new data given as for training (a path, a DataFrame,
        texts, images), as a DataFrame like ``deepzoo predict`` writes; ``horizon``: a forecaster's next
        steps after the data's last row, as ``deepzoo predict --horizon H``."""
        if self.predictor is None:
            raise ValueError("This outcome has no predictor; load its model_dir with deepzoo.load instead.")
        if horizon is None:
            return self.predictor(self.model, data)
        return self.predictor(self.model, data, horizon=horizon)

    def __repr__(self) -> str:
        head = self.leaderboard.head(3).to_string(index=False) if len(self.leaderboard) else ""
        return f"Outcome(task={self.task!r}, out_dir={str(self.out_dir)!r})\n{head}\n{self.verdict}"


# -- scores ------------------------------------------------------------------------------------------
def classification_scores(y_true, proba: np.ndarray, classes) -> dict:
    """Binary: roc_auc, accuracy, f1 (of the second class), pr_auc. Multiclass: accuracy, macro_f1,
    log_loss. ``proba`` has one column per class of ``classes``."""
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        f1_score,
        log_loss,
        roc_auc_score,
    )

    classes = np.asarray(classes)
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    pred = classes[proba.argmax(axis=1)]
    scores = {"accuracy": float(accuracy_score(y_true, pred))}
    if len(classes) == 2:
        positive = y_true == classes[1]
        # ROC-AUC and PR-AUC need both classes in the test part; without one (a class of 1-2 rows kept
        # in training) they are left out, not NaN, and the leaderboard ranks by accuracy (see
        # Leaderboard.add)
        if positive.any() and (~positive).any():
            scores["roc_auc"] = float(roc_auc_score(positive, proba[:, 1]))
            scores["pr_auc"] = float(average_precision_score(positive, proba[:, 1]))
        scores["f1"] = float(f1_score(positive, pred == classes[1], zero_division=0))
    else:
        # over the classes the test part has: a class kept whole in training has no test row to score
        present = np.unique(y_true)
        scores["macro_f1"] = float(f1_score(y_true, pred, labels=present, average="macro", zero_division=0))
        clipped = np.clip(proba, 1e-15, 1)
        scores["log_loss"] = float(log_loss(y_true, clipped / clipped.sum(1, keepdims=True), labels=classes))
    return scores


def regression_scores(y_true, pred) -> dict:
    """rmse, mae, r2."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_true, pred = np.asarray(y_true, dtype=float), np.asarray(pred, dtype=float)
    return {
        "rmse": float(np.sqrt(mean_squared_error(y_true, pred))),
        "mae": float(mean_absolute_error(y_true, pred)),
        "r2": float(r2_score(y_true, pred)) if len(y_true) > 1 else float("nan"),
    }


# metric -> True when higher is better
DIRECTION = {
    "roc_auc": True,
    "accuracy": True,
    "f1": True,
    "pr_auc": True,
    "macro_f1": True,
    "log_loss": False,
    "rmse": False,
    "mae": False,
    "r2": True,
    "direction_accuracy": True,
    "mse_per_frame": False,
    "quantization_error": False,
    "iou": True,
    "dice": True,
    "pixel_accuracy": True,
    "fd": False,
    "mean_reward": True,
    "perplexity": False,
}


def primary_metric(task: str, n_classes: int | None = None) -> str:
    """The metric the leaderboard is sorted by and the verdict speaks of."""
    if task in ("classify", "images", "text"):
        return "roc_auc" if n_classes == 2 else "accuracy"
    if task in ("regress", "forecast", "recommend"):
        return "rmse"
    if task == "segment":
        return "iou"
    return "quantization_error"


def baseline_threads(n_cells: int, limit: int = 2_000_000):
    """One OpenMP/BLAS thread for a baseline fit on fewer than ``limit`` cells (rows x features):
    HistGradientBoosting's threads cost more than they give on small tables, and far more on a busy
    CPU (iris: 0.13 s with one thread, 1.1 s with two on a loaded 2-core machine)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1) if n_cells < limit else contextlib.nullcontext()


@contextlib.contextmanager
def stopwatch():
    """``with stopwatch() as seconds: ...``; then ``seconds()`` is the time the block took."""
    started = time.perf_counter()
    finished = []
    yield lambda: (finished[0] if finished else time.perf_counter()) - started
    finished.append(time.perf_counter())


# -- the leaderboard -----------------------------------------------------------------------------------
@dataclass
class _Entry:
    name: str
    key: str
    role: str  # "deep", "baseline" or "trivial"
    scores: dict
    fit_seconds: float


class Leaderboard:
    """The deep model beside its baselines on one test split, sorted by the task's main metric.

    Examples
    --------
    >>> from deepzoo.tasks.base import Leaderboard
    >>> board = Leaderboard("rmse")
    >>> board.add("MLP (deepzoo)", {"rmse": 2.0}, 1.5, role="deep")
    >>> board.add("Ridge", {"rmse": 2.5}, 0.1, key="ridge")
    >>> board.add("mean", {"rmse": 4.0}, 0.0, key="mean", role="trivial")
    >>> board.metrics()["baseline_ridge_rmse"], board.deep_wins()
    (2.5, True)
    """

    def __init__(
        self,
        primary: str,
        advice: str = "Prefer the baseline for this data, or give the deep model more data or time.",
    ):
        self.primary = primary
        self.advice = advice
        self.higher_is_better = DIRECTION.get(primary, True)
        self.entries: list[_Entry] = []

    def add(
        self, name: str, scores: dict, fit_seconds: float, *, key: str | None = None, role: str = "baseline"
    ):
        if role not in ("deep", "baseline", "trivial"):
            raise ValueError(f"role must be 'deep', 'baseline' or 'trivial'; got {role!r}.")
        key = key or name.lower().replace(" ", "_")
        if self.primary in ("roc_auc", "pr_auc") and self.primary not in scores and "accuracy" in scores:
            # a two-class test part that holds one class (its rare class kept in training) has no
            # ROC-AUC: rank by accuracy rather than by NaN (splits.holdout's note says why)
            if not any(self.primary in e.scores for e in self.entries):
                self.primary, self.higher_is_better = "accuracy", True
        self.entries.append(_Entry(name, key, role, dict(scores), float(fit_seconds)))

    def _value(self, entry: _Entry) -> float:
        value = entry.scores.get(self.primary, float("nan"))
        return float("nan") if value is None else float(value)

    def _ranked(self) -> list[_Entry]:
        def order(entry):
            value = self._value(entry)
            if not np.isfinite(value):
                return np.inf
            return -value if self.higher_is_better else value

        return sorted(self.entries, key=order)

    @property
    def deep(self) -> _Entry | None:
        return next((e for e in self.entries if e.role == "deep"), None)

    def best_baseline(self) -> _Entry | None:
        return next((e for e in self._ranked() if e.role != "deep"), None)

    def _shown(self, entry: _Entry) -> str:
        return f"{self._value(entry):.4g}"

    def tie(self) -> bool:
        """The deep model and the best baseline reach the same main metric, to the 4 significant digits
        the verdict prints (a forecaster that fell back to persistence ties persistence exactly)."""
        deep, best = self.deep, self.best_baseline()
        return deep is not None and best is not None and self._shown(deep) == self._shown(best)

    def deep_wins(self) -> bool:
        """The deep model beats every baseline on the main metric; a tie is not a win."""
        deep, best = self.deep, self.best_baseline()
        if deep is None or best is None:
            return deep is not None
        if self.tie() or not np.isfinite(self._value(deep)):
            return False
        return self._ranked().index(deep) < self._ranked().index(best)

    def frame(self) -> pd.DataFrame:
        """One row per model, best first: model, kind, each metric, fit_seconds."""
        metrics = list(dict.fromkeys(k for e in self.entries for k in e.scores))
        rows = [
            {
                "model": e.name,
                "kind": e.role,
                **{m: e.scores.get(m) for m in metrics},
                "fit_seconds": e.fit_seconds,
            }
            for e in self._ranked()
        ]
        return pd.DataFrame(rows)

    def metrics(self) -> dict:
        """The deep model's figures under their usual names, the others' as baseline_<key>_<metric>."""
        out = {}
        for entry in self.entries:
            prefix = "" if entry.role == "deep" else f"baseline_{entry.key}_"
            out.update({f"{prefix}{k}": v for k, v in entry.scores.items()})
        if self.deep is not None:
            out["fit_seconds"] = self.deep.fit_seconds
        return out

    def verdict(self) -> str:
        """One plain sentence: who wins on the main metric, by how much, and whether a baseline wins."""
        deep, best = self.deep, self.best_baseline()
        if deep is None:
            return ""
        name = self.primary
        value = self._value(deep)
        if best is None:
            return f"{deep.name}: {name} {value:.4g} (no baseline ran)."
        other = self._value(best)
        if self.tie():
            return (
                f"A tie on {name}: {deep.name} and {best.name} both reach {value:.4g}; the simpler "
                f"baseline does as well. {self.advice}"
            )
        if self.deep_wins():
            return (
                f"{deep.name} wins on {name}: {value:.4g} against {other:.4g} for the best baseline, "
                f"{best.name}."
            )
        return (
            f"A baseline wins: {best.name} reaches {name} {other:.4g}, the deep model {deep.name} "
            f"{value:.4g}. {self.advice}"
        )

    def add_to_report(self, report, caption: str = "") -> None:
        """The leaderboard table, its bar chart and the verdict in the report."""
        from .. import plots

        table = self.frame()
        report.add_text("Verdict", self.verdict())
        report.add_table("leaderboard", table.round(4), caption or "Every model on the same test split.")
        shown = [m for m in (self.primary, *_SECONDARY.get(self.primary, ())) if m in table.columns]
        comparison = {
            row["model"]: {m: row[m] for m in shown if row[m] is not None and np.isfinite(row[m])}
            for _, row in table.iterrows()
        }
        report.add_figure(
            "leaderboard",
            plots.plot_model_comparison(comparison, shown),
            f"Test {', '.join(shown)} of every model (same split).",
        )


_SECONDARY = {"roc_auc": ("accuracy",), "accuracy": ("macro_f1",), "rmse": ("mae",), "iou": ("dice",)}
