"""What the text case studies share: scores, the TF-IDF baseline, the documents a model gets wrong,
and saliency pictures (input gradient x embedding, summed per token)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline

from .. import plots


def binary_scores(y_true, proba) -> dict:
    """Precision, recall, F1 of the positive class at 0.5, ROC-AUC and accuracy."""
    pred = (np.asarray(proba) >= 0.5).astype(int)
    return {
        "accuracy": float(np.mean(pred == y_true)),
        "roc_auc": float(roc_auc_score(y_true, proba)),
        "precision": float(precision_score(y_true, pred, zero_division=0)),
        "recall": float(recall_score(y_true, pred)),
        "f1": float(f1_score(y_true, pred)),
    }


def tfidf_baseline(C: float = 10.0, ngram_range=(1, 2), min_df: int = 2) -> Pipeline:
    """TF-IDF (words and bigrams, sublinear tf) + logistic regression: the strong linear baseline."""
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(ngram_range=ngram_range, min_df=min_df, sublinear_tf=True)),
            ("model", LogisticRegression(C=C, max_iter=2000)),
        ]
    )


def mistakes(texts, y_true, proba, labels=("negative", "positive"), limit: int = 30) -> pd.DataFrame:
    """The documents the model gets wrong, most confident first."""
    proba = np.asarray(proba)
    wrong = np.flatnonzero((proba >= 0.5).astype(int) != np.asarray(y_true))
    order = wrong[np.argsort(-np.abs(proba[wrong] - 0.5))][:limit]
    return pd.DataFrame(
        {
            "text": [str(texts[i])[:300] for i in order],
            "true": [labels[int(y_true[i])] for i in order],
            "p_positive": proba[order].round(4),
        }
    )


def token_saliency(clf, text: str) -> tuple[list[str], np.ndarray]:
    """The tokens the classifier reads and each one's gradient x input (summed over the embedding),
    towards the positive class: how much the word pushes the logit up (+) or down (-)."""
    from ..audit.explain import input_gradients

    target = clf.classes_[-1]
    grads = input_gradients(clf, [text], target=target)[0]  # (T, E)
    embedded = clf._explain_inputs([text]).cpu().numpy()[0]  # (T, E)
    weights = (grads * embedded).sum(1)
    tokens = clf.tokens([text])[0]
    return tokens, weights[: len(tokens)]


def add_saliency_figures(report, clf, texts, names, title: str) -> None:
    """One token-saliency picture per document."""
    for name, text in zip(names, texts, strict=True):
        tokens, weights = token_saliency(clf, text)
        p = float(clf.predict_proba([text])[0, -1])
        report.add_figure(
            f"saliency_{name}",
            plots.plot_token_saliency(tokens, weights, title=f"{title}: p = {p:.3f}"),
            "Input gradient x embedding per token: green pushes towards the positive class, red away.",
        )
