"""A run folder: what a run was asked to do, what it measured and what it looked like.

::

    out_dir/
      config.json      written as soon as the report is created, so any run can be reproduced
      metrics.json     add_metrics(...)
      history.csv      add_history(...): an epoch column and one column per recorded key
      figures/*.png    add_figure(...)
      tables/*.csv     add_table(...)
      report.html      one self-contained page: inline CSS, figures embedded as base64 PNG

Every file is written to a temporary name in the same folder and then renamed, so a reader never
sees half a file. Under torchrun only the main process writes; in the other processes every method
does nothing but still returns what it would have returned.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import dataclasses
import datetime as _dt
import enum
import html
import io
import json
import math
import os
import re
import secrets
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from urllib.parse import quote

import numpy as np

from .engine import distributed

__all__ = ["RunReport", "SectionFailedWarning", "html_page", "html_table", "write_file", "write_index"]

FIGURE_DPI = 110
MAX_TABLE_ROWS = 200  # rows shown in the page; the CSV always has them all
MAX_CARDS = 8
# Metrics shown first in the cards strip, when present; the others follow in the order added.
HEADLINE = ("accuracy", "balanced_accuracy", "roc_auc", "f1", "precision", "recall", "r2", "rmse", "mae",
            "cv_accuracy_mean", "reward", "mean_reward", "fit_seconds", "run_seconds", "epochs")  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_WORDS = {"roc": "ROC", "auc": "AUC", "rmse": "RMSE", "mae": "MAE", "mse": "MSE", "f1": "F1",
          "r2": "R²", "cv": "CV", "mlp": "MLP", "ap": "AP"}  # fmt: skip


# -- plain helpers ----------------------------------------------------------------------------------


def to_jsonable(value):
    """A JSON-safe copy: dataclasses, mappings, paths, NumPy/torch values, enums; NaN/inf become None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(v) for v in value), key=str)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        return to_jsonable(float(str(value)))  # float32(0.01) -> 0.01, not 0.009999999776482582
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype.itemsize < 8:
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)) or hasattr(value, "tolist"):
        try:
            return to_jsonable(value.tolist())
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return str(value)


def _cannot_write(folder: Path, exc: OSError) -> OSError:
    """The same kind of OSError, with one sentence that names the folder and the reason."""
    reason = exc.strerror or str(exc)
    message = f"Cannot write the run folder {folder}: {reason}. Pick another folder or fix its permissions."
    error = type(exc)(message) if type(exc) is not OSError else OSError(message)
    error.errno = exc.errno
    return error


