"""``deepzoo compare RUN_DIR ...``: runs of ``deepzoo fit`` side by side on one self-contained page.

read each run folder (config.json, metrics.json, history.csv, tables/leaderboard.csv) -> check that
they answer one task on the same data (else a ValueError naming the runs that differ) -> the page:
the settings and decisions as a diff (values that differ between runs highlighted, the rest folded),
every metric in one table with the best run per column marked, the learning curves overlaid, each
run's leaderboard, the data fingerprints (same data? same split?) and the fit seconds.

The page is built from the report's pieces (:func:`deepzoo.report.html_page`, ``html_table``), so it
looks like the runs' own reports. It lives in tasks/ because it reads what the task kinds write (their
metrics' directions, the run folder's layout); ``deepzoo fit`` records the data's fingerprint with
:func:`fingerprint`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.model_card import file_sha256
from .base import DIRECTION

__all__ = ["Run", "compare_runs", "fingerprint", "read_run"]


# -- the data's fingerprint, recorded by deepzoo fit ---------------------------------------------------
def fingerprint(data, read=None) -> dict | None:
    """A sha256 of the data a run read: a file's bytes, a folder's file names and sizes, a DataFrame's
    values (with its columns), an array's bytes; ``{"sha256", "of"}``, or None for anything else.
    ``read``: the frame the reader made of the file ``data``, whose ``attrs["sha256"]`` (hashed as the
    file was parsed) spares a second read of the file.

    Two runs with the same fingerprint read the same data; with the same seed and test size as well,
    they split it alike (every task's split is a function of those three).
    """
    digest = hashlib.sha256()
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.is_file():
            attrs = getattr(read, "attrs", {})
            known = attrs.get("sha256") if attrs.get("source") == str(path.expanduser()) else None
            return {"sha256": known or file_sha256(path), "of": "the file's bytes"}
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            for file in files:
                digest.update(f"{file.relative_to(path).as_posix()}\0{file.stat().st_size}\n".encode())
            return {"sha256": digest.hexdigest(), "of": f"the names and sizes of its {len(files)} files"}
        return None
    if isinstance(data, pd.DataFrame):
        digest.update(json.dumps([str(c) for c in data.columns]).encode())
        digest.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
        return {"sha256": digest.hexdigest(), "of": "the DataFrame's columns and values"}
    if isinstance(data, np.ndarray):
        digest.update(f"{data.dtype.str}{data.shape}".encode())
        digest.update(np.ascontiguousarray(data).tobytes())
        return {"sha256": digest.hexdigest(), "of": "the array's bytes"}
    return None


# -- a run folder ---------------------------------------------------------------------------------------
@dataclass
class Run:
    """What ``deepzoo fit`` left in a run folder."""

    folder: Path
    name: str
    config: dict
    metrics: dict
    history: pd.DataFrame | None
    leaderboard: pd.DataFrame | None
    data: dict | None = field(default=None)

    @property
    def task(self) -> str | None:
        return (self.config.get("decided") or {}).get("task")

    @property
    def fit(self) -> dict:
        return self.config.get("fit") or {}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); is the run folder complete?") from None


def _read_csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return None


def read_run(folder) -> Run:
    """The run in ``folder`` (a folder written by ``deepzoo fit``).

    Raises
    ------
    FileNotFoundError
        No such folder, or one without the ``config.json`` every run writes.
    """
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        what = "no such folder" if not folder.exists() else "no config.json in it"
        raise FileNotFoundError(f"{folder} is not a run folder of deepzoo fit ({what}).")
    config = _read_json(folder / "config.json")
    data = config.get("data_fingerprint")
    if data is None:  # a run from before fingerprints were recorded: the data file, if it is still there
        path = (config.get("fit") or {}).get("data")
        data = fingerprint(path) if path else None
    return Run(
        folder=folder,
        name=folder.resolve().name,
        config=config,
        metrics=_read_json(folder / "metrics.json"),
        history=_read_csv(folder / "history.csv"),
        leaderboard=_read_csv(folder / "tables" / "leaderboard.csv"),
        data=data,
    )


def _check_comparable(runs: list[Run]) -> list[str]:
    """Raise when the runs answer different tasks or read different data; the notes on what could not
    be checked otherwise."""
    tasks = {run.task for run in runs}
    if len(tasks) > 1:
        listed = ", ".join(f"{run.name} ({run.task or 'unknown'})" for run in runs)
        raise ValueError(
            f"The runs are of different tasks: {listed}; deepzoo compare puts runs of one task side by side."
        )
    known = [run for run in runs if run.data is not None]
    digests = {run.data["sha256"] for run in known}
    if len(digests) > 1:
        listed = ", ".join(f"{run.name} ({run.data['sha256'][:12]})" for run in known)
        raise ValueError(
            f"The runs read different data (fingerprints {listed}); compare runs of the same data, whose "
            "scores are on the same rows."
        )
    notes = []
    unknown = [run.name for run in runs if run.data is None]
    if unknown:
        notes.append(
            f"The data of {', '.join(unknown)} could not be fingerprinted (no fingerprint recorded and the "
            "data file is not where the run read it): the same data is not checked for them."
        )
    return notes


# -- the page's sections ------------------------------------------------------------------------------
def _flatten(value, prefix: str = "") -> dict:
    """{'fit.settings.max_iter': 2, ...}: one entry per leaf of a config."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def settings_diff(runs: list[Run]) -> tuple[list[str], list[list], list[list]]:
    """(columns, rows that differ between runs, rows that are the same) of every setting and decision
    in the runs' config.json; ``out`` (the run folder itself) and the data's fingerprint (a section of
    its own) are left out."""
    flat = [_flatten({k: v for k, v in run.config.items() if k != "data_fingerprint"}) for run in runs]
    keys = list(dict.fromkeys(k for f in flat for k in f if k not in ("fit.out", "out")))
    missing = "(not set)"
    differ, same = [], []
    for key in keys:
        values = [_shown(f[key]) if key in f else missing for f in flat]
        (differ if len(set(values)) > 1 else same).append([key, *values])
    return ["setting", *[run.name for run in runs]], differ, same


def metrics_table(runs: list[Run]) -> tuple[list[str], list[list], dict]:
    """(columns, one row per run, marks): every numeric metric of the deep model (the baselines'
    are in the leaderboards), the best run of each metric whose direction is known marked ``best``."""
    names = list(
        dict.fromkeys(
            k
            for run in runs
            for k, v in run.metrics.items()
            if not k.startswith("baseline_") and isinstance(v, (int, float)) and not isinstance(v, bool)
        )
    )
    rows = [[run.name, *[run.metrics.get(name) for name in names]] for run in runs]
    marks = {}
    for j, name in enumerate(names, start=1):
        higher = DIRECTION.get(name)
        if name == "fit_seconds":
            higher = False
        values = np.array([np.nan if row[j] is None else float(row[j]) for row in rows])
        if higher is None or not np.isfinite(values).any() or len(runs) < 2:
            continue
        best = np.nanmax(values) if higher else np.nanmin(values)
        for i, value in enumerate(values):
            if value == best:
                marks[i, j] = "best"
    return ["run", *names], rows, marks


def curves_png(runs: list[Run]) -> str | None:
    """The learning curves of every run on shared axes (one colour per run; validation dashed), as a
    base64 PNG; None when no run recorded any."""
    import matplotlib.pyplot as plt

    from ..report import FIGURE_DPI

    histories = [(run, run.history) for run in runs if run.history is not None and len(run.history)]
    if not histories:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    try:
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for n, (run, history) in enumerate(histories):
            x = history["epoch"] if "epoch" in history else np.arange(1, len(history) + 1)
            columns = [c for c in history.columns if c != "epoch"]
            for column in columns:
                style = "--" if column.startswith("val") else "-"
                ax.plot(
                    x, history[column], style, color=colours[n % len(colours)], label=f"{run.name}: {column}"
                )
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("value (as each run recorded it)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def data_table(runs: list[Run]) -> tuple[list[str], list[list], dict]:
    """One row per run: the data, its fingerprint, the seed and test size, whether it splits like the
    first run, and the fit seconds; cells that differ from the first run are marked."""
    first = runs[0]

    def split_key(run: Run):
        return (run.data or {}).get("sha256"), run.fit.get("seed"), run.fit.get("test_size")

    rows = []
    for run in runs:
        digest = (run.data or {}).get("sha256")
        same_split = None if digest is None else split_key(run) == split_key(first)
        rows.append(
            [
                run.name,
                str(run.fit.get("data")),
                digest[:16] if digest else "unknown",
                (run.data or {}).get("of", ""),
                run.fit.get("seed"),
                run.fit.get("test_size"),
                "yes" if same_split else "unknown" if same_split is None else "no",
                run.metrics.get("fit_seconds"),
            ]
        )
    marks = {(i, j): "differs" for i, row in enumerate(rows) for j in (2, 4, 5, 6) if row[j] != rows[0][j]}
    columns = [
        "run",
        "data",
        "fingerprint",
        "of",
        "seed",
        "test_size",
        "same split as the first",
        "fit_seconds",
    ]
    return columns, rows, marks


def _card(title: str, body: str, caption: str = "") -> str:
    caption = f'<p class="caption">{html.escape(caption)}</p>' if caption else ""
    return f'<section class="card"><h2>{html.escape(title)}</h2>{caption}{body}</section>'


def _frame_rows(frame: pd.DataFrame) -> list[list]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def compare_runs(folders, out="compare.html") -> Path:
    """Write one self-contained HTML page comparing the runs in ``folders``; returns its path.

    Parameters
    ----------
    folders : sequence of str or Path
        Run folders written by ``deepzoo fit`` (at least two), of one task on the same data.
    out : str or Path, default='compare.html'
        The page to write (atomically).

    Raises
    ------
    ValueError
        Fewer than two runs, runs of different tasks, or runs of different data (each named).
    FileNotFoundError
        A folder that is not a run folder.

    Examples
    --------
    >>> from deepzoo.tasks.compare import compare_runs
    >>> compare_runs(["runs/a", "runs/b"], "compare.html")  # doctest: +SKIP
    """
    from ..report import html_page, html_table, write_file

    folders = list(folders)
    if len(folders) < 2:
        raise ValueError(f"deepzoo compare needs at least two run folders; got {len(folders)}.")
    runs = [read_run(folder) for folder in folders]
    names = [run.name for run in runs]
    for n, run in enumerate(runs):  # two folders of one name (runs/a/x, runs/b/x) stay apart
        if names.count(run.name) > 1:
            run.name = f"{run.name} ({n + 1})"
    notes = _check_comparable(runs)
    task = runs[0].task or "unknown"

    here = Path(out).resolve().parent
    links = ", ".join(
        f'<a href="{html.escape(os.path.relpath(run.folder / "report.html", here))}">'
        f"{html.escape(run.name)}</a>"
        for run in runs
    )
    parts = [
        '<header><div class="eyebrow">deepzoo compare</div>',
        f"<h1>{len(runs)} runs of {html.escape(task)}</h1>",
        f'<p class="lead">{links}. Same task, same data: the scores are on the same held-out rows when '
        "the split is the same too.</p>",
        "</header>",
    ]
    parts += [f'<p class="muted">{html.escape(note)}</p>' for note in notes]

    columns, differ, same = settings_diff(runs)
    marks = {(i, j): "differs" for i in range(len(differ)) for j in range(1, len(columns))}
    body = html_table(columns, differ, marks=marks) if differ else "<p>Every setting is the same.</p>"
    if same:
        folded = html_table(columns, same)
        body += f"<details><summary>{len(same)} settings that are the same</summary>{folded}</details>"
    parts.append(
        _card("Settings", body, "What each run was asked and what it decided; differences highlighted.")
    )

    columns, rows, marks = metrics_table(runs)
    parts.append(
        _card(
            "Metrics",
            html_table(columns, rows, marks=marks),
            "The deep model's test figures of each run; the best run per metric is marked (fit seconds: "
            "the fastest). Metrics without a known direction are not marked.",
        )
    )

    picture = curves_png(runs)
    if picture is not None:
        parts.append(
            _card(
                "Learning curves",
                f'<figure><img alt="learning curves of every run" src="data:image/png;base64,{picture}">'
                "</figure>",
                "Each run's recorded curves on shared axes, one colour per run; validation curves dashed.",
            )
        )

    columns, rows, marks = data_table(runs)
    parts.append(
        _card(
            "Data and split",
            html_table(columns, rows, marks=marks),
            "Same fingerprint: the same data. Same data, seed and test size: the same split (every task "
            "splits by those alone). Cells unlike the first run's are highlighted.",
        )
    )

    for run in runs:
        if run.leaderboard is not None:
            table = html_table([str(c) for c in run.leaderboard.columns], _frame_rows(run.leaderboard))
            parts.append(_card(f"Leaderboard of {run.name}", table, "Every model on that run's test split."))

    page = html_page(f"deepzoo compare: {', '.join(run.name for run in runs)}", "\n".join(parts))
    return write_file(out, page)
