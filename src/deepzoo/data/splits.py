"""The held-out split of labelled rows, shared by the table, text and image tasks.

A class with fewer than :data:`RARE_ROWS` rows cannot be both learned from and scored: one row in
the test part would be a class the model never saw ("the test data hold labels the training data do
not have"), and one row in each part teaches nothing and scores noise. Such rows stay in the
training part; the other classes are split stratified; the test scores cover the classes the test
part has, and :func:`holdout` says so in a sentence for the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["RARE_ROWS", "holdout"]

RARE_ROWS = 3
"""A class with fewer rows than this is kept whole in the training part."""


def holdout(y, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray, bool, str | None]:
    """Train and test positions (into ``y``) for class labels ``y``, whether the split is stratified,
    and a note (None when there is nothing to say) naming the classes kept out of the test part.

    Without rare classes this is exactly ``train_test_split(range(n), test_size=test_size,
    random_state=seed, stratify=y)`` (plain when there are fewer test or training rows than classes),
    so runs from before the rule split the same rows.

    Examples
    --------
    >>> from deepzoo.data.splits import holdout
    >>> train, test, stratified, note = holdout(["a"] * 10 + ["b"] * 10 + ["c"], 0.2, 0)
    >>> sorted(set(len(p) for p in (train, test))), 20 in train, stratified
    ([4, 17], True, True)
    >>> print(note.replace(": it is", ":\\nit is"))
    1 class has fewer than 3 rows (c: 1):
    it is kept in the training part, and the test scores cover the 2 classes the test part has.
    """
    from sklearn.model_selection import train_test_split

    codes, uniques = pd.factorize(pd.Series(np.asarray(y, dtype=object)), sort=True)
    counts = np.bincount(codes, minlength=len(uniques))
    positions = np.arange(len(codes))
    rare = counts < RARE_ROWS
    common = positions[~rare[codes]]
    if len(common) < 2:
        raise ValueError(
            f"Every class has fewer than {RARE_ROWS} rows ({len(uniques)} classes in {len(codes)} rows): "
            "there is nothing to hold out for a test score. Give more rows of each class."
        )
    n_classes = int((~rare).sum())
    n_test = int(np.ceil(test_size * len(common)))  # train_test_split's rounding of a float share
    stratify = codes[common] if min(n_test, len(common) - n_test) >= n_classes else None
    train, test = train_test_split(common, test_size=test_size, random_state=seed, stratify=stratify)
    # a plain split can still leave a class in the test part only: such rows join the training part
    unseen = ~np.isin(codes[test], codes[train])
    moved = test[unseen]
    train, test = np.concatenate([train, moved, positions[rare[codes]]]), test[~unseen]
    if not rare.any() and not len(moved):
        return train, test, stratify is not None, None
    kept = [f"{uniques[k]}: {counts[k]}" for k in np.flatnonzero(rare)]
    parts = []
    if kept:
        shown = ", ".join(kept[:10]) + (f" and {len(kept) - 10} more" if len(kept) > 10 else "")
        one = len(kept) == 1
        parts.append(
            f"{len(kept)} class{'' if one else 'es'} ha{'s' if one else 've'} fewer than {RARE_ROWS} rows "
            f"({shown}): {'it is' if one else 'they are'} kept in the training part"
        )
    if len(moved):
        parts.append(
            f"{len(moved)} test row{'' if len(moved) == 1 else 's'} of classes the plain split left out of "
            "training moved to the training part"
        )
    n_scored = len(np.unique(codes[test]))
    if n_scored == 1:  # a binary target whose rare class stayed in training
        scored = (
            f", and the test part holds one class ({uniques[codes[test][0]]}): ROC-AUC and PR-AUC need "
            "both, so they are not computed and the models are ranked by accuracy (more rows of the rare "
            "class would let both be scored)."
        )
    else:
        scored = f", and the test scores cover the {n_scored} classes the test part has."
    return train, test, stratify is not None, "; ".join(parts) + scored
