import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memtrain_data.episodes.retrieval import (
    BM25Retriever,
    build_bm25_index,
    build_dense_index,
    build_index,
    load_retriever,
    top_rows,
)
from memtrain_data.errors import ConfigError, MissingDependencyError
from tests.episodes.pool_helpers import passage_id, pool_rows

ROWS = pool_rows()
TEXTS = [str(row["text"]) for row in ROWS]


def _row_of(passage_id: str) -> int:
    return next(i for i, row in enumerate(ROWS) if row["id"] == passage_id)


@pytest.fixture
def bm25_dir(tmp_path: Path) -> Path:
    build_bm25_index(TEXTS, tmp_path / "bm25", fingerprint="pool-a")
    return tmp_path / "bm25"


def test_bm25_finds_passages_of_the_same_topic_and_never_the_pivot(bm25_dir: Path) -> None:
    retriever = BM25Retriever(bm25_dir)
    pivot = _row_of(passage_id("Barack Obama", 0))  # Barack Obama, born in Honolulu
    related = retriever.related(pivot, TEXTS[pivot], 3)
    assert pivot not in related
    assert len(related) == 3
    titles = [ROWS[row]["title"] for row in related]
    assert titles.count("Barack Obama") >= 2


def test_bm25_returns_only_allowed_rows_when_given_a_split_mask(bm25_dir: Path) -> None:
    retriever = BM25Retriever(bm25_dir)
    pivot = _row_of(passage_id("Barack Obama", 0))
    allowed = np.array([row["title"] != "Barack Obama" for row in ROWS])
    related = retriever.related(pivot, TEXTS[pivot], 5, allowed=allowed)
    assert related and all(allowed[row] for row in related)
    assert retriever.related(pivot, TEXTS[pivot], 5, allowed=np.zeros(len(ROWS), dtype=bool)) == []


def test_bm25_is_deterministic_and_ranked(bm25_dir: Path) -> None:
    first = BM25Retriever(bm25_dir).related(5, TEXTS[5], 10)
    second = BM25Retriever(bm25_dir).related(5, TEXTS[5], 10)
    assert first == second
    assert len(set(first)) == len(first)


def test_bm25_index_is_reused_when_the_pool_is_unchanged(tmp_path: Path) -> None:
    built = build_bm25_index(TEXTS, tmp_path / "bm25", fingerprint="pool-a")
    again = build_bm25_index(TEXTS, tmp_path / "bm25", fingerprint="pool-a")
    rebuilt = build_bm25_index(TEXTS[:10], tmp_path / "bm25", fingerprint="pool-b")
    assert not built.reused and again.reused and not rebuilt.reused
    assert built.size_bytes > 0 and again.size_bytes == built.size_bytes


def test_query_of_only_stopwords_finds_nothing(bm25_dir: Path) -> None:
    assert BM25Retriever(bm25_dir).related(0, "the and of it", 5) == []


def test_load_retriever_opens_the_index_build_index_made(tmp_path: Path) -> None:
    info = build_index("bm25", TEXTS, tmp_path, "pool-a", None)
    assert info.directory == tmp_path / "index" / "bm25"
    retriever = load_retriever("bm25", tmp_path)
    assert retriever.name == "bm25"
    assert retriever.related(0, TEXTS[0], 2)


def test_top_rows_breaks_ties_by_row_and_skips_zero_scores() -> None:
    scores = np.array([0.5, 2.0, 0.5, 0.0, 2.0, 1.0])
    assert top_rows(scores, pivot_row=4, k=3) == [1, 5, 0]
    assert top_rows(scores, pivot_row=1, k=10) == [4, 5, 0, 2]


def test_dense_retrieval_without_sentence_transformers_names_the_extra(tmp_path: Path, monkeypatch: Any) -> None:
    real_import = builtins.__import__

    def no_sentence_transformers(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("sentence_transformers"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sentence_transformers)
    with pytest.raises(MissingDependencyError, match=r"pip install 'memtrain\[dense\]'"):
        build_dense_index(TEXTS, tmp_path / "dense", "pool-a", "sentence-transformers/all-MiniLM-L6-v2")


def test_dense_retrieval_needs_a_model_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--dense-model"):
        build_dense_index(TEXTS, tmp_path / "dense", "pool-a", None)
