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

# How far onnxruntime may be from PyTorch, per output, on the check's example. Both evaluate the same
# float32 graph, but with their own kernels (summation order, FMA, blocking, vectorised exp/tanh), so
# they agree to float32 rounding of the values involved, not to a fixed number: logits of ~90 (a folded
# StandardScaler feeding raw features of ~1,000) round at ~1e-5 already. The allowance is the larger of
#  * RELATIVE_TOLERANCE times the output's magnitude (max |value|, at least 1): float32 keeps ~7
#    significant digits (eps 1.2e-7); 1e-5 of the magnitude leaves ~80 rounding steps for two runtimes'
#    different kernels, and it is the former absolute 1e-5 for outputs of size <= 1 (probabilities);
#  * TORCH_ERROR_FACTOR times PyTorch's own float32 error on the example, measured against the same
#    network evaluated in float64: the graph's own rounding (cancellation, long sums) at these inputs.
#    A second correct float32 runtime lands within a small multiple of it.
# A real mismatch (a changed weight, a missing scaler) moves the outputs by far more than either.
RELATIVE_TOLERANCE = 1e-5
TORCH_ERROR_FACTOR = 4.0


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote and how well onnxruntime reproduced PyTorch."""

    path: Path
    input_shape: tuple
    outputs: list
    steps_outside: list = field(default_factory=list)
    folded_scaler: bool = False
    max_abs_difference: float = float("nan")
    tolerances: dict = field(default_factory=dict)
    """The largest difference allowed per output on the check's example (see ``RELATIVE_TOLERANCE``)."""


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
        more than float32 rounding allows: 1e-5 of the output's magnitude (at least 1), or four times
        PyTorch's own float32 error against a float64 evaluation, whichever is larger. The allowance
        used is returned in ``ExportResult.tolerances``.

    Returns
    -------
    ExportResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import make_classification
    >>> from deepzoo import MLPClassifier
    >>> from deepzoo.serving.export import export_onnx
    >>> X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    >>> result = export_onnx(clf, pathlib.Path(tempfile.mkdtemp()) / "clf.onnx")
    >>> result.outputs, result.max_abs_difference <= min(result.tolerances.values())
    (['logits', 'probabilities'], True)
    """
    outside, scaler, final = _split(model)
    if not (hasattr(final, "_explain_forward") and hasattr(final, "_explain_inputs")):
        raise TypeError(
            f"{type(final).__name__} cannot be exported to ONNX: it has no torch network exposing "
            "_explain_inputs/_explain_forward (MLP, ConvNet and recurrent estimators do)."
        )
    final._check_fitted()
    mean = scale = None
    if scaler is not None:
        mean = scaler.mean_ if scaler.with_mean else np.zeros(scaler.n_features_in_)
        scale = scaler.scale_ if scaler.with_std else np.ones(scaler.n_features_in_)
    example = _example(final, outside, mean, scale, X)
    classes = getattr(final, "classes_", None)
    wrapper = _Exported(
        final,
        mean=mean,
        scale=scale,
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
    from ..engine.model_card import input_kind

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
            result.max_abs_difference, result.tolerances = _check(tmp, wrapper, example_t, outputs)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        final.module_.to(device)
    return result


def _example(final, outside, mean, scale, X) -> np.ndarray:
    """A float32 example of the graph's input: from X when given, else random values of the fitted shape
    (with a folded scaler, drawn like the data it was fitted on: mean + scale * N(0, 1))."""
    if X is not None:
        for _, step in outside:
            X = step.transform(X)
        if mean is not None:
            return np.asarray(X, dtype=np.float32)
        return final._explain_inputs(X).detach().cpu().numpy()
    from ..engine.model_card import input_kind

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
    example = rng.normal(size=(4, *tuple(shape)))
    if mean is not None:  # raw features as the scaler saw them, not N(0, 1) of e.g. a balance in euros
        example = mean + scale * example
    return example.astype(np.float32)


def _add_metadata(file: Path, final, outside, folded: bool, classes) -> None:
    import onnx

    graph = onnx.load(str(file))
    notes = {
        "deepzoo_estimator": type(final).__name__,
        "deepzoo_input": "the network's input tensor (see deepzoo.serving.export); batch axis dynamic",
        "deepzoo_steps_outside_graph": json.dumps([name for name, _ in outside]),
        "deepzoo_folded_standard_scaler": json.dumps(folded),
        "deepzoo_classes": json.dumps(None if classes is None else np.asarray(classes).tolist()),
    }
    for key, value in notes.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(graph, str(file))


def _check(file: Path, wrapper: nn.Module, example: torch.Tensor, outputs: list) -> tuple[float, dict]:
    """(largest |onnxruntime - PyTorch| over the outputs, the allowance per output); raises past it."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": example.numpy()})
    with torch.no_grad():
        expected = wrapper(example)
    expected = [e.numpy() for e in (expected if isinstance(expected, tuple) else (expected,))]
    exact = _float64_outputs(wrapper, example)
    worst, tolerances = 0.0, {}
    for name, g, e, x in zip(outputs, got, expected, exact or [None] * len(outputs)):
        magnitude = max(1.0, float(np.max(np.abs(e))) if e.size else 1.0)
        allowed = RELATIVE_TOLERANCE * magnitude
        if x is not None:
            allowed = max(allowed, TORCH_ERROR_FACTOR * float(np.max(np.abs(e - x), initial=0.0)))
        difference = float(np.max(np.abs(g - e), initial=0.0))
        tolerances[name] = allowed
        worst = max(worst, difference)
        if not difference <= allowed:  # also refuses NaN
            raise ValueError(
                f"onnxruntime's {name} differ from PyTorch's by {difference:.2e} (> {allowed:.1e}, the "
                f"float32 rounding allowed at this scale); the export of {outputs} is not faithful. Try "
                "another opset (opset=18) and report the model."
            )
    return worst, tolerances


def _float64_outputs(wrapper: nn.Module, example: torch.Tensor) -> list | None:
    """The wrapper's outputs computed in float64 (the reference for PyTorch's own float32 error), or None
    when some module cannot run in float64. The weights go back to their exact float32 values after."""
    tensors = [t for t in (*wrapper.parameters(), *wrapper.buffers()) if t.dtype == torch.float32]
    try:
        for t in tensors:
            t.data = t.data.double()  # float32 -> float64 -> float32 is lossless
        with torch.no_grad():
            out = wrapper(example.double())
        out = out if isinstance(out, tuple) else (out,)
        return [o.double().numpy() for o in out]
    except (RuntimeError, TypeError, ValueError):  # e.g. a layer with a float32-only kernel
        return None
    finally:
        for t in tensors:
            t.data = t.data.float()
