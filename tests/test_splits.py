"""deepzoo.data.splits: the held-out split keeps rare classes in training and no test class unseen."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from deepzoo.data.splits import RARE_ROWS, holdout


def test_without_rare_classes_it_is_the_stratified_split_of_before():
    y = np.repeat(["a", "b", "c"], [50, 30, 20])
    train, test, stratified, note = holdout(y, 0.2, seed=3)
    old_train, old_test = train_test_split(np.arange(100), test_size=0.2, random_state=3, stratify=y)
    np.testing.assert_array_equal(train, old_train)  # same rows, same order: old runs reproduce
    np.testing.assert_array_equal(test, old_test)
    assert stratified and note is None


def test_rare_classes_stay_in_training_and_are_named():
    y = np.array(["a"] * 100 + ["b"] * 100 + ["one"] + ["two"] * 2, dtype=object)
    train, test, stratified, note = holdout(y, 0.2, seed=0)
    assert sorted(np.concatenate([train, test])) == list(range(len(y)))  # each row once
    assert set(y[train]) == {"a", "b", "one", "two"} and set(y[test]) == {"a", "b"}
    assert {200, 201, 202} <= set(train)
    assert f"2 classes have fewer than {RARE_ROWS} rows (one: 1, two: 2)" in note
    assert "cover the 2 classes the test part has" in note


def test_too_few_rows_to_stratify_splits_plainly_and_no_test_class_is_unseen():
    # 24 classes of 3 rows: 20% held out leaves 15 test rows for 24 classes, 90% leaves 8 training
    # rows; both split plainly, and the 90% split leaves whole classes in the test part, which move
    y = np.repeat(np.arange(24), 3)
    for test_size in (0.2, 0.9):
        train, test, stratified, note = holdout(y, test_size, seed=1)
        assert not stratified
        assert set(y[test]) <= set(y[train])
        assert len(test) > 0 and sorted(np.concatenate([train, test])) == list(range(len(y)))
    assert "moved to the training part" in note


def test_every_class_rare_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="Every class has fewer than 3 rows"):
        holdout(["a", "b", "b", "c"], 0.2, seed=0)


def test_a_binary_target_whose_rare_class_stays_in_training_says_roc_auc_is_not_computed():
    train, test, _, note = holdout(["no"] * 50 + ["yes"] * 2, 0.2, 0)
    assert {50, 51} <= set(train) and "yes" not in {(["no"] * 50 + ["yes"] * 2)[i] for i in test}
    assert "the test part holds one class (no): ROC-AUC and PR-AUC need both" in note
