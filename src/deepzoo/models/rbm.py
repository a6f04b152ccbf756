"""Restricted Boltzmann machines: BernoulliRBM (binary or Gaussian visible units, binary hidden units).

Trained by contrastive divergence (CD-k) or persistent CD through :func:`deepzoo.engine.training.fit_loop`:
the loss of a batch is the free-energy difference ``F(v_data) - F(v_model)`` where ``v_model`` comes
from a Gibbs chain run without gradients; autograd on it gives exactly the CD update
``<v h>_data - <v h>_model``. Missing visible units (NaN in ``X``, e.g. movies a user has not rated)
are masked: they contribute nothing to the hidden units or to the free energy, and the Gibbs chain
keeps them masked, as in Salakhutdinov, Mnih & Hinton (2007).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state
from torch import nn

from ..engine.base import (
    Interval,
    Options,
    TorchEstimator,
    local_torch_seed,
    numpy_out,
    resolve_device,
    seed_from,
)
from ..engine.persistence import register
from ..engine.training import fit_loop

__all__ = ["RBM", "BernoulliRBM"]


def sample_bernoulli(p: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Binary states with P(1) = p: a uniform draw below p (2-4x faster than ``torch.bernoulli`` on CPU)."""
    u = torch.rand(p.shape, generator=generator, device=p.device, dtype=p.dtype)
    return u.lt_(p)


