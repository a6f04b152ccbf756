"""Save and load fitted models: a folder of JSON (class, parameters, fitted state) and safetensors weights.

Loading never unpickles and never imports or runs code named by the files: the class must be one of
deepzoo's registered estimators, tensors come from safetensors, and the scikit-learn steps of a saved
``Pipeline`` are read with skops' secure format, trusting only scikit-learn and NumPy types.

Layout of a saved estimator::

    model/
      deepzoo.json          {"format": "deepzoo", "version": 1, "class": "MLPClassifier",
                             "params": ..., "fitted": ...}
      weights.safetensors   module_.state_dict()

A saved Pipeline has ``deepzoo.json`` listing its steps, one sub-folder per deepzoo step and one
``<name>.skops`` file per scikit-learn step.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.pipeline import Pipeline

from .device import resolve_device

__all__ = ["load", "register", "save", "update_card"]

FORMAT_VERSION = 1
_REGISTRY: dict[str, type] = {}
# fitted attributes that are not JSON: the network lives in weights.safetensors; the optimizer is
# training state, not needed to predict
_NOT_SAVED = {"module_", "optimizer_"}


def register(cls: type) -> type:
    """Allow ``load`` to rebuild ``cls``: each model family decorates its estimators with
    ``@register`` in its own module. Saved folders name the class, not its module, so a class may move
    between modules but its name must stay unique."""
    known = _REGISTRY.get(cls.__name__)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(
            f"Two estimators are named {cls.__name__} ({known.__module__} and {cls.__module__}); saved "
            "folders name the class only, so give the new one another name."
        )
    _REGISTRY[cls.__name__] = cls
    return cls


# -- JSON encoding of parameters and fitted attributes ------------------------------------------
def _encode(value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufUO":
            raise TypeError(f"cannot save an array of dtype {value.dtype}")
        # object arrays (labels such as strings) come back as object arrays; the others keep their dtype
        if value.dtype.kind == "O":
            return {"__ndarray__": _encode(value.tolist()), "dtype": "object"}
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, torch.device):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save a value of type {type(value).__name__}")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            dtype = value.get("dtype")
            if dtype in ("object", "str"):
                return np.asarray(_decode(value["__ndarray__"]), dtype=object)
            try:
                dtype = np.dtype(dtype)
                if dtype.kind not in "biufU":
                    raise TypeError(f"dtype {dtype} is not allowed")
                return np.asarray(value["__ndarray__"], dtype=dtype)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"unexpected array in a deepzoo.json file ({exc}).") from exc
        if "__tuple__" in value:
            return tuple(_decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {_decode(k): _decode(v) for k, v in value["__dict__"]}
        raise ValueError(f"unexpected object in a deepzoo.json file: keys {sorted(value)}")
    return value


# -- atomic folder writes -------------------------------------------------------------------------
def _write_folder(path: Path, fill) -> None:
    """Call ``fill(tmp_dir)``, then move the finished folder to ``path`` (replacing an old saved model)."""
    path = Path(path).absolute()
    # replace only an earlier saved model or an empty folder: save(model, ".") must never delete a project
    replaceable = path.is_dir() and ((path / "deepzoo.json").is_file() or not any(path.iterdir()))
    if path.exists() and not replaceable:
        raise FileExistsError(
            f"{path} exists and is not a saved deepzoo model; refusing to replace it. "
            "Save into a new folder, or delete that one first."
        )
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise NotADirectoryError(
                f"Cannot write the model folder {path}: {parent} is a file, not a folder."
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:
        raise OSError(
            f"Cannot write the model folder {path}: {exc.strerror or exc}. Choose a folder you can write to."
        ) from exc
    try:
        fill(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fill_estimator(estimator, folder: Path) -> None:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if isinstance(params.get("random_state"), np.random.RandomState):
        params["random_state"] = None  # a RandomState object is not data; the fitted weights are
    fitted = {
        k: v
        for k, v in vars(estimator).items()
        if k.endswith("_") and not k.startswith("_") and k not in _NOT_SAVED
    }
    doc = {
        "format": "deepzoo",
        "version": FORMAT_VERSION,
        "class": type(estimator).__name__,
        "params": _encode(params),
        "fitted": _encode(fitted),
    }
    if hasattr(estimator, "module_"):  # a transformer such as TableEncoder is JSON alone
        state = {k: v.detach().cpu().contiguous() for k, v in estimator.module_.state_dict().items()}
        save_file(state, str(folder / "weights.safetensors"))
    (folder / "deepzoo.json").write_text(json.dumps(doc, indent=1))


def _fill_pipeline(pipeline: Pipeline, folder: Path) -> None:
    import skops.io as sio

    steps = []
    for name, step in pipeline.steps:
        if step is None or step == "passthrough":
            steps.append({"name": name, "kind": "passthrough"})
        elif type(step).__name__ in _REGISTRY and isinstance(step, _REGISTRY[type(step).__name__]):
            (folder / name).mkdir()
            _fill_estimator(step, folder / name)
            steps.append({"name": name, "kind": "deepzoo"})
        else:
            sio.dump(step, folder / f"{name}.skops")
            steps.append({"name": name, "kind": "skops"})
    doc = {"format": "deepzoo", "version": FORMAT_VERSION, "class": "Pipeline", "steps": steps}
    (folder / "deepzoo.json").write_text(json.dumps(doc, indent=1))


def _write_card(estimator, folder: Path, card: dict | None, checksums: dict, write) -> None:
    """card.json and MODEL_CARD.md of ``estimator`` with ``card``'s fields, through ``write(path, text)``."""
    from .model_card import card_data, model_card_markdown

    data = card_data(estimator, card, checksums)
    write(folder / "card.json", json.dumps(data, indent=1))
    text = model_card_markdown(data)
    own = getattr(estimator, "_model_card", None)  # an estimator may add its own details
    if own is not None:
        text += "\n## Details from the estimator\n\n" + own()
    write(folder / "MODEL_CARD.md", text)


