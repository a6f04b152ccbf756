"""deepzoo's ConvNetSegmenter against a plain-PyTorch recipe of the same U-Net, in one run, on Penn-Fudan.

All train the same network (deepzoo's from-scratch ``unet``, channels scaled by ``--width``, the same
initial weights) on the same 120 Penn-Fudan training photos at ``--image-size`` with the same loss
(cross-entropy + soft Dice), Adam 1e-3, batch 8, random flips and scaled crops (zoom within 1 +- 0.25,
shifts up to 10%) applied to each photo and its mask together, for ``--epochs`` epochs; each is then
scored (person IoU, pixels pooled) on the 50 test photos at the same size.

* ``deepzoo``         ``ConvNetSegmenter("unet")``: photos read once into one normalised tensor; batches
                      sliced from it by ``training.fit_loop``; one affine warp per batch for images and
                      masks (``data.images.augment_with_masks``);
* ``recipe-files``    what torchvision's segmentation tutorials write: a ``Dataset`` whose
                      ``__getitem__`` opens the photo and its mask, resizes them, draws one random
                      flip/zoom/shift and applies it to both with PIL, converts and normalises; a
                      ``DataLoader(shuffle=True, num_workers=--workers)``; the usual loop;
* ``recipe-arrays``   the same per-sample transforms on photos already decoded and resized in memory
                      (what remains of the per-sample cost once decoding is gone).

They run one after the other with the same number of torch CPU threads, after one small warm-up fit
each, so that they share whatever load the machine has. Printed: seconds per epoch, photos per second,
test IoU, and each recipe's time over deepzoo's.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_segmentation.py --epochs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from deepzoo import ConvNetSegmenter
from deepzoo.cases.pedestrians import N_TEST, N_TRAIN
from deepzoo.data.registry import resolve
from deepzoo.data.segmentation import list_segmentation_folder, load_segmentation_folder, read_mask
from deepzoo.models.vision.convnet import pixel_statistics
from deepzoo.models.vision.segmentation import build_unet

AUGMENT = {"flip": True, "scale": 0.25, "shift": 0.1}
BATCH, LEARNING_RATE = 8, 1e-3


def random_pair(image, mask, size, rng):
    """One photo (PIL) and its mask (PIL) resized to ``size`` and moved by one random flip, zoom and shift
    (the same for both, bilinear for the photo, nearest for the mask), as joint transforms do."""
    from PIL import Image

    height, width = size
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    mask = mask.resize((width, height), Image.Resampling.NEAREST)
    if rng.random() < 0.5:
        image, mask = (
            image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        )
    zoom = rng.uniform(1 - AUGMENT["scale"], 1 + AUGMENT["scale"])
    tx, ty = rng.uniform(-AUGMENT["shift"], AUGMENT["shift"], 2) * (width, height)
    cx, cy = width / 2, height / 2  # PIL maps each output pixel back to its input position
    data = (1 / zoom, 0, cx - cx / zoom - tx, 0, 1 / zoom, cy - cy / zoom - ty)
    image = image.transform((width, height), Image.Transform.AFFINE, data, Image.Resampling.BILINEAR)
    mask = mask.transform((width, height), Image.Transform.AFFINE, data, Image.Resampling.NEAREST)
    return image, mask


class PedestrianFiles(torch.utils.data.Dataset):
    """One photo and mask decoded from disk per item, resized, augmented, converted and normalised."""

    def __init__(self, pairs, size, mean, std, seed=0):
        self.pairs, self.size, self.seed = pairs, size, seed
        self.mean, self.std = torch.tensor(mean)[:, None, None], torch.tensor(std)[:, None, None]
        self.calls = 0

    def __len__(self):
        return len(self.pairs)

    def load(self, i):
        from PIL import Image

        image_path, mask_path = self.pairs[i]
        return Image.open(image_path).convert("RGB"), Image.fromarray(
            (read_mask(mask_path) > 0).astype(np.uint8)
        )

    def __getitem__(self, i):
        self.calls += 1
        rng = np.random.default_rng((self.seed, i, self.calls))
        image, mask = random_pair(*self.load(i), self.size, rng)
        x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
        return (x - self.mean) / self.std, torch.from_numpy(np.asarray(mask, dtype=np.int64))


class PedestrianArrays(PedestrianFiles):
    """The same per-item transforms on photos and masks already decoded and resized in memory."""

    def __init__(self, images, masks, size, mean, std, seed=0):
        super().__init__(list(range(len(images))), size, mean, std, seed)
        self.images, self.masks = images, masks

    def load(self, i):
        from PIL import Image

        return Image.fromarray(self.images[i].transpose(1, 2, 0)), Image.fromarray(self.masks[i])


def dice_ce(logits, target):
    """Cross-entropy + (1 - soft Dice averaged over the two classes), per image, averaged: deepzoo's loss."""
    proba = logits.softmax(1)
    truth = F.one_hot(target, 2).permute(0, 3, 1, 2).float()
    dice = (2 * (proba * truth).sum((2, 3)) + 1) / (proba.sum((2, 3)) + truth.sum((2, 3)) + 1)
    return F.cross_entropy(logits, target) + (1 - dice.mean(1)).mean()


