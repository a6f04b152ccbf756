"""deepzoo.models.video.estimators: the ConvLSTM cell, VideoForecaster and VideoClassifier."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.utils.estimator_checks import (
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

import deepzoo
from deepzoo import VideoClassifier, VideoForecaster
from deepzoo.data.video import make_motion_clips, make_moving_digits
from deepzoo.models.video.networks import ConvLSTMCell, ForecastNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
DIGITS = load_digits().images


def _moving(n=48, n_frames=6, size=12, seed=0):
    """Tiny one-digit Moving MNIST clips (uint8): 4 frames observed, the rest to predict."""
    clips = make_moving_digits(DIGITS, n, n_frames=n_frames, frame_size=size, n_digits=1, speed=(1, 2),
                               random_state=seed)  # fmt: skip
    return clips[:, :4], clips[:, 4:]


def _forecaster(**params):
    settings = dict(hidden_layer_sizes=(8,), patch_size=2, max_iter=2, batch_size=16, random_state=0)
    return VideoForecaster(**{**settings, **params})


def _classifier(**params):
    settings = dict(architecture="small_vgg", width=0.25, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    return VideoClassifier(**{**settings, **params})


# -- the cell ---------------------------------------------------------------------------------------
def test_convlstm_cell_with_1x1_kernel_on_1x1_maps_is_an_lstm_cell():
    """Oracle: on 1x1 maps a 1x1 convolution is a dense layer, so the ConvLSTM cell must give
    torch's LSTMCell's output with the same weights (torch orders the gates i, f, g, o; ours i, f, o, g)."""
    torch.manual_seed(0)
    n_in, hidden = 3, 5
    cell, reference = ConvLSTMCell(n_in, hidden, kernel_size=1), torch.nn.LSTMCell(n_in, hidden)
    weight, bias = cell.gates.weight[:, :, 0, 0].detach(), cell.gates.bias.detach()  # (4H, in + H), (4H,)
    i, f, o, g = (slice(k * hidden, (k + 1) * hidden) for k in range(4))
    order = torch.cat([torch.arange(4 * hidden)[s] for s in (i, f, g, o)])
    with torch.no_grad():
        reference.weight_ih.copy_(weight[order, :n_in])
        reference.weight_hh.copy_(weight[order, n_in:])
        reference.bias_ih.copy_(bias[order])
        reference.bias_hh.zero_()
    x, h, c = torch.randn(4, n_in), torch.randn(4, hidden), torch.randn(4, hidden)
    ours = cell(x[:, :, None, None], (h[:, :, None, None], c[:, :, None, None]))
    theirs = reference(x, (h, c))
    for a, b in zip(ours, theirs):
        # float32 sums of 8 products and a few activations: a few rounding steps of values near 1
        torch.testing.assert_close(a[:, :, 0, 0], b, rtol=1e-5, atol=1e-6)


def test_motion_kernels_move_frames_as_a_direct_sum():
    """Oracle: out[n, k, c, y, x] = sum over (i, j) of kernel[n, k, i, j] * frame[n, c, y + i - r, x + j - r],
    zero outside the frame, by loops in NumPy; the ONNX branch (unfold) gives the same sums."""
    from unittest import mock

    from deepzoo.models.video.networks import _move

    rng = np.random.default_rng(0)
    frames, kernels = rng.random((2, 3, 6, 7)), rng.random((2, 4, 5, 5))
    padded = np.pad(frames, ((0, 0), (0, 0), (2, 2), (2, 2)))
    expected = np.zeros((2, 4, 3, 6, 7))
    for i in range(5):
        for j in range(5):
            expected += kernels[:, :, None, i, j, None, None] * padded[:, None, :, i : i + 6, j : j + 7]
    got = _move(torch.as_tensor(frames), torch.as_tensor(kernels), 5).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)  # float64 throughout: rounding only
    with mock.patch("torch.onnx.is_in_onnx_export", return_value=True):
        np.testing.assert_allclose(
            _move(torch.as_tensor(frames), torch.as_tensor(kernels), 5).numpy(), expected, rtol=1e-12
        )


def test_forecast_net_shapes_and_causality():
    torch.manual_seed(0)
    net = ForecastNet(1, (6, 4), 3, 2, n_input_frames=4, n_output_frames=3, n_motions=2, motion_size=3).eval()
    x = torch.rand(2, 7, 1, 8, 8)
    with torch.no_grad():
        out = net(x)
        assert out.shape == (2, 6, 1, 8, 8) and 0 <= out.min() and out.max() <= 1
        # frames after the observed ones are never read: the forecast comes from the drawn frames
        changed = x.clone()
        changed[:, 4:] = 1.0
        assert torch.equal(net(changed), out)
        # the prediction of frame t+1 reads frames 0..t only
        changed = x.clone()
        changed[:, 2] = 0.0
        again = net(changed)
        assert torch.equal(again[:, :2], out[:, :2]) and not torch.equal(again[:, 2:], out[:, 2:])
    assert torch.equal(net(x.mul(255).round().to(torch.uint8)), net(x.mul(255).round() / 255))


# -- VideoForecaster --------------------------------------------------------------------------------
@pytest.mark.slow  # ~5 s on the shared 2-core CPU
def test_forecaster_learns_to_beat_the_baselines():
    X, y = _moving(300, seed=0)
    X_test, y_test = _moving(60, seed=1)
    model = _forecaster(hidden_layer_sizes=(16,), max_iter=15, learning_rate=5e-3, lr_schedule="cosine")
    predicted = model.fit(X, y).predict(X_test)
    assert predicted.shape == y_test.shape and predicted.dtype == np.float32
    truth = y_test / 255.0
    model_error = ((predicted - truth) ** 2).mean()
    black, last = (truth**2).mean(), ((X_test[:, -1:] / 255.0 - truth) ** 2).mean()
    mean_observed = ((X_test.mean(1, keepdims=True) / 255.0 - truth) ** 2).mean()
    assert model_error < 0.85 * min(black, last, mean_observed)
    total = ((truth - truth.mean(0)) ** 2).sum()  # R² against each pixel's mean over the clips
    assert model.score(X_test, y_test) == pytest.approx(
        1 - ((predicted - truth) ** 2).sum() / total, rel=1e-4
    )
    assert len(model.history_["loss"]) == model.n_iter_ == 15


def test_forecaster_same_seed_clone_pickle_and_warm_start():
    X, y = _moving()
    a, b = _forecaster().fit(X, y), _forecaster().fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert clone(a).get_params() == a.get_params() and not hasattr(clone(a), "module_")
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).predict(X), a.predict(X))
    a.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert a.n_iter_ == 3 and len(a.history_["loss"]) == 3
    # floats in [0, 1] train like uint8 / 255
    c = _forecaster().fit(X / 255.0, y / 255.0)
    np.testing.assert_allclose(c.predict(X), b.predict(X), atol=1e-5)  # same numbers, float32 rounding


def test_forecaster_resumes_from_its_checkpoint(tmp_path):
    """One epoch written to a checkpoint, then a second fit that resumes from it, ends where an
    uninterrupted two-epoch fit ends (fit_loop restores weights, optimizer and batch order)."""
    X, y = _moving()
    whole = _forecaster().fit(X, y)
    checkpoint = tmp_path / "forecaster.ckpt"
    _forecaster(max_iter=1, checkpoint=checkpoint).fit(X, y)
    resumed = _forecaster(checkpoint=checkpoint, resume=True).fit(X, y)
    assert resumed.n_iter_ == 2
    np.testing.assert_array_equal(resumed.predict(X), whole.predict(X))


def test_forecaster_save_load_and_onnx(tmp_path):
    X, y = _moving()
    model = _forecaster().fit(X, y)
    loaded = deepzoo.load(model.save(tmp_path / "m") or tmp_path / "m")
    assert isinstance(loaded, VideoForecaster) and loaded.n_input_frames_ == 4
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    pytest.importorskip("onnxruntime")
    from deepzoo.serving.export import export_onnx

    result = export_onnx(model, tmp_path / "m.onnx")  # checked against torch to 1e-5
    assert result.input_shape == (4, 1, 12, 12) and result.outputs == ["predictions"]
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": (X[:5] / 255.0).astype(np.float32)})  # another batch size
    np.testing.assert_allclose(out, model.predict(X[:5]), atol=1e-5)


def test_forecaster_bad_input():
    X, y = _moving()
    expected = (
        r"expects X of shape \(n_clips, n_frames, channels, height, width\); got shape \(48, 4, 12, 12\)"
    )
    with pytest.raises(ValueError, match=expected + r"\. For grayscale clips .* X\[:, :, None\]"):
        _forecaster().fit(X[:, :, 0], y)
    with pytest.raises(ValueError, match=r"For one grayscale clip .* X\[None, :, None\]"):
        _forecaster().fit(X[0, :, 0], y)
    with pytest.raises(ValueError, match=r"looks channels-last .* X.transpose\(0, 1, 4, 2, 3\)"):
        _forecaster().fit(X.transpose(0, 1, 3, 4, 2)[:, :, :5], y)
    with pytest.raises(ValueError, match="same number of frames: clip 0 has 4 but clip 1 has 3"):
        _forecaster().fit([X[0], X[1, :3]], y[:2])
    with pytest.raises(ValueError, match="same frame size: clip 0 has 4 frames of 1x12x12 but clip 1 has"):
        _forecaster().fit([X[0], X[1, :, :, :8, :8]], y[:2])
    with pytest.raises(ValueError, match=r"floats in \[0, 1\]; X holds values from 0 to 255\. Scale them"):
        _forecaster().fit(X.astype(float), y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        _forecaster().fit(np.full(X.shape, np.nan), y)
    with pytest.raises(ValueError, match=r"frames are 12x12, not multiples of 5\. Use patch_size=4"):
        _forecaster(patch_size=5).fit(X, y)
    with pytest.raises(ValueError, match="must be odd"):
        _forecaster(kernel_size=4).fit(X, y)
    with pytest.raises(ValueError, match="'motion_size' parameter of VideoForecaster must be odd.* Use 7"):
        _forecaster(motion_size=6).fit(X, y)
    with pytest.raises(ValueError, match="different numbers of clips: 48 and 47"):
        _forecaster().fit(X, y[1:])
    with pytest.raises(ValueError, match="requires y"):
        _forecaster().fit(X, None)
    model = _forecaster().fit(X, y)
    shorter = r"clips of 3 frames but VideoForecaster was fitted to read 4; a clip shorter than the 4 frames"
    with pytest.raises(ValueError, match=shorter + " it reads cannot be forecast"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"pass the last 4 frames of each clip, X\[:, -4:\]"):
        model.predict(np.concatenate([X, y], axis=1))
    with pytest.raises(ValueError, match=r"frames of 1x8x8 .* fitted on 1x12x12"):
        model.predict(X[:, :, :, :8, :8])


# -- VideoClassifier --------------------------------------------------------------------------------
def _motion(n=160, seed=0):
    return make_motion_clips(DIGITS, n, n_frames=4, frame_size=12, speed=2, random_state=seed)


@pytest.mark.slow  # ~5 s on the shared 2-core CPU
def test_classifier_learns_the_direction_of_motion():
    X, y = _motion(800)
    X_test, y_test = _motion(200, seed=1)
    model = _classifier(width=0.5, hidden_layer_sizes=(32,), max_iter=20, learning_rate=3e-3)
    assert model.fit(X, y).score(X_test, y_test) > 0.35  # chance is 1/8; 0.49 seen


def test_classifier_contract_save_load_and_onnx(tmp_path):
    X, y = _motion()
    labels = np.asarray(["dir" + str(k) for k in y])
    a, b = _classifier().fit(X, labels), _classifier().fit(X, labels)
    proba = a.predict_proba(X)
    assert proba.shape == (len(X), 8) and np.allclose(proba.sum(1), 1)
    np.testing.assert_array_equal(proba, b.predict_proba(X))
    assert set(a.predict(X)) <= set(labels) and a.classes_.tolist() == sorted(set(labels))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).predict_proba(X), proba)
    a.save(tmp_path / "m")
    np.testing.assert_array_equal(deepzoo.load(tmp_path / "m").predict_proba(X), proba)
    a.set_params(warm_start=True, max_iter=1).fit(X, labels)
    assert a.n_iter_ == 3
    pytest.importorskip("onnxruntime")
    from deepzoo.serving.export import export_onnx

    result = export_onnx(b, tmp_path / "c.onnx")
    assert result.outputs == ["logits", "probabilities"] and result.input_shape == (4, 1, 12, 12)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "c.onnx"), providers=["CPUExecutionProvider"])
    _, probabilities = session.run(None, {"input": (X[:7] / 255.0).astype(np.float32)})  # another batch size
    np.testing.assert_allclose(probabilities, proba[:7], atol=1e-5)


def test_classifier_bad_input():
    X, y = _motion()
    with pytest.raises(
        ValueError, match=r"expects X of shape \(n_clips, n_frames, channels, height, width\)"
    ):
        _classifier().fit(X.reshape(len(X), -1), y)
    with pytest.raises(ValueError, match="same number of frames: clip 0 has 4 but clip 1 has 2"):
        _classifier().fit([X[0], X[1, :2]], y[:2])
    with pytest.raises(ValueError, match="at least 2 classes"):
        _classifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="cannot combine lr_schedule='cosine' with early_stopping=True"):
        _classifier(lr_schedule="cosine", early_stopping=True).fit(X, y)
    with pytest.raises(ValueError, match=r"'cell' parameter of VideoClassifier .* Did you mean 'lstm'\?"):
        _classifier(cell="lstn").fit(X, y)
    model = _classifier().fit(X, y)
    with pytest.raises(ValueError, match=r"frames of 1x8x8 .* fitted on 1x12x12"):
        model.predict(X[:, :, :, :8, :8])
    assert model.predict(X[:, :2]).shape == (len(X),)  # a recurrent reader takes any number of frames


@pytest.mark.parametrize("Estimator", [VideoForecaster, VideoClassifier])
def test_scikit_learn_construction_checks(Estimator):
    """The scikit-learn checks that need no 2-D data (the others feed tables, not clips)."""
    check_parameters_default_constructible(Estimator.__name__, Estimator())
    check_no_attributes_set_in_init(Estimator.__name__, Estimator())