def _add_card(estimator, folder: Path, card: dict | None) -> None:
    """Record the sha256 of every weights file in deepzoo.json; write MODEL_CARD.md and card.json."""
    from .model_card import file_sha256

    # the weights, and the JSON state of steps without weights (a TableEncoder's medians and categories)
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and (p.suffix in (".safetensors", ".skops") or (p.name == "deepzoo.json" and p.parent != folder))
    )
    checksums = {p.relative_to(folder).as_posix(): file_sha256(p) for p in files}
    doc = json.loads((folder / "deepzoo.json").read_text())
    doc["checksums"] = checksums
    (folder / "deepzoo.json").write_text(json.dumps(doc, indent=1))
    _write_card(estimator, folder, card, checksums, lambda path, text: path.write_text(text))


def update_card(estimator, path, *, card: dict) -> Path:
    """Rewrite the model card of the model ``estimator`` saved in ``path`` (e.g. with figures computed
    after it was saved: cross-validation, fairness), leaving its weights untouched. Each file is
    written to a temporary name and renamed.

    Parameters
    ----------
    estimator : the fitted estimator or Pipeline that :func:`save` wrote to ``path``
    path : str or Path
    card : dict
        The card's fields, as for :func:`save`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import make_classification
    >>> from deepzoo import MLPClassifier, save
    >>> from deepzoo.engine.persistence import update_card
    >>> X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    >>> folder = save(clf, pathlib.Path(tempfile.mkdtemp()) / "m", card={"predicts": "y"})
    >>> folder = update_card(clf, folder, card={"metrics": {"cv_accuracy": 0.9}})
    >>> "cv_accuracy" in (folder / "MODEL_CARD.md").read_text()
    True
    """
    folder = Path(path)
    doc = _read_doc(folder)
    checksums = doc.get("checksums", {})

    def write(target: Path, text: str) -> None:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    _write_card(estimator, folder, card, checksums, write)
    return folder


