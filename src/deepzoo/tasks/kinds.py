"""The one list of the kinds of user data ``deepzoo fit`` knows, in the order detection tries them.

Each kind is declared once, at the foot of its own module (``KIND = TaskKind(...)``: its name, the
``--task`` values it answers, its rule, how it runs and predicts, what it saves and what ``deepzoo
serve`` takes); detection, ``deepzoo fit``, ``deepzoo predict`` and ``--task`` read this list. A new
kind of data is one new module and one line here.
"""

from __future__ import annotations

import difflib

from . import clusters, images, ratings, segmentation, series, table, text
from .base import TaskKind

__all__ = ["KINDS", "TASKS", "kind_of_model", "kind_of_task", "task_help"]

# detection asks each kind in this order: folders (segmentation before images, images before text),
# then tables (ratings by column names first, then a series, text, no target, and any other table)
KINDS: tuple[TaskKind, ...] = (
    segmentation.KIND,
    images.KIND,
    ratings.KIND,
    series.KIND,
    text.KIND,
    clusters.KIND,
    table.KIND,
)

TASKS: tuple[str, ...] = ("auto", *(task for kind in KINDS for task in kind.tasks))


def check_task(task: str) -> str:
    """``task`` when it is 'auto' or a task a kind answers; else a ValueError naming the nearest."""
    if task not in TASKS:
        close = difflib.get_close_matches(str(task), TASKS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown --task {task!r}; choose one of {', '.join(TASKS)}.{hint}")
    return task


def kind_of_task(task: str) -> TaskKind:
    """The kind that runs ``task`` (e.g. 'classify' -> the table kind)."""
    check_task(task)
    return next(kind for kind in KINDS if task in kind.tasks)


def kind_of_model(model) -> TaskKind:
    """The kind whose saved models end in ``model``'s class; a model of any other class reads rows of a
    table (a scikit-learn Pipeline of the user's own, an MLP trained in Python)."""
    return next((kind for kind in KINDS if kind.saved(model)), table.KIND)


def task_help() -> str:
    """The --task help: every task and its rule."""
    rules = "; ".join(f"{'/'.join(kind.tasks)}: {kind.rule}" for kind in KINDS)
    return f"auto (the first rule that fits) or one of: {rules}."