def iou(pred, truth) -> float:
    pred, truth = np.asarray(pred).astype(bool), np.asarray(truth).astype(bool)
    return float((pred & truth).sum() / max((pred | truth).sum(), 1))


def recipe(dataset, X_test, Y_test, epochs, width, seed, workers, mean, std) -> tuple[float, float]:
    """The usual PyTorch loop over a per-sample DataLoader; returns (training seconds, test IoU)."""
    torch.manual_seed(seed)
    model = build_unet("unet", 3, 2, width=width)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=BATCH, shuffle=True, num_workers=workers, drop_last=len(dataset) % BATCH == 1
    )
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = dice_ce(model(xb), yb)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    model.eval()
    x = (
        torch.as_tensor(X_test, dtype=torch.float32) / 255 - torch.tensor(mean)[:, None, None]
    ) / torch.tensor(std)[:, None, None]
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + 16]).argmax(1) for i in range(0, len(x), 16)]).numpy()
    return seconds, iou(pred, Y_test)


def deepzoo_fit(X, Y, X_test, Y_test, epochs, width, seed) -> tuple[float, float]:
    seg = ConvNetSegmenter(
        "unet", width=width, augment=dict(AUGMENT), learning_rate=LEARNING_RATE, batch_size=BATCH,
        max_iter=epochs, n_iter_no_change=epochs + 1, random_state=seed,
    )  # fmt: skip
    started = time.perf_counter()
    seg.fit(X, Y)
    seconds = time.perf_counter() - started
    return seconds, iou(seg.predict(X_test), Y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--image-size", type=int, nargs=2, default=(128, 160), metavar=("HEIGHT", "WIDTH"))
    parser.add_argument("--width", type=float, default=0.5, help="U-Net channel multiplier (1.0: 32 to 512)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads for all")
    parser.add_argument("--workers", type=int, default=2, help="the recipes' DataLoader worker processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = tuple(args.image_size)
    folder = resolve("penn_fudan") / "PennFudanPed"
    pairs = list_segmentation_folder(folder, images="PNGImages", masks="PedMasks", mask_suffix="_mask")
    train, test = pairs[:N_TRAIN], pairs[N_TRAIN : N_TRAIN + N_TEST]
    X, Y, _ = load_segmentation_folder(folder, pairs=train, image_size=size)
    X_test, Y_test, _ = load_segmentation_folder(folder, pairs=test, image_size=size)
    Y, Y_test = (Y > 0).astype(np.uint8), (Y_test > 0).astype(np.uint8)
    mean, std = pixel_statistics(X)  # the recipes normalise as deepzoo does
    fits = {
        "deepzoo": lambda X, Y, epochs, seed: deepzoo_fit(X, Y, X_test, Y_test, epochs, args.width, seed),
        "recipe-files": lambda X, Y, epochs, seed: recipe(
            PedestrianFiles(train[: len(X)], size, mean, std, seed), X_test, Y_test, epochs, args.width, seed,
            args.workers, mean, std,
        ),
        "recipe-arrays": lambda X, Y, epochs, seed: recipe(
            PedestrianArrays(X, Y, size, mean, std, seed), X_test, Y_test, epochs, args.width, seed,
            args.workers, mean, std,
        ),
    }  # fmt: skip
    for fit in fits.values():  # torch's one-time start-up (oneDNN kernels, worker start) outside the timing
        fit(X[:16], Y[:16], 1, args.seed)
    results = {}
    for name, fit in fits.items():
        seconds, test_iou = fit(X, Y, args.epochs, args.seed)
        results[name] = {
            "seconds_per_epoch": seconds / args.epochs,
            "images_per_second": len(X) * args.epochs / seconds,
            "test_iou": test_iou,
        }
        print(f"{name:14s} {seconds / args.epochs:8.2f} s/epoch {len(X) * args.epochs / seconds:7.1f} img/s "
              f"person IoU {test_iou:.4f}", flush=True)  # fmt: skip
    load = os.getloadavg()
    ratios = {
        name: results[name]["seconds_per_epoch"] / results["deepzoo"]["seconds_per_epoch"] for name in fits
    }
    for name in ("recipe-files", "recipe-arrays"):
        print(f"{name} / deepzoo time ratio: {ratios[name]:.2f}x")
    print(f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    if args.json:
        summary = dict(
            results=results, ratios=ratios, args=vars(args), load_average=load,
            machine=platform.processor() or platform.machine(), cpus=os.cpu_count(), torch=torch.__version__,
        )  # fmt: skip
        with open(args.json + ".tmp", "w") as f:
            json.dump(summary, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
