"""Do the messy re-saves of the shared sets read as their clean file? (issue 20, seconds, no fitting)

For each shared set and each messy form of :func:`corpus.messy_versions`, it reads the file as
``deepzoo fit`` does and compares with the clean CSV: the same columns, the same role for each, the same
task, and the same values (numbers within 1e-9 relative, text equal after the reader's cleaning). Same
frame, same schema and same seed give the same split and the same fitted model (deepzoo's determinism),
so the score is the clean file's; bench_files.py fits them to show it.

    python benchmarks/check_messy_reads.py [titanic adult california_housing churn]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402


def differences(clean: pd.DataFrame, other: pd.DataFrame, form: str) -> list[str]:
    """What differs between two frames read from the same table ([] when nothing does). The aligned
    re-save writes '_' for the spaces inside a value (a column of spaces cannot hold them); the encoder
    reads '_' as a space in words and character n-grams alike, so those cells count as the same."""
    if list(clean.columns) != list(other.columns):
        return [f"columns {list(other.columns)[:5]}... vs {list(clean.columns)[:5]}..."]
    if len(clean) != len(other):
        return [f"{len(other)} rows vs {len(clean)}"]
    found = []
    for column in clean.columns:
        a, b = clean[column], other[column]
        if a.isna().tolist() != b.isna().tolist():
            found.append(f"{column}: {int((a.isna() != b.isna()).sum())} cells missing in one only")
            continue
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            if not np.allclose(x, y, rtol=1e-9, equal_nan=True):
                found.append(f"{column}: numbers differ (max {np.nanmax(np.abs(x - y)):.3g})")
        else:
            x, y = a.dropna().astype(str), b.dropna().astype(str)
            if form == "aligned":
                x, y = x.str.replace(" ", "_"), y.str.replace(" ", "_")
            if x.tolist() == y.tolist():
                continue
            bad = (x != y).sum()
            found.append(f"{column}: {bad} text cells differ ({a.dtype} vs {b.dtype})")
    return found


def main(names) -> int:
    from deepzoo.tasks.base import FitConfig
    from deepzoo.tasks.detect import detect

    n_same = n_forms = 0
    for name in names:
        _, target = corpus.SHARED[name]
        paths = corpus.messy_versions(name)
        read = {}
        for form, path in paths.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                source = detect(path, FitConfig(target=target, verbose=False))
            read[form] = source
        clean = read.pop("clean")
        roles = {c.name: c.role for c in clean.schema.columns}
        for form, source in read.items():
            n_forms += 1
            found = differences(clean.frame, source.frame, form)
            other = {c.name: c.role for c in source.schema.columns}
            found += [f"{c}: {other.get(c)} vs {r}" for c, r in roles.items() if other.get(c) != r]
            if source.schema.task != clean.schema.task:
                found.append(f"task {source.schema.task} vs {clean.schema.task}")
            n_same += not found
            print(
                f"{name:<20} {form:<16} {'same as clean' if not found else '; '.join(found)[:200]}",
                flush=True,
            )
    print(f"{n_same}/{n_forms} messy re-saves read as their clean file")
    return 0 if n_same == n_forms else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(corpus.SHARED)))
