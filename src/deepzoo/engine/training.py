"""fit_loop: THE gradient-descent loop of deepzoo, readable top to bottom.

Every gradient-trained family (MLP, ConvNet, recurrent nets, autoencoder, RBM) calls ``fit_loop``
with its module and a per-sample loss. The loop owns what they share:

* minibatches sliced from tensors already on the device (one gather per epoch, then views);
* Adam / AdamW / SGD, weight decay, gradient clipping, bf16 autocast on CUDA;
* sample weights (class weights arrive as sample weights);
* early stopping on a held-out ``validation_fraction`` that restores the best weights, or
  scikit-learn's ``tol`` / ``n_iter_no_change`` test on the training loss;
* ``history`` (loss and metrics per epoch) and a Rich progress bar when ``verbose``;
* a clear ``FloatingPointError`` when the loss stops being finite;
* atomic checkpoints after each epoch and ``resume`` that ends exactly where an uninterrupted run ends;
* DDP under torchrun: each global batch is split across ranks, gradients are all-reduced, rank 0 writes.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import hashlib
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from torch import nn

from . import distributed

__all__ = [
    "FitResult",
    "TimeLimitError",
    "cosine_schedule",
    "epoch_callback",
    "fit_loop",
    "make_optimizer",
    "predict_batches",
    "sharded_batches",
    "time_limit",
]

SOLVERS = ("adam", "adamw", "sgd")


@dataclass
class FitResult:
    """What ``fit_loop`` hands back; the module itself is trained in place."""

    history: dict = field(default_factory=dict)
    n_iter: int = 0
    converged: bool = False
    best_epoch: int | None = None


def make_optimizer(
    module: nn.Module, solver: str, learning_rate: float, weight_decay: float = 0.0, momentum: float = 0.9
) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD (with Nesterov momentum) over the module's parameters."""
    params = [p for p in module.parameters() if p.requires_grad]
    on_cuda = bool(params) and params[0].is_cuda
    # the L2 penalty applies to weights, not to biases and normalisation scales (as scikit-learn's alpha)
    groups = [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    if solver == "adam":
        # fused Adam is the fastest on CPU and CUDA for small nets: one kernel for all parameters
        return torch.optim.Adam(groups, lr=learning_rate, fused=True)
    if solver == "adamw":
        return torch.optim.AdamW(groups, lr=learning_rate, fused=True)
    if solver == "sgd":
        return torch.optim.SGD(
            groups, lr=learning_rate, momentum=momentum, nesterov=momentum > 0, foreach=on_cuda or None
        )
    raise ValueError(f"solver must be one of {SOLVERS}; got {solver!r}.")


def cosine_schedule(learning_rate: float, max_iter: int) -> Callable[[int], float]:
    """``lr_schedule`` for :func:`fit_loop`: a half cosine from ``learning_rate`` down to 0 over
    ``max_iter`` epochs."""
    return lambda epoch: learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / max_iter))


