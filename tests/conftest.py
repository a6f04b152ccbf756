"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def shared_data_dir() -> Path:
    """The folder of the real datasets, ``$DEEPZOO_DATA_DIR``.

    Unset: the test is skipped locally, but fails under CI (``$CI`` set), where a missing dataset must not
    pass unnoticed. Set to a folder that does not exist: the test fails.
    """
    value = os.environ.get("DEEPZOO_DATA_DIR")
    if not value:
        if os.environ.get("CI"):
            pytest.fail("DEEPZOO_DATA_DIR is not set; CI must point it at the shared datasets folder.")
        pytest.skip("set DEEPZOO_DATA_DIR=../shared/datasets to run")
    folder = Path(value).expanduser()
    if not folder.is_dir():
        pytest.fail(f"DEEPZOO_DATA_DIR={value} is not an existing folder.")
    return folder
