"""The resumes case over several held-out splits: deepzoo's bag classifier against TF-IDF, in one run.

For each split seed, 30% of the distinct resume texts are held out (stratified by category), the case's
SequenceClassifier (its default settings) and TF-IDF + logistic regression are fitted on the rest, and
both are scored: category accuracy, and precision@10 of same-category training resumes for each
held-out resume as a query (classifier document vectors vs TF-IDF cosine). One split is 50 texts, so a
single figure moves by 2 points per text; the spread over seeds is what to read.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_resumes.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from deepzoo.cases.resumes import Config, load_distinct, network_settings, precision_at_k
from deepzoo.tasks import text
from deepzoo.tasks.base import FitConfig


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    config = Config()
    texts, labels, _ = load_distinct(config)
    rows = []
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = text.split(texts, labels, config.test_size, seed)
        X_train, X_test = np.asarray(X_train, dtype=object), np.asarray(X_test, dtype=object)
        fit_config = FitConfig(seed=seed, device="cpu", settings=network_settings(config))
        clf = text.make_classifier(list(X_train), fit_config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(list(X_train), y_train)
        baseline = text.tfidf_baseline().fit(X_train, y_train)
        tfidf = TfidfVectorizer(sublinear_tf=True).fit(X_train)
        vectors = clf.document_vectors(list(X_test)), clf.document_vectors(list(X_train))
        row = {
            "seed": seed,
            "accuracy": float(np.mean(clf.predict(list(X_test)) == y_test)),
            "tfidf_accuracy": float(np.mean(baseline.predict(X_test) == y_test)),
            "precision_at_10": precision_at_k(*vectors, y_test, y_train, 10),
            "tfidf_precision_at_10": precision_at_k(
                tfidf.transform(X_test).toarray(), tfidf.transform(X_train).toarray(), y_test, y_train, 10
            ),
        }
        rows.append(row)
        print(
            "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
            flush=True,
        )
    for key in ("accuracy", "tfidf_accuracy", "precision_at_10", "tfidf_precision_at_10"):
        values = np.array([r[key] for r in rows])
        print(f"{key:22s} mean {values.mean():.3f}  sd {values.std(ddof=1) if len(values) > 1 else 0:.3f}")
    wins = sum(r["precision_at_10"] > r["tfidf_precision_at_10"] for r in rows)
    print(f"precision@10 above TF-IDF's in {wins} of {len(rows)} splits")


if __name__ == "__main__":
    main()
