"""Case study ``pedestrians``: which pixels of a street photo are a person? U-Net segmentation of Penn-Fudan.

load (170 photos of varying sizes and their instance masks; every person becomes class 1, the rest 0; the
first 120 file names train, the last 50 test) -> fit (a U-Net on an ImageNet EfficientNet-Lite0 encoder,
or from scratch, at ``image_size``, with flips, scaled crops and colour jitter moving each photo and its
mask together) -> evaluate on the 50 test photos at their own size (the predicted probabilities are
resized back) with the segmentation task's scores and baselines (:func:`deepzoo.tasks.segmentation.compare`,
what ``deepzoo fit`` shows for a folder of images and masks): a gradient-boosted classifier of each pixel's
colour and position, and the most frequent class everywhere ("all background") -> leaderboard, masks, IoU
per photo (:func:`deepzoo.tasks.segmentation.add_pictures`) -> write.

Not ``fit_into``: the road would read Penn-Fudan's instance masks (one id per person) as classes and draw
its own split; the course merges the people into one class and splits by file name.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import registry
from ..data.images import decode_image
from ..data.segmentation import list_segmentation_folder, load_segmentation_folder, read_mask
from ..engine import distributed
from ..engine.persistence import save
from ..engine.training import torch_threads
from ..models.vision.segmentation import ConvNetSegmenter
from ..report import RunReport
from ..tasks import segmentation

N_TRAIN, N_TEST = 120, 50


def _augment():
    return {"flip": True, "scale": 0.25, "shift": 0.1, "rotation": 5.0, "color": 0.2}


@dataclass
class Config:
    """Settings of the pedestrians case study; every field can be overridden from the command line."""

    data: str | None = None
    """The Penn-Fudan folder (holding PennFudanPed/); None asks the registry ($DEEPZOO_DATA_DIR/...)."""
    seed: int = 0
    """Seed of the network's new layers, the batch order and the augmentation."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (8 training and 4 test photos at 64x64, 20 epochs) for tests and smoke runs."""
    verbose: bool = False
    """Show progress bars while training."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder (same settings and seed)."""
    architecture: str = "efficientnet_lite0_unet"
    """'efficientnet_lite0_unet' (ImageNet encoder) or 'unet' (every weight from scratch)."""
    image_size: tuple = (256, 320)
    """(height, width) the network works at; the photos (311-581 x 253-1017 px) are resized to it."""
    width: float = 1.0
    """Channel multiplier of the decoder (and of the whole from-scratch U-Net)."""
    max_iter: int = 30
    """Epochs (a cosine schedule brings the learning rate to 0 at the last one)."""
    learning_rate: float = 1e-3
    """Adam's starting learning rate."""
    batch_size: int = 8
    """Photos per training step."""
    dice_weight: float = 1.0
    """Weight of the soft Dice loss beside the cross-entropy."""
    class_weight: str | None = None
    """None, or 'balanced' to weight the people's pixels (about a fifth of them) up in the cross-entropy."""
    augment: dict = field(default_factory=_augment)
    """Random changes of each training batch, the same for a photo and its mask (see ConvNetSegmenter)."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default, every core)."""


def _budget(config: Config) -> Config:
    if not config.quick:
        return config
    # 40 steps: enough to find the people (one epoch left every pixel a person, as the Dice loss pulls)
    return dataclasses.replace(config, image_size=(64, 64), max_iter=20, batch_size=4)


def load(config: Config):
    """The training photos and masks at ``image_size`` (person = 1), and the test photos and masks at
    their own sizes (lists)."""
    root = registry.resolve("penn_fudan", config.data)
    folder = root / "PennFudanPed" if (root / "PennFudanPed").is_dir() else root
    pairs = list_segmentation_folder(folder, images="PNGImages", masks="PedMasks", mask_suffix="_mask")
    if len(pairs) < N_TRAIN + N_TEST:
        raise ValueError(
            f"{folder} holds {len(pairs)} photos with masks; the Penn-Fudan split needs {N_TRAIN + N_TEST} "
            "(see the dataset's PROVENANCE.md)."
        )
    train, test = pairs[:N_TRAIN], pairs[N_TRAIN : N_TRAIN + N_TEST]  # sorted by file name: a fixed split
    if config.quick:
        train, test = train[:8], test[:4]
    X_train, Y_train, _ = load_segmentation_folder(folder, pairs=train, image_size=config.image_size)
    test_images = [decode_image(image, "RGB") for image, _ in test]
    test_masks = [(read_mask(mask) > 0).astype(np.uint8) for _, mask in test]
    return X_train, (Y_train > 0).astype(np.uint8), test_images, test_masks, [p.name for p, _ in test]


