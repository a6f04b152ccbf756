"""The churn data set-up: the course's encoding, the engineered features, a saved Pipeline that loads."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

import deepzoo
from deepzoo import MLPClassifier
from deepzoo.data import churn as churn_data


def _customers(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "CreditScore": rng.integers(350, 850, n),
            "Geography": rng.choice(["France", "Germany", "Spain"], n),
            "Gender": rng.choice(["Female", "Male"], n),
            "Age": rng.integers(18, 90, n),
            "Tenure": rng.integers(0, 11, n),
            "Balance": np.where(rng.random(n) < 0.3, 0.0, rng.uniform(1e3, 2e5, n)),
            "NumOfProducts": rng.integers(1, 5, n),
            "HasCrCard": rng.integers(0, 2, n),
            "IsActiveMember": rng.integers(0, 2, n),
            "EstimatedSalary": rng.uniform(1e3, 2e5, n),
        }
    )[list(churn_data.FEATURES)]
    y = ((frame["Age"] > 50) | (frame["NumOfProducts"] >= 3)).to_numpy().astype(int)
    return frame, y


def test_course_encoding_has_twelve_columns():
    X, _ = _customers()
    out = churn_data.make_preprocessor(engineered=False).fit_transform(X)
    assert out.shape == (len(X), 12)  # 3 countries + gender + 8 numeric


def test_engineered_features_are_products_one_hot_and_balance_flag():
    X, _ = _customers()
    pre = churn_data.make_preprocessor().fit(X)
    out = pd.DataFrame(pre.transform(X), columns=pre.get_feature_names_out())
    assert out.shape[1] == 12 + 4 + 1
    assert np.array_equal(out["has__Balance"].to_numpy() == 1, (X["Balance"] > 0).to_numpy())
    products = out[[f"products__NumOfProducts_{k}" for k in (1, 2, 3, 4)]].to_numpy()
    assert np.array_equal(products.argmax(axis=1) + 1, X["NumOfProducts"].to_numpy())


def test_pipeline_with_engineered_features_saves_and_loads(tmp_path):
    X, y = _customers()
    model = Pipeline(
        [*churn_data.scaled_pipeline_steps(), ("mlp", MLPClassifier((8,), max_iter=5, random_state=0))]
    )
    model.fit(X, y)
    deepzoo.save(model, tmp_path / "model")
    loaded = deepzoo.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6, atol=1e-7)