@torch.no_grad()
def predict_batches(module: nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Run ``module`` in eval mode over ``X`` in batches; float32 output on ``X``'s device."""
    was_training = module.training
    module.eval()
    try:
        outputs = [module(X[i : i + batch_size]).float() for i in range(0, len(X), batch_size)]
    finally:
        module.train(was_training)
    return torch.cat(outputs) if outputs else torch.empty(0)


def _streamed_batches(X, order: torch.Tensor, bounds: list[tuple[int, int]], rank: int = 0, world: int = 1):
    """``X[order[start:stop]]`` for each batch of a streamed source (only this process's share,
    ``[rank::world]``, under DDP), the next batch read in a thread while the caller trains on this one."""
    from concurrent.futures import ThreadPoolExecutor

    def rows(k: int) -> torch.Tensor:
        return order[slice(*bounds[k])][rank::world]

    with ThreadPoolExecutor(1, thread_name_prefix="deepzoo-prefetch") as pool:
        pending = pool.submit(X.__getitem__, rows(0)) if bounds else None
        for k in range(len(bounds)):
            batch = pending.result()
            if k + 1 < len(bounds):
                pending = pool.submit(X.__getitem__, rows(k + 1))
            yield batch


def _fingerprint(X: torch.Tensor, y: torch.Tensor | None, settings: dict) -> dict:
    """What a checkpoint must match to be resumed (see ``_same_run``): a short hash of the settings and
    the data's shape, and a sample of the data (every len(X) // 64-th row, at most 256 values a row)."""
    h = hashlib.sha256(repr(sorted(settings.items())).encode())
    h.update(repr((tuple(X.shape), None if y is None else tuple(y.shape))).encode())
    step = max(1, len(X) // 64)
    rows = X[::step].detach().float().cpu()
    rows = rows.reshape(len(rows), -1)
    return {"hash": h.hexdigest()[:16], "sample": rows[:, :: max(1, rows.shape[1] // 256)].contiguous()}


def _same_run(saved, current: dict) -> bool:
    """Whether a checkpoint's fingerprint is ``current``'s: the same settings and shapes, and the same
    data sample up to float32 rounding. Not bit for bit: the same file preprocessed on another CPU (a
    scaler fitted with other SIMD kernels, a vectorised log) can differ in the last bits, ~1e-7 of the
    values; 1e-4 of the data's size allows that, while other data of the same shape differs by its size.
    NaN (a missing value) must sit in the same places."""
    if not isinstance(saved, dict) or saved.get("hash") != current["hash"]:
        return False
    a, b = saved.get("sample"), current["sample"]
    if not isinstance(a, torch.Tensor) or a.shape != b.shape:
        return False
    # NaN marks a missing value in some inputs (a ratings matrix): missing in both is the same data
    size = max(1.0, float(b.abs().nan_to_num(0.0).max())) if b.numel() else 1.0
    return bool(torch.allclose(a.cpu(), b, rtol=0.0, atol=1e-4 * size, equal_nan=True))


def _save_atomic(obj, path: Path) -> None:
    """torch.save to a temporary name, flush it to disk, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("deepzoo_deadline", default=None)


class TimeLimitError(ValueError):
    """The time limit ran out before the first epoch of a fit ended: no model could be kept."""


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Every ``fit_loop`` inside the block stops at the end of the epoch during which ``seconds`` (from
    now) run out, keeping the best weights so far; a fit whose first epoch outlasts the limit raises
    :class:`TimeLimitError`. None: no limit. ``deepzoo fit --time-limit`` is this."""
    token = _DEADLINE.set(None if seconds is None else time.monotonic() + float(seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


_EPOCH_CALLBACK: contextvars.ContextVar[Callable[[int, dict], None] | None] = contextvars.ContextVar(
    "deepzoo_epoch_callback", default=None
)


@contextlib.contextmanager
def epoch_callback(callback: Callable[[int, dict], None] | None):
    """Every ``fit_loop`` inside the block calls ``callback(epoch, history)`` at the end of each epoch
    (0-based; ``history`` holds ``loss`` and, with early stopping, ``val_loss`` so far). An exception it
    raises stops the fit and propagates: ``deepzoo fit --tune`` reports each epoch's validation loss to
    Optuna and raises ``optuna.TrialPruned`` for a hopeless trial. One hook, set from outside the
    estimator, so that no model needs a callback parameter (as :func:`time_limit`)."""
    token = _EPOCH_CALLBACK.set(callback)
    try:
        yield
    finally:
        _EPOCH_CALLBACK.reset(token)


_SHARDED: contextvars.ContextVar[bool] = contextvars.ContextVar("deepzoo_sharded", default=False)


@contextlib.contextmanager
def sharded_batches(on: bool = True):
    """Under torchrun, every ``fit_loop`` inside the block takes its ``X`` as this process's own share
    of the data (a streamed table: each process reads its own row groups) instead of the same data on
    every process: it slices no ``[rank::world]`` share, a global batch is ``batch_size`` rows of which
    each process trains on ``batch_size // world`` of its own, and every process must hold as many
    rows (the same number of steps). No effect in one process."""
    token = _SHARDED.set(bool(on))
    try:
        yield
    finally:
        _SHARDED.reset(token)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run with ``n`` CPU threads for torch (None or 0: leave torch's setting); restore the count after.

    The case studies expose it as a ``threads`` setting: on a CPU that other jobs keep busy, one
    thread per process avoids threads waiting on each other; on an idle machine more threads pay.
    """
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def cpu_threads_for(work: float, device: torch.device, limit: float = 5e7):
    """One CPU thread while a step's ``work`` (e.g. parameters x batch size) is below ``limit``:
    handing tiny products to threads costs more than it saves. Restores the thread count after."""
    return torch_threads(1 if device.type == "cpu" and work <= limit else None)


def _cpu_threads_for(
    module: nn.Module,
    batch_size: int,
    device: torch.device,
    limit: float = 5e7,
    work_per_sample: float | None = None,
):
    """``cpu_threads_for`` with the work of one step of ``module`` on ``batch_size`` samples: the
    multiply-adds of one sample's forward pass when known, else the parameter count (which is that
    number for dense layers, but not for convolutions, whose weights are reused at every position)."""
    if work_per_sample is None:
        work_per_sample = sum(p.numel() for p in module.parameters())
    return cpu_threads_for(work_per_sample * batch_size, device, limit)


def multiply_adds(module: nn.Module, sample: torch.Tensor) -> int:
    """Multiply-adds of ``module``'s convolutions and dense layers on one ``sample`` (batch of 1),
    counted with forward hooks on a no-grad, eval-mode pass that leaves the random streams alone."""
    total = 0

    def count(layer, inputs, output):
        nonlocal total
        if isinstance(layer, nn.modules.conv._ConvNd):  # each output value: in/groups x kernel taps
            total += output[0].numel() * layer.weight[0].numel()
        else:
            total += output[0].numel() * layer.in_features

    layers = [m for m in module.modules() if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
    handles = [layer.register_forward_hook(count) for layer in layers]
    was_training = module.training
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            module.eval()
            module(sample[:1])
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()
    return total


def _progress(verbose: bool, total: int, description: str):
    if not verbose or not distributed.is_main_process():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        transient=False,
    )
    progress.start()
    progress.add_task(description, total=total, status="")
    return progress


def fit_loop(
    module: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    sample_weight: torch.Tensor | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    solver: str = "adam",
    learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 200,
    max_iter: int = 200,
    shuffle: bool = True,
    early_stopping: bool = False,
    validation_fraction: float = 0.1,
    n_iter_no_change: int = 10,
    tol: float = 1e-4,
    clip_grad_norm: float | None = None,
    score_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    stratify: np.ndarray | None = None,
    seed: int = 0,
    verbose: bool = False,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    description: str = "training",
    warn_on_max_iter: bool = True,
    one_thread_below: float = 5e7,
    work_per_sample: float | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    validation_data: tuple[torch.Tensor, torch.Tensor] | None = None,
    batch_transform: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> tuple[FitResult, torch.optim.Optimizer]:
    """Train ``module`` in place by minibatch gradient descent and return ``(FitResult, optimizer)``.

    Parameters
    ----------
    module : nn.Module already on the device of ``X``.
    loss_fn : ``loss_fn(output, y_batch)`` -> per-sample losses of shape (batch,). ``y`` may be None
        (autoencoders, RBMs): then ``loss_fn(output, x_batch)`` receives the inputs.
    X, y : tensors on the training device; ``len(X) == len(y)``. ``X`` may also be a random-access
        source too large for memory (:class:`deepzoo.data.images.BatchSource`): ``X[rows]`` gives a
        batch tensor, read for each batch (the next one while the current one trains).
    sample_weight : optional (n_samples,) weights; the batch loss is the weighted mean.
    optimizer : continue with this optimizer (``warm_start`` / ``partial_fit``) instead of a new one.
    early_stopping : hold out ``validation_fraction`` (stratified on ``stratify`` when given), stop when
        the validation loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, and restore
        the weights of the best epoch. Without it, stop on the training loss like scikit-learn.
    score_fn : ``score_fn(output, y_batch)`` -> scalar tensor (e.g. accuracy); logged as ``score``
        (running over the epoch's batches) and ``val_score``.
    checkpoint, resume : write ``checkpoint`` atomically after every epoch; with ``resume`` continue
        from it when it exists and belongs to the same data and settings.
    one_thread_below : on the CPU, train with one thread while ``work_per_sample`` x batch size is below
        this (tiny products lose more to thread hand-offs than they gain); a model whose step does
        more work per parameter (the RBM's Gibbs chain) passes a lower bound.
    lr_schedule : ``lr_schedule(epoch)`` -> the learning rate of that epoch (0-based, counted across a
        resume), set on every parameter group at the epoch's start (times the group's ``"lr_scale"``
        when it has one: lower rates for earlier layers); None keeps ``learning_rate``.
    work_per_sample : multiply-adds of one sample's forward pass (see :func:`multiply_adds`); default
        the parameter count, which is right for dense layers and far too low for convolutions.
    validation_data : ``(X_val, y_val)`` tensors on the device to early-stop on instead of a held-out
        ``validation_fraction`` of ``X``: e.g. held-out entries of the same rows (the AutoRec
        recommender holds out ratings, not whole items).
    batch_transform : ``batch_transform(x_batch, y_batch)`` -> ``(x_batch, y_batch)``, applied to each
        training batch before the forward pass (never to validation data): random changes that must
        move inputs and targets together, such as the same flip of an image and its mask.

    Raises
    ------
    FloatingPointError
        When the training loss becomes NaN or infinite.
    ValueError
        When ``resume`` finds a checkpoint written for other data or settings.
    """
    device = X.device
    streamed = not isinstance(X, torch.Tensor)  # e.g. data.images.BatchSource over files on disk
    world, rank = distributed.world_size(), distributed.rank()
    n_samples = len(X)
    targets = X if y is None else y
    use_amp = device.type == "cuda"
    # each process holds its own rows (sharded_batches): its batches are its share of the global batch
    own_rows = _SHARDED.get() and world > 1
    if own_rows:
        batch_size = max(1, batch_size // world)

    # -- held-out validation set, identical on every rank (same seed) --------------------------
    train_idx = torch.arange(n_samples, device=device)
    val_idx = None
    if early_stopping and validation_data is None:
        indices = np.arange(n_samples)
        if n_samples - int(np.ceil(n_samples * validation_fraction)) < 1:  # train_test_split's rounding
            raise ValueError(
                f"early_stopping holds out validation_fraction={validation_fraction} of {n_samples} "
                "samples, which leaves no training sample. Use more samples, a smaller "
                "validation_fraction, or early_stopping=False."
            )
        try:
            tr, va = train_test_split(
                indices, test_size=validation_fraction, random_state=seed % 2**32, stratify=stratify
            )
        except ValueError:  # a class too small to stratify: fall back to a plain split
            tr, va = train_test_split(indices, test_size=validation_fraction, random_state=seed % 2**32)
        train_idx = torch.as_tensor(np.sort(tr), device=device)
        val_idx = torch.as_tensor(np.sort(va), device=device)
    X_val = None if val_idx is None else X[val_idx]
    t_val = None if val_idx is None else targets[val_idx]
    if early_stopping and validation_data is not None:
        X_val, t_val = validation_data
    w_val = None if val_idx is None or sample_weight is None else sample_weight[val_idx]
    n_train = len(train_idx)
    # what the epoch's summed loss is divided by: the number (or total weight) of training samples
    train_weight = n_train if sample_weight is None else max(float(sample_weight[train_idx].sum()), 1e-12)
    if own_rows:  # the epoch's figures are summed over every process's own rows
        train_weight = float(distributed.all_reduce_sum(torch.tensor([float(train_weight)], device=device)))
    # batch boundaries; a last batch with under 2 samples per process joins the one before it:
    # BatchNorm cannot normalise a single sample, and under DDP a process would get none
    starts = list(range(0, n_train, batch_size))
    if len(starts) > 1 and n_train - starts[-1] < min(2 * world, batch_size):
        starts.pop()
    bounds = list(zip(starts, starts[1:] + [n_train]))
    has_batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
    if has_batch_norm and min(batch_size, n_train) < 2 * world:
        raise ValueError(
            f"Batch normalisation needs at least 2 samples per batch and process; got batch_size="
            f"{batch_size} with {n_train} training samples and {world} process(es). Raise batch_size "
            "or turn batch normalisation off."
        )

    # -- optimizer and DDP wrapper ----------------------------------------------------------------
    if optimizer is None:
        optimizer = make_optimizer(module, solver, learning_rate, weight_decay)
    net = module
    if distributed.is_distributed():
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)

    # -- state that a checkpoint carries ----------------------------------------------------------
    generator = torch.Generator().manual_seed(seed)  # batch order; CPU generator, same on all ranks
    history: dict[str, list] = {"loss": []}
    if score_fn is not None:
        history["score"] = []
    if early_stopping:
        history["val_loss"] = []
        if score_fn is not None:
            history["val_score"] = []
    start_epoch, best_loss, best_epoch, no_improve = 0, np.inf, None, 0
    best_state = None
    settings = dict(
        solver=solver,
        lr=learning_rate,
        wd=weight_decay,
        bs=batch_size,
        es=early_stopping,
        vf=validation_fraction,
        seed=seed,
        world=world,
    )
    fingerprint = _fingerprint(X, y, settings) if checkpoint is not None else None
    checkpoint = None if checkpoint is None else Path(checkpoint)
    if checkpoint is not None and resume and checkpoint.exists():
        try:
            state = torch.load(checkpoint, map_location=device, weights_only=True)
        except Exception as exc:  # truncated or foreign file: say which and how to go on
            raise ValueError(
                f"The checkpoint {checkpoint} cannot be read ({exc}); delete it or fit with resume=False."
            ) from exc
        if not isinstance(state, dict) or not _same_run(state.get("fingerprint"), fingerprint):
            raise ValueError(
                f"The checkpoint {checkpoint} was written for other data or settings (or another seed: "
                "resuming needs a fixed random_state); delete it or fit with resume=False to start over."
            )
        module.load_state_dict(state["module"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), device)
        history = {k: list(v) for k, v in state["history"].items()}
        start_epoch, best_loss, no_improve = state["epoch"], state["best_loss"], state["no_improve"]
        best_epoch = state["best_epoch"] if state["best_epoch"] >= 0 else None
        best_state = state.get("best_state")

    if checkpoint is not None and distributed.is_main_process():
        # a process killed while writing leaves its temporary file behind: clear those of earlier runs
        for stale in checkpoint.parent.glob(checkpoint.name + ".tmp*"):
            stale.unlink(missing_ok=True)

    timed_out = False
    on_epoch = _EPOCH_CALLBACK.get()  # read once: the loop pays one None test per epoch without it
    progress = _progress(verbose, max_iter, description)
    if progress is not None:
        progress.update(progress.task_ids[0], completed=start_epoch)
    try:
        with _cpu_threads_for(module, batch_size, device, one_thread_below, work_per_sample):
            for epoch in range(start_epoch, max_iter):
                # tested first, so that resuming a run that had already stopped trains no extra epoch
                if no_improve >= n_iter_no_change:
                    break
                if world > 1:
                    # each process its own dropout masks, a function of (seed, epoch, rank) alone so
                    # that a resumed run draws the same ones; one process keeps the caller's stream
                    torch.manual_seed((seed * 1_000_003 + epoch * world + rank) % 2**63)
                if lr_schedule is not None:
                    for group in optimizer.param_groups:  # a group's "lr_scale": its share of the rate
                        group["lr"] = lr_schedule(epoch) * group.get("lr_scale", 1.0)
                module.train()
                order = (
                    train_idx[torch.randperm(n_train, generator=generator).to(device)]
                    if shuffle
                    else train_idx
                )
                # one gather per epoch, then every batch is a view; under DDP each rank keeps its share.
                # A streamed source is read batch by batch instead, the next batch while this one trains
                t_epoch = targets[order]
                batches = (
                    _streamed_batches(X, order, bounds, rank, world)  # each process reads its share
                    if streamed
                    else (X_epoch[start:stop] for X_epoch in (X[order],) for start, stop in bounds)
                )
                w_epoch = None if sample_weight is None else sample_weight[order]
                loss_sum = torch.zeros((), device=device)
                score_sum = torch.zeros((), device=device)
                for (start, stop), xb in zip(bounds, batches, strict=True):
                    tb = t_epoch[start:stop]
                    wb = None if w_epoch is None else w_epoch[start:stop]
                    # the weight of the whole global batch normalises the loss, so that the
                    # gradients DDP averages equal those of one process on the same batch; a batch
                    # whose weights are all zero then gives a zero loss instead of 0/0
                    total_weight = (stop - start) if wb is None else wb.sum().clamp_min(1e-12)
                    if own_rows:  # the global batch: every process's equal share
                        total_weight = total_weight * world
                    elif world > 1:
                        xb = xb if streamed else xb[rank::world]
                        tb = tb[rank::world]
                        wb = None if wb is None else wb[rank::world]
                    if batch_transform is not None:
                        xb, tb = batch_transform(xb, tb)
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                        output = net(xb)
                        per_sample = loss_fn(output, tb).float()
                    if per_sample.shape != (len(xb),):
                        raise ValueError(
                            f"loss_fn must return one loss per sample, shape ({len(xb)},); got shape "
                            f"{tuple(per_sample.shape)}. Use reduction='none' (and average other axes)."
                        )
                    weighted = per_sample.sum() if wb is None else (per_sample * wb).sum()
                    loss = weighted * world / total_weight
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if clip_grad_norm is not None:
                        nn.utils.clip_grad_norm_(module.parameters(), clip_grad_norm)
                    optimizer.step()
                    loss_sum += weighted.detach()
                    if score_fn is not None:
                        score_sum += score_fn(output.detach().float(), tb) * len(xb)
                # epoch figures over all ranks
                sums = distributed.all_reduce_sum(torch.stack([loss_sum, score_sum]))
                epoch_loss = float(sums[0]) / train_weight
                if not np.isfinite(epoch_loss):
                    raise FloatingPointError(
                        f"The training loss became {epoch_loss} at epoch {epoch + 1}: training diverged. "
                        f"Lower learning_rate (now {learning_rate:g}), set clip_grad_norm, or scale the "
                        "features (e.g. StandardScaler)."
                    )
                history["loss"].append(epoch_loss)
                if score_fn is not None:
                    history["score"].append(float(sums[1]) / (n_train * (world if own_rows else 1)))

                # early stopping on the validation loss, or scikit-learn's tol test on the training loss
                if early_stopping:
                    out_val = predict_batches(module, X_val)
                    per_val = loss_fn(out_val, t_val).float()
                    val_loss = float(
                        per_val.mean()
                        if w_val is None
                        else (per_val * w_val).sum() / w_val.sum().clamp_min(1e-12)
                    )
                    history["val_loss"].append(val_loss)
                    if score_fn is not None:
                        history["val_score"].append(float(score_fn(out_val, t_val)))
                    monitored = val_loss
                else:
                    monitored = epoch_loss
                if monitored < best_loss - tol:
                    best_loss, best_epoch, no_improve = monitored, epoch, 0
                    if early_stopping:
                        best_state = copy.deepcopy(module.state_dict())
                else:
                    no_improve += 1

                if checkpoint is not None and distributed.is_main_process():
                    _save_atomic(
                        {
                            "fingerprint": fingerprint,
                            "epoch": epoch + 1,
                            "module": module.state_dict(),
                            "optimizer": optimizer.state_dict(),
                            "generator": generator.get_state(),
                            "torch_rng": torch.get_rng_state(),
                            "history": history,
                            "best_loss": best_loss,
                            "best_epoch": -1 if best_epoch is None else best_epoch,
                            "no_improve": no_improve,
                            **({"best_state": best_state} if best_state is not None else {}),
                            **(
                                {"cuda_rng": torch.cuda.get_rng_state(device)}
                                if device.type == "cuda"
                                else {}
                            ),
                        },
                        checkpoint,
                    )
                deadline = _DEADLINE.get()
                late = deadline is not None and time.monotonic() > deadline
                if deadline is not None and world > 1:  # every process stops at the same epoch
                    late = bool(distributed.all_reduce_sum(torch.tensor([float(late)], device=device)) > 0)
                if late:
                    if epoch == start_epoch:
                        raise TimeLimitError(
                            f"The time limit ran out before the first epoch of {description} ended; allow "
                            "more time (--time-limit), or train on fewer rows."
                        )
                    no_improve = n_iter_no_change  # stop here, as if converged, keeping the best weights
                    timed_out = True
                if on_epoch is not None:
                    on_epoch(epoch, history)
                if progress is not None:
                    status = f"loss {epoch_loss:.4f}"
                    if early_stopping:
                        status += f"  val_loss {history['val_loss'][-1]:.4f}"
                    progress.update(progress.task_ids[0], advance=1, status=status)
    finally:
        if progress is not None:
            progress.stop()

    converged = no_improve >= n_iter_no_change and not timed_out
    if early_stopping and best_state is not None:
        module.load_state_dict(best_state)
    n_iter = len(history["loss"])
    if not converged and warn_on_max_iter and n_iter >= max_iter and not timed_out:
        warnings.warn(
            f"Stochastic optimizer: maximum iterations ({max_iter}) reached and the optimization "
            "hasn't converged yet. Raise max_iter or set early_stopping=True.",
            ConvergenceWarning,
            stacklevel=3,
        )
    module.eval()
    return FitResult(history=history, n_iter=n_iter, converged=converged, best_epoch=best_epoch), optimizer
