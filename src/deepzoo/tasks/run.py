"""``deepzoo.fit``: a user's file, folder, DataFrame or arrays -> a trained, reported, saved model.

One road for every kind of data: detect the task (rule printed) -> the task module fits the deep model
beside the baselines on one split -> the report -> ``model/`` (``deepzoo.load``, ``deepzoo serve``,
``deepzoo predict``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..data.tabular import missing_summary, reading_decisions
from ..engine import distributed
from . import stream as streaming
from . import tune as tuning
from .base import FitConfig, Outcome
from .compare import fingerprint
from .detect import Source, detect
from .kinds import kind_of_task
from .predict import predict_frame

__all__ = ["fit", "fit_into"]


def fit(
    data,
    target=None,
    task: str = "auto",
    *,
    out="runs/fit",
    time_limit: float | None = None,
    seed: int = 0,
    device: str = "auto",
    drop=(),
    categorical=(),
    numeric=(),
    text=(),
    date=(),
    group=(),
    settings: dict | None = None,
    test_size: float = 0.2,
    resume: bool = False,
    tune: int | None = None,
    tune_time: float | None = None,
    tune_jobs: int = 1,
    verbose: bool = False,
    config: FitConfig | None = None,
) -> Outcome:
    """Train the right deep model for ``data`` beside its baselines, write a report and save the model.

    Parameters
    ----------
    data : str, Path, DataFrame or array
        A table file (CSV/TSV/whitespace-separated, Parquet), an image folder (one sub-folder per class),
        a folder of ``.txt`` files per class, a DataFrame, or an array (rows x columns, or images).
    target : str or array-like, optional
        The column to predict, or (with arrays and DataFrames) the values to predict.
    task : str, default='auto'
        'auto' follows the rules of :mod:`deepzoo.tasks.detect`; else one of
        :data:`deepzoo.tasks.kinds.TASKS` (classify, regress, forecast, recommend, cluster, images, text,
        segment).
    out : str or Path, default='runs/fit'
        The run folder: report.html, config.json, metrics.json, figures/, tables/, model/.
    time_limit : float, optional
        Seconds the deep model may train; it stops at the end of that epoch with its best weights.
    seed : int, default=0
    device : str, default='auto'
    drop, categorical, numeric, text, date : sequence of str
        Override the inferred role of these columns (see :mod:`deepzoo.data.schema`).
    group : sequence of str
        Columns whose groups the report compares (fairness), for binary classification.
    settings : dict, optional
        Parameters of the deep model to override, e.g. ``{"max_iter": 50}``.
    test_size : float, default=0.2
        Share held out for the leaderboard when the data bring no test part of their own.
    resume : bool, default=False
        Continue an interrupted run from the checkpoint in ``out`` (and its tuning study).
    tune : int, optional
        Tune the deep model's settings with this many Optuna trials, scored on a validation part of
        the training rows, before the final fit (:mod:`deepzoo.tasks.tune`): tables, text, series,
        ratings and images.
    tune_time : float, optional
        Seconds the tuning may take (alone: trials until they run out).
    tune_jobs : int, default=1
        Processes running trials at once, sharing the study (``optuna.db`` in ``out``).
    verbose : bool, default=False
        Print the schema and the decisions, and show progress bars.
    config : FitConfig, optional
        All of the above at once (e.g. read from a run's ``config.json``); the other arguments are then
        ignored except ``data`` when the config has none.

    Returns
    -------
    Outcome
        ``model``, ``metrics``, ``leaderboard``, ``out_dir``, ``report``, ``schema``, ``verdict``.

    Raises
    ------
    FileNotFoundError, ValueError
        Each with one sentence that says what was wrong and what to do, raised before anything is
        trained or saved: no file at the path; an empty file, or a header without rows ("Cannot read
        ...: the file is empty" / "... but no data rows"); a ``target`` that names no column ("is not
        a column of ..."); a target with one value ("has one value"), missing in every row, or missing in
        more than half the rows ("missing in N of M rows (more than half)"; a target missing in fewer
        rows loses those rows, counted in the report).

    Notes
    -----
    The model is saved to ``out/model`` as soon as it is scored, before any picture: a picture or
    report section that fails becomes a note in the report (and a
    :class:`deepzoo.report.SectionFailedWarning`), not a lost run. A class of fewer than 3 rows stays
    in the training part (the test scores cover the classes the test part has; the report says so).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_iris
    >>> import deepzoo
    >>> frame = load_iris(as_frame=True).frame
    >>> result = deepzoo.fit(frame, target="target", out=tempfile.mkdtemp(), settings={"max_iter": 30})
    >>> result.task, sorted(result.leaderboard["kind"])
    ('classify', ['baseline', 'baseline', 'deep', 'trivial'])
    """
    target_values = None
    if config is None:
        if target is not None and not isinstance(target, (str, int)):
            target_values, target = target, None
        config = FitConfig(
            data=str(data) if isinstance(data, (str, Path)) else None,
            target=None if target is None else str(target),
            task=task,
            out=str(out),
            time_limit=time_limit,
            seed=seed,
            device=device,
            drop=tuple(drop),
            categorical=tuple(categorical),
            numeric=tuple(numeric),
            text=tuple(text),
            date=tuple(date),
            group=tuple(group),
            settings=dict(settings or {}),
            test_size=test_size,
            resume=resume,
            tune=tune,
            tune_time=tune_time,
            tune_jobs=tune_jobs,
            verbose=verbose,
        )
    else:
        config = dataclasses.replace(config)
        if data is None:
            if config.data is None:
                raise ValueError("The config names no data: pass the data too.")
            data = config.data
    _check(config)
    from ..report import RunReport

    out_dir = Path(config.out)
    report = RunReport(out_dir, f"deepzoo fit: {_name(data)}", {"fit": config.to_dict()})
    outcome = fit_into(report, data, config, target_values)
    report.write()
    if config.verbose and distributed.is_main_process():
        _show_outcome(outcome)
    return outcome


def fit_into(
    report,
    data,
    config: FitConfig,
    target_values=None,
    *,
    description: str | None = None,
    card: dict | None = None,
) -> Outcome:
    """The road of :func:`fit` into a report the caller made and writes (a case study adds its own
    sections before and after): detect the task -> the task module fits the deep model beside its
    baselines and adds the leaderboard -> the model saved in ``config.out``/model at once -> the
    task's pictures (each one that fails becomes a note in the report, not a lost run).

    ``report`` is a :class:`deepzoo.report.RunReport` for ``config.out``; its config gains the
    decisions (``decided``) and, unless the caller gave one, the description of the road. ``card``:
    model card fields of the caller's (a case study's title, intended use...) over the road's, so
    that the model is saved once. If the run fails after the model was saved, the report is written
    with a note before the error goes on.
    """
    config, memory = streaming.plan(data, config)  # Parquet: streamed when it exceeds the memory budget
    if memory is not None and memory.stream:
        source = streaming.detect_streamed(data, config, memory, detect)
    else:
        source = detect(data, config, target_values)
    if config.verbose and distributed.is_main_process():
        _show(source, config)
    from ..report import to_jsonable

    report.config["decided"] = to_jsonable(_decisions(source))
    if memory is not None:
        report.config["decided"]["memory"] = memory.reason
    # deepzoo compare: same data? same split? (a file's hash was taken as the reader parsed it)
    report.config["data_fingerprint"] = fingerprint(data, getattr(source, "frame", None))
    road = (
        f"Task: {source.task}, because {source.rule}. The deep model is compared with classical "
        "and trivial baselines on the same held-out rows."
    )
    report.description = f"{description} {road}" if description else road
    if source.schema is not None:
        report.add_table("schema", source.schema.to_frame(), "What each column was taken to be, and why.")
    kind = kind_of_task(source.task)
    saved = []

    def save_model(model, facts: dict) -> None:
        """Saved as soon as the task has scored it, before the pictures: a failing one loses nothing."""
        if distributed.is_main_process():
            from ..engine.persistence import save

            road_card = _card(
                report.metrics, facts.get("verdict"), source, data, kind, tuning.is_tuned(config)
            )
            save(model, Path(config.out) / "model", card={**road_card, **(card or {})})
        saved.append(model)

    report.saver = save_model
    try:
        if tuning.is_tuned(config):  # Optuna on the training rows first, then the road with the best settings
            outcome = tuning.run(kind, source, config, report)
        elif source.stream is not None:  # a Parquet file larger than the memory budget
            outcome = streaming.run(source, config, report)
        else:
            outcome = kind.run(source, config, report)
        outcome = dataclasses.replace(outcome, predictor=predict_frame)
    except Exception as exc:
        if not saved:
            raise
        report.add_text(
            "The run stopped after the model was saved",
            f"{type(exc).__name__}: {exc}\n\nThe model in {Path(config.out) / 'model'} is complete; "
            "the sections above were made before the error.",
        )
        report.write()
        raise
    finally:
        report.saver = None
    if not saved or saved[-1] is not outcome.model:  # a task that saves at its end
        save_model(outcome.model, {"verdict": outcome.verdict})
    return outcome


def _check(config: FitConfig) -> None:
    problems = []
    if config.time_limit is not None and not config.time_limit > 0:
        problems.append(f"--time-limit must be a positive number of seconds; got {config.time_limit}")
    if not 0 < config.test_size < 1:
        problems.append(f"--test-size must be between 0 and 1; got {config.test_size}")
    problems += tuning.option_problems(config)
    if problems:
        raise ValueError("; ".join(problems) + ".")


def _name(data) -> str:
    if isinstance(data, (str, Path)):
        return Path(data).name or str(data)
    return type(data).__name__


def _decisions(source: Source) -> dict:
    decided = {"task": source.task, "rule": source.rule, "columns": dict(source.columns)}
    if source.schema is not None:
        decided["schema"] = source.schema.to_dict()
    if source.frame is not None and "dialect" in source.frame.attrs:
        decided["reading"] = reading_decisions(source.frame)
    return decided


def _show(source: Source, config: FitConfig) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if source.frame is not None and "dialect" in source.frame.attrs:
        console.print(f"Read: {source.frame.attrs['dialect']}", markup=False, highlight=False)
        if source.frame.attrs.get("missing"):
            console.print(f"Missing cells: {missing_summary(source.frame.attrs['missing'])}", markup=False)
    console.print(f"[bold]Task:[/] {source.task} — {source.rule}")
    if source.schema is not None:
        table = Table(title="Columns (override with --drop/--categorical/--numeric/--text/--date)")
        for column in ("column", "role", "why", "missing", "distinct", "example"):
            table.add_column(column)
        for row in source.schema.to_frame().itertuples():
            style = "dim" if row.role in ("identifier", "constant", "empty", "dropped") else ""
            table.add_row(
                str(row.name),
                row.role,
                row.reason,
                f"{row.n_missing:,}",
                f"{row.n_unique:,}",
                str(row.example),
                style=style,
            )
        console.print(table)
        for note in source.schema.notes:
            console.print(f"note: {note}")


def _show_outcome(outcome: Outcome) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    frame = outcome.leaderboard
    table = Table(title="Leaderboard (same test split)")
    for column in frame.columns:
        table.add_column(str(column), justify="left" if column in ("model", "kind") else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
    console.print(outcome.verdict)
    for failed in outcome.metrics.get("failed_sections", []):
        console.print(f"[yellow]warning:[/] not in the report: {failed}")
    console.print(f"Report: {outcome.report}\nModel: {outcome.model_dir} (deepzoo serve / deepzoo predict)")


def _card(metrics: dict, verdict: str | None, source: Source, data, kind, tuned: bool = False) -> dict:
    keep = {k: v for k, v in metrics.items() if not k.startswith("baseline_") and isinstance(v, (int, float))}
    return {
        "title": f"deepzoo fit: {source.task} on {_name(data)}",
        "task_kind": kind.name,
        "input_kind": kind.serves,
        "predicts": f"{source.target}" if source.target is not None else source.task,
        "target": source.target,
        "data": f"{_name(data)}: {source.rule}.",
        "metrics": keep,
        "intended_use": "A model trained by deepzoo fit with "
        + ("settings tuned by Optuna" if tuned else "default settings")
        + "; check the report's leaderboard before relying on it.",
        "limitations": "Trained and tested on one split of one dataset; " + (verdict or ""),
    }
