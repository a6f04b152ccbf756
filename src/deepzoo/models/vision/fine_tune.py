"""Fine-tuning the last blocks of a pretrained network on a CPU budget (fastai's ``fine_tune``, cached).

After the new last layer has trained on frozen features, the last ``n_top`` blocks of the trunk, its 1x1
head convolution and the last layer train together, at rates that fall geometrically from the last layer's
down to ``layer_lr_decay`` times it for the lowest unfrozen block. The blocks below never change, so their
output is computed once per training image and cached: each epoch runs only what trains (the top blocks,
~10-40% of a forward pass), not the whole network.

Augmentation cannot move the images under a cache, so it happens before caching: each image is cached as
``views`` copies (as it is, mirrored, then random crops, zooms and colour changes), and every epoch reads
one of them at random per image. Geometric changes of the cached activations themselves (a flipped or
shifted feature map) would not equal the activations of the changed image, since convolutions are not
mirror-symmetric and the stride-2 layers alias shifts.

:func:`fine_tune_seconds` times the network on this machine to say, before training, how long a fit
with ``n_top`` unfrozen blocks will take; the image task picks the deepest that fits its budget.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from ...data import images as image_io

__all__ = ["CachedTop", "cache_bottom", "fine_tune_seconds", "layer_optimizer", "top_candidates"]

# a training step of the top blocks in forward passes: backward costs about two, and batch norm in training
# mode and the depthwise convolutions' backward more: with 3, the estimates of the first benchmark runs
# were 1.26x (hot dog) and 1.31x (cats and dogs) below the fit's seconds (benchmarks/RESULTS.md)
TRAIN_STEP = 4

# the random changes of views 3, 4, ... (view 1 is the image, view 2 its mirror image)
VIEW_AUGMENT = {"shift": 0.1, "scale": 0.15, "rotation": 8.0, "flip": True, "color": 0.15}


def top_candidates(net: nn.Module) -> tuple[int, ...]:
    """Numbers of last blocks worth unfreezing: whole stages (blocks whose output width changes), from
    the last stage down to the last four stages."""
    widths = [block._project_conv.out_channels for block in net._blocks]
    ends = [i for i in range(len(widths)) if i == len(widths) - 1 or widths[i + 1] != widths[i]]
    starts = [0] + [end + 1 for end in ends[:-1]]
    return tuple(len(widths) - start for start in reversed(starts))[:4]


@torch.no_grad()
def cache_bottom(net: nn.Module, X, n_top: int, views: int, batch_size: int, dtype=torch.float16):
    """The frozen bottom's output for every image of ``X`` (a tensor or BatchSource of normalised images)
    and each of ``views`` versions of it: a tensor (n_samples, views, C, h, w), stored as ``dtype``
    (float16 halves the memory; the top blocks read it back as float32). Uses torch's current RNG
    (seeded by the caller) for the random views."""
    was_training = net.training
    net.eval()
    out = None
    try:
        for start in range(0, len(X), batch_size):
            rows = torch.arange(start, min(start + batch_size, len(X)))
            x = X[rows] if not isinstance(X, torch.Tensor) else X[start : start + batch_size]
            versions = [x, x.flip(-1)] + [image_io.augment(x, **VIEW_AUGMENT) for _ in range(views - 2)]
            part = torch.stack([net.bottom(v, n_top) for v in versions[:views]], dim=1)  # (B, V, C, h, w)
            if out is None:
                out = torch.empty((len(X), *part.shape[1:]), dtype=dtype, device=part.device)
            out[start : start + len(part)] = part.to(dtype)
    finally:
        net.train(was_training)
    return out


class CachedTop(nn.Module):
    """The part of ``net`` that trains on cached activations: its last ``n_top`` blocks, head convolution
    and classifier. Input (N, V, C, h, w): in training one random view per image, else the first."""

    def __init__(self, net: nn.Module, n_top: int):
        super().__init__()
        self.net, self.n_top = net, n_top
        self.layers = nn.ModuleList(net.top_layers(n_top))

    def forward(self, cached):
        if self.training:
            pick = torch.randint(cached.shape[1], (len(cached),), device=cached.device)
            x = cached[torch.arange(len(cached), device=cached.device), pick]  # (N, C, h, w)
        else:
            x = cached[:, 0]
        return self.net.classify(self.net.top_features(x.float(), self.n_top))  # (N, n_classes)

    def train(self, mode: bool = True):
        super().train(mode)  # the net's frozen flag keeps its other layers in eval mode; these train
        for layer in self.layers:
            layer.train(mode)
        return self

    def features(self, cached: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """The pooled features (N, F) of the first view (the images as they are), in eval mode."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return torch.cat(
                    [
                        self.net.top_features(cached[i : i + batch_size, 0].float(), self.n_top)
                        for i in range(0, len(cached), batch_size)
                    ]
                )
        finally:
            self.train(was_training)


def layer_optimizer(top: CachedTop, learning_rate: float, layer_lr_decay: float, weight_decay: float):
    """Adam with one rate per layer of ``top``: ``learning_rate`` for the classifier, falling geometrically
    to ``learning_rate * layer_lr_decay`` for the lowest block (the share is each group's ``lr_scale``,
    which fit_loop's schedule keeps). Weight decay on weights only, as in ``make_optimizer``."""
    groups, n = [], len(top.layers)
    for i, layer in enumerate(top.layers):
        scale = layer_lr_decay ** ((n - 1 - i) / max(n - 1, 1))
        params = list(layer.parameters())
        for p in params:
            p.requires_grad_(True)
        for decayed in (True, False):
            chosen = [p for p in params if (p.ndim > 1) == decayed]
            if chosen:
                groups.append(
                    {"params": chosen, "lr": learning_rate * scale, "lr_scale": scale,
                     "weight_decay": weight_decay if decayed else 0.0}
                )  # fmt: skip
    return torch.optim.Adam(groups, lr=learning_rate)


def fine_tune_seconds(
    net: nn.Module, input_shape, n_images: int, candidates, *, epochs: int, views: int, n_probe: int = 8
) -> dict[int, float]:
    """Seconds to fit on ``n_images`` on this machine, for each number of unfrozen blocks in
    ``candidates`` (0: the frozen head alone): the cached views through the bottom, the features for the
    head, ``epochs`` forward and backward passes of the top, the features again. Each block's forward
    pass is timed on ``n_probe`` random images (the faster of two passes: a busy machine makes single
    timings jump); a training step counts as ``TRAIN_STEP`` forward passes. The
    head's own epochs on pooled features cost next to nothing and are left out."""
    x = torch.randn(n_probe, *input_shape)
    was_training = net.training
    net.eval()
    best = None  # forward seconds per image: the stem with block 0, block 1, ..., the head convolution
    with torch.no_grad():
        for _ in range(2):
            times, t0 = [], time.perf_counter()
            h = net.bottom(x, len(net._blocks) - 1)  # the stem and block 0
            times.append(time.perf_counter() - t0)
            for block in net._blocks[1:]:
                t0 = time.perf_counter()
                h = block(h)
                times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            net.top_features(h, 0)
            times.append(time.perf_counter() - t0)
            best = times if best is None else [min(a, b) for a, b in zip(best, times, strict=True)]
    net.train(was_training)
    per_image = [t / n_probe for t in best]
    full = sum(per_image)
    out = {}
    for n_top in candidates:
        top = sum(per_image[len(per_image) - 1 - n_top :]) if n_top else 0.0
        if n_top == 0:
            out[0] = n_images * full
        else:
            out[n_top] = n_images * (views * (full - top) + 2 * top + epochs * TRAIN_STEP * top)
    return out