def _atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary name in the same folder, then rename over ``path``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 respects the umask, unlike tempfile's private 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _humanize(key: str) -> str:
    """'cv_accuracy_mean' -> 'CV accuracy mean'."""
    words = [_WORDS.get(w.lower(), w) for w in re.split(r"[_\s]+", str(key)) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else str(key)


def _format_number(value) -> str:
    """Four decimals for ordinary floats, thousands separators for large ones, ints as they are."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if not math.isfinite(value):
        return "–"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e7):
        return f"{value:.3e}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4f}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _card_value(key: str, value) -> str:
    """Short text for a metric card: 3 decimals, seconds with a unit, counts with separators."""
    if key.endswith("seconds"):
        return f"{value:,.1f} s" if value < 600 else f"{value / 60:,.1f} min"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if not math.isfinite(value):
        return "–"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def headline_metrics(metrics: Mapping, limit: int = MAX_CARDS, skip=()) -> list[tuple[str, str, str]]:
    """(label, value, note) of the metrics worth a card: the usual suspects first, then the rest."""
    numeric = [k for k, v in metrics.items() if _is_number(v) and k not in skip and not k.endswith("_std")]
    ordered = [k for k in HEADLINE if k in numeric] + [k for k in numeric if k not in HEADLINE]
    cards = []
    for key in ordered[:limit]:
        value = metrics[key]
        label, note = _humanize(key), ""
        if key.endswith("_mean"):
            label = _humanize(key.removesuffix("_mean"))
            std = metrics.get(key.removesuffix("_mean") + "_std")
            if _is_number(std):
                note = f"± {std:.3f}"
        cards.append((label, _card_value(key, value), note))
    return cards


def _cards_html(cards) -> str:
    if not cards:
        return ""
    items = "".join(
        f'<div class="metric"><div class="value">{html.escape(value)}</div><div class="label">'
        f"{html.escape(label)}{f' ({html.escape(note)})' if note else ''}</div></div>"
        for label, value, note in cards
    )
    return f'<div class="metrics">{items}</div>'


def _table_html(
    columns: list[str], rows: list[list], *, total: int | None = None, marks: Mapping | None = None
) -> str:
    """An escaped HTML table; numeric cells right-aligned with tabular digits; ``marks`` maps a cell's
    (row, column) position to a CSS class (``best``, ``differs``) that highlights it."""
    marks = marks or {}
    numeric = [
        all(_is_number(row[j]) or row[j] is None for row in rows) and any(_is_number(row[j]) for row in rows)
        for j in range(len(columns))
    ]
    head = "".join(
        ('<th class="num">' if is_num else "<th>") + f"{html.escape(str(c))}</th>"
        for c, is_num in zip(columns, numeric)
    )
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, value in enumerate(row):
            mark = f" {marks[i, j]}" if (i, j) in marks else ""
            plain = f' class="{marks[i, j]}"' if mark else ""  # a text cell has no class of its own
            if _is_number(value):
                cells.append(f'<td class="num{mark}">{html.escape(_format_number(value))}</td>')
            elif value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append(f'<td class="num{mark}">–</td>')
            elif isinstance(value, (bool, np.bool_)):
                cells.append(f"<td{plain}>{bool(value)}</td>")
            else:
                text = value if isinstance(value, str) else json.dumps(to_jsonable(value), ensure_ascii=False)
                cells.append(f"<td{plain}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if total is not None and total > len(rows):
        note = f'<p class="muted">The first {len(rows)} of {total:,} rows; the CSV file has them all.</p>'
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{note}"
    )


def _paragraphs(text: str) -> str:
    """Plain text to escaped paragraphs: blank lines split paragraphs, single newlines break lines."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", str(text)) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in parts)


