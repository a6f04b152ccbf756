"""Write the saved-model fixtures that tests/test_saved_models.py loads.

Each sub-folder is a model saved by ``deepzoo.save`` on tiny seeded data, beside ``expected.npz``: the
inputs it was given and what it predicted when it was saved. They were written by the code of
2026-12-07, before the package was regrouped into engine/, models/ and serving/ (issue 18), so the test
proves that a folder saved by the flat layout loads and predicts the same after the move.

Run from the repository root to write them again (only when the file format changes on purpose):
``python tests/saved_models/make.py``.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs, make_regression

import deepzoo

HERE = Path(__file__).parent


def _save(name: str, model, inputs: dict, outputs: dict) -> None:
    folder = HERE / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    deepzoo.save(model, folder / "model")
    np.savez(folder / "expected.npz", **{f"in_{k}": v for k, v in inputs.items()}, **outputs)


def main() -> None:
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X, y = make_blobs(60, n_features=4, centers=3, random_state=0)
    labels = np.array(["a", "b", "c"])[y]
    clf = deepzoo.MLPClassifier((8,), max_iter=5, random_state=0).fit(X, labels)
    _save("mlp_classifier", clf, {"X": X}, {"proba": clf.predict_proba(X)})

    Xr, yr = make_regression(50, n_features=3, random_state=0)
    reg = deepzoo.MLPRegressor((8,), max_iter=5, random_state=0).fit(Xr, yr)
    _save("mlp_regressor", reg, {"X": Xr}, {"pred": reg.predict(Xr)})

    binary = (rng.random((40, 6)) > 0.5).astype(float)
    rbm = deepzoo.BernoulliRBM(n_components=3, max_iter=2, random_state=0).fit(binary)
    _save("bernoulli_rbm", rbm, {"X": binary}, {"transform": rbm.transform(binary)})

    auto = deepzoo.StackedAutoEncoder(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X)
    _save("stacked_autoencoder", auto, {"X": X}, {"transform": auto.transform(X)})

    som = deepzoo.SelfOrganizingMap((3, 3), max_iter=5, random_state=0).fit(X)
    _save("som", som, {"X": X}, {"predict": som.predict(X), "transform": som.transform(X)})

    windows = rng.normal(size=(40, 6))
    lstm = deepzoo.LSTMForecaster((4,), max_iter=3, random_state=0).fit(windows, windows.sum(1))
    _save("lstm_forecaster", lstm, {"X": windows}, {"pred": lstm.predict(windows)})

    tokens = rng.integers(1, 20, size=(40, 8))
    seq = deepzoo.SequenceClassifier(
        "conv1d", embedding_dim=4, n_filters=4, max_length=8, max_iter=3, random_state=0
    ).fit(tokens, tokens[:, 0] > 10)
    _save("sequence_classifier", seq, {"X": tokens}, {"proba": seq.predict_proba(tokens)})

    images = rng.random((24, 1, 8, 8)).astype(np.float32)
    conv = deepzoo.ConvNetClassifier("small_vgg", width=0.25, max_iter=2, random_state=0).fit(
        images, np.arange(24) % 2
    )
    _save("convnet", conv, {"X": images}, {"proba": conv.predict_proba(images)})

    masks = (images[:, 0] > 0.5).astype(np.int64)
    seg = deepzoo.ConvNetSegmenter(width=0.25, depth=1, max_iter=1, random_state=0).fit(images, masks)
    _save("segmenter", seg, {"X": images}, {"proba": seg.predict_proba(images)})

    # deepzoo fit's table road: a Pipeline of TableEncoder and the MLP, raw rows in
    frame = pd.DataFrame(
        {
            "size": X[:, 0],
            "colour": np.array(["red", "blue"])[np.arange(60) % 2],
            "weight": X[:, 1],
            "label": labels,
        }
    )
    outcome = deepzoo.fit(frame, target="label", out=HERE / ".fit", settings={"max_iter": 5}, verbose=False)
    rows = frame.drop(columns="label")
    _save("fit_table", outcome.model, {}, {"proba": outcome.model.predict_proba(rows)})
    rows.to_csv(HERE / "fit_table" / "rows.csv", index=False)
    shutil.rmtree(HERE / ".fit")

    ratings = pd.DataFrame(
        {"user": rng.integers(0, 10, 80), "item": rng.integers(0, 12, 80), "rating": rng.integers(1, 6, 80)}
    ).drop_duplicates(["user", "item"])
    bias = deepzoo.BiasRecommender().fit(ratings)
    pairs = ratings[["user", "item"]].to_numpy()
    _save("bias_recommender", bias, {"X": pairs}, {"pred": bias.predict(pairs[:, 0], pairs[:, 1])})


if __name__ == "__main__":
    main()
