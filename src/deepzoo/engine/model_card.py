"""Model cards: what a saved model predicts, from which data, how well, for whom, and its checksums.

:func:`deepzoo.save` writes ``MODEL_CARD.md`` (for people) and ``card.json`` (for programs such as
the server's ``/metadata``) into every model folder. The sha256 of each weights file is recorded in
``deepzoo.json`` and shown in the card; :func:`deepzoo.load` refuses a folder whose files no longer
match.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

__all__ = ["CARD_FIELDS", "describe_inputs", "file_sha256", "model_card_markdown", "read_card"]

# what a caller may pass to save(..., card={...}); every field is optional
CARD_FIELDS = {
    "title": "One line: what the model is.",
    "predicts": "What the model predicts, in words (e.g. 'the probability that a customer leaves').",
    "target": "Name of the label column.",
    "data": "The training data and its provenance (source, licence, size).",
    "metrics": "A dict of evaluation figures (say on which split).",
    "fairness": "A deepzoo.audit.FairnessReport, or Markdown text, of scores by group.",
    "intended_use": "Who should use it, for what.",
    "limitations": "Where it must not be trusted.",
    "task_kind": "The deepzoo fit kind that trained it (table, series, ratings, ...: deepzoo.tasks.kinds).",
    "input_kind": "What the server takes ('rows', 'text', 'image', 'windows', 'series' or 'pairs'); "
    "by default the model's.",
}


def file_sha256(path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _final(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def input_kind(model) -> str:
    """'image' (ConvNets), 'text' (token models), 'windows' (sequences of feature vectors), else 'rows'."""
    final = _final(model)
    if getattr(final, "raw_shape_", None) is not None:
        return "image"
    try:
        tags = final.__sklearn_tags__().input_tags
    except AttributeError:
        return "rows"
    if tags.string:
        return "text"
    if getattr(tags, "three_d_array", False):
        return "windows"
    return "rows"


def describe_inputs(model) -> list[dict]:
    """The input schema: one entry per input column with its kind ('number' or 'category' with the
    categories an encoder knows), read from the fitted model; ``[]`` when the inputs are not columns
    (images, texts, windows)."""
    if input_kind(model) != "rows":
        return []
    first = model.steps[0][1] if hasattr(model, "steps") else model
    if hasattr(first, "input_schema"):  # a TableEncoder knows its columns' kinds itself
        return first.input_schema()
    names = getattr(first, "feature_names_in_", None)
    if names is None:
        n = getattr(first, "n_features_in_", None)
        if n is None:
            return []
        names = [f"x{i}" for i in range(int(n))]
    categories: dict[str, list] = {}
    for _, transformer, columns in getattr(first, "transformers_", []):
        known = getattr(transformer, "categories_", None)
        if known is None or isinstance(columns, slice) or not isinstance(columns, (list, tuple, np.ndarray)):
            continue
        for column, values in zip(columns, known):
            categories[str(column)] = [v.item() if isinstance(v, np.generic) else v for v in values]
    schema = []
    for name in names:
        name = str(name)
        if name in categories:
            schema.append({"name": name, "kind": "category", "categories": categories[name]})
        else:
            schema.append({"name": name, "kind": "number"})
    return schema


def _plain(value):
    """A JSON-ready copy of metrics (NumPy scalars become numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def card_data(model, card: dict | None, checksums: dict[str, str]) -> dict:
    """The machine-readable card (``card.json``)."""
    card = dict(card or {})
    unknown = sorted(set(card) - set(CARD_FIELDS))
    if unknown:
        raise ValueError(f"Unknown model card fields {unknown}; the card takes {', '.join(CARD_FIELDS)}.")
    final = _final(model)
    fairness = card.get("fairness")
    data = {
        "model_class": type(model).__name__,
        "estimator": type(final).__name__,
        "steps": [name for name, _ in model.steps] if hasattr(model, "steps") else None,
        "input_kind": card.get("input_kind") or input_kind(model),
        "task_kind": card.get("task_kind"),
        "inputs": describe_inputs(model),
        "classes": _plain(np.asarray(final.classes_).tolist()) if hasattr(final, "classes_") else None,
        "params": _plain({k: v for k, v in final.get_params(deep=False).items() if not callable(v)}),
        "checksums": {"algorithm": "sha256", "files": checksums},
    }
    for key in ("title", "predicts", "target", "data", "intended_use", "limitations"):
        data[key] = card.get(key)
    data["metrics"] = _plain(card.get("metrics") or {})
    if fairness is not None and hasattr(fairness, "to_dict"):
        data["fairness"] = fairness.to_dict()
        data["fairness_markdown"] = fairness.to_markdown()
    elif fairness is not None:
        data["fairness"] = None
        data["fairness_markdown"] = str(fairness)
    else:
        data["fairness"] = data["fairness_markdown"] = None
    return data


def model_card_markdown(data: dict) -> str:
    """``MODEL_CARD.md`` from :func:`card_data`'s dict."""
    title = data.get("title") or f"{data['estimator']} model"
    lines = [f"# Model card: {title}", ""]
    what = data.get("predicts") or (
        f"Classes {data['classes']}." if data.get("classes") is not None else "Numeric predictions."
    )
    lines += ["## What it predicts", "", what]
    if data.get("target"):
        lines += ["", f"Label column: `{data['target']}`."]
    if data.get("classes") is not None:
        lines += ["", f"Classes: {', '.join(map(str, data['classes']))}."]
    lines += ["", "## Model", "", f"`{data['model_class']}`"]
    if data.get("steps"):
        lines[-1] += f" with steps {' -> '.join(data['steps'])}; final estimator `{data['estimator']}`."
    lines += ["", "## Inputs", ""]
    if data["inputs"]:
        for column in data["inputs"]:
            extra = f" ({', '.join(map(str, column['categories']))})" if column["kind"] == "category" else ""
            lines.append(f"- `{column['name']}`: {column['kind']}{extra}")
    else:
        lines.append(
            {
                "image": "An image (channels, height, width) as the estimator's predict takes it.",
                "text": "Raw text, one string per sample.",
                "windows": "Windows of shape (n_timesteps, n_features) per sample.",
                "series": "The recent rows of the dated table (its date and value columns) and a horizon.",
                "pairs": "(user, item) pairs, under the training's column names.",
            }.get(data.get("input_kind"), "An array (see the estimator's documentation for its shape).")
        )
    lines += ["", "## Data and provenance", "", data.get("data") or "Not recorded when the model was saved."]
    lines += ["", "## Metrics", ""]
    if data["metrics"]:
        lines += ["| metric | value |", "|---|---|"]
        for key, value in data["metrics"].items():
            shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
            lines.append(f"| {key} | {shown} |")
    else:
        lines.append("Not recorded when the model was saved.")
    lines += ["", "## Fairness", ""]
    lines.append(data.get("fairness_markdown") or "No group comparison was recorded (no groups were given).")
    lines += ["", "## Intended use", "", data.get("intended_use") or "Not stated."]
    lines += ["", "## Limitations", "", data.get("limitations") or "Not stated."]
    lines += [
        "",
        "## Integrity",
        "",
        "`deepzoo.load` checks these sha256 sums and refuses files that do not match:",
        "",
    ]
    lines += [f"- `{name}`: `{digest}`" for name, digest in sorted(data["checksums"]["files"].items())]
    return "\n".join(lines) + "\n"


def read_card(folder) -> dict:
    """The ``card.json`` of a saved model folder (an empty dict for folders saved before cards)."""
    path = Path(folder) / "card.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not readable JSON ({exc}).") from exc