def _version() -> str:
    """The installed package's version, read from its metadata (importing the package root from here
    would make the report depend on every layer above it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deepzoo")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _now() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


CSS = """
:root { --bg: #f5f6f8; --card: #fff; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb;
        --accent: #2563eb; --zebra: #f9fafb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.container { max-width: 1120px; margin: 0 auto; padding: 32px 24px 48px; }
header { margin-bottom: 24px; }
.eyebrow { color: var(--accent); font-weight: 600; font-size: 13px; letter-spacing: .06em;
           text-transform: uppercase; }
h1 { font-size: 30px; line-height: 1.2; margin: 6px 0 10px; letter-spacing: -.01em; }
h2 { font-size: 18px; margin: 0 0 12px; }
.lead { color: #374151; font-size: 16px; max-width: 80ch; margin: 0; }
.muted { color: var(--muted); font-size: 13px; }
.metrics { display: grid; grid-template-columns: repeat(auto-fit, minmax(118px, 1fr)); gap: 12px;
           margin: 0 0 24px; }
.metric { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px;
          box-shadow: 0 1px 2px rgba(16, 24, 40, .04); }
.metric .value { font-size: 26px; font-weight: 650; letter-spacing: -.02em;
                 font-variant-numeric: tabular-nums; white-space: nowrap; }
.metric .label { color: var(--muted); font-size: 13px; margin-top: 2px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 20px 22px;
        margin: 0 0 16px; box-shadow: 0 1px 2px rgba(16, 24, 40, .04); min-width: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px;
        margin-bottom: 16px; align-items: start; }
.grid .card { margin: 0; }
figure { margin: 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption, .caption { color: var(--muted); font-size: 14px; margin-top: 10px; }
.caption { margin: -4px 0 12px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 7px 12px; text-align: left; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: #374151; background: #f3f4f6; }
tbody tr:nth-child(even) { background: var(--zebra); }
tbody tr:hover { background: #eef2ff; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-top: 12px; }
summary { cursor: pointer; color: var(--accent); font-weight: 600; }
pre { background: #0f172a; color: #e2e8f0; padding: 14px 16px; border-radius: 8px; overflow-x: auto;
      font-size: 13px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
footer { margin-top: 28px; padding-top: 16px; border-top: 1px solid var(--line); color: var(--muted);
         font-size: 13px; }
.runs { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
.run h2 { font-size: 17px; margin-bottom: 4px; }
.run .metrics { grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; margin: 14px 0 0; }
.run .metric { padding: 10px 12px; box-shadow: none; background: var(--zebra); }
.run .metric .value { font-size: 20px; }
td.best { font-weight: 700; background: #dcfce7; }
td.differs { background: #fef3c7; }
.failed { border-color: #f59e0b; background: #fffbeb; }
.badge { display: inline-block; background: #eef2ff; color: #3730a3; border-radius: 999px;
         padding: 1px 10px; font-size: 12px; font-weight: 600; margin-right: 6px; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f'<body>\n<div class="container">\n{body}\n</div>\n</body>\n</html>\n'
    )


# -- the run report ---------------------------------------------------------------------------------


class SectionFailedWarning(RuntimeWarning):
    """A picture or section of a report raised; the run went on and the page says what failed."""


class RunReport:
    """A run folder with its config, metrics, history, figures, tables and one HTML page.

    Parameters
    ----------
    out_dir : str or path
        The run folder; created (with its parents) at once, and ``config.json`` written into it.
    title : str
        Title of the page.
    config : dict or dataclass, default=None
        What the run was asked to do; stored JSON-safe in ``config.json`` and at the page's foot.
    description : str, default=''
        A paragraph under the title.

    Raises
    ------
    OSError
        "Cannot write the run folder <dir>: <reason>..." when the folder cannot be made or written.

    Notes
    -----
    Under torchrun only the main process (``distributed.is_main_process()``) writes; elsewhere every
    method is a no-op that returns the same value. Every file is written atomically.

    What comes after training must not lose it: a task hands its fitted model to :meth:`keep` (the
    caller's ``saver`` writes it at once) before it draws, and draws each picture inside
    :meth:`section`, which turns an error into a note on the page and a warning.

    Examples
    --------
    >>> import tempfile
    >>> from deepzoo.report import RunReport
    >>> from deepzoo.plots import plot_loss
    >>> report = RunReport(tempfile.mkdtemp(), "A tiny run", {"seed": 0})
    >>> report.add_metrics(accuracy=0.91)
    {'accuracy': 0.91}
    >>> report.add_history({"loss": [0.7, 0.4, 0.3]})
    >>> path = report.add_figure("learning_curves", plot_loss({"loss": [0.7, 0.4, 0.3]}))
    >>> (report.write() / "report.html").is_file()
    True
    """

    def __init__(self, out_dir, title: str, config: dict | None = None, description: str = ""):
        self.out_dir = Path(out_dir)
        self.title = str(title)
        self.config = to_jsonable(config if config is not None else {})
        self.description = str(description)
        self.metrics: dict = {}
        self.history: dict[str, list] = {}
        self._sections: list[dict] = []
        self._names: dict[str, set] = {"figure": set(), "table": set()}
        self._writer = distributed.is_main_process()
        self.failed: list[dict] = []
        """One ``{"section", "error"}`` per :meth:`section` that raised."""
        self.saver: Callable | None = None
        """``saver(model, facts)``: what :meth:`keep` calls (``deepzoo.fit`` saves to ``model/``)."""
        self.kept = None
        """The model last handed to :meth:`keep`."""
        if self._writer:
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _cannot_write(self.out_dir, exc) from exc
            self._write("config.json", json.dumps(self.config, indent=2, allow_nan=False) + "\n")

    def __repr__(self) -> str:
        return f"RunReport({str(self.out_dir)!r}, {self.title!r})"

    def _write(self, relative: str, data: bytes | str) -> Path:
        """Atomically write ``out_dir/relative``; OSErrors name the run folder."""
        path = self.out_dir / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, data)
        except OSError as exc:
            raise _cannot_write(self.out_dir, exc) from exc
        return path

    def _claim(self, kind: str, name: str) -> None:
        """Check a figure or table name: a plain file name, not used twice."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"A {kind} name becomes a file name: use letters, digits, '_', '-' or '.', starting "
                f"with a letter or digit; got {name!r}."
            )
        if name in self._names[kind]:
            raise ValueError(
                f"This report already has a {kind} named {name!r}; give each {kind} its own name."
            )
        self._names[kind].add(name)

    @contextlib.contextmanager
    def section(self, name: str):
        """``with report.section("confusion matrix"): report.add_figure(...)``: an error inside the
        block (not an interrupt) becomes a note on the page where the section would have been, an
        entry of :attr:`failed` (and of ``metrics.json``'s ``failed_sections``) and a
        :class:`SectionFailedWarning`; the run goes on.

        Parameters
        ----------
        name : str
            What the block draws or computes, as the note names it.

        Examples
        --------
        >>> import tempfile, warnings
        >>> from deepzoo.report import RunReport
        >>> report = RunReport(tempfile.mkdtemp(), "A run")
        >>> with warnings.catch_warnings(record=True), report.section("a picture"):
        ...     raise ValueError("no data to draw")
        >>> report.failed
        [{'section': 'a picture', 'error': 'ValueError: no data to draw'}]
        """
        try:
            yield
        except Exception as exc:  # noqa: BLE001 -- any failure of a picture becomes a note, by design
            lines = str(exc).strip().splitlines()
            error = type(exc).__name__ + (f": {lines[0]}" if lines else "")
            self.failed.append({"section": str(name), "error": error})
            self.metrics["failed_sections"] = [f"{f['section']}: {f['error']}" for f in self.failed]
            if self._writer:
                self._sections.append({"kind": "failed", "heading": str(name), "body": error})
            warnings.warn(
                f"The report's {name} failed ({error}); the run went on without it.",
                SectionFailedWarning,
                stacklevel=3,
            )

    def keep(self, model, **facts) -> None:
        """The model is trained: hand it to :attr:`saver` now (``deepzoo.fit`` writes ``model/``),
        before any picture is drawn, so that nothing after training can lose it.

        Parameters
        ----------
        model : fitted estimator or Pipeline
        **facts
            What the saver may put on the model card beside :attr:`metrics` (e.g. ``verdict``).
        """
        self.kept = model
        if self.saver is not None:
            self.saver(model, facts)

    def add_metrics(self, **metrics) -> dict:
        """Merge metrics into ``metrics.json`` (NumPy values become plain numbers).

        Parameters
        ----------
        **metrics
            Name and value of each metric; later calls overwrite earlier values of the same name.

        Returns
        -------
        metrics : dict
            Every metric recorded so far, JSON-safe.
        """
        self.metrics.update(to_jsonable(metrics))
        return dict(self.metrics)

    def add_history(self, history) -> None:
        """Record per-epoch values (``estimator.history_``) for ``history.csv``.

        Parameters
        ----------
        history : dict of lists, or a fitted estimator with ``history_``
            One list per key (``loss``, ``val_loss``, ...); lists of different lengths are padded
            with empty cells. Keys recorded before are replaced.
        """
        history = getattr(history, "history_", history)
        if not isinstance(history, Mapping):
            raise TypeError(
                "add_history expects a dict of lists such as estimator.history_; got "
                f"{type(history).__name__}."
            )
        for key, values in history.items():
            self.history[str(key)] = [to_jsonable(v) for v in np.asarray(values).ravel().tolist()]

    def add_figure(self, name: str, fig_or_ax, caption: str = "") -> Path:
        """Save a figure as ``figures/<name>.png`` and show it, with its caption, in the page.

        Parameters
        ----------
        name : str
            File name without extension, and (humanized) the heading of the figure.
        fig_or_ax : matplotlib Figure or Axes
            What a :mod:`deepzoo.plots` function returned, or any figure.
        caption : str, default=''
            One or two sentences under the figure.

        Returns
        -------
        path : Path
            The PNG file (written by the main process only).
        """
        self._claim("figure", name)
        path = self.out_dir / "figures" / f"{name}.png"
        if not self._writer:
            return path
        if isinstance(fig_or_ax, np.ndarray) and fig_or_ax.size:  # plt.subplots(1, 2) axes
            fig_or_ax = fig_or_ax.flat[0]
        figure = fig_or_ax if hasattr(fig_or_ax, "savefig") else getattr(fig_or_ax, "figure", None)
        while figure is not None and not hasattr(figure, "savefig"):  # a SubFigure: go up to the root
            figure = getattr(figure, "figure", None)
        if figure is None:
            raise TypeError(
                f"add_figure expects a matplotlib Figure or Axes; got {type(fig_or_ax).__name__}."
            )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white")
        png = buffer.getvalue()
        self._write(f"figures/{name}.png", png)
        self._sections.append(
            {
                "kind": "figure",
                "name": name,
                "caption": str(caption),
                "png": base64.b64encode(png).decode("ascii"),
            }
        )
        return path

    def add_table(self, name: str, table, caption: str = "") -> Path:
        """Save a table as ``tables/<name>.csv`` and show it in the page.

        Parameters
        ----------
        name : str
            File name without extension, and (humanized) the heading of the table.
        table : pandas DataFrame, list of dicts or dict of lists
            A DataFrame's index is kept when it is not the default 0..n-1.
        caption : str, default=''
            A sentence above the table.

        Returns
        -------
        path : Path
            The CSV file (written by the main process only).
        """
        import pandas as pd

        self._claim("table", name)
        path = self.out_dir / "tables" / f"{name}.csv"
        if not self._writer:
            return path
        frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
        if not (
            isinstance(frame.index, pd.RangeIndex) and frame.index.name is None and frame.index.start == 0
        ):
            frame = frame.reset_index()
        self._write(f"tables/{name}.csv", frame.to_csv(index=False))
        rows = [
            [None if v is pd.NA else v for v in row]
            for row in frame.head(MAX_TABLE_ROWS).itertuples(index=False)
        ]
        self._sections.append(
            {
                "kind": "table",
                "name": name,
                "caption": str(caption),
                "html": _table_html([str(c) for c in frame.columns], rows, total=len(frame)),
            }
        )
        return path

    def add_text(self, heading: str, body: str) -> None:
        """Add a section of plain text; blank lines separate paragraphs, HTML is shown as text.

        Parameters
        ----------
        heading : str
        body : str
        """
        if self._writer:
            self._sections.append({"kind": "text", "heading": str(heading), "body": str(body)})

    def _history_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        keys = list(self.history)
        writer.writerow(["epoch", *keys])
        longest = max((len(v) for v in self.history.values()), default=0)
        for i in range(longest):
            row = [self.history[k][i] if i < len(self.history[k]) else "" for k in keys]
            writer.writerow([i + 1, *("" if v is None else v for v in row)])
        return buffer.getvalue()

    def _section_html(self, section: dict) -> str:
        if section["kind"] == "figure":
            caption = (
                f"<figcaption>{html.escape(section['caption'])}</figcaption>" if section["caption"] else ""
            )
            return (
                f'<section class="card" id="figure-{html.escape(section["name"])}">'
                f"<h2>{html.escape(_humanize(section['name']))}</h2><figure>"
                f'<img src="data:image/png;base64,{section["png"]}" alt="{html.escape(section["name"])}">'
                f"{caption}</figure></section>"
            )
        if section["kind"] == "table":
            caption = (
                f'<p class="caption">{html.escape(section["caption"])}</p>' if section["caption"] else ""
            )
            return (
                f'<section class="card" id="table-{html.escape(section["name"])}">'
                f"<h2>{html.escape(_humanize(section['name']))}</h2>{caption}{section['html']}</section>"
            )
        heading = html.escape(section["heading"])
        if section["kind"] == "failed":
            return (
                f'<section class="card failed"><h2>{heading}: not drawn</h2><p>This part of the report '
                f"failed and was left out; the model and the other results are unaffected.</p>"
                f"<pre>{html.escape(section['body'])}</pre></section>"
            )
        return f'<section class="card"><h2>{heading}</h2>{_paragraphs(section["body"])}</section>'

    def _html(self) -> str:
        parts = [
            '<header><div class="eyebrow">deepzoo run report</div>',
            f"<h1>{html.escape(self.title)}</h1>",
            f'<p class="lead">{html.escape(self.description)}</p>' if self.description else "",
            "</header>",
            _cards_html(headline_metrics(self.metrics)),
        ]
        # consecutive figures share a responsive two-column grid; tables and text span the page
        figures: list[str] = []
        for section in self._sections:
            if section["kind"] == "figure":
                figures.append(self._section_html(section))
                continue
            if figures:
                parts.append(f'<div class="grid">{"".join(figures)}</div>')
                figures = []
            parts.append(self._section_html(section))
        if figures:
            parts.append(f'<div class="grid">{"".join(figures)}</div>')
        if self.metrics:
            rows = [[k, v] for k, v in self.metrics.items()]
            parts.append(
                '<section class="card"><details><summary>All metrics</summary>'
                f"{_table_html(['metric', 'value'], rows)}</details></section>"
            )
        config = html.escape(json.dumps(self.config, indent=2, ensure_ascii=False))
        parts.append(
            f"<footer>Made with deepzoo {html.escape(_version())} on {html.escape(_now())}. "
            "Files beside this page: config.json, metrics.json, history.csv, figures/, tables/."
            f"<details><summary>Configuration</summary><pre>{config}</pre></details></footer>"
        )
        return _page(self.title, "\n".join(p for p in parts if p))

    def write(self) -> Path:
        """Write ``metrics.json``, ``history.csv`` and ``report.html``; safe to call again.

        Returns
        -------
        out_dir : Path
            The run folder.
        """
        if self._writer:
            self._write("config.json", json.dumps(self.config, indent=2, allow_nan=False) + "\n")
            self._write("metrics.json", json.dumps(self.metrics, indent=2, allow_nan=False) + "\n")
            self._write("history.csv", self._history_csv())
            self._write("report.html", self._html())
        return self.out_dir


# -- the index of several runs ----------------------------------------------------------------------


def write_index(out_dir, entries: list[dict], title: str = "deepzoo tour") -> Path:
    """Write ``index.html`` linking the report of each run, with its headline metrics and time.

    Parameters
    ----------
    out_dir : str or path
        Folder of the index; report links are relative to it.
    entries : list of dict
        One per run, with ``name``, ``report`` (path of its report.html relative to ``out_dir``;
        default ``<name>/report.html``), and optionally ``title``, ``family``, ``metrics`` (dict)
        and ``seconds``.
    title : str, default='deepzoo tour'

    Returns
    -------
    path : Path
        ``out_dir/index.html`` (written by the main process only).

    Examples
    --------
    >>> import tempfile
    >>> from deepzoo.report import write_index
    >>> entries = [{"name": "iris", "metrics": {"accuracy": 0.97}, "seconds": 1.5}]
    >>> write_index(tempfile.mkdtemp(), entries).name
    'index.html'
    """
    out_dir = Path(out_dir)
    path = out_dir / "index.html"
    if not distributed.is_main_process():
        return path
    total = sum(float(e.get("seconds") or 0) for e in entries)
    cards = []
    for entry in entries:
        name = str(entry.get("name", ""))
        link = str(entry.get("report") or f"{name}/report.html")
        href = quote(link.replace(os.sep, "/"), safe="/._-~#")
        metrics = to_jsonable(entry.get("metrics") or {})
        shown = headline_metrics(metrics, limit=3, skip={"fit_seconds", "run_seconds", "epochs"})
        seconds = entry.get("seconds")
        badges = "".join(
            f'<span class="badge">{html.escape(str(b))}</span>' for b in (entry.get("family"), name) if b
        )
        timing = _card_value("seconds", float(seconds)) if _is_number(seconds) else ""
        cards.append(
            f'<section class="card run"><div>{badges}<span class="muted">{html.escape(timing)}'
            f'</span></div><h2><a href="{html.escape(href)}">{html.escape(str(entry.get("title") or name))}'
            f"</a></h2>{_cards_html(shown)}</section>"
        )
    body = (
        '<header><div class="eyebrow">deepzoo</div>'
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="lead">{len(entries)} run{"s" if len(entries) != 1 else ""}'
        + (f" in {_card_value('seconds', total)}" if total else "")
        + ". Each card opens the run's report.</p></header>"
        f'<div class="runs">{"".join(cards)}</div>'
        f"<footer>Made with deepzoo {html.escape(_version())} on {html.escape(_now())}.</footer>"
    )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, _page(title, body))
    except OSError as exc:
        raise _cannot_write(out_dir, exc) from exc
    return path


# -- the pieces of a page, for pages made elsewhere (deepzoo compare) ---------------------------------


def html_page(title: str, body: str) -> str:
    """A self-contained page (the report's inline CSS) around ``body``."""
    return _page(title, body)


def html_table(columns: list[str], rows: list[list], *, marks: Mapping | None = None) -> str:
    """The report's table; ``marks`` maps (row, column) to ``best`` or ``differs`` to highlight a cell."""
    return _table_html(columns, rows, marks=marks)


def write_file(path, data: bytes | str) -> Path:
    """Write ``path`` atomically (a temporary name in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, data)
    return path
