"""Explanations: why did the network say that?

Global, for any fitted model (deepzoo's or scikit-learn's):

* :func:`permutation_importance_table` -- scikit-learn's ``permutation_importance`` as a tidy table:
  how much the score drops when one column is shuffled;
* :func:`standardized_coefficients` -- a logistic regression on standardised features, whose
  weights *are* its explanation: the book's "regression weights versus black box" contrast.

Local, for deepzoo's torch estimators (alone or ending a scikit-learn ``Pipeline``):

* :func:`input_gradients` -- d(score)/d(input), the saliency map;
* :func:`integrated_gradients` -- gradients averaged on the straight path from a baseline to the
  input; the attributions add up to ``f(x) - f(baseline)`` (completeness).

The local methods rely only on two private methods every explainable estimator provides:
``_explain_inputs(X)`` (the float tensor the differentiable part of the network starts from: scaled
features, normalised images, token embeddings) and ``_explain_forward(inputs)`` (the raw output
scores of shape (N, n_outputs): logits for classifiers, predictions for regressors).
Attributions are given in the space of ``_explain_inputs``: one per feature, per pixel and channel,
or per token and embedding dimension (sum over the last axis for one figure per token).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import torch
from sklearn.pipeline import Pipeline

__all__ = [
    "input_gradients",
    "integrated_gradients",
    "permutation_importance_table",
    "standardized_coefficients",
]


# -- local: gradients through the contract ---------------------------------------------------------
def _explainable(estimator, X):
    """The final estimator and X transformed by the steps before it (for a Pipeline)."""
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X) if len(estimator) > 1 else X
        estimator = estimator[-1]
    if not (hasattr(estimator, "_explain_inputs") and hasattr(estimator, "_explain_forward")):
        raise TypeError(
            f"{type(estimator).__name__} cannot be explained by gradients: it has no torch network "
            "exposing _explain_inputs/_explain_forward. Use permutation_importance_table instead, "
            "which works on any fitted model."
        )
    return estimator, X


@contextlib.contextmanager
def _eval_mode(estimator):
    """Dropout off and batch-norm statistics frozen while explaining; the previous mode restored after."""
    module = getattr(estimator, "module_", None)
    was_training = module is not None and module.training
    if module is not None:
        module.eval()
    try:
        yield
    finally:
        if was_training:
            module.train()


def _targets(estimator, outputs: torch.Tensor, target) -> torch.Tensor:
    """One output index per row: ``target`` (an index, a class label or one per row), else the
    predicted class for classifiers, else output 0 for single-output regressors."""
    n, n_outputs = outputs.shape
    if target is None:
        if hasattr(estimator, "classes_"):
            n_classes = len(estimator.classes_)
            return outputs[:, :n_classes].argmax(dim=1) if n_outputs > 1 else torch.zeros(n, dtype=torch.long)
        if n_outputs == 1:
            return torch.zeros(n, dtype=torch.long)
        raise ValueError(
            f"{type(estimator).__name__} has {n_outputs} outputs; pass target=the index of the output "
            "to explain (an int, or one int per row)."
        )
    values = np.asarray(target)
    classes = getattr(estimator, "classes_", None)
    labels = classes is not None and (
        not np.issubdtype(values.dtype, np.integer) or np.issubdtype(np.asarray(classes).dtype, np.integer)
    )
    if labels:
        # class labels such as 'leaves' or 1: map them to output indices
        unknown = np.setdiff1d(values.ravel(), classes)
        if len(unknown):
            raise ValueError(
                f"target holds labels {unknown.tolist()[:5]} that are not classes of the model "
                f"({np.asarray(classes).tolist()}); pass one of those labels."
            )
        values = np.searchsorted(classes, values)
    values = np.broadcast_to(values, (n,)) if values.ndim == 0 else values
    if values.shape != (n,):
        raise ValueError(f"target must be one index or one per row ({n}); got shape {values.shape}.")
    if values.min() < 0 or values.max() >= n_outputs:
        raise ValueError(
            f"target indices must lie in [0, {n_outputs - 1}] (the model's outputs); "
            f"got {values.tolist()[:5]}."
        )
    return torch.as_tensor(values.astype(np.int64), device=outputs.device)


def _gradients(estimator, inputs: torch.Tensor, index: torch.Tensor, batch_size: int):
    """Selected output and its gradient with respect to ``inputs``, in batches."""
    grads, values = [], []
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size].detach().clone().requires_grad_(True)
        out = estimator._explain_forward(chunk)  # (B, n_outputs)
        picked = out.gather(1, index[start : start + batch_size, None]).squeeze(1)  # (B,)
        (grad,) = torch.autograd.grad(picked.sum(), chunk)
        grads.append(grad.detach())
        values.append(picked.detach())
    return torch.cat(values), torch.cat(grads)


def input_gradients(estimator, X, target=None, *, batch_size: int = 1024) -> np.ndarray:
    """Saliency: the gradient of the explained output with respect to each input value.

    Parameters
    ----------
    estimator : fitted deepzoo estimator or Pipeline ending in one
        Must provide ``_explain_inputs`` and ``_explain_forward`` (MLP, ConvNet, sequence models).
    X : array-like
        Rows to explain, as ``predict`` takes them.
    target : int, label or array of shape (n_samples,), default=None
        The output to explain: a class label (or output index for integer-free labels), one per row or
        one for all. None: the predicted class (classifiers) or the only output (regressors).
    batch_size : int, default=1024
        Rows per backward pass.

    Returns
    -------
    gradients : ndarray
        Same shape as the network's input tensor: (n_samples, n_features) for the MLP, (N, C, H, W)
        for images, (N, T, E) for token embeddings.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from deepzoo import MLPClassifier
    >>> from deepzoo.audit.explain import input_gradients
    >>> X, y = make_classification(100, 4, random_state=0)
    >>> clf = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    >>> input_gradients(clf, X[:3]).shape
    (3, 4)
    """
    estimator, X = _explainable(estimator, X)
    with _eval_mode(estimator):
        inputs = estimator._explain_inputs(X)
        with torch.no_grad():
            index = _targets(estimator, estimator._explain_forward(inputs), target)
        _, grads = _gradients(estimator, inputs, index, batch_size)
    return grads.float().cpu().numpy()


def integrated_gradients(
    estimator,
    X,
    baseline=None,
    target=None,
    n_steps: int = 50,
    *,
    batch_size: int = 4096,
    return_convergence_delta: bool = False,
):
    """Integrated gradients (Sundararajan et al., 2017): attribution of each input value.

    ``(x - baseline) * mean of the gradients on the straight path from baseline to x``, with the path
    integral taken by Gauss-Legendre quadrature on ``n_steps`` points. By construction the
    attributions of a row sum to ``f(x) - f(baseline)`` for the explained output ``f``, up to the
    quadrature error (``return_convergence_delta`` gives that error per row). For smooth activations
    (tanh, gelu) that error is tiny at 50 steps; along a ReLU network's path the gradient jumps at
    every kink, so the error falls only like ``1 / n_steps`` (about 1e-3 of the logit at 50 steps).

    Parameters
    ----------
    estimator : fitted deepzoo estimator or Pipeline ending in one
    X : array-like
        Rows to explain, as ``predict`` takes them.
    baseline : None, float or array, default=None
        The reference input, in the space of the network's input tensor (after the Pipeline's steps
        and the estimator's own scaling): None is all zeros (the mean of standardised features, a black
        image); a float fills the input with it; an array broadcasts to the inputs (one row, or one
        baseline per row).
    target : int, label or array, default=None
        As in :func:`input_gradients`.
    n_steps : int, default=50
        Quadrature points on the path; more points, smaller delta.
    batch_size : int, default=4096
        Path points per backward pass.
    return_convergence_delta : bool, default=False
        Also return ``sum(attributions) - (f(x) - f(baseline))`` per row.

    Returns
    -------
    attributions : ndarray, same shape as the network's input tensor
    delta : ndarray of shape (n_samples,), only with ``return_convergence_delta``

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from deepzoo import MLPClassifier
    >>> from deepzoo.audit.explain import integrated_gradients
    >>> X, y = make_classification(100, 4, random_state=0)
    >>> clf = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    >>> attr, delta = integrated_gradients(clf, X[:3], return_convergence_delta=True)
    >>> attr.shape, bool(abs(delta).max() < 1e-2)
    ((3, 4), True)
    """
    if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive int; got {n_steps!r}.")
    estimator, X = _explainable(estimator, X)
    with _eval_mode(estimator):
        inputs = estimator._explain_inputs(X)
        if baseline is None:
            base = torch.zeros_like(inputs)
        else:
            base_np = np.asarray(baseline, dtype=np.float32)
            try:
                base_np = np.broadcast_to(base_np, tuple(inputs.shape))
            except ValueError:
                raise ValueError(
                    f"baseline of shape {base_np.shape} does not broadcast to the network's inputs of shape "
                    f"{tuple(inputs.shape)}; give a float, one input row, or one baseline per row."
                ) from None
            if not np.all(np.isfinite(base_np)):
                raise ValueError("baseline contains NaN or infinity; give finite values.")
            base = torch.as_tensor(np.array(base_np), device=inputs.device, dtype=inputs.dtype)
        with torch.no_grad():
            index = _targets(estimator, estimator._explain_forward(inputs), target)
        # Gauss-Legendre nodes and weights on [0, 1]
        nodes, weights = np.polynomial.legendre.leggauss(int(n_steps))
        alphas = torch.as_tensor((nodes + 1) / 2, dtype=inputs.dtype, device=inputs.device)
        weights = torch.as_tensor(weights / 2, dtype=inputs.dtype, device=inputs.device)
        n, shape = len(inputs), (-1,) + (1,) * inputs.dim()
        diff = inputs - base
        total = torch.zeros_like(inputs)
        rows_per_chunk = max(1, batch_size // int(n_steps))
        for start in range(0, n, rows_per_chunk):
            stop = min(start + rows_per_chunk, n)
            # every path point of these rows at once: (n_steps * B, ...) ordered step-major
            path = base[start:stop][None] + alphas.view(shape) * diff[start:stop][None]
            path = path.reshape((-1,) + tuple(inputs.shape[1:]))
            rows_index = index[start:stop].repeat(int(n_steps))
            _, grads = _gradients(estimator, path, rows_index, len(path))
            grads = grads.view((int(n_steps), stop - start) + tuple(inputs.shape[1:]))
            total[start:stop] = (weights.view(shape) * grads).sum(dim=0)
        attributions = diff * total
        if not return_convergence_delta:
            return attributions.float().cpu().numpy()
        with torch.no_grad():
            picked = lambda z: estimator._explain_forward(z).gather(1, index[:, None]).squeeze(1)  # noqa: E731
            gap = picked(inputs) - picked(base)
        delta = attributions.reshape(n, -1).sum(dim=1) - gap
    return attributions.float().cpu().numpy(), delta.double().cpu().numpy()


# -- global: permutation importance and the logistic-regression contrast --------------------------
def permutation_importance_table(
    estimator, X, y, *, scoring=None, n_repeats: int = 10, random_state=0, feature_names=None, n_jobs=None
) -> pd.DataFrame:
    """scikit-learn's permutation importance as a table sorted by importance.

    Works on any fitted model, deepzoo's estimators and Pipelines included: each column of ``X`` is
    shuffled ``n_repeats`` times and the drop of the score is recorded.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
    X : array-like or DataFrame of shape (n_samples, n_features)
        Held-out data (importance on training data measures memorisation too).
    y : array-like of shape (n_samples,)
    scoring : str or callable, default=None
        The estimator's ``score`` when None (accuracy for classifiers, R^2 for regressors).
    n_repeats : int, default=10
    random_state : int, default=0
        Seeds the shuffles, so tables are reproducible.
    feature_names : list of str, default=None
        Column names; a DataFrame's own by default.
    n_jobs : int, default=None

    Returns
    -------
    table : DataFrame with columns feature, importance_mean, importance_std

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from deepzoo import MLPClassifier
    >>> from deepzoo.audit.explain import permutation_importance_table
    >>> X, y = make_classification(200, 4, n_informative=2, random_state=0)
    >>> clf = MLPClassifier((16,), max_iter=50, random_state=0).fit(X, y)
    >>> list(permutation_importance_table(clf, X, y, n_repeats=2).columns)
    ['feature', 'importance_mean', 'importance_std']
    """
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        estimator, X, y, scoring=scoring, n_repeats=n_repeats, random_state=random_state, n_jobs=n_jobs
    )
    names = _names(X, feature_names, len(result.importances_mean))
    table = pd.DataFrame(
        {
            "feature": names,
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    return table.sort_values("importance_mean", ascending=False, ignore_index=True)


def standardized_coefficients(X, y, *, feature_names=None, C: float = 1.0) -> pd.DataFrame:
    """A logistic regression's weights on standardised features: the model that explains itself.

    Each feature is scaled to mean 0 and standard deviation 1, so a coefficient is the change in
    log-odds for one standard deviation of that feature, comparable across features.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), numeric
        Encoded features (e.g. the output of the Pipeline's preprocessing steps).
    y : array-like of shape (n_samples,)
        Binary labels (for more classes, the coefficients of the last class against the rest).
    feature_names : list of str, default=None
    C : float, default=1.0
        Inverse regularisation strength of the logistic regression.

    Returns
    -------
    table : DataFrame with columns feature, coefficient, abs_coefficient, sorted by abs_coefficient

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.audit.explain import standardized_coefficients
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> standardized_coefficients(X, y, feature_names=["signal", "noise"]).feature[0]
    'signal'
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    values = np.asarray(X, dtype=float)
    if values.ndim != 2:
        raise ValueError(
            f"standardized_coefficients expects X of shape (n_samples, n_features); got {values.shape}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("standardized_coefficients got NaN or infinite features; impute or drop them first.")
    model = LogisticRegression(C=C, max_iter=2000).fit(StandardScaler().fit_transform(values), y)
    coef = model.coef_[-1]
    table = pd.DataFrame(
        {
            "feature": _names(X, feature_names, values.shape[1]),
            "coefficient": coef,
            "abs_coefficient": np.abs(coef),
        }
    )
    return table.sort_values("abs_coefficient", ascending=False, ignore_index=True)


def _names(X, feature_names, n: int) -> list[str]:
    if feature_names is not None:
        names = [str(f) for f in feature_names]
        if len(names) != n:
            raise ValueError(f"feature_names has {len(names)} names for {n} features; give one per column.")
        return names
    if hasattr(X, "columns"):
        return [str(c) for c in X.columns]
    return [f"x{i}" for i in range(n)]