def save(estimator, path, *, card: dict | None = None) -> Path:
    """Save a fitted deepzoo estimator, or a fitted Pipeline ending in one, to the folder ``path``.

    The folder is written under a temporary name and renamed when complete. It always holds a
    ``MODEL_CARD.md`` (and ``card.json``) and the sha256 of its weights files, which ``load`` checks.

    Parameters
    ----------
    estimator : fitted deepzoo estimator or Pipeline
    path : str or Path
        The model folder (replaced if it holds an earlier saved model).
    card : dict, optional
        What the card should say beyond what the model itself tells: the keys of
        :data:`deepzoo.engine.model_card.CARD_FIELDS` (title, predicts, target, data, metrics, fairness,
        intended_use, limitations).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import make_classification
    >>> from deepzoo import MLPClassifier, load, save
    >>> X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    >>> folder = save(clf, pathlib.Path(tempfile.mkdtemp()) / "m", card={"predicts": "y"})
    >>> (folder / "MODEL_CARD.md").is_file()
    True
    """
    path = Path(path)
    if card is not None and not isinstance(card, dict):
        raise TypeError(f"card must be a dict of model card fields; got {type(card).__name__}.")
    if isinstance(estimator, Pipeline):
        fill = _fill_pipeline
    elif type(estimator).__name__ in _REGISTRY:
        fill = _fill_estimator
    else:
        raise TypeError(
            f"deepzoo.save takes a fitted deepzoo estimator or a Pipeline; got {type(estimator).__name__}."
        )

    def fill_and_card(folder):
        fill(estimator, folder)
        _add_card(estimator, folder, card)

    _write_folder(path, fill_and_card)
    return path


def _verify_checksums(folder: Path, doc: dict) -> None:
    """Refuse a folder whose weights files differ from the sha256 recorded by ``save``."""
    from .model_card import file_sha256

    recorded = doc.get("checksums")
    if recorded is None:
        return  # saved before checksums existed
    if not isinstance(recorded, dict):
        raise ValueError(f"{folder / 'deepzoo.json'} has unreadable checksums; the model folder is damaged.")
    for name, expected in recorded.items():
        file = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ValueError(f"{folder / 'deepzoo.json'} names an unsafe file {name!r}; refusing to load.")
        if not file.is_file():
            raise ValueError(f"{file} is missing from the saved model; refusing to load an incomplete model.")
        actual = file_sha256(file)
        if actual != expected:
            raise ValueError(
                f"{file} does not match the sha256 recorded when the model was saved (expected "
                f"{str(expected)[:12]}..., found {actual[:12]}...): the file was changed or damaged; "
                "refusing to load it. Restore the folder or save the model again."
            )


# -- loading ----------------------------------------------------------------------------------
def _read_doc(folder: Path) -> dict:
    meta = folder / "deepzoo.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{folder} is not a saved deepzoo model: {meta.name} is missing.")
    try:
        doc = json.loads(meta.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{meta} is not valid JSON ({exc}); the model folder is damaged.") from exc
    if not isinstance(doc, dict) or doc.get("format") != "deepzoo":
        raise ValueError(f"{meta} is not a deepzoo model description.")
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta} has format version {doc.get('version')}; this deepzoo reads {FORMAT_VERSION}."
        )
    return doc


