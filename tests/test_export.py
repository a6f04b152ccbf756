"""ONNX export: onnxruntime's outputs equal PyTorch's within 1e-5 (float32) for the MLP, the ConvNet
and the recurrent models; a Pipeline's StandardScaler is folded in, the steps before it stay outside."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
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
from deepzoo.export import export_onnx

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
TOL = 1e-5


def run(path, inputs: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": inputs.astype(np.float32)})


def test_mlp_classifier_matches_predict_proba(tmp_path):
    X, y = make_classification(200, 6, n_informative=4, n_classes=3, random_state=0)
    clf = MLPClassifier((16, 8), batch_norm=True, dropout=0.2, max_iter=20, random_state=0).fit(X, y)
    result = export_onnx(clf, tmp_path / "clf.onnx")
    assert result.outputs == ["logits", "probabilities"] and result.max_abs_difference <= TOL
    logits, proba = run(result.path, X[:57])  # another batch size than the export's example
    np.testing.assert_allclose(proba, clf.predict_proba(X[:57]), atol=TOL)
    np.testing.assert_allclose(logits, clf._explain_forward(clf._explain_inputs(X[:57])).detach(), atol=TOL)
    meta = {p.key: p.value for p in onnx.load(str(result.path)).metadata_props}
    assert meta["deepzoo_estimator"] == "MLPClassifier" and meta["deepzoo_classes"] == "[0, 1, 2]"


def test_mlp_regressor_two_targets(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    reg = MLPRegressor((8,), max_iter=10, random_state=0).fit(X, np.c_[X[:, 0], X[:, 1] ** 2])
    result = export_onnx(reg, tmp_path / "reg.onnx")
    (pred,) = run(result.path, X)
    np.testing.assert_allclose(pred, reg.predict(X), atol=TOL)


def test_pipeline_scaler_is_folded_in(tmp_path):
    X, y = make_classification(150, 5, random_state=1)
    X = X * [1, 10, 100, 1000, 0.1] + 50  # a scaler that matters
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=20, random_state=0)).fit(X, y)
    result = export_onnx(pipe, tmp_path / "pipe.onnx")
    assert result.folded_scaler and result.steps_outside == []
    _, proba = run(result.path, X)  # raw features in: the scaler is in the graph
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=TOL)


def test_saved_churn_like_pipeline_with_the_cli(tmp_path):
    model_dir, frame, model = saved_model(tmp_path)
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(cli.app, ["export", str(model_dir), "--format", "onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Not in the graph: the Pipeline steps encode" in result.output
    X = frame.drop(columns="Exited")
    _, proba = run(out, model[:1].transform(X))  # the encoder runs outside, the rest inside
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=TOL)
    bad = CliRunner().invoke(cli.app, ["export", str(model_dir), "--format", "tflite"])
    assert bad.exit_code != 0 and "--format must be 'onnx'; got 'tflite'" in bad.output
    missing = CliRunner().invoke(cli.app, ["export", str(tmp_path / "nothing")])
    assert missing.exit_code != 0 and "No saved model at" in missing.output


def test_convnet_matches(tmp_path):
    digits = load_digits()
    X, y = digits.images[:200].reshape(-1, 1, 8, 8) * 16, digits.target[:200]
    clf = ConvNetClassifier("small_vgg", max_iter=2, random_state=0, device="cpu").fit(X.astype(np.uint8), y)
    result = export_onnx(clf, tmp_path / "cnn.onnx")
    assert result.max_abs_difference <= TOL and result.input_shape == tuple(clf.input_shape_)
    images = X[:20].astype(np.uint8)
    _, proba = run(result.path, clf._explain_inputs(images).numpy())  # normalised images in
    np.testing.assert_allclose(proba, clf.predict_proba(images), atol=TOL)


def test_lstm_forecaster_matches(tmp_path):
    series = np.sin(np.arange(200) / 5)
    X = np.stack([series[i : i + 12] for i in range(150)])[:, :, None]
    y = series[12:162]
    model = LSTMForecaster((8,), max_iter=3, random_state=0).fit(X, y)
    result = export_onnx(model, tmp_path / "lstm.onnx", X=X[:4])
    (pred,) = run(result.path, X[:31].astype(np.float32))
    np.testing.assert_allclose(pred[:, 0], model.predict(X[:31]), atol=TOL)


@pytest.mark.parametrize("architecture", ["conv1d", "lstm", "bag"])
def test_sequence_classifier_matches_on_embeddings(tmp_path, architecture):
    texts = ["good film", "great fun film", "bad film", "awful boring film"] * 10
    clf = SequenceClassifier(architecture, max_iter=3, random_state=0).fit(texts, [1, 1, 0, 0] * 10)
    result = export_onnx(clf, tmp_path / "seq.onnx", X=texts[:4])
    _, proba = run(result.path, clf._explain_inputs(texts[:8]).numpy())  # token embeddings in
    np.testing.assert_allclose(proba, clf.predict_proba(texts[:8]), atol=TOL)


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
    np.testing.assert_allclose(pred[:, 0], forecaster.predict(windows), atol=TOL)
    _, proba = run(tmp_path / "seq.onnx", classifier._explain_inputs(texts[:6]).numpy())
    np.testing.assert_allclose(proba, classifier.predict_proba(texts[:6]), atol=TOL)


def test_segmenter_exports_with_any_height_and_width(tmp_path):
    from test_segmentation import discs

    from deepzoo import ConvNetSegmenter

    X, Y = discs(16, size=16)
    seg = ConvNetSegmenter(width=0.25, depth=2, max_iter=1, random_state=0, device="cpu").fit(X, Y)
    result = export_onnx(seg, tmp_path / "seg.onnx")
    assert result.max_abs_difference <= TOL and result.outputs == ["logits", "probabilities"]
    other, _ = discs(3, size=24)  # the graph takes any multiple of the network's 4, not only 16
    _, proba = run(result.path, seg._explain_inputs(other).numpy())
    np.testing.assert_allclose(proba, seg.predict_proba(other), atol=TOL)
