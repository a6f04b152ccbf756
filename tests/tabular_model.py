"""A tiny churn-like table and a saved Pipeline model, shared by the audit, serve, export and card tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from deepzoo import MLPClassifier, save


def churn_like(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "Geography": rng.choice(["France", "Germany", "Spain"], n),
            "Gender": rng.choice(["Female", "Male"], n),
            "Age": rng.integers(18, 80, n),
            "Balance": rng.uniform(0, 150000, n).round(2),
        }
    )
    logit = 0.08 * (frame.Age - 45) + 0.8 * (frame.Geography == "Germany") - 0.5
    frame["Exited"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def tabular_pipeline(frame: pd.DataFrame) -> Pipeline:
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["Geography", "Gender"]),
            ("num", StandardScaler(), ["Age", "Balance"]),
        ]
    )
    model = Pipeline([("encode", encode), ("mlp", MLPClassifier((8,), max_iter=30, random_state=0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(frame.drop(columns="Exited"), frame.Exited)


def saved_model(folder: Path, **card) -> tuple[Path, pd.DataFrame, Pipeline]:
    frame = churn_like()
    model = tabular_pipeline(frame)
    save(model, folder / "model", **card)
    csv = folder / "customers.csv"
    frame.to_csv(csv, index=False)
    return folder / "model", frame, model
