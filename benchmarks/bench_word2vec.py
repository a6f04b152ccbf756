"""deepzoo's Word2Vec against gensim's on the same corpus and settings: seconds and quality, in one run.

Corpus: the 5,574 SMS Spam Collection messages (registry name 'sms_spam'), tokenised once with
deepzoo's tokenizer and handed to both as the same token lists. Settings: skip-gram, negative
sampling (5), window 5, min_count 3, sample 1e-3, 100 dimensions, 5 epochs, lr 0.025.
gensim runs with ``workers=1`` and with ``workers=2`` (this machine has 2 cores); deepzoo on the CPU.

Quality, since no analogy set ships here: (1) the spam classification the vectors are for: 5-fold
cross-validated ROC-AUC of a logistic regression on each message's mean word vector; (2) agreement of
the two models' neighbourhoods: mean overlap of the 10 nearest words of the 200 most frequent words.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_word2vec.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from deepzoo import Word2Vec
from deepzoo.data.registry import dataset_file
from deepzoo.data.text import read_sms_spam, tokenize

SETTINGS = dict(vector_size=100, window=5, negative=5, min_count=3, sample=1e-3, epochs=5, alpha=0.025)


def doc_vectors(sentences, lookup, size) -> np.ndarray:
    out = np.zeros((len(sentences), size), dtype=np.float32)
    for i, sentence in enumerate(sentences):
        known = [lookup[t] for t in sentence if t in lookup]
        if known:
            out[i] = np.mean(known, axis=0)
    return out


def auc(X, y, seed) -> float:
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(LogisticRegression(max_iter=2000), X, y, cv=folds, scoring="roc_auc").mean())


def neighbours(vocab, vectors, words, k=10) -> dict:
    index = {w: i for i, w in enumerate(vocab)}
    normed = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    out = {}
    for w in words:
        sims = normed @ normed[index[w]]
        sims[index[w]] = -np.inf
        out[w] = {vocab[j] for j in np.argsort(-sims)[:k]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from gensim.models import Word2Vec as GensimWord2Vec

    texts, y = read_sms_spam(dataset_file("sms_spam"))
    sentences = [tokenize(t) for t in texts]
    load_before = os.getloadavg()
    results, tables = {}, {}
    for workers in (1, 2):
        started = time.perf_counter()
        g = GensimWord2Vec(sentences, sg=1, hs=0, workers=workers, seed=args.seed, **SETTINGS)
        seconds = time.perf_counter() - started
        vocab = list(g.wv.index_to_key)
        tables[f"gensim-{workers}"] = (vocab, g.wv.vectors)
        lookup = {w: g.wv[w] for w in vocab}
        results[f"gensim workers={workers}"] = {
            "seconds": seconds,
            "vocabulary": len(vocab),
            "spam_roc_auc": auc(doc_vectors(sentences, lookup, SETTINGS["vector_size"]), y, args.seed),
        }
    ours = Word2Vec(
        SETTINGS["vector_size"],
        window=SETTINGS["window"],
        negative=SETTINGS["negative"],
        min_count=SETTINGS["min_count"],
        sample=SETTINGS["sample"],
        max_iter=SETTINGS["epochs"],
        learning_rate=SETTINGS["alpha"],
        device="cpu",
        random_state=args.seed,
    )
    started = time.perf_counter()
    ours.fit(sentences)
    seconds = time.perf_counter() - started
    vocab, vectors = list(ours.vocabulary_), ours.vectors_
    tables["deepzoo"] = (vocab, vectors)
    results["deepzoo"] = {
        "seconds": seconds,
        "vocabulary": len(vocab),
        "spam_roc_auc": auc(
            doc_vectors(sentences, dict(zip(vocab, vectors, strict=True)), SETTINGS["vector_size"]),
            y,
            args.seed,
        ),
    }
    load_after = os.getloadavg()
    frequent = [w for w in tables["gensim-1"][0][:200] if w in set(vocab)]
    ref = neighbours(*tables["gensim-1"], frequent)
    for name in ("gensim-2", "deepzoo"):
        other = neighbours(*tables[name], frequent)
        key = "gensim workers=2" if name == "gensim-2" else "deepzoo"
        results[key]["top10_overlap_with_gensim1"] = float(
            np.mean([len(ref[w] & other[w]) / 10 for w in frequent])
        )
    print(
        f"{platform.node()} {time.strftime('%Y-%m-%d %H:%M')}, {sum(len(s) for s in sentences):,} tokens, "
        f"load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