def _load_estimator(folder: Path, doc: dict, device):
    meta = folder / "deepzoo.json"
    name = doc.get("class")
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"{meta} names the class {name!r}, which is not a deepzoo estimator; "
            f"refusing to load it. Known: {sorted(_REGISTRY)}."
        )
    cls = _REGISTRY[name]
    params = _decode(doc.get("params", {}))
    if not isinstance(params, dict) or not set(params) <= set(cls().get_params(deep=False)):
        raise ValueError(f"{meta} holds parameters that {name} does not have.")
    estimator = cls(**params)
    if hasattr(estimator, "_check_params"):  # the checks of fit: a hand-edited value is refused here
        estimator._check_params()
    fitted = _decode(doc.get("fitted", {}))
    allowed = getattr(cls, "_fitted_attributes", None)
    if not isinstance(fitted, dict):
        raise ValueError(f"{meta} has no readable fitted state.")
    for key, value in fitted.items():
        if allowed is not None:
            expected = key in allowed
        else:  # an estimator without a list: any public fitted-looking name but the network's
            expected = isinstance(key, str) and key.endswith("_") and not key.startswith("_")
            expected = expected and key not in _NOT_SAVED
        if not expected:
            raise ValueError(f"{meta} holds an unexpected attribute {key!r}; refusing to load it.")
        setattr(estimator, key, value)
    if not hasattr(estimator, "_build_module"):  # no network: the JSON state is the whole model
        return estimator
    try:
        state = load_file(str(folder / "weights.safetensors"), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(
            f"{folder / 'weights.safetensors'} is not a readable safetensors file ({exc}); refusing to load."
        ) from exc
    try:
        module = estimator._build_module()
        module.load_state_dict(state)
    except (AttributeError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(
            f"The weights or fitted state in {folder} do not fit {name}'s network: {exc}"
        ) from exc
    try:
        target = resolve_device(estimator.device if device is None else device)
    except ValueError as exc:  # e.g. saved with device='cuda', loaded on a machine without a GPU
        raise ValueError(
            f"{exc} To load the model elsewhere, pass deepzoo.load(path, device='cpu')."
        ) from exc
    estimator.module_ = module.to(target).eval()
    estimator.optimizer_ = None
    return estimator


def _is_trusted_type(name: str) -> bool:
    """A type that skops does not trust by default but a scikit-learn step may hold: a scikit-learn
    class or a NumPy ufunc, dtype or scalar type. Functions such as ``builtins.eval`` or ``os.system``
    and classes from any other package are not."""
    module_name, _, attr = name.rpartition(".")
    if module_name.split(".")[0] not in ("sklearn", "numpy"):
        return False
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except Exception:  # not importable: certainly not trusted
        return False
    if module_name.split(".")[0] == "sklearn":
        return isinstance(obj, type)
    return isinstance(obj, np.ufunc) or (isinstance(obj, type) and issubclass(obj, (np.generic, np.dtype)))


def _load_skops(file: Path):
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=file)
    except Exception as exc:  # missing, not a zip, damaged schema
        raise ValueError(f"{file} is not a readable skops file ({exc}); refusing to load.") from exc
    refused = [t for t in untrusted if not _is_trusted_type(t)]
    if refused:
        raise ValueError(
            f"{file} contains types outside scikit-learn and NumPy: {refused}; refusing to load."
        )
    return sio.load(file, trusted=untrusted)


def _load_pipeline(folder: Path, doc: dict, device) -> Pipeline:
    meta = folder / "deepzoo.json"
    steps = []
    listed = doc.get("steps")
    if not isinstance(listed, list) or not listed:
        raise ValueError(f"{meta} describes a Pipeline without a list of steps.")
    for step in listed:
        if not isinstance(step, dict):
            raise ValueError(f"{meta} has a step that is not an object: {step!r}.")
        name, kind = step.get("name"), step.get("kind")
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"{meta} has an unsafe step name {name!r}.")
        if kind == "passthrough":
            steps.append((name, "passthrough"))
        elif kind == "deepzoo":
            sub = folder / name
            steps.append((name, _load_estimator(sub, _read_doc(sub), device)))
        elif kind == "skops":
            steps.append((name, _load_skops(folder / f"{name}.skops")))
        else:
            raise ValueError(f"{meta} has a step of unknown kind {kind!r}.")
    return Pipeline(steps)


def load(path, *, device=None):
    """Load a model saved with ``estimator.save(path)`` or :func:`deepzoo.save`.

    Parameters
    ----------
    path : str or Path
        The model folder.
    device : str, optional
        Where to put the network; defaults to the estimator's own ``device`` setting.

    Raises
    ------
    FileNotFoundError
        When the folder or its ``deepzoo.json`` is missing.
    ValueError
        When a file is damaged or differs from its recorded sha256, names a class that is not
        deepzoo's, or holds anything but data.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"No saved model at {folder}: expected a folder written by estimator.save().")
    doc = _read_doc(folder)
    _verify_checksums(folder, doc)
    if doc.get("class") == "Pipeline":
        return _load_pipeline(folder, doc, device)
    return _load_estimator(folder, doc, device)
