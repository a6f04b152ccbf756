"""The self-organizing map (Kohonen): a grid of units whose weights learn to cover the data, neighbours alike.

Online training is MiniSom's sequential rule (same decays, neighbourhoods and results for the same initial
weights and sample order); batch training is the whole algorithm as matrix products on a tensor, and
runs distributed under torchrun by summing each process's share of the batch statistics.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin
from sklearn.utils.validation import validate_data
from torch import nn

from ..engine import distributed
from ..engine.base import Interval, Options, TorchEstimator, not_fitted_message, resolve_device, seed_from
from ..engine.persistence import register
from ..engine.training import _progress, cpu_threads_for

__all__ = ["SOMGrid", "SelfOrganizingMap"]

NEIGHBORHOODS = ("gaussian", "bubble", "mexican_hat", "triangle")
METRICS = ("euclidean", "cosine", "manhattan")
DECAYS = ("asymptotic", "linear", "inverse")
# grid distance of the farthest neighbour: the 8 around a unit (diagonals at sqrt(2)), or 6 on a hex grid
_ADJACENT = {"rectangular": 1.42, "hexagonal": 1.01}


def grid_coordinates(n_rows: int, n_columns: int, topology: str) -> torch.Tensor:
    """(n_units, 2) positions (row, column) of the units; hexagonal grids shift odd rows by half a unit."""
    rows, columns = torch.meshgrid(
        torch.arange(n_rows, dtype=torch.float32), torch.arange(n_columns, dtype=torch.float32), indexing="ij"
    )
    if topology == "hexagonal":
        columns = columns + 0.5 * (rows % 2)
        rows = rows * math.sqrt(3) / 2
    return torch.stack([rows.reshape(-1), columns.reshape(-1)], dim=1)


def neighborhood(offsets: torch.Tensor, sigma: float, kind: str) -> torch.Tensor:
    """Neighbourhood weights for grid offsets ``(..., 2)`` from the winning unit, at spread ``sigma``."""
    dr, dc = offsets[..., 0], offsets[..., 1]
    if kind == "gaussian":
        return torch.exp(-(dr**2 + dc**2) / (2 * sigma**2))
    if kind == "mexican_hat":
        p = dr**2 + dc**2
        return torch.exp(-p / (2 * sigma**2)) * (1 - p / sigma**2)
    if kind == "bubble":
        return ((dr.abs() < sigma) & (dc.abs() < sigma)).to(offsets.dtype)
    return F.relu(sigma - dr.abs()) * F.relu(sigma - dc.abs())  # triangle


def decay(start: float, t: torch.Tensor, max_iter: int, kind: str, *, to_one: bool) -> torch.Tensor:
    """The schedule of the learning rate (``to_one=False``: towards 0) or sigma (towards 1) at steps ``t``."""
    if kind == "asymptotic":  # to start / 3
        return start / (1 + t / (max_iter / 2))
    if kind == "linear":
        return start + t * (1 - start) / max_iter if to_one else start * (1 - t / max_iter)
    if to_one:  # inverse
        return start / (1 + t * (start - 1) / max_iter)
    return start * (max_iter / 100) / (max_iter / 100 + t)


def pairwise_distances(X: torch.Tensor, W: torch.Tensor, metric: str) -> torch.Tensor:
    """(N, U) distances between samples and unit weights, each computed from its own pair of rows."""
    if (
        metric == "euclidean"
    ):  # not the matrix-product shortcut: a row's distances must not depend on the batch
        return torch.cdist(X, W, compute_mode="donot_use_mm_for_euclid_dist")
    if metric == "manhattan":
        return torch.cdist(X, W, p=1)
    return 1 - F.normalize(X, dim=1, eps=1e-8) @ F.normalize(W, dim=1, eps=1e-8).T  # cosine


def ranking_scores(X: torch.Tensor, W: torch.Tensor, metric: str) -> torch.Tensor:
    """(N, U) scores ordered like the distances; Euclidean as |w|^2 - 2 x.w, one matrix product (fast)."""
    if metric == "euclidean":
        return torch.addmm((W * W).sum(1), X, W.T, alpha=-2)
    return pairwise_distances(X, W, metric)


def best_matching_units(
    X: torch.Tensor, W: torch.Tensor, metric: str, *, exact: bool = False
) -> torch.Tensor:
    """(N,) index of each sample's nearest unit.

    The Euclidean scores lose about sqrt(float32 eps) of a distance to cancellation, which is fine for a
    training step; with ``exact``, rows whose two best scores are that close are decided again by exact
    distances to their 8 best candidates (the lowest index wins a tie), so ``predict`` agrees with
    ``transform``.
    """
    scores = ranking_scores(X, W, metric)
    if not exact or metric != "euclidean" or len(W) < 2:
        return scores.argmin(1)
    values, candidates = scores.topk(min(8, len(W)), dim=1, largest=False)
    bmu = candidates[:, 0].clone()
    scale = (X * X).sum(1) + (W * W).sum(1).max()
    rows = ((values[:, 1] - values[:, 0]) < 1e-4 * scale).nonzero()[:, 0]
    if len(rows):
        near = candidates[rows].sort(1).values
        distances = (X[rows, None, :] - W[near]).norm(dim=2)  # (n, 8)
        bmu[rows] = near.gather(1, distances.argmin(1, keepdim=True))[:, 0]
    return bmu


def _threads_for(work: float, device: torch.device):
    """One CPU thread when a SOM step is small (see ``training.cpu_threads_for``)."""
    return cpu_threads_for(work, device, limit=2e7)


class SOMGrid(nn.Module):
    """The map: unit weights ``(n_units, n_features)`` and grid positions ``(n_units, 2)``, as buffers."""

    def __init__(self, n_features: int, coordinates: torch.Tensor):
        super().__init__()
        self.register_buffer("weight", torch.zeros(len(coordinates), n_features))
        self.register_buffer("coordinates", coordinates.clone())

    def forward(self, x: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
        return pairwise_distances(x, self.weight, metric)  # (N, n_features) -> (N, n_units)


@register
class SelfOrganizingMap(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, TorchEstimator):
    """Self-organizing map with a scikit-learn ``KMeans``-like API, on PyTorch.

    Parameters
    ----------
    grid_shape : tuple of 2 int, default=(10, 10)
        ``(n_rows, n_columns)``, at least 2 units; unit ``r * n_columns + c`` is at row r, column c.
    topology : {'rectangular', 'hexagonal'}, default='rectangular'
        Hexagonal grids shift odd rows by half a unit; every unit then has 6 neighbours at distance 1.
    neighborhood : {'gaussian', 'bubble', 'mexican_hat', 'triangle'}, default='gaussian'
        How much a unit at a grid offset from the winner learns ('mexican_hat': online training only).
    metric : {'euclidean', 'cosine', 'manhattan'}, default='euclidean'
        Distance that picks the best-matching unit (BMU) and that ``transform`` returns.
    sigma : float, default=1.0
        Initial spread of the neighbourhood, in grid units.
    learning_rate : float, default=0.5
        Initial learning rate of online training (the batch algorithm has none: each pass sets the
        weights to the neighbourhood-weighted mean of the samples).
    learning_rate_decay : {'asymptotic', 'linear', 'inverse'}, default='asymptotic'
        'asymptotic': lr / (1 + 2t/T), ending at a third; 'linear': to 0; 'inverse': lr C / (C + t),
        C = T/100.
    sigma_decay : {'asymptotic', 'linear', 'inverse'}, default='asymptotic'
        'asymptotic' ends at sigma / 3; 'linear' and 'inverse' go towards 1 (MiniSom's schedules).
    init : {'random', 'pca'} or ndarray of shape (n_units, n_features), default='random'
        'random': weights are random rows of X; 'pca': a plane spanned by the first two principal
        components (+-2 standard deviations around the mean), rows along the first.
    algorithm : {'batch', 'online'}, default='batch'
        'online': one sample per update, MiniSom's rule. 'batch': one update per pass over the data,
        vectorised (and distributed under torchrun).
    max_iter : int or None, default=None
        Iterations: passes over the data for 'batch' (None: 50), single-sample updates for 'online'
        (MiniSom's ``num_iteration``; None: 5 passes). Batch passes run the decays from start to end.
    shuffle : bool, default=True
        Online: visit the samples in a random order (else in order, cycling).
    batch_size : int, default=4096
        Rows per distance computation; memory only, results do not depend on it.
    warm_start : bool, default=False
        Continue from the fitted weights at the next ``fit`` instead of initialising again.
    verbose : bool, default=False
        Show a Rich progress bar.
    device : str, default='auto'
    random_state : int, RandomState or None, default=None
        Seeds the initialisation and the online sample order; the global RNG is left as it was.

    Attributes
    ----------
    module_ : SOMGrid
        The weights and grid positions, on ``device``.
    labels_ : ndarray of shape (n_samples,)
        BMU of each training sample after training.
    quantization_error_ : float
        Mean Euclidean distance between a training sample and its BMU's weights.
    history_ : dict
        'quantization_error' per pass over the data: measured by each batch pass before its update
        (the first entry scores the initial weights), or after each pass of online updates.
    n_iter_ : int
    n_features_in_ : int

    Notes
    -----
    Features with zero variance are allowed (a warning names them): they cannot change which unit wins,
    and every unit learns their constant. Scale features first (e.g. ``MinMaxScaler``): distances mix them.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from deepzoo import SelfOrganizingMap
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> som = SelfOrganizingMap((6, 6), sigma=2.0, random_state=0).fit(X)
    >>> som.predict(X[:3]).shape, som.distance_map().shape
    ((3,), (6, 6))
    >>> bool(som.quantization_error(X) < 1.0)
    True
    """

    _parameter_constraints = {
        "grid_shape": [tuple, list],
        "topology": [Options("rectangular", "hexagonal")],
        "neighborhood": [Options(*NEIGHBORHOODS)],
        "metric": [Options(*METRICS)],
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "learning_rate_decay": [Options(*DECAYS)],
        "sigma_decay": [Options(*DECAYS)],
        "init": [Options("random", "pca"), np.ndarray],
        "algorithm": [Options("batch", "online")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "shuffle": [bool],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
    }
    _fitted_attributes = frozenset(
        {"n_features_in_", "feature_names_in_", "labels_", "quantization_error_", "history_", "n_iter_"}
    )

    def __init__(
        self,
        grid_shape=(10, 10),
        *,
        topology="rectangular",
        neighborhood="gaussian",
        metric="euclidean",
        sigma=1.0,
        learning_rate=0.5,
        learning_rate_decay="asymptotic",
        sigma_decay="asymptotic",
        init="random",
        algorithm="batch",
        max_iter=None,
        shuffle=True,
        batch_size=4096,
        warm_start=False,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.grid_shape = grid_shape
        self.topology = topology
        self.neighborhood = neighborhood
        self.metric = metric
        self.sigma = sigma
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.sigma_decay = sigma_decay
        self.init = init
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.batch_size = batch_size
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    # -- checks -------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        shape = self.grid_shape
        ints = all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in shape)
        if len(shape) != 2 or not ints or min(shape) < 1 or shape[0] * shape[1] < 2:
            raise ValueError(
                "The 'grid_shape' parameter of SelfOrganizingMap must be 2 positive ints (n_rows, n_columns) "
                f"making at least 2 units. Got {tuple(shape)!r} instead: a map needs units to organise, "
                "e.g. grid_shape=(10, 10)."
            )
        if self.algorithm == "batch" and self.neighborhood == "mexican_hat":
            raise ValueError(
                "neighborhood='mexican_hat' works with algorithm='online' only: its negative weights can "
                "cancel a unit's weighted sum in the batch update. Use algorithm='online', or 'gaussian'."
            )

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, dtype=np.float32, ensure_all_finite=False)
        bad = ~np.isfinite(X)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            kind = "NaN" if np.isnan(X).any() else "inf"
            raise ValueError(
                f"X contains {kind} in {len(rows)} row(s) (first: row {rows[0]}); {type(self).__name__} "
                "cannot place a sample with missing or infinite features. Impute them first (e.g. "
                "SimpleImputer in a Pipeline) or drop those rows."
            )
        return X

    @property
    def _n_features_out(self) -> int:  # names of transform's columns: one per unit
        return self.module_.weight.shape[0]

    def _check_fitted(self, attribute: str = "module_") -> None:
        if not hasattr(self, attribute):
            raise not_fitted_message(self)

    # -- fit ---------------------------------------------------------------------------------------
    def _initial_weights(self, X: torch.Tensor, coordinates: torch.Tensor, gen: torch.Generator):
        n_units = len(coordinates)
        if isinstance(self.init, np.ndarray):
            init = np.asarray(self.init, dtype=np.float32).reshape(-1, self.init.shape[-1])
            if init.shape != (n_units, X.shape[1]):
                raise ValueError(
                    f"init has shape {self.init.shape}; expected (n_units, n_features) = "
                    f"({n_units}, {X.shape[1]}) for grid_shape={tuple(self.grid_shape)}."
                )
            return torch.as_tensor(init, device=X.device)
        if self.init == "random":
            rows = torch.randint(len(X), (n_units,), generator=gen)
            return X[rows.to(X.device)].clone()
        # pca: mean + a * 2 sd * pc1 + b * 2 sd * pc2, a along rows and b along columns, each in [-1, 1]
        centred = X - X.mean(0)
        values, vectors = torch.linalg.eigh((centred.T @ centred).double() / len(X))
        top = vectors[:, -2:].flip(1) * 2 * values[-2:].flip(0).clamp(min=0).sqrt()  # (D, <=2)
        span = coordinates / coordinates.max(0).values.clamp(min=1e-12) * 2 - 1  # (U, 2) in [-1, 1]
        return (X.double().mean(0) + span[:, : top.shape[1]].double().to(X.device) @ top.T).float()

    def fit(self, X, y=None):
        """Train the map on X (y is ignored); return self."""
        self._check_params()
        continuing = self.warm_start and hasattr(self, "module_")
        X = self._validate_X(X, reset=not continuing)
        if len(X) > 1 and (constant := np.flatnonzero(X.min(0) == X.max(0))).size:
            warnings.warn(
                f"{len(constant)} feature(s) of X have zero variance (columns {constant[:10].tolist()}): "
                "they cannot change which unit wins, and every unit learns their constant value. Drop them "
                "(e.g. VarianceThreshold) if that is not intended.",
                UserWarning,
                stacklevel=2,
            )
        device = distributed.device_for_rank(resolve_device(self.device))
        distributed.ensure_initialized(device)
        gen = torch.Generator().manual_seed(seed_from(self.random_state))
        X_t = torch.as_tensor(X, device=device)
        if continuing:
            module = self.module_.to(device)
        else:
            coordinates = grid_coordinates(*self.grid_shape, self.topology)
            module = SOMGrid(X.shape[1], coordinates).to(device)
            module.weight.copy_(self._initial_weights(X_t, module.coordinates, gen))
        default = 50 if self.algorithm == "batch" else 5 * len(X)
        max_iter = self.max_iter or default
        train = self._fit_batch if self.algorithm == "batch" else self._fit_online
        rows = min(len(X), self.batch_size) if self.algorithm == "batch" else 1
        with _threads_for(rows * len(module.weight) * X.shape[1], device):
            history = train(module, X_t, max_iter, gen)
        self.module_ = module
        self.history_ = {"quantization_error": history}
        self.n_iter_ = max_iter
        distances, self.labels_ = self._bmu_distances(X_t)
        self.quantization_error_ = float(distances.mean())
        return self

    def _schedules(self, max_iter: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Learning rate and sigma of each iteration (float64, on the CPU).

        Online: at t = 0 .. T-1, as MiniSom. Batch: the passes sample the same curve from its start to
        its end (t = k T / (T - 1)), so that a few passes end at the same final sigma as T online steps.
        """
        t = torch.arange(max_iter, dtype=torch.float64)
        if self.algorithm == "batch" and max_iter > 1:
            t = t * max_iter / (max_iter - 1)
        lr = decay(self.learning_rate, t, max_iter, self.learning_rate_decay, to_one=False)
        return lr, decay(self.sigma, t, max_iter, self.sigma_decay, to_one=True)

    def _fit_online(self, module: SOMGrid, X: torch.Tensor, max_iter: int, gen) -> list:
        """MiniSom's sequential rule: w += lr(t) h(bmu, sigma(t)) (x - w), one sample at a time."""
        order = torch.arange(max_iter) % len(X)
        if self.shuffle:
            order = order[torch.randperm(max_iter, generator=gen)]
        lr, sigma = (s.tolist() for s in self._schedules(max_iter))
        order = order.tolist()
        W, coordinates = module.weight, module.coordinates
        offsets = coordinates[:, None, :] - coordinates[None, :, :]  # (U, U, 2): unit v's offset from u
        squared = (offsets**2).sum(-1)  # (U, U): all the gaussian needs
        epoch_end = len(X)
        history, progress = [], _progress(bool(self.verbose), max_iter, type(self).__name__)
        try:
            # few tensor operations per step: their fixed cost, not arithmetic, bounds small maps
            for t in range(max_iter):
                x = X[order[t]]
                difference = x - W  # (U, D)
                if self.metric == "euclidean":
                    bmu = int(torch.linalg.vector_norm(difference, dim=1).argmin())
                else:
                    bmu = int(best_matching_units(x[None], W, self.metric)[0])
                if self.neighborhood == "gaussian":
                    h = torch.exp(squared[bmu] * (-0.5 / sigma[t] ** 2))  # (U,)
                else:
                    h = neighborhood(offsets[bmu], sigma[t], self.neighborhood)
                W.addcmul_(h[:, None], difference, value=lr[t])
                if t + 1 == epoch_end or t + 1 == max_iter:
                    history.append(float(self._bmu_distances(X, module)[0].mean()))
                    epoch_end += len(X)
                if progress is not None and ((t + 1) % 100 == 0 or t + 1 == max_iter):
                    status = f"qe {history[-1]:.4f}" if history else ""
                    progress.update(progress.task_ids[0], completed=t + 1, status=status)
        finally:
            if progress is not None:
                progress.stop()
        return history

    def _fit_batch(self, module: SOMGrid, X: torch.Tensor, max_iter: int, gen) -> list:
        """Each pass: BMUs of this process's rows, per-unit sums, summed over processes, then
        w_v = sum_u h(u, v) S_u / sum_u h(u, v) C_u, with S_u, C_u the sum and count of samples won by u."""
        _, sigma = self._schedules(max_iter)
        X = X[distributed.rank() :: distributed.world_size()]  # this process's share
        W, coordinates = module.weight, module.coordinates
        offsets = coordinates[:, None, :] - coordinates[None, :, :]  # (U, U, 2): unit v's offset from u
        n_total = torch.tensor([float(len(X))], device=X.device)
        distributed.all_reduce_sum(n_total)
        history, progress = [], _progress(bool(self.verbose), max_iter, type(self).__name__)
        try:
            for t in range(max_iter):
                sums = torch.zeros_like(W)  # (U, D)
                stats = torch.zeros(len(W) + 1, device=W.device)  # counts per unit, then the QE sum
                for start in range(0, len(X), self.batch_size):
                    chunk = X[start : start + self.batch_size]
                    bmu = best_matching_units(chunk, W, self.metric)
                    with _threads_for(0, X.device):  # scatter-adds get slower with more CPU threads
                        sums.index_add_(0, bmu, chunk)
                        stats[:-1] += torch.bincount(bmu, minlength=len(W))
                        stats[-1] += (chunk - W[bmu]).norm(dim=1).sum()
                distributed.all_reduce_sum(sums)
                distributed.all_reduce_sum(stats)
                h = neighborhood(offsets, float(sigma[t]), self.neighborhood)  # (U, U)
                numerator, denominator = h.T @ sums, h.T @ stats[:-1]
                won = denominator > 1e-12  # a unit no sample reaches keeps its weights
                W[won] = numerator[won] / denominator[won, None]
                history.append(float(stats[-1] / n_total))
                if progress is not None:
                    progress.update(progress.task_ids[0], advance=1, status=f"qe {history[-1]:.4f}")
        finally:
            if progress is not None:
                progress.stop()
        return history

    # -- prediction and diagnostics -----------------------------------------------------------------
    def _bmu_distances(self, X: torch.Tensor, module: SOMGrid | None = None):
        """Euclidean distance to the BMU and the BMU of each row, in chunks."""
        module = module or self.module_
        distances, bmus = [], []
        work = min(len(X), self.batch_size) * module.weight.numel()
        with _threads_for(work, X.device):
            for start in range(0, len(X), self.batch_size):
                chunk = X[start : start + self.batch_size]
                bmu = best_matching_units(chunk, module.weight, self.metric, exact=True)
                distances.append((chunk - module.weight[bmu]).norm(dim=1))
                bmus.append(bmu)
        return torch.cat(distances).cpu().numpy().astype(np.float64), torch.cat(bmus).cpu().numpy()

    def _tensor(self, X) -> torch.Tensor:
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        return torch.as_tensor(X, device=self.module_.weight.device)

    def predict(self, X) -> np.ndarray:
        """Index of the best-matching unit of each sample, shape (n_samples,)."""
        return self._bmu_distances(self._tensor(X))[1]

    def transform(self, X) -> np.ndarray:
        """Distance (``metric``) from each sample to each unit, shape (n_samples, n_units)."""
        X = self._tensor(X)
        parts = [
            self.module_(X[s : s + self.batch_size], self.metric) for s in range(0, len(X), self.batch_size)
        ]
        return torch.cat(parts).cpu().numpy().astype(np.float64)

    def winners(self, X) -> np.ndarray:
        """Grid position (row, column) of each sample's BMU, shape (n_samples, 2)."""
        return np.stack(np.unravel_index(self.predict(X), tuple(self.grid_shape)), axis=1)

    def quantization_error(self, X) -> float:
        """Mean Euclidean distance between each sample and its BMU's weights (lower: a closer fit)."""
        return float(self._bmu_distances(self._tensor(X))[0].mean())

    def topographic_error(self, X) -> float:
        """Share of samples whose best and second-best units are not grid neighbours (0: topology kept)."""
        X, W = self._tensor(X), self.module_.weight
        with _threads_for(min(len(X), self.batch_size) * W.numel(), X.device):
            best_two = (
                torch.cat(
                    [
                        ranking_scores(X[s : s + self.batch_size], W, self.metric)
                        .topk(2, largest=False)
                        .indices
                        for s in range(0, len(X), self.batch_size)
                    ]
                )
                .cpu()
                .numpy()
            )
        coordinates = self.module_.coordinates.cpu().numpy()
        gap = np.linalg.norm(coordinates[best_two[:, 0]] - coordinates[best_two[:, 1]], axis=1)
        return float(np.mean(gap > _ADJACENT[self.topology]))

    def distance_map(self, scaling: str = "sum") -> np.ndarray:
        """U-matrix: each unit's summed (or mean) Euclidean weight distance to its grid neighbours,
        divided by the largest; shape (n_rows, n_columns). High values are borders between clusters."""
        self._check_fitted()
        if scaling not in ("sum", "mean"):
            raise ValueError(f"scaling must be 'sum' or 'mean'; got {scaling!r}.")
        W, coordinates = self.module_.weight, self.module_.coordinates
        gaps = torch.cdist(coordinates, coordinates)
        neighbours = ((gaps > 0) & (gaps <= _ADJACENT[self.topology])).float()
        umatrix = (torch.cdist(W, W) * neighbours).sum(1)
        if scaling == "mean":
            umatrix = umatrix / neighbours.sum(1)
        umatrix = umatrix / umatrix.max().clamp(min=1e-12)
        return umatrix.cpu().numpy().astype(np.float64).reshape(tuple(self.grid_shape))

    def activation_response(self, X) -> np.ndarray:
        """How many samples each unit wins (the hit map), shape (n_rows, n_columns)."""
        bmu = self.predict(X)
        return np.bincount(bmu, minlength=self._n_features_out).reshape(tuple(self.grid_shape))

    def outlier_scores(self, X, *, method: str = "distance") -> np.ndarray:
        """Per-sample outlier score, higher = more unusual, shape (n_samples,).

        method='distance': Euclidean distance to the BMU (a sample the map fits badly);
        method='umatrix': the U-matrix value of the BMU (a sample in a sparse region between clusters).
        """
        if method not in ("distance", "umatrix"):
            raise ValueError(f"method must be 'distance' or 'umatrix'; got {method!r}.")
        distances, bmu = self._bmu_distances(self._tensor(X))
        return distances if method == "distance" else self.distance_map().reshape(-1)[bmu]

    def get_weights(self) -> np.ndarray:
        """The unit weights as an array of shape (n_rows, n_columns, n_features), like MiniSom's."""
        self._check_fitted()
        return self.module_.weight.cpu().numpy().reshape(*self.grid_shape, -1).copy()

    @property
    def cluster_centers_(self) -> np.ndarray:
        """The unit weights, shape (n_units, n_features), as ``KMeans.cluster_centers_``."""
        return self.get_weights().reshape(self._n_features_out, -1)

    def _build_module(self) -> SOMGrid:
        """An empty map of the fitted shape (``deepzoo.load`` fills it from the saved weights)."""
        return SOMGrid(self.n_features_in_, grid_coordinates(*self.grid_shape, self.topology))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
