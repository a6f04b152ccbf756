"""Export a fitted network to ONNX, checked with onnxruntime against PyTorch.

What is inside the graph: the estimator's differentiable network, from the tensor its
``_explain_inputs`` returns (the same contract as :mod:`deepzoo.audit.explain`) to its raw outputs,
plus a softmax for classifiers. For the MLP that tensor is the feature matrix itself; for a ConvNet it
is the normalised images (N, C, H, W); for token models the embeddings. When the model is a scikit-learn
``Pipeline`` that ends with a ``StandardScaler`` before the network, the scaler is folded into the graph
(``(x - mean) / scale``); any earlier steps (encoders, column transformers) are not: run
``pipeline[:n_outside].transform`` first. The ONNX file's metadata says which steps stay outside, and
:func:`export_onnx` returns it too.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["ExportResult", "export_onnx"]

TOLERANCE = 1e-5


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote and how well onnxruntime reproduced PyTorch."""

    path: Path
    input_shape: tuple
    outputs: list
    steps_outside: list = field(default_factory=list)
    folded_scaler: bool = False
    max_abs_difference: float = float("nan")


class _Exported(nn.Module):
    """The network with an optional folded scaler in front and a softmax behind (classifiers)."""

    def __init__(self, estimator, mean=None, scale=None, classifier=False, n_classes=None):
        super().__init__()
        self.estimator_forward = estimator._explain_forward
        self.network = estimator.module_  # registered so that its weights become initialisers
        self.classifier = classifier
        self.n_classes = n_classes
        self.register_buffer("mean", None if mean is None else torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", None if scale is None else torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor):
        if self.mean is not None:
            x = (x - self.mean) / self.scale  # (N, n_features), the folded StandardScaler
        out = self.estimator_forward(x)  # (N, n_outputs)
        if not self.classifier:
            return out
        return out, torch.softmax(out[:, : self.n_classes], dim=1)  # (N, n_outputs), (N, n_classes)


def _split(model):
    """(steps kept outside the graph, a trailing StandardScaler or None, the final estimator)."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if not isinstance(model, Pipeline):
        return [], None, model
    steps = list(model.steps[:-1])
    scaler = None
    if steps and isinstance(steps[-1][1], StandardScaler):
        scaler = steps.pop()[1]
    return steps, scaler, model.steps[-1][1]


def export_onnx(model, path, *, X=None, opset: int = 17, check: bool = True) -> ExportResult:
    """Write ``model``'s network as an ONNX file and check it with onnxruntime.

    Parameters
    ----------
    model : fitted deepzoo estimator (MLP, ConvNet, recurrent) or Pipeline ending in one
    path : str or Path
        The ``.onnx`` file, written atomically.
    X : array-like, default=None
        Example inputs as ``predict`` takes them (after the Pipeline's outside steps are applied
        internally); needed when the input shape cannot be read from the fitted model.
    opset : int, default=17
    check : bool, default=True
        Run the file with onnxruntime on the example and raise if any output differs from PyTorch's by
        more than 1e-5 (float32).

    Returns
    -------
    ExportResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import make_classification
    >>> from deepzoo import MLPClassifier
    >>> from deepzoo.export import export_onnx
    >>> X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    >>> result = export_onnx(clf, pathlib.Path(tempfile.mkdtemp()) / "clf.onnx")
    >>> result.outputs, result.max_abs_difference < 1e-5
    (['logits', 'probabilities'], True)
    """
    outside, scaler, final = _split(model)
    if not (hasattr(final, "_explain_forward") and hasattr(final, "_explain_inputs")):
        raise TypeError(
            f"{type(final).__name__} cannot be exported to ONNX: it has no torch network exposing "
            "_explain_inputs/_explain_forward (MLP, ConvNet and recurrent estimators do)."
        )
    final._check_fitted()
    example = _example(final, outside, scaler, X)
    classes = getattr(final, "classes_", None)
    wrapper = _Exported(
        final,
        mean=None if scaler is None else scaler.mean_ if scaler.with_mean else np.zeros_like(scaler.scale_),
        scale=None if scaler is None else (scaler.scale_ if scaler.with_std else np.ones_like(scaler.mean_)),
        classifier=classes is not None,
        n_classes=None if classes is None else len(classes),
    ).eval()
    device = next(final.module_.parameters()).device
    wrapper = wrapper.cpu()
    outputs = ["logits", "probabilities"] if classes is not None else ["predictions"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    example_t = torch.as_tensor(example, dtype=torch.float32)
    from .model_card import input_kind

    # sequences: any length, not only the example's
    input_axes = {0: "batch", 1: "time"} if input_kind(final) in ("windows", "text") else {0: "batch"}
    # a fully convolutional network (a segmenter) declares its own: any height and width it can take
    output_axes = getattr(final, "_onnx_dynamic_axes", {0: "batch"})
    input_axes = getattr(final, "_onnx_dynamic_axes", input_axes)
    try:
        with torch.no_grad():
            torch.onnx.export(
                wrapper,
                (example_t,),
                str(tmp),
                input_names=["input"],
                output_names=outputs,
                dynamic_axes={"input": input_axes, **{name: output_axes for name in outputs}},
                opset_version=opset,
                dynamo=False,
            )
        _add_metadata(tmp, final, outside, scaler is not None, classes)
        result = ExportResult(
            path=path,
            input_shape=tuple(example.shape[1:]),
            outputs=outputs,
            steps_outside=[name for name, _ in outside],
            folded_scaler=scaler is not None,
        )
        if check:
            result.max_abs_difference = _check(tmp, wrapper, example_t, outputs)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        final.module_.to(device)
    return result


def _example(final, outside, scaler, X) -> np.ndarray:
    """A float32 example of the graph's input: from X when given, else random values of the fitted shape."""
    if X is not None:
        for _, step in outside:
            X = step.transform(X)
        if scaler is not None:
            return np.asarray(X, dtype=np.float32)
        return final._explain_inputs(X).detach().cpu().numpy()
    from .model_card import input_kind

    kind = input_kind(final)
    shape = getattr(final, "input_shape_", None)
    n_features = getattr(final, "n_features_in_", None)
    embedding = getattr(final.module_, "embedding", None)
    if shape is None and kind == "windows" and n_features is not None:
        shape = (16, n_features)  # (T, F); the time axis is dynamic in the graph
    elif shape is None and kind == "text" and hasattr(embedding, "embedding_dim"):
        shape = (16, embedding.embedding_dim)  # (T, E) token embeddings, T dynamic
    elif shape is None and n_features is not None and type(final).__name__.startswith("MLP"):
        shape = (n_features,)
    if shape is None:
        raise ValueError(
            f"Cannot tell the input shape of {type(final).__name__}'s network; pass example rows with "
            "export_onnx(model, path, X=X[:8])."
        )
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, *tuple(shape))).astype(np.float32)


def _add_metadata(file: Path, final, outside, folded: bool, classes) -> None:
    import onnx

    graph = onnx.load(str(file))
    notes = {
        "deepzoo_estimator": type(final).__name__,
        "deepzoo_input": "the network's input tensor (see deepzoo.export); batch axis dynamic",
        "deepzoo_steps_outside_graph": json.dumps([name for name, _ in outside]),
        "deepzoo_folded_standard_scaler": json.dumps(folded),
        "deepzoo_classes": json.dumps(None if classes is None else np.asarray(classes).tolist()),
    }
    for key, value in notes.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(graph, str(file))


def _check(file: Path, wrapper: nn.Module, example: torch.Tensor, outputs: list) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": example.numpy()})
    with torch.no_grad():
        expected = wrapper(example)
    expected = expected if isinstance(expected, tuple) else (expected,)
    worst = max(float(np.max(np.abs(g - e.numpy()))) for g, e in zip(got, expected))
    if not worst <= TOLERANCE:
        raise ValueError(
            f"onnxruntime's outputs differ from PyTorch's by {worst:.2e} (> {TOLERANCE:g}); the export "
            f"of {outputs} is not faithful. Try another opset (opset=18) and report the model."
        )
    return worst