class RBM(nn.Module):
    """An RBM's parameters and its conditionals; ``forward`` gives the hidden pre-activations.

    ``visible`` is 'bernoulli' (units in [0, 1]) or 'gaussian' (unit variance: standardise the input).
    ``mask`` arguments are 1 where a visible unit is observed, 0 where it is missing; a missing unit
    must hold 0 in ``v``.
    """

    def __init__(self, n_visible: int, n_hidden: int, visible: str = "bernoulli"):
        super().__init__()
        self.visible = visible
        self.weight = nn.Parameter(
            torch.randn(n_hidden, n_visible) * 0.01
        )  # (H, V), as sklearn's components_
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible))
        # fantasy particles of persistent CD: state carried from batch to batch (not saved with the model)
        self.register_buffer("chains", torch.empty(0, n_visible), persistent=False)

    def hidden_logits(self, v: torch.Tensor) -> torch.Tensor:
        return v @ self.weight.T + self.hidden_bias  # (N, V) -> (N, H)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.hidden_logits(torch.nan_to_num(v))  # (N, V) -> (N, H); P(h=1|v) = sigmoid of it

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        logits = h @ self.weight + self.visible_bias  # (N, H) -> (N, V)
        return torch.sigmoid(logits) if self.visible == "bernoulli" else logits

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        mean = self.visible_mean(h)
        if self.visible == "bernoulli":
            return sample_bernoulli(mean, generator)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + noise

    def sample_hidden(self, v: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return sample_bernoulli(torch.sigmoid(self.hidden_logits(v)), generator)

    def free_energy(self, v: torch.Tensor, mask: torch.Tensor | None = None, logits=None) -> torch.Tensor:
        """F(v) = -visible term - sum_j softplus(W_j v + c_j), per sample: shape (N,).

        ``logits`` may pass ``hidden_logits(v)`` already computed (with its gradient).
        """
        hidden_term = F.softplus(self.hidden_logits(v) if logits is None else logits).sum(dim=1)
        if self.visible == "bernoulli":
            visible_term = v @ self.visible_bias  # missing units hold 0: no contribution
        else:
            squared = (v - self.visible_bias) ** 2
            visible_term = -0.5 * (squared if mask is None else squared * mask).sum(dim=1)
        return -visible_term - hidden_term

    def gibbs(self, v: torch.Tensor, n_steps: int, generator, mask=None) -> torch.Tensor:
        """``n_steps`` of block Gibbs sampling v -> h -> v; masked units stay 0."""
        for _ in range(n_steps):
            v = self.sample_visible(self.sample_hidden(v, generator), generator)
            if mask is not None:
                v = v * mask
        return v


@register
class BernoulliRBM(TransformerMixin, TorchEstimator):
    """Restricted Boltzmann machine with binary hidden units, trained by (persistent) contrastive divergence.

    Same role as scikit-learn's :class:`~sklearn.neural_network.BernoulliRBM` (``transform`` gives hidden
    probabilities, ``score_samples`` the pseudo-likelihood, ``gibbs`` one sampling step), trained on
    PyTorch with minibatches, Adam or SGD, on CPU or GPU. Two additions: Gaussian visible units for
    real-valued input (``visible='gaussian'``), and missing visible units given as NaN, which are
    masked (the course's recommender marks unrated movies with -1: pass NaN instead).

    Gaussian visible units are a parameter rather than a second class because only the visible term
    of the free energy and the visible conditional change; one class lets a grid search compare both.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    visible : {'bernoulli', 'gaussian'}, default='bernoulli'
        'bernoulli' expects values in [0, 1] (binary or probabilities); 'gaussian' has unit variance
        and expects standardised features (e.g. ``StandardScaler`` first).
    method : {'cd', 'pcd'}, default='cd'
        Contrastive divergence (chains start at the data) or persistent CD (chains carried across
        batches, scikit-learn's method). 'pcd' needs complete rows: with NaN in ``X`` use 'cd'. With
        Adam, CD-1 reached the better pseudo-likelihood on digits and MNIST (benchmarks/RESULTS.md).
    n_gibbs_steps : int, default=1
        Gibbs steps per update (the k of CD-k).
    learning_rate : float, default=0.01
    solver : {'adam', 'adamw', 'sgd'}, default='adam'
        'sgd' (with momentum 0.9) is closest to scikit-learn's plain gradient ascent.
    alpha : float, default=0.0
        L2 penalty on the weights.
    batch_size : int, default=64
    max_iter : int, default=10
        Epochs (every epoch is run; there is no convergence test for the noisy CD objective).
    warm_start : bool, default=False
        Continue from the fitted weights at the next ``fit``.
    verbose : bool, default=False
        Rich progress bar with the free-energy gap per epoch.
    device : str, default='auto'
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, the batch order, the Gibbs chains and the units flipped by
        ``score_samples``.

    Attributes
    ----------
    module_ : RBM
    components_ : ndarray of shape (n_components, n_features)
        Weights, as in scikit-learn.
    intercept_hidden_, intercept_visible_ : ndarray
    n_features_in_ : int
    history_ : dict
        'loss': the mean free-energy gap F(data) - F(model samples) per epoch.
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import BernoulliRBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    >>> rbm = BernoulliRBM(n_components=2, max_iter=5, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (4, 2)
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "visible": [Options("bernoulli", "gaussian")],
        "method": [Options("cd", "pcd")],
        "n_gibbs_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "solver": [Options("adam", "adamw", "sgd")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
    }
    _fitted_attributes = frozenset({"n_features_in_", "feature_names_in_", "history_", "n_iter_"})

    def __init__(
        self,
        n_components: int = 256,
        *,
        visible: str = "bernoulli",
        method: str = "cd",
        n_gibbs_steps: int = 1,
        learning_rate: float = 0.01,
        solver: str = "adam",
        alpha: float = 0.0,
        batch_size: int = 64,
        max_iter: int = 10,
        warm_start: bool = False,
        verbose: bool = False,
        device="auto",
        random_state=None,
    ):
        self.n_components = n_components
        self.visible = visible
        self.method = method
        self.n_gibbs_steps = n_gibbs_steps
        self.learning_rate = learning_rate
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    # -- data and randomness ------------------------------------------------------------------------
    def _validate_X(self, X, reset: bool) -> np.ndarray:
        X = self._validate_numeric(X, reset=reset, allow_nan=True)
        if self.visible == "bernoulli":
            observed = X[~np.isnan(X)]
            if observed.size and (observed.min() < 0 or observed.max() > 1):
                # a warning, not an error: probabilities slightly outside [0, 1] after scaling are harmless
                warnings.warn(
                    "BernoulliRBM with visible='bernoulli' expects values in [0, 1]; got values from "
                    f"{observed.min():g} to {observed.max():g}. Scale with MinMaxScaler, binarise "
                    "(X > threshold), or use visible='gaussian' with standardised features. Mark missing "
                    "values with NaN, not -1.",
                    UserWarning,
                    stacklevel=3,
                )
        return X

    def _generator(self, device: torch.device) -> torch.Generator:
        """A torch generator seeded from the estimator's own NumPy stream, which advances per call."""
        if getattr(self, "_rng", None) is None:
            self._rng = check_random_state(seed_from(self.random_state) % 2**32)
        return torch.Generator(device).manual_seed(int(self._rng.randint(0, 2**31 - 1)))

    def _build_module(self) -> RBM:
        return RBM(self.n_features_in_, self.n_components, self.visible)

    def _device(self) -> torch.device:
        return next(self.module_.parameters()).device

    def _tensor(self, X) -> tuple[torch.Tensor, torch.Tensor | None]:
        """X on the module's device with NaN set to 0, and the observed-mask (None when complete)."""
        X_t = torch.as_tensor(X, device=self._device())
        missing = torch.isnan(X_t)
        if not bool(missing.any()):
            return X_t, None
        return X_t.masked_fill(missing, 0.0), (~missing).to(X_t.dtype)

    # -- training -----------------------------------------------------------------------------------
    def _cd_loss(self, generator, has_missing: bool):
        """The per-sample loss of fit_loop: F(v0) - F(v_k), the chain run without gradients."""
        module = self.module_
        persistent = self.method == "pcd"

        def loss(logits0: torch.Tensor, v0: torch.Tensor) -> torch.Tensor:
            mask = None
            if has_missing:
                missing = torch.isnan(v0)
                mask = (~missing).to(logits0.dtype)
                v0 = v0.masked_fill(missing, 0.0)
            with torch.no_grad():
                if persistent:
                    n = len(v0)
                    if len(module.chains) < n:  # first batch (or a larger last one): start at the data
                        module.chains = torch.cat([module.chains, v0[len(module.chains) : n]])
                    vk = module.gibbs(module.chains[:n], self.n_gibbs_steps, generator)
                    module.chains[:n] = vk
                else:
                    # the first half-step reuses the hidden pre-activations of forward
                    h0 = sample_bernoulli(torch.sigmoid(logits0.detach()), generator)
                    vk = module.sample_visible(h0, generator)
                    if mask is not None:
                        vk = vk * mask
                    vk = module.gibbs(vk, self.n_gibbs_steps - 1, generator, mask)
            return module.free_energy(v0, mask, logits0) - module.free_energy(vk, mask)

        return loss

    def _fit(self, X, incremental: bool):
        self._check_params()
        continuing = (self.warm_start or incremental) and hasattr(self, "module_")
        X = self._validate_X(X, reset=not continuing)
        has_missing = bool(np.isnan(X).any())
        if has_missing and self.method == "pcd":
            raise ValueError(
                "BernoulliRBM with method='pcd' needs complete rows, but X has missing values (NaN): "
                "persistent chains are not tied to one sample's observed units. Use method='cd'."
            )
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        X_t = torch.as_tensor(X, device=device)
        with local_torch_seed(seed, device):
            if not continuing:
                self._rng = None
                self.module_ = self._build_module().to(device)
                self.history_ = {}
                self.n_iter_ = 0
                self.optimizer_ = None
            generator = self._generator(device)
            epochs = 1 if incremental else self.max_iter
            try:
                result, self.optimizer_ = fit_loop(
                    self.module_,
                    self._cd_loss(generator, has_missing),
                    X_t,
                    None,
                    optimizer=self.optimizer_ if continuing else None,
                    solver=self.solver,
                    learning_rate=self.learning_rate,
                    weight_decay=self.alpha,
                    batch_size=min(self.batch_size, len(X)),
                    max_iter=epochs,
                    n_iter_no_change=epochs + 1,  # CD's loss is noisy: run every epoch asked for
                    seed=seed + self.n_iter_,
                    verbose=bool(self.verbose),
                    description="BernoulliRBM",
                    warn_on_max_iter=False,
                    # a CD step is ~5 products the size of the weights: threads pay from ~5e6
                    # (MNIST, 256 units, batch 64: 2.3x faster with 2 threads on an idle 2-core CPU)
                    one_thread_below=5e6,
                )
            finally:
                self.module_.chains = self.module_.chains[:0]  # chains are training state only
        for key, values in result.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.n_iter_ += result.n_iter
        return self

    def fit(self, X, y=None):
        """Train on ``X`` (n_samples, n_features), values in [0, 1] (or standardised for 'gaussian')."""
        return self._fit(X, incremental=False)

    def partial_fit(self, X, y=None):
        """One epoch over ``X``, continuing from the current weights."""
        return self._fit(X, incremental=True)

    # -- the fitted machine -------------------------------------------------------------------------
    @property
    def components_(self) -> np.ndarray:
        return numpy_out(self.module_.weight)

    @property
    def intercept_hidden_(self) -> np.ndarray:
        return numpy_out(self.module_.hidden_bias)

    @property
    def intercept_visible_(self) -> np.ndarray:
        return numpy_out(self.module_.visible_bias)

    @torch.no_grad()
    def transform(self, X) -> np.ndarray:
        """Hidden-unit probabilities P(h=1 | v), shape (n_samples, n_components); NaN inputs are masked."""
        self._check_fitted()
        v, _ = self._tensor(self._validate_X(X, reset=False))
        return numpy_out(torch.sigmoid(self.module_.hidden_logits(v)))

    @torch.no_grad()
    def inverse_transform(self, H) -> np.ndarray:
        """Visible means given hidden states: probabilities (bernoulli) or values (gaussian)."""
        self._check_fitted()
        H = np.asarray(H, dtype=np.float32)
        if H.ndim != 2 or H.shape[1] != self.n_components:
            raise ValueError(
                f"inverse_transform expects H of shape (n_samples, {self.n_components}), hidden states "
                f"such as transform(X) returns; got shape {H.shape}."
            )
        return numpy_out(self.module_.visible_mean(torch.as_tensor(H, device=self._device())))

    @torch.no_grad()
    def gibbs(self, v) -> np.ndarray:
        """One Gibbs step v -> h -> v from each row; sampled visible units, shape like ``v``.

        Missing units (NaN) stay NaN.
        """
        self._check_fitted()
        v_t, mask = self._tensor(self._validate_X(v, reset=False))
        out = self.module_.gibbs(v_t, 1, self._generator(self._device()), mask)
        out = numpy_out(out)
        if mask is not None:
            out[numpy_out(mask) == 0] = np.nan
        return out

    @torch.no_grad()
    def sample(self, n_samples: int = 1, *, n_steps: int = 1000) -> np.ndarray:
        """Draw ``n_samples`` visible vectors by ``n_steps`` Gibbs steps from random starts.

        Returns the visible means of the last step (probabilities for 'bernoulli'), shape
        (n_samples, n_features): smoother pictures than binary samples.
        """
        self._check_fitted()
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"sample expects a positive int n_samples; got {n_samples!r}.")
        device, generator = self._device(), self._generator(self._device())
        shape = (int(n_samples), self.n_features_in_)
        if self.visible == "bernoulli":
            v = sample_bernoulli(torch.full(shape, 0.5, device=device), generator)
        else:
            v = torch.randn(shape, generator=generator, device=device)
        v = self.module_.gibbs(v, max(int(n_steps) - 1, 0), generator)
        return numpy_out(self.module_.visible_mean(self.module_.sample_hidden(v, generator)))

    @torch.no_grad()
    def free_energy(self, X) -> np.ndarray:
        """Free energy of each row, shape (n_samples,); lower is more probable. NaN units are masked."""
        self._check_fitted()
        v, mask = self._tensor(self._validate_X(X, reset=False))
        return numpy_out(self.module_.free_energy(v, mask)).astype(np.float64)

    def score_samples(self, X) -> np.ndarray:
        """Pseudo-likelihood of each row, as scikit-learn's BernoulliRBM defines it.

        One visible unit per row, chosen at random (from ``random_state``), is flipped and
        ``n_features * log(sigmoid(F(v_flipped) - F(v)))`` is returned: a stochastic estimate of the
        log pseudo-likelihood. For 'gaussian' visible units, where flipping has no meaning, ``-F(v)``
        (the log-density up to the partition function) is returned instead.
        """
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        if np.isnan(X).any():
            raise ValueError(
                "score_samples needs complete rows: X has missing values (NaN). Score the rows without "
                "NaN, or compare free_energy on the observed units."
            )
        if self.visible == "gaussian":
            return -self.free_energy(X)
        rng = check_random_state(self.random_state)
        flipped = X.copy()
        rows = np.arange(len(X))
        cols = rng.randint(0, X.shape[1], len(X))
        flipped[rows, cols] = 1 - flipped[rows, cols]
        fe = self.free_energy(X)
        fe_flipped = self.free_energy(flipped)
        return X.shape[1] * -np.logaddexp(0, -(fe_flipped - fe))  # n_features * log sigmoid(...)

    def score(self, X, y=None) -> float:
        """Mean of ``score_samples``."""
        return float(np.mean(self.score_samples(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float32"]  # computed in float32 whatever comes in
        return tags
