"""Churn_Modelling.csv (Deep Learning A-Z's bank customers): reading it, and the course's encoding.

:func:`read_frame` reads the file and checks that it holds the course's columns; the ``churn`` case
study hands that frame to ``deepzoo fit``'s table road, which encodes it itself
(:class:`~deepzoo.data.encoder.TableEncoder`). The course's own set-up stays here for the benchmark
that compares deepzoo's MLP with scikit-learn's and the course's recipe on identical inputs
(benchmarks/bench_churn_mlp.py): drop RowNumber, CustomerId and Surname; one-hot Geography; encode
Gender; scale everything. By default two engineered features are added, both plain scikit-learn
transformers (so a saved Pipeline still loads without running our code): NumOfProducts one-hot (churn
is U-shaped in it: 3-4 products leave far more often than 2) and a has-a-balance flag (a quarter of the
customers hold exactly 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import Binarizer, OneHotEncoder, OrdinalEncoder, StandardScaler

TARGET = "Exited"
DROP = ("RowNumber", "CustomerId", "Surname")
CATEGORICAL = ("Geography",)
BINARY = ("Gender",)
NUMERIC = (
    "CreditScore",
    "Age",
    "Tenure",
    "Balance",
    "NumOfProducts",
    "HasCrCard",
    "IsActiveMember",
    "EstimatedSalary",
)
FEATURES = NUMERIC[:1] + CATEGORICAL + BINARY + NUMERIC[1:]


def read_frame(path=None) -> pd.DataFrame:
    """Churn_Modelling.csv as it is (identifiers, features and ``Exited``), its columns checked.

    ``path`` is the dataset folder or the CSV itself; None resolves it through the dataset registry.
    """
    from .registry import dataset_file
    from .tabular import read_csv, split_target

    csv = Path(path) if path is not None and Path(path).is_file() else dataset_file("churn", path=path)
    frame = read_csv(csv)
    X, _ = split_target(frame, TARGET, drop=DROP)  # a missing target or identifier: its own message
    missing = [c for c in FEATURES if c not in X.columns]
    if missing:
        raise ValueError(
            f"{csv} lacks the churn feature columns {missing}; available: {', '.join(map(str, X.columns))}."
        )
    return frame


def load_data(path=None) -> tuple[pd.DataFrame, np.ndarray]:
    """Features (a DataFrame with the raw columns of :data:`FEATURES`) and the target ``Exited``."""
    frame = read_frame(path)
    return frame[list(FEATURES)], frame[TARGET].to_numpy().astype(int)


def make_preprocessor(engineered: bool = True) -> ColumnTransformer:
    """One-hot Geography, 0/1 Gender, the numeric columns as they are (the course's set-up); with
    ``engineered``, also NumOfProducts one-hot and a has-a-balance flag."""
    steps = [
        ("geography", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(CATEGORICAL)),
        ("gender", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), list(BINARY)),
        ("numeric", "passthrough", list(NUMERIC)),
    ]
    if engineered:
        # nested, with prefixed names, so that the new columns never clash with the raw ones
        derived = ColumnTransformer(
            [
                ("products", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["NumOfProducts"]),
                ("has", Binarizer(threshold=0.0), ["Balance"]),
            ]
        )
        steps.append(("derived", derived, ["NumOfProducts", "Balance"]))
    return ColumnTransformer(steps, verbose_feature_names_out=False)


def split(X, y, test_size: float = 0.2, seed: int = 0):
    """The course's 80/20 split with ``random_state=seed`` (not stratified, as in the course)."""
    return train_test_split(X, y, test_size=test_size, random_state=seed)


def scaled_pipeline_steps(engineered: bool = True):
    """The preprocessing steps in order: encode, then scale (StandardScaler after encoding, as the course)."""
    return [("encode", make_preprocessor(engineered)), ("scale", StandardScaler())]
