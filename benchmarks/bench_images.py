"""The image task's defaults against their simpler predecessors, in one run.

``photos``: the shared ``cats_and_dogs`` (first ``--n-per-class`` photos of each class of its own training
and test folders; 500 gives 1,000 training and 1,000 test photos) and ``hotdog`` (all 496 training and 499
test thumbnails of 28 px, enlarged), both at ``--image-size`` px, with ImageNet EfficientNet-Lite0:

* ``frozen head``  the backbone frozen, a new last layer on its features (the default before fine-tuning);
* ``fine-tuned``   the same, then the last blocks fine-tuned on cached activations as ``deepzoo fit`` plans
                   it (:func:`deepzoo.tasks.images.plan_fine_tune`, its estimate printed beside the seconds
                   it took).

``gray``: MNIST (the first ``--n-train`` training digits, all 10,000 test digits): LeNet-5 as
``deepzoo fit`` chooses it (width 2, augmentation, cosine schedule, ``clip(250,000 / n, 5, 30)`` epochs
or ``--epochs``) against the small residual CNN (``small_resnet``) with the same epochs.

Each pair runs one after the other on the same decoded arrays, the older model first. Printed: test
accuracy, fit seconds, and the ratios. The machine is shared: seconds are noisy, ratios less so.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_images.py --part photos --image-size 128
    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_images.py --part gray --n-train 5000 \
        --epochs 5
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

from sklearn.base import clone

from deepzoo import ConvNetClassifier
from deepzoo.data import images as image_io
from deepzoo.data.image_data import load_folder, load_idx
from deepzoo.tasks import images

warnings.filterwarnings("ignore", category=UserWarning)
DATA = Path(os.environ.get("DEEPZOO_DATA_DIR", "../shared/datasets"))


def _fit(clf, X, y, X_test, y_test) -> tuple[float, float]:
    started = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - started
    return float((clf.predict(X_test) == y_test).mean()), seconds


def photos(name: str, n_per_class: int | None, side: int, budget: float) -> None:
    data = load_folder(DATA / name, max_per_class=n_per_class)
    X = image_io.decode_files(data.X_train, "RGB", (side, side))[0]
    X_test = image_io.decode_files(data.X_test, "RGB", (side, side))[0]
    frozen, _ = images.choose_model(data, approach="pretrained", seed=0, device="cpu")
    frozen.set_params(image_size=(side, side))
    planned, why, estimates = images.plan_fine_tune(frozen, len(data.y_train), budget)
    tuned = clone(frozen).set_params(**planned)
    print(f"\n{name}: {len(X):,} training and {len(X_test):,} test photos at {side} px")
    print(f"  plan: {why}")
    acc0, s0 = _fit(frozen, X, data.y_train, X_test, data.y_test)
    print(f"  frozen head  accuracy {acc0:.4f}  fit {s0:7.1f} s  (estimated {estimates[0]:.0f} s)")
    acc1, s1 = _fit(tuned, X, data.y_train, X_test, data.y_test)
    blocks = planned["fine_tune_blocks"]
    estimate = estimates.get(blocks or 0, float("nan"))
    print(
        f"  fine-tuned   accuracy {acc1:.4f}  fit {s1:7.1f} s  (estimated {estimate:.0f} s; last {blocks} "
        f"blocks, {planned['fine_tune_iter']} epochs)"
    )
    print(f"  fine-tuned - frozen: {acc1 - acc0:+.4f} accuracy, {s1 / s0:.2f}x the seconds")


def gray(n_train: int, epochs: int | None) -> None:
    data = load_idx(DATA / "mnist")
    X, y = data.X_train[:n_train], data.y_train[:n_train]
    data = data.head(n_train)
    old, _ = images.choose_model(data, seed=0, device="cpu")  # deepzoo fit's LeNet-5
    if epochs is not None:  # a subset gets clip(250,000 / n, 5, 30) epochs: as many images seen as 60,000
        old.set_params(max_iter=epochs)
    # the small residual CNN with random shifts, crops (zoom) and rotations
    new = ConvNetClassifier(
        "small_resnet", dropout=0.1, learning_rate=3e-3, lr_schedule="cosine", batch_size=128,
        label_smoothing=0.05, max_iter=old.max_iter, augment={"shift": 0.1, "rotation": 10.0, "scale": 0.1},
        image_size=old.image_size, device="cpu", random_state=0,
    )  # fmt: skip
    print(f"\nMNIST: {len(X):,} training and {len(data.y_test):,} test digits")
    results = {}
    for label, clf in (("LeNet-5", old), ("small_resnet", new)):
        acc, seconds = _fit(clf, X, y, data.X_test, data.y_test)
        results[label] = (acc, seconds)
        print(f"  {label:13s} accuracy {acc:.4f}  fit {seconds:7.1f} s  ({clf.max_iter} epochs)")
    (a0, s0), (a1, s1) = results["LeNet-5"], results["small_resnet"]
    print(
        f"  small_resnet - LeNet-5: {a1 - a0:+.4f} accuracy, errors {(1 - a1) / (1 - a0):.2f}x, "
        f"{s1 / s0:.2f}x the seconds"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("photos", "gray", "all"), default="all")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument(
        "--n-per-class", type=int, default=500, help="cats_and_dogs photos per class and split"
    )
    parser.add_argument("--budget", type=float, default=images.FINE_TUNE_SECONDS)
    parser.add_argument("--n-train", type=int, default=60_000, help="MNIST training digits")
    parser.add_argument("--epochs", type=int, default=None, help="MNIST epochs (default: deepzoo fit's)")
    parser.add_argument("--sets", default="cats_and_dogs,hotdog")
    args = parser.parse_args()
    if args.part in ("photos", "all"):
        for name in args.sets.split(","):
            photos(name, args.n_per_class if name == "cats_and_dogs" else None, args.image_size, args.budget)
    if args.part in ("gray", "all"):
        gray(args.n_train, args.epochs)


if __name__ == "__main__":
    main()
