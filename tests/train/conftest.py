"""Fixtures of the training tests: a small memtrain dataset folder and the tiny model's tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.train.mini_dataset import write_mini_dataset


@pytest.fixture(scope="session")
def mini_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid dataset folder: config 'mini', 6 train episodes of 3, 4 and 2 chunks."""
    return write_mini_dataset(tmp_path_factory.mktemp("mini-dataset"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    tokenizer.padding_side = "left"
    return tokenizer
