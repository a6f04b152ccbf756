"""Generative adversarial network for small images: a DCGAN-style ``GAN``.

The generator turns a latent vector ``z ~ N(0, I)`` into an image; the discriminator tells real
images from generated ones; each learns against the other with its own optimizer. The whole
algorithm is :meth:`GAN._train_epoch`, one screen. Around it ``fit`` adds what a user needs: input
checks, an atomic checkpoint per epoch and ``resume``, per-epoch history, and a detector of the ways
GAN training fails (a non-finite loss, a discriminator that wins outright, samples that all look alike).
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...engine.base import Interval, Options, TorchEstimator, local_torch_seed, resolve_device, seed_from
from ...engine.persistence import register
from ...engine.training import _cpu_threads_for, _fingerprint, _progress, _same_run, _save_atomic

__all__ = ["GAN", "Discriminator", "Generator"]

# the two optimizer presets: Adam as in the DCGAN paper, RMSprop as in Deep Learning Illustrated
# (Keras RMSprop: rho=0.9, eps=1e-7, gradients clipped element-wise at 1.0; the book's learning-rate
# decay of 3e-8 to 6e-8 per step changes the rate by under 0.1% in such runs and is left out)
PRESETS = {
    "adam": {"lr_d": 2e-4, "lr_g": 2e-4, "clip_value": None},
    "rmsprop": {"lr_d": 8e-4, "lr_g": 4e-4, "clip_value": 1.0},
}
# the collapse detector: how many epochs in a row a sign must last before it counts
_PATIENCE = 2
_D_WINS_G_LOSS = 5.0  # generator loss above this: the discriminator gives fakes under ~0.7%
_D_WINS_D_EXCESS = 0.05  # discriminator loss within this of the lowest value label smoothing allows
_MIN_DIVERSITY = 0.2  # samples differ by under a fifth of what real images do: mode collapse


def _base_size(side: int) -> tuple[int, int]:
    """(side of the coarsest map, number of 2x up-samplings): 28 -> (7, 2), 8 -> (2, 2), 32 -> (4, 3)."""
    base, steps = side, 0
    while base % 2 == 0 and base // 2 >= 2 and steps < 3:
        base, steps = base // 2, steps + 1
    return base, steps


class Generator(nn.Module):
    """Latent vector -> image in [-1, 1]: Linear, (ConvTranspose 2x, BatchNorm, ReLU) per step, 3x3 conv."""

    def __init__(self, latent_dim: int, image_shape: tuple, n_filters: int):
        super().__init__()
        channels, side, _ = image_shape
        base, steps = _base_size(side)
        width = n_filters * 2**steps
        self.shape = (width, base, base)
        self.project = nn.Sequential(
            nn.Linear(latent_dim, width * base * base, bias=False),
            nn.BatchNorm1d(width * base * base),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        for _ in range(steps):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(),
            ]
            width //= 2
        layers += [nn.Conv2d(width, channels, 3, padding=1), nn.Tanh()]
        self.upsample = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, *self.shape)  # (N, width, base, base)
        return self.upsample(h)  # (N, C, H, W)


class Discriminator(nn.Module):
    """Image -> one logit (real vs generated): (Conv 2x down, [BatchNorm], LeakyReLU) per step, Linear."""

    def __init__(self, image_shape: tuple, n_filters: int):
        super().__init__()
        channels, side, _ = image_shape
        base, steps = _base_size(side)
        layers: list[nn.Module] = []
        width = channels
        for i in range(steps):
            out = n_filters * 2**i
            layers.append(nn.Conv2d(width, out, 4, stride=2, padding=1, bias=i == 0))
            if i > 0:  # DCGAN: no batch norm on the layer that sees the images
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2))
            width = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width * base * base, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (N, width, base, base)
        return self.head(h.flatten(1)).squeeze(1)  # (N,)


class GANModule(nn.Module):
    """The two networks in one module, so that one state dict (and one safetensors file) holds both."""

    def __init__(self, latent_dim: int, image_shape: tuple, n_filters: int):
        super().__init__()
        self.generator = Generator(latent_dim, image_shape, n_filters)
        self.discriminator = Discriminator(image_shape, n_filters)
        # an exponential moving average of the generator's weights: what sample() uses
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator_ema(z)


def _dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.modules.batchnorm._BatchNorm):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def check_images(X, caller: str = "GAN") -> tuple[np.ndarray, int]:
    """Images as float32 (n, C, H, W) in [0, 1], and the ndim they came with (3 or 4); clear errors."""
    if isinstance(X, (list, tuple)) and X:
        shapes = [np.shape(x) for x in X]
        odd = next((i for i, s in enumerate(shapes) if s != shapes[0]), None)
        if odd is not None:
            raise ValueError(
                f"{caller} expects images of one size; got shape {shapes[0]} at index 0 and {shapes[odd]} "
                f"at index {odd}. Resize or crop them to one size first (e.g. PIL's Image.resize)."
            )
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{caller} expects numeric images (uint8 0-255 or float 0-1); got dtype {X.dtype}.")
    if X.ndim == 2 and X.shape[0] > 0 and math.isqrt(X.shape[1]) ** 2 == X.shape[1]:
        side = math.isqrt(X.shape[1])
        hint = f" For flattened {side}x{side} images use X.reshape(-1, {side}, {side})."
    elif X.ndim == 4 and X.shape[1] > 4 and X.shape[-1] <= 4:
        hint = " These look like channels-last images; pass X.transpose(0, 3, 1, 2)."
    else:
        hint = ""
    if X.ndim not in (3, 4) or (X.ndim == 4 and X.shape[1] > 4) or hint:
        raise ValueError(
            f"{caller} expects images of shape (n_samples, height, width) or (n_samples, channels, "
            f"height, width) with 1 to 4 channels; got shape {X.shape}.{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{caller} got 0 images; it needs at least 2.")
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        raise ValueError(f"{caller} got NaN or infinite pixel values; drop or repair those images first.")
    low, high = (X.min(), X.max()) if X.size else (0, 0)
    if X.dtype.kind in "iu":
        if low < 0 or high > 255:
            raise ValueError(f"{caller} expects integer pixels in 0-255; got values in [{low}, {high}].")
        scaled = X.astype(np.float32) / 255.0
    elif X.dtype.kind == "b":
        scaled = X.astype(np.float32)
    else:
        if low < -1e-6 or high > 1 + 1e-6:
            fix = " For images in [-1, 1] pass (X + 1) / 2." if low >= -1 and high <= 1 else ""
            raise ValueError(
                f"{caller} expects float pixels in [0, 1] (or uint8 0-255); got values in "
                f"[{low:.4g}, {high:.4g}].{fix}"
            )
        scaled = np.clip(X, 0, 1).astype(np.float32)
    ndim = X.ndim
    if ndim == 3:
        scaled = scaled[:, None]
    return np.ascontiguousarray(scaled), ndim


def _mean_pairwise_distance(flat: torch.Tensor) -> float:
    """Mean Euclidean distance between the distinct rows of ``flat`` (N, D)."""
    n = len(flat)
    distances = torch.cdist(flat.double(), flat.double())
    return float(distances.sum() / max(n * (n - 1), 1))


@register
class GAN(TorchEstimator):
    """DCGAN-style generative adversarial network for small images (e.g. 8x8 or 28x28 gray, 32x32 RGB).

    The layers follow the image size: the generator projects ``z`` to a small map (7x7 for 28x28,
    2x2 for 8x8, 4x4 for 32x32) and doubles it with transposed convolutions, up to three times; the
    discriminator mirrors it with strided convolutions. Square images with an even side of at least 4
    (8, 16, 28, 32, 64, ...). Samples come from an exponential moving average of the generator's
    weights (``ema_decay``), which makes them, and the FD, steadier from epoch to epoch.

    Parameters
    ----------
    latent_dim : int, default=100
        Size of the latent vector ``z``.
    n_filters : int, default=32
        Channels of the generator's last and the discriminator's first convolution; doubled per step.
    optimizer : {'adam', 'rmsprop'}, default='adam'
        'adam': Adam(lr=0.0002, betas=(0.5, 0.999)) for both networks (the DCGAN paper).
        'rmsprop': Deep Learning Illustrated's settings, RMSprop with lr 0.0008 for the discriminator,
        0.0004 for the generator, rho 0.9 and gradients clipped element-wise at 1.0.
    learning_rate : float or None, default=None
        One learning rate for both networks instead of the preset's.
    label_smoothing : float in [0, 0.5), default=0.1
        One-sided label smoothing: real images are labelled ``1 - label_smoothing`` for the discriminator.
    ema_decay : float in [0, 1), default=0.99
        Decay of the moving average of the generator's weights that :meth:`sample` uses (ramped up
        over the first steps); 0 samples from the trained generator itself.
    batch_size : int, default=64
    max_iter : int, default=25
        Epochs (passes over the images).
    n_eval_samples : int, default=500
        Images generated from one fixed latent batch after each epoch for the diversity check and the
        ``evaluator`` of :meth:`fit`.
    checkpoint : str or path, default=None
        File written atomically after every epoch; with ``resume=True`` a killed fit continues from it
        and ends where an uninterrupted one would. A larger ``max_iter`` continues a finished run.
    resume : bool, default=False
    verbose : bool, default=False
        Show a Rich progress bar with the losses per epoch.
    device : str, default='auto'
        'auto' picks CUDA when present, else CPU.
    random_state : int, RandomState or None, default=None
        Seeds the weights, the batches, the latent draws and :meth:`sample`; the global RNG is left as
        it was. Same seed, same device: same result.

    Attributes
    ----------
    module_ : GANModule
        ``module_.generator``, ``module_.discriminator`` and ``module_.generator_ema`` (the average).
    image_shape_ : tuple of int
        (channels, height, width) of the training images.
    input_ndim_ : int
        3 for (n, H, W) input, 4 for (n, C, H, W); samples come back in the same layout.
    history_ : dict of lists
        Per epoch: 'd_loss' and 'g_loss' (binary cross-entropies), 'd_real' and 'd_fake' (mean
        probability the discriminator gives real and generated images), 'pixel_diversity' (mean
        pairwise distance of generated images over that of real ones) and 'fd' when an evaluator is given.
    fd_untrained_ : float or None
        The evaluator's score of the untrained generator (None without an evaluator).
    collapse_ : bool
        Whether the collapse detector fired: a non-finite loss (training stops and keeps the weights
        of the last good epoch), the discriminator winning outright (its loss near its floor while the
        generator loss exceeds 5, two epochs running) or mode collapse (pixel diversity falling under
        0.2, two epochs running, after it had reached 0.4).
    collapse_reason_ : str
        What the detector saw and what to try, '' when it did not fire.
    n_iter_ : int
        Epochs run.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo import GAN
    >>> X = load_digits().images / 16.0                      # (1797, 8, 8) in [0, 1]
    >>> gan = GAN(latent_dim=16, max_iter=2, random_state=0).fit(X)
    >>> gan.sample(5).shape
    (5, 8, 8)
    >>> z0, z1 = np.random.default_rng(0).standard_normal((2, 16))
    >>> gan.interpolate(z0, z1, steps=7).shape
    (7, 8, 8)
    """

    _parameter_constraints = {
        "latent_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_filters": [Interval(numbers.Integral, 1, None, closed="left")],
        "optimizer": [Options(*PRESETS)],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "label_smoothing": [Interval(numbers.Real, 0, 0.5, closed="left")],
        "ema_decay": [Interval(numbers.Real, 0, 1, closed="left")],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_eval_samples": [Interval(numbers.Integral, 2, None, closed="left")],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
    }
    _fitted_attributes = frozenset(
        {
            "image_shape_",
            "input_ndim_",
            "history_",
            "fd_untrained_",
            "collapse_",
            "collapse_reason_",
            "n_iter_",
        }
    )

    def __init__(
        self,
        latent_dim=100,
        *,
        n_filters=32,
        optimizer="adam",
        learning_rate=None,
        label_smoothing=0.1,
        ema_decay=0.99,
        batch_size=64,
        max_iter=25,
        n_eval_samples=500,
        checkpoint=None,
        resume=False,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.latent_dim = latent_dim
        self.n_filters = n_filters
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.label_smoothing = label_smoothing
        self.ema_decay = ema_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_eval_samples = n_eval_samples
        self.checkpoint = checkpoint
        self.resume = resume
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _build_module(self) -> GANModule:
        return GANModule(self.latent_dim, tuple(self.image_shape_), self.n_filters)

    def _optimizers(self, module: GANModule):
        preset = PRESETS[self.optimizer]
        lr_d = self.learning_rate or preset["lr_d"]
        lr_g = self.learning_rate or preset["lr_g"]
        if self.optimizer == "adam":
            make = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))  # noqa: E731
        else:
            make = lambda params, lr: torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)  # noqa: E731
        return make(module.generator.parameters(), lr_g), make(module.discriminator.parameters(), lr_d)

    def _train_epoch(self, module, opt_g, opt_d, X, rng, step: int) -> dict:
        """One pass over ``X`` (images in [-1, 1]): per batch a discriminator step, then a generator step."""
        G, D, bce = module.generator, module.discriminator, F.binary_cross_entropy_with_logits
        clip = PRESETS[self.optimizer]["clip_value"]
        real_label = 1.0 - self.label_smoothing
        sums = torch.zeros(4, device=X.device)
        order = torch.randperm(len(X), generator=rng).to(X.device)
        starts = range(0, len(X) - 1, self.batch_size)  # a last batch of 1 image would break batch norm
        for start in starts:
            real = X[order[start : start + self.batch_size]]  # (B, C, H, W)
            z = torch.randn(len(real), self.latent_dim, generator=rng).to(X.device)
            fake = G(z)  # (B, C, H, W)
            # 1. the discriminator learns: real images -> 1 - label_smoothing, generated ones -> 0
            real_logit, fake_logit = D(real), D(fake.detach())
            d_loss = (
                bce(real_logit, torch.full_like(real_logit, real_label))
                + bce(fake_logit, torch.zeros_like(fake_logit))
            ) / 2
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            if clip is not None:
                nn.utils.clip_grad_value_(D.parameters(), clip)
            opt_d.step()
            # 2. the generator learns to make the discriminator say "real" (the non-saturating loss)
            g_logit = D(fake)
            g_loss = bce(g_logit, torch.ones_like(g_logit))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            if clip is not None:
                nn.utils.clip_grad_value_(G.parameters(), clip)
            opt_g.step()
            # 3. the averaged generator follows the trained one (faster during the first steps)
            step += 1
            decay = min(self.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():
                torch._foreach_lerp_(list(module.generator_ema.parameters()), list(G.parameters()), 1 - decay)
                for mine, theirs in zip(module.generator_ema.buffers(), G.buffers()):
                    mine.copy_(theirs)
            stats = [d_loss, g_loss, torch.sigmoid(real_logit).mean(), torch.sigmoid(fake_logit).mean()]
            sums += torch.stack(stats).detach()
        names = ("d_loss", "g_loss", "d_real", "d_fake")
        return dict(zip(names, (sums / len(starts)).tolist()))

    # -- fit: checks, checkpoints, history and the collapse detector around _train_epoch ------------
    def fit(self, X, y=None, *, evaluator=None):
        """Train the generator and the discriminator on images ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width) or (n_samples, channels, height, width)
            Square images, uint8 in 0-255 or float in [0, 1] (scaled to [-1, 1] inside).
        y : None
            Ignored; present for scikit-learn's API.
        evaluator : callable, default=None
            Called as ``evaluator(images)`` before training and after every epoch, with
            ``n_eval_samples`` images generated from one fixed latent batch (float in [0, 1], the
            layout of ``X``); the float it returns is recorded as ``history_['fd']`` (and
            ``fd_untrained_`` before training), e.g. :class:`deepzoo.models.gan.metrics.FrechetEvaluator`.

        Returns
        -------
        self : GAN
        """
        self._check_params()
        X, ndim = check_images(X, type(self).__name__)
        if len(X) < 2:
            raise ValueError(f"GAN needs at least 2 images to train (batch norm); got {len(X)}.")
        channels, height, width = X.shape[1:]
        if height != width or _base_size(height)[1] == 0:
            raise ValueError(
                "GAN builds its layers for square images with an even side of at least 4 (8, 16, 28, 32, "
                f"64, ...); got {height}x{width}. Pad or resize the images."
            )
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        self.image_shape_, self.input_ndim_ = (channels, height, width), ndim
        X_t = torch.as_tensor(X, device=device) * 2 - 1  # [0, 1] -> [-1, 1], the generator's tanh range
        rng = torch.Generator().manual_seed(seed)  # batches and latent draws, on the CPU on every device
        checkpoint = None if self.checkpoint is None else Path(self.checkpoint)
        # what must match to resume: not the epoch budget, where the file lies, or the device
        ignored = ("max_iter", "verbose", "resume", "checkpoint", "device")
        settings = {k: repr(v) for k, v in self.get_params().items() if k not in ignored}
        fingerprint = _fingerprint(X_t, None, settings)
        with local_torch_seed(seed, device):
            self.module_ = self._build_module().apply(_dcgan_init).to(device)
            self.module_.generator_ema.load_state_dict(self.module_.generator.state_dict())
            opt_g, opt_d = self._optimizers(self.module_)
            self.history_ = {k: [] for k in ("d_loss", "g_loss", "d_real", "d_fake", "pixel_diversity")}
            if evaluator is not None:
                self.history_["fd"] = []
            self.n_iter_, self.collapse_, self.collapse_reason_, self.fd_untrained_ = 0, False, "", None
            if checkpoint is not None and self.resume and checkpoint.exists():
                self._restore(checkpoint, fingerprint, opt_g, opt_d, rng, device)
            with _cpu_threads_for(self.module_, self.batch_size, device):  # 1 thread for tiny networks
                self._fit_epochs(X_t, opt_g, opt_d, rng, seed, evaluator, checkpoint, fingerprint)
        self.module_.eval()
        return self

    def _fit_epochs(self, X, opt_g, opt_d, rng, seed, evaluator, checkpoint, fingerprint) -> None:
        """Epochs from ``n_iter_`` to ``max_iter``: train, score, watch for collapse, checkpoint."""
        z_eval = torch.randn(
            self.n_eval_samples, self.latent_dim, generator=torch.Generator().manual_seed(seed + 1)
        )
        real_spread = _mean_pairwise_distance(X[:: max(1, len(X) // 256)].flatten(1).cpu())
        n_batches = len(range(0, len(X) - 1, self.batch_size))
        if evaluator is not None and self.n_iter_ == 0:
            self.fd_untrained_ = float(evaluator(self._generate(z_eval)))
        progress = _progress(bool(self.verbose), self.max_iter, type(self).__name__)
        try:
            for epoch in range(self.n_iter_, self.max_iter):
                last_good = copy.deepcopy(self.module_.state_dict())
                self.module_.train()
                stats = self._train_epoch(self.module_, opt_g, opt_d, X, rng, epoch * n_batches)
                if not all(math.isfinite(v) for v in stats.values()):
                    self.module_.load_state_dict(last_good)
                    self._flag(
                        f"non-finite loss at epoch {epoch + 1} (d_loss {stats['d_loss']:.3g}, g_loss "
                        f"{stats['g_loss']:.3g}); training stopped and kept the weights of epoch {epoch}. "
                        "Lower learning_rate, or use optimizer='adam' or more label_smoothing."
                    )
                    break
                images = self._generate(z_eval)
                flat = torch.as_tensor(images[:256].reshape(min(256, len(images)), -1)) * 2 - 1
                stats["pixel_diversity"] = _mean_pairwise_distance(flat) / max(real_spread, 1e-12)
                if evaluator is not None:
                    stats["fd"] = float(evaluator(images))
                for key, value in stats.items():
                    self.history_[key].append(value)
                self.n_iter_ = epoch + 1
                if not self.collapse_:
                    self._check_collapse()
                if checkpoint is not None:
                    self._save_checkpoint(checkpoint, fingerprint, opt_g, opt_d, rng)
                if progress is not None:
                    status = f"d_loss {stats['d_loss']:.3f}  g_loss {stats['g_loss']:.3f}"
                    if "fd" in stats:
                        status += f"  FD {stats['fd']:.2f}"
                    progress.update(progress.task_ids[0], advance=1, status=status)
        finally:
            if progress is not None:
                progress.stop()

    def _flag(self, reason: str) -> None:
        self.collapse_, self.collapse_reason_ = True, reason
        warnings.warn(f"GAN training collapsed: {reason}", RuntimeWarning, stacklevel=4)

    def _check_collapse(self) -> None:
        """Flag the discriminator winning outright, or mode collapse, when it lasts _PATIENCE epochs."""
        h, epoch = self.history_, self.n_iter_
        if epoch < _PATIENCE:
            return
        s = self.label_smoothing
        # the lowest discriminator loss label smoothing allows: the entropy of the real label, halved
        floor = 0.0 if s == 0 else -(s * math.log(s) + (1 - s) * math.log(1 - s)) / 2
        recent = range(epoch - _PATIENCE, epoch)
        if all(h["d_loss"][i] - floor < _D_WINS_D_EXCESS and h["g_loss"][i] > _D_WINS_G_LOSS for i in recent):
            self._flag(
                f"the discriminator won at epoch {epoch}: its loss fell to {h['d_loss'][-1]:.3f} (floor "
                f"{floor:.3f}) while the generator loss rose to {h['g_loss'][-1]:.2f}, so the generator gets "
                "almost no gradient. Try more label_smoothing, a lower learning_rate or optimizer='adam'."
            )
        elif (
            all(h["pixel_diversity"][i] < _MIN_DIVERSITY for i in recent)
            and max(h["pixel_diversity"]) >= 2 * _MIN_DIVERSITY
        ):
            # low diversity counts once it has fallen: a young generator starts from near-constant images
            self._flag(
                f"mode collapse at epoch {epoch}: generated images differ only "
                f"{h['pixel_diversity'][-1]:.0%} as much as real images do (up to "
                f"{max(h['pixel_diversity']):.0%} earlier). Try another random_state, a lower "
                "learning_rate or a larger batch_size."
            )

    def _save_checkpoint(self, path: Path, fingerprint: dict, opt_g, opt_d, rng) -> None:
        state = {
            "fingerprint": fingerprint,
            "epoch": self.n_iter_,
            "module": self.module_.state_dict(),
            "opt_g": opt_g.state_dict(),
            "opt_d": opt_d.state_dict(),
            "generator": rng.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": self.history_,
            "fd_untrained": -1.0 if self.fd_untrained_ is None else self.fd_untrained_,
            "collapse_reason": self.collapse_reason_,
        }
        _save_atomic(state, path)

    def _restore(self, path: Path, fingerprint: dict, opt_g, opt_d, rng, device) -> None:
        try:
            state = torch.load(path, map_location=device, weights_only=True)
        except Exception as exc:  # truncated or foreign file: say which and how to go on
            raise ValueError(
                f"The checkpoint {path} cannot be read ({exc}); delete it or fit with resume=False."
            ) from exc
        if not isinstance(state, dict) or not _same_run(state.get("fingerprint"), fingerprint):
            raise ValueError(
                f"The checkpoint {path} was written for other images or settings (or another seed: resuming "
                "needs a fixed random_state); delete it or fit with resume=False to start over."
            )
        self.module_.load_state_dict(state["module"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        rng.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.history_ = {k: list(v) for k, v in state["history"].items()}
        self.n_iter_ = int(state["epoch"])
        self.fd_untrained_ = None if state["fd_untrained"] < 0 else float(state["fd_untrained"])
        self.collapse_reason_ = state["collapse_reason"]
        self.collapse_ = bool(self.collapse_reason_)

    # -- using the generator --------------------------------------------------------------------
    @torch.no_grad()
    def _generate(self, z: torch.Tensor) -> np.ndarray:
        """Images for latent rows ``z`` as float32 in [0, 1], in the layout of the training input."""
        G = self.module_.generator_ema
        was_training = G.training
        G.eval()
        try:
            device = next(G.parameters()).device
            out = torch.cat([G(z[i : i + 1024].to(device)).float() for i in range(0, len(z), 1024)])
        finally:
            G.train(was_training)
        images = ((out.cpu() + 1) / 2).clamp(0, 1).numpy()
        return images[:, 0] if self.input_ndim_ == 3 else images

    def sample(self, n_samples: int = 1, *, random_state=None) -> np.ndarray:
        """Generate new images.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState or None, default=None
            Seed of the latent draws; None uses the estimator's ``random_state`` (as scikit-learn's
            ``GaussianMixture.sample``), so an int seed gives the same images at every call.

        Returns
        -------
        images : ndarray of shape (n_samples, height, width) or (n_samples, channels, height, width)
            Float32 in [0, 1], in the layout ``fit`` was given.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from deepzoo import GAN
        >>> gan = GAN(latent_dim=8, max_iter=1, random_state=0).fit(load_digits().images / 16.0)
        >>> images = gan.sample(3)
        >>> images.shape, float(images.min()) >= 0.0, float(images.max()) <= 1.0
        ((3, 8, 8), True, True)
        """
        self._check_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"sample expects n_samples to be a positive int; got {n_samples!r}.")
        seed = seed_from(self.random_state if random_state is None else random_state)
        z = torch.randn(int(n_samples), self.latent_dim, generator=torch.Generator().manual_seed(seed + 2))
        return self._generate(z)

    def interpolate(self, z0, z1, steps: int = 10) -> np.ndarray:
        """Images along the straight line from latent vector ``z0`` to ``z1``.

        Parameters
        ----------
        z0, z1 : array-like of shape (latent_dim,)
            The two ends, e.g. drawn from a standard normal distribution.
        steps : int, default=10
            Number of images, both ends included.

        Returns
        -------
        images : ndarray of shape (steps, height, width) or (steps, channels, height, width)
            Float32 in [0, 1].

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from deepzoo import GAN
        >>> gan = GAN(latent_dim=8, max_iter=1, random_state=0).fit(load_digits().images / 16.0)
        >>> gan.interpolate(np.zeros(8), np.ones(8), steps=4).shape
        (4, 8, 8)
        """
        self._check_fitted()
        ends = []
        for name, z in (("z0", z0), ("z1", z1)):
            z = np.asarray(z, dtype=np.float32)
            if z.shape != (self.latent_dim,) or not np.all(np.isfinite(z)):
                raise ValueError(
                    f"interpolate expects {name} of shape ({self.latent_dim},) (latent_dim) with finite "
                    f"values; got shape {z.shape}."
                )
            ends.append(torch.as_tensor(z))
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2:
            raise ValueError(f"interpolate expects steps to be an int >= 2; got {steps!r}.")
        t = torch.linspace(0, 1, int(steps))[:, None]  # (steps, 1)
        return self._generate((1 - t) * ends[0] + t * ends[1])
