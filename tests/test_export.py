"""ONNX export: onnxruntime's outputs equal PyTorch's to float32 rounding for the MLP, the ConvNet and
the recurrent models; a Pipeline's StandardScaler is folded in, the steps before it stay outside; a graph
that differs from the network (a changed weight, a missing scaler) is refused."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from float32 import assert_float32_close
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tabular_model import saved_model
from typer.testing import CliRunner

from deepzoo import (
    ConvNetClassifier,
    LSTMForecaster,
    MLPClassifier,
    MLPRegressor,
    SequenceClassifier,
    cli,
)
from deepzoo.serving import export as export_module
from deepzoo.serving.export import RELATIVE_TOLERANCE, export_onnx

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def run(path, inputs: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": inputs.astype(np.float32)})


def test_mlp_classifier_matches_predict_proba(tmp_path):
    X, y = make_classification(200, 6, n_informative=4, n_classes=3, random_state=0)
    clf = MLPClassifier((16, 8), batch_norm=True, dropout=0.2, max_iter=20, random_state=0).fit(X, y)
    result = export_onnx(clf, tmp_path / "clf.onnx")
    assert result.outputs == ["logits", "probabilities"]
    assert result.max_abs_difference <= min(result.tolerances.values())
    assert set(result.tolerances) == {"logits", "probabilities"}
    logits, proba = run(result.path, X[:57])  # another batch size than the export's example
    assert_float32_close(proba, clf.predict_proba(X[:57]))
    assert_float32_close(logits, clf._explain_forward(clf._explain_inputs(X[:57])).detach())
    meta = {p.key: p.value for p in onnx.load(str(result.path)).metadata_props}
    assert meta["deepzoo_estimator"] == "MLPClassifier" and meta["deepzoo_classes"] == "[0, 1, 2]"


def test_mlp_regressor_two_targets(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    reg = MLPRegressor((8,), max_iter=10, random_state=0).fit(X, np.c_[X[:, 0], X[:, 1] ** 2])
    result = export_onnx(reg, tmp_path / "reg.onnx")
    (pred,) = run(result.path, X)
    assert_float32_close(pred, reg.predict(X))


def test_pipeline_scaler_is_folded_in(tmp_path):
    X, y = make_classification(150, 5, random_state=1)
    X = X * [1, 10, 100, 1000, 0.1] + 50  # a scaler that matters
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=20, random_state=0)).fit(X, y)
    result = export_onnx(pipe, tmp_path / "pipe.onnx")
    assert result.folded_scaler and result.steps_outside == []
    X32 = X.astype(np.float32)  # raw features in, as float32: the scaler is in the graph
    logits, proba = run(result.path, X32)
    # the graph scales in float32; the same float32 scaling fed to the network in torch leaves only
    # the two runtimes' kernels between them
    mean, scale = pipe[0].mean_.astype(np.float32), pipe[0].scale_.astype(np.float32)
    scaled = torch.as_tensor((X32 - mean) / scale)
    assert_float32_close(logits, pipe[-1]._explain_forward(scaled).detach())
    # scikit-learn scales in float64: the float32 rounding of the raw features and of the mean shows
    # too, 2^-24 * 50 / 0.1 = 3e-5 in scaled units for the last feature (~50 with scale ~0.1); each
    # probability moves by at most a quarter of that times the network's gain, well within 1e-4
    assert_float32_close(proba, pipe.predict_proba(X), rel=1e-4)


def test_example_is_drawn_like_the_scaled_data_and_large_outputs_are_allowed_their_rounding(tmp_path):
    X, y = make_classification(150, 5, random_state=1)
    X = X * [1, 10, 100, 1000, 0.1] + 50
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=20, random_state=0)).fit(X, y)
    seen = []
    real = export_module._check
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            export_module,
            "_check",
            lambda file, w, example, o: seen.append(example) or real(file, w, example, o),
        )
        export_onnx(pipe, tmp_path / "pipe.onnx")
    scaled = (seen[0].numpy() - pipe[0].mean_) / pipe[0].scale_
    assert np.abs(scaled).max() < 5  # mean + scale * N(0, 1): inputs like the training data
    # N(0, 1) raw features are ~500 standard deviations away (the 0.1-scaled one): logits of ~90, where
    # float32 rounds at ~1e-5 and two runtimes differ by about that (issue 14); the check allows it by size
    far = np.random.default_rng(0).normal(size=(4, 5))
    result = export_onnx(pipe, tmp_path / "far.onnx", X=far)
    logits, _ = run(result.path, far)
    assert np.abs(logits).max() > 10
    assert result.tolerances["logits"] >= RELATIVE_TOLERANCE * np.abs(logits).max() * 0.99
    assert result.tolerances["probabilities"] == pytest.approx(RELATIVE_TOLERANCE)


def test_the_float64_reference_restores_the_weights_and_may_be_missing(tmp_path, monkeypatch):
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    before = {k: v.clone() for k, v in clf.module_.state_dict().items()}
    references = []
    real = export_module._float64_outputs
    monkeypatch.setattr(
        export_module, "_float64_outputs", lambda *a: references.append(real(*a)) or references[-1]
    )
    export_onnx(clf, tmp_path / "a.onnx")
    # a network that runs in float32 only (here: it casts its input): the check keeps its relative part
    forward = clf._explain_forward
    monkeypatch.setattr(clf, "_explain_forward", lambda x: forward(x.float()))
    result = export_onnx(clf, tmp_path / "b.onnx")
    assert references[0] is not None and references[1] is None
    assert result.max_abs_difference <= min(result.tolerances.values())
    after = clf.module_.state_dict()  # float32 -> float64 -> float32, exactly as before, both times
    assert all(after[k].dtype == v.dtype and torch.equal(after[k], v) for k, v in before.items())


def _tamper(monkeypatch, change) -> None:
    """Make export_onnx write a graph that differs from the network: ``change`` edits its initialisers
    (after export, before the onnxruntime check)."""
    from onnx import numpy_helper

    real = export_module._add_metadata

    def tampered(file, *args):
        real(file, *args)
        graph = onnx.load(str(file))
        arrays = {i.name: numpy_helper.to_array(i).copy() for i in graph.graph.initializer}
        change(arrays)
        for i in graph.graph.initializer:
            i.CopyFrom(numpy_helper.from_array(arrays[i.name], i.name))
        onnx.save(graph, str(file))

    monkeypatch.setattr(export_module, "_add_metadata", tampered)


def test_a_changed_weight_is_refused(tmp_path, monkeypatch):
    model_dir, frame, model = saved_model(tmp_path)

    def nudge(arrays):  # one weight of the output layer, 1e-3 relative
        name = [k for k in arrays if k.endswith("weight")][-1]
        w = arrays[name]
        w.flat[np.abs(w).argmax()] *= 1 + 1e-3

    _tamper(monkeypatch, nudge)
    with pytest.raises(ValueError, match=r"onnxruntime's logits differ from PyTorch's by .* not faithful"):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists() and not list(tmp_path.glob(".m.onnx*"))


def test_a_missing_scaler_is_refused(tmp_path, monkeypatch):
    X, y = make_classification(150, 5, random_state=1)
    X = X * [1, 1, 1, 1, 3] + 2  # a mild scaler: missing it still changes every output
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=20, random_state=0)).fit(X, y)

    def drop_scaler(arrays):
        arrays["mean"][:] = 0.0
        arrays["scale"][:] = 1.0

    _tamper(monkeypatch, drop_scaler)
    with pytest.raises(ValueError, match="not faithful"):
        export_onnx(pipe, tmp_path / "pipe.onnx")
    assert not (tmp_path / "pipe.onnx").exists()


def test_saved_churn_like_pipeline_with_the_cli(tmp_path):
    model_dir, frame, model = saved_model(tmp_path)
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(cli.app, ["export", str(model_dir), "--format", "onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Not in the graph: the Pipeline steps encode" in result.output
    assert "allowed by float32 rounding: logits " in " ".join(result.output.split())
    X = frame.drop(columns="Exited")
    _, proba = run(out, model[:1].transform(X))  # the encoder runs outside, the rest inside
    assert_float32_close(proba, model.predict_proba(X))
    bad = CliRunner().invoke(cli.app, ["export", str(model_dir), "--format", "tflite"])
    assert bad.exit_code != 0 and "--format must be 'onnx'; got 'tflite'" in bad.output
    missing = CliRunner().invoke(cli.app, ["export", str(tmp_path / "nothing")])
    assert missing.exit_code != 0 and "No saved model at" in missing.output


def test_convnet_matches(tmp_path):
    digits = load_digits()
    X, y = digits.images[:200].reshape(-1, 1, 8, 8) * 16, digits.target[:200]
    clf = ConvNetClassifier("small_vgg", max_iter=2, random_state=0, device="cpu").fit(X.astype(np.uint8), y)
    result = export_onnx(clf, tmp_path / "cnn.onnx")
    assert result.max_abs_difference <= min(result.tolerances.values())
    assert result.input_shape == tuple(clf.input_shape_)
    images = X[:20].astype(np.uint8)
    _, proba = run(result.path, clf._explain_inputs(images).numpy())  # normalised images in
    assert_float32_close(proba, clf.predict_proba(images))


def test_lstm_forecaster_matches(tmp_path):
    series = np.sin(np.arange(200) / 5)
    X = np.stack([series[i : i + 12] for i in range(150)])[:, :, None]
    y = series[12:162]
    model = LSTMForecaster((8,), max_iter=3, random_state=0).fit(X, y)
    result = export_onnx(model, tmp_path / "lstm.onnx", X=X[:4])
    (pred,) = run(result.path, X[:31].astype(np.float32))
    assert_float32_close(pred[:, 0], model.predict(X[:31]))


@pytest.mark.parametrize("architecture", ["conv1d", "lstm", "bag"])
def test_sequence_classifier_matches_on_embeddings(tmp_path, architecture):
    texts = ["good film", "great fun film", "bad film", "awful boring film"] * 10
    clf = SequenceClassifier(architecture, max_iter=3, random_state=0).fit(texts, [1, 1, 0, 0] * 10)
    result = export_onnx(clf, tmp_path / "seq.onnx", X=texts[:4])
    _, proba = run(result.path, clf._explain_inputs(texts[:8]).numpy())  # token embeddings in
    assert_float32_close(proba, clf.predict_proba(texts[:8]))


def test_models_without_a_network_are_refused(tmp_path):
    X, y = make_classification(50, 3, n_informative=2, n_redundant=0, random_state=0)
    with pytest.raises(TypeError, match="LogisticRegression cannot be exported to ONNX"):
        export_onnx(LogisticRegression().fit(X, y), tmp_path / "lr.onnx")
    assert not (tmp_path / "lr.onnx").exists()


def test_cli_exports_saved_recurrent_models_with_any_length(tmp_path):
    import deepzoo

    series = np.sin(np.arange(200) / 5)
    X = np.stack([series[i : i + 12] for i in range(150)])[:, :, None]
    forecaster = LSTMForecaster((8,), max_iter=2, random_state=0).fit(X, series[12:162])
    texts = ["good film", "great fun film", "bad film", "awful boring film"] * 10
    classifier = SequenceClassifier("gru", max_iter=2, random_state=0).fit(texts, [1, 1, 0, 0] * 10)
    for name, model in (("lstm", forecaster), ("seq", classifier)):
        deepzoo.save(model, tmp_path / name)
        result = CliRunner().invoke(
            cli.app, ["export", str(tmp_path / name), "--out", str(tmp_path / f"{name}.onnx")]
        )
        assert result.exit_code == 0, result.output
    windows = np.stack([series[i : i + 30] for i in range(5)])[:, :, None]  # longer than trained on
    (pred,) = run(tmp_path / "lstm.onnx", windows)
    assert_float32_close(pred[:, 0], forecaster.predict(windows))
    _, proba = run(tmp_path / "seq.onnx", classifier._explain_inputs(texts[:6]).numpy())
    assert_float32_close(proba, classifier.predict_proba(texts[:6]))


def test_segmenter_exports_with_any_height_and_width(tmp_path):
    from test_segmentation import discs

    from deepzoo import ConvNetSegmenter

    X, Y = discs(16, size=16)
    seg = ConvNetSegmenter(width=0.25, depth=2, max_iter=1, random_state=0, device="cpu").fit(X, Y)
    result = export_onnx(seg, tmp_path / "seg.onnx")
    assert result.max_abs_difference <= min(result.tolerances.values())
    assert result.outputs == ["logits", "probabilities"]
    other, _ = discs(3, size=24)  # the graph takes any multiple of the network's 4, not only 16
    _, proba = run(result.path, seg._explain_inputs(other).numpy())
    assert_float32_close(proba, seg.predict_proba(other))
