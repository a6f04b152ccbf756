"""deepzoo fit / predict on a folder of images and masks (issue 15, item 3)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_segmentation import discs
from typer.testing import CliRunner

import deepzoo
from deepzoo.cli import app
from deepzoo.data.segmentation import read_mask
from deepzoo.tasks.predict import predict_to_csv
from deepzoo.tasks.segmentation import network_size, split_pairs

runner = CliRunner()
# a small scratch U-Net that learns the discs in a few seconds on one CPU core
QUICK = {"approach": "scratch", "width": 0.25, "depth": 2, "max_iter": 12, "learning_rate": 0.01}


def write_folder(root, n=24, size=32, seed=0, start=0):
    """``images/disc<i>.png`` (RGB) and ``masks/disc<i>.png`` (0 background, 1 the disc)."""
    X, Y = discs(n, size=size, seed=seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for i, (x, y) in enumerate(zip(X, Y)):
        grey = (np.clip(x[0], 0, 1) * 255).astype(np.uint8)
        Image.fromarray(np.stack([grey] * 3, axis=-1)).save(root / "images" / f"disc{start + i:03d}.png")
        Image.fromarray(y.astype(np.uint8)).save(root / "masks" / f"disc{start + i:03d}.png")
    return root


@pytest.mark.slow
def test_fit_on_images_and_masks_reports_beside_baselines_and_predicts_masks(tmp_path):
    folder = write_folder(tmp_path / "discs")
    result = deepzoo.fit(folder, out=tmp_path / "run", settings=QUICK, seed=0)
    assert result.task == "segment"
    board = result.leaderboard
    assert sorted(board["kind"]) == ["baseline", "deep", "trivial"]
    for key in (
        "iou",
        "dice",
        "mean_iou",
        "pixel_accuracy",
        "baseline_pixel_hgb_iou",
        "baseline_majority_iou",
    ):
        assert key in result.metrics, key
    # the all-background answer finds no disc pixel: IoU 0; the network must find them
    assert result.metrics["baseline_majority_iou"] == 0
    # a boosted-trees classifier of each pixel's colour and position finds most of them (IoU ~0.9); the
    # U-Net, which sees each pixel's neighbourhood, does better by 0.02 (data and fit seeds 0-2: 0.044
    # to 0.061 better, IoU 0.95 to 0.975)
    assert result.metrics["iou"] > result.metrics["baseline_pixel_hgb_iou"] + 0.02
    assert (tmp_path / "run" / "report.html").is_file()
    assert {"masks.png", "iou_distribution.png", "leaderboard.png"} <= {
        p.name for p in (tmp_path / "run" / "figures").iterdir()
    }
    # deepzoo predict: one row per image, the masks written beside the CSV, equal to model.predict
    new = write_folder(tmp_path / "new", n=3, seed=5)
    out, n = predict_to_csv(tmp_path / "run" / "model", new / "images", tmp_path / "pred.csv")
    table = pd.read_csv(out)
    assert n == 3 and list(table.columns) == ["path", "height", "width", "prediction", "pixels_0", "pixels_1"]
    assert (table["pixels_0"] + table["pixels_1"] == 32 * 32).all()
    model = deepzoo.load(tmp_path / "run" / "model")
    for path, mask_file in zip(table["path"], table["prediction"]):
        image = np.asarray(Image.open(path).convert("RGB")).transpose(2, 0, 1)[None]
        np.testing.assert_array_equal(read_mask(mask_file), model.predict(image)[0])


@pytest.mark.slow
def test_own_train_and_test_folders_are_kept_and_detected(tmp_path):
    write_folder(tmp_path / "data" / "train", n=10)
    write_folder(tmp_path / "data" / "test", n=4, seed=1, start=100)
    train, test, how = split_pairs(tmp_path / "data")
    assert (len(train), len(test)) == (10, 4) and "own" in how
    assert all(image.parent.parent.name == "test" for image, _ in test)
    result = deepzoo.fit(tmp_path / "data", out=tmp_path / "run", settings={**QUICK, "max_iter": 1}, seed=0)
    assert result.task == "segment" and result.metrics["n_test"] == 4


def test_seeded_split_and_network_size(tmp_path):
    folder = write_folder(tmp_path / "discs", n=10, size=40)
    train, test, _ = split_pairs(folder, test_size=0.2, seed=3)
    assert len(test) == 2 and not {p for p, _ in train} & {p for p, _ in test}
    assert split_pairs(folder, test_size=0.2, seed=3)[1] == test  # the same seed, the same photos
    assert network_size(train) == (32, 32)  # 40 px rounded to the U-Net's multiple of 32


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("no_mask", r"1 image\(s\) in .*images without a mask: disc001.png"),
        ("no_image", r"1 mask\(s\) in .*masks without an image: disc001.png"),
        ("bad_size", r"The mask disc001.png is 20x20 .* but its image disc001.png is 32x32"),
        ("one_pair", r"holds 1 image with a mask; segmentation needs at least 2"),
    ],
)
def test_bad_folders_get_one_line_from_the_cli(tmp_path, breakage, message):
    folder = write_folder(tmp_path / "discs", n=4)
    if breakage == "no_mask":
        (folder / "masks" / "disc001.png").unlink()
    elif breakage == "no_image":
        (folder / "images" / "disc001.png").unlink()
    elif breakage == "bad_size":
        Image.fromarray(np.zeros((20, 20), np.uint8)).save(folder / "masks" / "disc001.png")
    else:
        for name in ("disc001", "disc002", "disc003"):
            (folder / "masks" / f"{name}.png").unlink()
            (folder / "images" / f"{name}.png").unlink()
    result = runner.invoke(app, ["fit", str(folder), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert re.search(message, " ".join(result.output.split())), result.output


def test_bad_approach_is_named(tmp_path):
    folder = write_folder(tmp_path / "discs", n=4)
    with pytest.raises(ValueError, match="--set approach must be one of auto, pretrained, scratch"):
        deepzoo.fit(folder, out=tmp_path / "run", settings={"approach": "magic"})
