"""deepzoo fit on the text datasets, defaults only: the network against TF-IDF + logistic regression.

For each corpus, ``deepzoo.fit`` detects the text task, splits (the corpus's own train/test when it has
one), fits the SequenceClassifier with the task's defaults and, in the same run and on the same split,
TF-IDF (words and word pairs) + logistic regression and the majority class. One row per corpus: the
network's main metric (ROC-AUC for two classes, accuracy for more), the baseline's, the gap, the
network's fit seconds (wall and the process's CPU), and the load average of the machine.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_text.py [--only sms_spam imdb resumes]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import deepzoo

# name -> (path under DEEPZOO_DATA_DIR, target column or None for a folder)
CORPORA = {
    "sms_spam": ("sms_spam/SMSSpamCollection", "0"),
    "imdb": ("imdb", None),
    "resumes": ("resumes/UpdatedResumeDataSet.csv", "Category"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(CORPORA), default=list(CORPORA))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    root = Path(os.environ.get("DEEPZOO_DATA_DIR", "../shared/datasets"))
    print(f"{'corpus':10s} {'metric':8s} {'deepzoo':>8s} {'tfidf+lr':>8s} {'gap':>7s} {'majority':>8s} "
          f"{'fit s':>7s} {'cpu s':>7s} {'run s':>7s} {'epochs':>6s}  load")  # fmt: skip
    for name in args.only:
        path, target = CORPORA[name]
        load_before = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = deepzoo.fit(root / path, target=target, out=out, seed=args.seed)
        run_seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        m = result.metrics
        metric = "roc_auc" if "roc_auc" in m else "accuracy"
        deep, base = m[metric], m[f"baseline_tfidf_logistic_regression_{metric}"]
        print(
            f"{name:10s} {metric:8s} {deep:8.4f} {base:8.4f} {deep - base:+7.4f} "
            f"{m[f'baseline_majority_{metric}']:8.4f} {m['fit_seconds']:7.1f} {cpu_seconds:7.1f} "
            f"{run_seconds:7.1f} {m['epochs']:6d}  {load_before:.1f} -> {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