def run(config: Config, out_dir) -> dict:
    """Run the pedestrians case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Pedestrians: which pixels are a person?",
        dataclasses.asdict(config),
        description="Penn-Fudan's 170 street photos with every pedestrian outlined (Wang et al., ACCV 2007): "
        "a U-Net learns a class for each pixel, person or background, from the first 120 photos and is "
        "scored on the last 50 at their own sizes, beside deepzoo fit's baselines for segmentation: a "
        "gradient-boosted classifier of each pixel's colour and position, and the answer 'all background'.",
    )
    # load
    X_train, Y_train, test_images, test_masks, test_names = load(config)
    # the model
    pretrained = config.architecture == "efficientnet_lite0_unet"
    seg = ConvNetSegmenter(
        config.architecture,
        pretrained=pretrained,
        width=config.width,
        image_size=tuple(config.image_size),
        augment=dict(config.augment) or None,
        class_weight=config.class_weight,
        dice_weight=config.dice_weight,
        learning_rate=config.learning_rate,
        lr_schedule="cosine",
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        device=config.device,
        verbose=config.verbose,
        random_state=config.seed,
    )
    checkpoint = out_dir / "checkpoints" / "segmenter.ckpt" if distributed.is_main_process() else None
    seg.set_params(checkpoint=None if checkpoint is None else str(checkpoint), resume=config.resume)
    # fit -> evaluate
    with torch_threads(config.threads):
        load_before = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        seg.fit(X_train, Y_train)
        fit_seconds, fit_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        load_after = os.getloadavg()[0]
        seg.set_params(checkpoint=None, resume=False)  # the saved model keeps no run-folder path
        predicted = [seg.predict(image[None])[0] for image in test_images]  # each photo at its own size
    classes = np.array([0, 1])
    board, results = segmentation.compare(
        f"U-Net ({config.architecture}, deepzoo)",
        fit_seconds,
        predicted,
        X_train,
        Y_train,
        test_images,
        test_masks,
        classes,
        config.seed,
        advice="Give the U-Net more epochs or the ImageNet encoder (architecture=efficientnet_lite0_unet).",
    )
    model = results[f"U-Net ({config.architecture}, deepzoo)"]
    all_background = results["most frequent class everywhere"]  # people cover a minority of the pixels
    metrics = report.add_metrics(
        **board.metrics(),
        mean_image_iou=float(model["per_image_iou"].mean()),
        # two classes: mean_iou is the mean of the background's and the person's IoU
        baseline_background_iou=2 * all_background["mean_iou"] - all_background["iou"],
        epochs=seg.n_iter_,
    )
    board.add_to_report(
        report,
        f"The {len(test_masks)} test photos at their own sizes; IoU and Dice are the person class's and pool "
        "the pixels of all photos.",
    )
    report.add_table(
        "training",
        [
            {
                "photos": len(X_train),
                "network size": "x".join(str(v) for v in seg.input_shape_[1:]),
                "epochs": seg.n_iter_,
                "fit seconds": round(fit_seconds, 1),
                "fit CPU seconds": round(fit_cpu_seconds, 1),
                "load average before / after": f"{load_before:.1f} / {load_after:.1f}",
            }
        ],
        "The machine's load average (1 minute) says how much it was shared while the fit was timed.",
    )
    # plot
    segmentation.add_pictures(
        report, seg, test_images, test_masks, predicted, model["per_image_iou"], test_names, reference=0.8
    )
    # write
    if distributed.is_main_process():
        save(
            seg,
            out_dir / "model",
            card={
                "title": "Pedestrian segmentation (Penn-Fudan), U-Net",
                "predicts": "for each pixel of a street photo: 1 if it belongs to a person, else 0",
                "data": "Penn-Fudan Database for Pedestrian Detection and Segmentation (170 photos; "
                "research and educational use only)",
                "metrics": {k: metrics[k] for k in ("iou", "dice", "pixel_accuracy")},
                "limitations": "Trained on 120 photos of upright pedestrians in Philadelphia and Beijing "
                "streets; not for safety-critical use.",
            },
        )
    report.write()
    return metrics
