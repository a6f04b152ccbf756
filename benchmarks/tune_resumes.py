"""Choose the resumes case's SequenceClassifier settings by cross-validation on the TRAINING texts only.

The case holds out 30% of the distinct resume texts (seed 0); this script splits the same way and then
runs a stratified 3-fold cross-validation inside the remaining 116 texts for each candidate setting, so
the held-out texts never influence the choice. It prints the mean fold accuracy per setting.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/tune_resumes.py
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from deepzoo.cases.resumes import Config, load_distinct
from deepzoo.models.sequence.text_classifier import SequenceClassifier

CANDIDATES = [
    dict(alpha=1e-4, dropout=0.3, max_iter=100, embedding_dim=128),
    dict(alpha=3e-4, dropout=0.3, max_iter=100, embedding_dim=128),
    dict(alpha=1e-3, dropout=0.3, max_iter=100, embedding_dim=128),
    dict(alpha=1e-4, dropout=0.5, max_iter=100, embedding_dim=64),
    dict(alpha=1e-4, dropout=0.3, max_iter=50, embedding_dim=128),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    config = Config()
    texts, labels, _ = load_distinct(config)
    X_train, _, y_train, _ = train_test_split(
        texts, labels, test_size=config.test_size, stratify=labels, random_state=config.seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the least-populated categories have fewer texts than folds
        folds = list(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(X_train, y_train))
    for candidate in CANDIDATES:
        settings = dict(
            architecture="bag", max_length=config.max_length, batch_size=config.batch_size,
            learning_rate=config.learning_rate, random_state=0, device="cpu", **candidate,
        )  # fmt: skip
        settings["n_iter_no_change"] = settings["max_iter"]  # exactly max_iter epochs, as in the case
        scores = []
        for fit_rows, val_rows in folds:
            clf = SequenceClassifier(**settings).fit(list(X_train[fit_rows]), y_train[fit_rows])
            scores.append(float(np.mean(clf.predict(list(X_train[val_rows])) == y_train[val_rows])))
        folds_text = np.round(scores, 3).tolist()
        print(f"{candidate}  CV accuracy {np.mean(scores):.3f}  folds {folds_text}", flush=True)


if __name__ == "__main__":
    main()
