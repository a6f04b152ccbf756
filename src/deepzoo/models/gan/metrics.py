"""How good are a generator's images? Fréchet distance on our classifier's features, and a diversity score.

**This is not Inception FID.** The features are the penultimate layer (64 units) of a small CNN that
deepzoo trains on labelled images of the same domain, e.g. MNIST digits for 28x28 drawings or
scikit-learn's 8x8 digits for 8x8 images. FD values therefore compare only between runs scored by
the same classifier (same data, settings and seed), and say nothing about Inception-based FIDs in
papers. The Fréchet distance between two Gaussians fitted to the features is

    FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2)

computed here with symmetric eigendecompositions in float64 (no complex square roots). The
diversity score is the mean pairwise feature distance of generated images over that of real ones:
about 1 when samples vary as much as real images, near 0 when they all look alike (mode collapse).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...engine.base import local_torch_seed, resolve_device, seed_from
from ...engine.training import fit_loop, predict_batches
from .estimator import check_images

__all__ = ["FeatureNet", "FrechetEvaluator", "fit_feature_classifier", "frechet_distance"]


class FeatureNet(nn.Module):
    """A small CNN classifier: (3x3 conv, ReLU, 2x2 max-pool) x 2, a 64-unit ReLU layer, a linear head."""

    def __init__(self, image_shape: tuple, n_classes: int, n_features: int = 64):
        super().__init__()
        channels, height, width = image_shape
        self.body = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * (height // 4) * (width // 4), n_features),
            nn.ReLU(),
        )
        self.head = nn.Linear(n_features, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (N, C, H, W) -> (N, n_features), the penultimate layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (N, n_classes) logits


def fit_feature_classifier(
    X,
    y,
    *,
    max_iter: int = 3,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    random_state=0,
    device="cpu",
) -> FeatureNet:
    """Train a :class:`FeatureNet` on labelled images, whose features the Fréchet distance then uses.

    Parameters
    ----------
    X : array-like of shape (n_samples, height, width) or (n_samples, channels, height, width)
        uint8 in 0-255 or float in [0, 1]; height and width at least 4.
    y : array-like of shape (n_samples,)
        Integer class labels 0 .. n_classes - 1.
    max_iter, batch_size, learning_rate : int, int, float
        Epochs, batch size and Adam's learning rate.
    random_state : int, RandomState or None, default=0
    device : str, default='cpu'

    Returns
    -------
    net : FeatureNet
        In eval mode, on ``device``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo.models.gan.metrics import fit_feature_classifier
    >>> digits = load_digits()
    >>> net = fit_feature_classifier(digits.images / 16.0, digits.target, max_iter=1)
    >>> type(net).__name__
    'FeatureNet'
    """
    images, _ = check_images(X, "fit_feature_classifier")
    labels = np.asarray(y).ravel()
    if len(labels) != len(images) or labels.dtype.kind not in "iu" or labels.min() < 0:
        raise ValueError(
            f"fit_feature_classifier expects one non-negative integer label per image; got {len(labels)} "
            f"labels of dtype {labels.dtype} for {len(images)} images."
        )
    if min(images.shape[2:]) < 4:
        raise ValueError(f"fit_feature_classifier needs images of at least 4x4; got {images.shape[2:]}.")
    device = resolve_device(device)
    seed = seed_from(random_state)
    X_t = torch.as_tensor(images, device=device)
    y_t = torch.as_tensor(labels.astype(np.int64), device=device)
    with local_torch_seed(seed, device):
        net = FeatureNet(images.shape[1:], int(labels.max()) + 1).to(device)
        fit_loop(
            net,
            lambda logits, target: F.cross_entropy(logits, target, reduction="none"),
            X_t,
            y_t,
            learning_rate=learning_rate,
            batch_size=batch_size,
            max_iter=max_iter,
            seed=seed,
            warn_on_max_iter=False,
            description="feature classifier",
        )
    return net.eval()


def _sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative rounding eigenvalues -> 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors.

    Parameters
    ----------
    features_a, features_b : array-like of shape (n_a, n_features) and (n_b, n_features)
        At least 2 rows each.

    Returns
    -------
    fd : float
        ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)``; 0 for identical sets.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.models.gan.metrics import frechet_distance
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal((500, 3))
    >>> round(frechet_distance(a, a), 6)
    0.0
    >>> round(frechet_distance(a, a + 2.0), 6)   # a shift of 2 in 3 dimensions: 3 * 2**2
    12.0
    """
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(
            "frechet_distance expects two arrays of shape (n_samples, n_features) with the same n_features "
            f"and at least 2 rows each; got {a.shape} and {b.shape}."
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("frechet_distance got NaN or infinite features.")
    return _frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def _frechet(mu_a, sigma_a, mu_b, sigma_b) -> float:
    root_a = _sqrtm_psd(np.atleast_2d(sigma_a))
    middle = np.linalg.eigvalsh(root_a @ np.atleast_2d(sigma_b) @ root_a)  # same trace root as S_a S_b
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    fd = np.sum((mu_a - mu_b) ** 2) + np.trace(np.atleast_2d(sigma_a)) + np.trace(np.atleast_2d(sigma_b))
    return float(max(fd - 2 * trace_root, 0.0))


def _mean_pairwise(features: np.ndarray) -> float:
    """Mean Euclidean distance over the distinct pairs of rows."""
    f = torch.as_tensor(features, dtype=torch.float64)
    n = len(f)
    return float(torch.cdist(f, f).sum() / max(n * (n - 1), 1))


class FrechetEvaluator:
    """Scores generated images against real ones: "FD on our classifier's features" (a :class:`FeatureNet`).

    Call it with images to get their Fréchet distance to the real images; :meth:`diversity` gives
    their mean pairwise feature distance over that of the real images. Pass it as the ``evaluator``
    of :meth:`deepzoo.GAN.fit` to record the FD after every epoch.

    Parameters
    ----------
    classifier : FeatureNet
        E.g. from :func:`fit_feature_classifier`.
    real_images : array-like of shape (n, H, W) or (n, C, H, W)
        The reference images (uint8 0-255 or float [0, 1]); their feature mean and covariance are kept.
    max_spread_samples : int, default=1000
        Real images used for the reference pairwise distance of :meth:`diversity`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo.models.gan.metrics import FrechetEvaluator, fit_feature_classifier
    >>> digits = load_digits()
    >>> X = digits.images / 16.0
    >>> evaluator = FrechetEvaluator(fit_feature_classifier(X, digits.target, max_iter=1), X)
    >>> evaluator(X) < 1e-6, round(evaluator.diversity(X[:1000]), 3)
    (True, 1.0)
    """

    def __init__(self, classifier: FeatureNet, real_images, *, max_spread_samples: int = 1000):
        self.classifier = classifier.eval()
        features = self.features(real_images)
        self.mu_, self.sigma_ = features.mean(0), np.cov(features, rowvar=False)
        self.spread_ = _mean_pairwise(features[:max_spread_samples])

    def features(self, images) -> np.ndarray:
        """Penultimate-layer features (n, 64) of images in [0, 1] or 0-255, float64."""
        x, _ = check_images(images, "FrechetEvaluator")
        device = next(self.classifier.parameters()).device
        body = _Features(self.classifier)
        return predict_batches(body, torch.as_tensor(x, device=device)).cpu().numpy().astype(np.float64)

    def __call__(self, images) -> float:
        """The Fréchet distance between ``images`` and the real images, on the classifier's features."""
        features = self.features(images)
        if len(features) < 2:
            raise ValueError("FrechetEvaluator needs at least 2 images to fit a covariance.")
        return _frechet(features.mean(0), np.cov(features, rowvar=False), self.mu_, self.sigma_)

    def diversity(self, images) -> float:
        """Mean pairwise feature distance of ``images`` over that of the real images (about 1 = as varied)."""
        return _mean_pairwise(self.features(images)) / max(self.spread_, 1e-12)

    def predict(self, images) -> np.ndarray:
        """The classifier's label for each image (e.g. which digit a generated image looks like)."""
        x, _ = check_images(images, "FrechetEvaluator")
        device = next(self.classifier.parameters()).device
        logits = predict_batches(self.classifier, torch.as_tensor(x, device=device))
        return logits.argmax(1).cpu().numpy()


class _Features(nn.Module):
    """A view of a FeatureNet whose forward is its feature layer (for predict_batches)."""

    def __init__(self, net: FeatureNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)
