"""Data: the registry of named datasets (where to find them, checksums, licences) and readers of formats.

``registry`` finds a dataset's folder (explicit path, ``$DEEPZOO_DATA_DIR``, the user cache, a checked
download); ``tabular`` reads CSV files with clear errors.
"""

from .registry import (
    DATASETS,
    Dataset,
    DatasetFile,
    DatasetNotFoundError,
    cache_dir,
    dataset_file,
    locate,
    resolve,
    verify,
)
from .tabular import check_numeric, read_csv, split_target

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetFile",
    "DatasetNotFoundError",
    "cache_dir",
    "check_numeric",
    "dataset_file",
    "locate",
    "read_csv",
    "resolve",
    "split_target",
    "verify",
]
