"""Fixtures of the eval tests: the tiny model as a backend, a small proxy dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.eval.proxy_data import write_mini_dataset


@pytest.fixture(scope="session")
def proxy_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mini_dataset(tmp_path_factory.mktemp("proxy-dataset"))
