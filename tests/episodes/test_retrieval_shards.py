"""The sharded BM25 index: scores bit-identical to one bm25s index over the whole pool,
any shard size, the `allowed` row mask, and clear rebuilds of stale or old index folders."""

from __future__ import annotations

import shutil
from collections import namedtuple
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import pytest

from memtrain_data.episodes.retrieval import BM25_FORMAT, BM25Retriever, build_bm25_index, top_rows
from memtrain_data.errors import InputError
from tests.episodes.pool_helpers import pool_rows

TEXTS = [str(row["text"]) for row in pool_rows()]


def bm25s_scores(texts: list[str], query: str) -> np.ndarray:
    """The reference: one bm25s index over every text, built and queried by bm25s itself."""
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    ids = model.get_tokens_ids(bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0])
    return model.get_scores_from_ids(ids)


@pytest.mark.parametrize("rows_per_shard", [7, 1_000])
def test_scores_are_bit_identical_to_one_bm25s_index_over_the_whole_pool(tmp_path: Path, rows_per_shard: int) -> None:
    build_bm25_index(TEXTS, tmp_path / "bm25", "pool-a", rows_per_shard=rows_per_shard)
    retriever = BM25Retriever(tmp_path / "bm25")
    for query in [TEXTS[0], TEXTS[17], "Vienna Danube waltz 1866", "Obama Obama Honolulu"]:
        ours = retriever.scores(query)
        assert ours.dtype == np.float32 and len(ours) == len(TEXTS)
        assert np.array_equal(ours, bm25s_scores(TEXTS, query))


def test_related_rows_are_the_top_rows_of_the_whole_pool_scores(tmp_path: Path) -> None:
    build_bm25_index(TEXTS, tmp_path / "bm25", "pool-a", rows_per_shard=5)
    retriever = BM25Retriever(tmp_path / "bm25")
    for pivot in range(0, len(TEXTS), 6):
        expected = top_rows(bm25s_scores(TEXTS, TEXTS[pivot]), pivot, 8)
        assert retriever.related(pivot, TEXTS[pivot], 8) == expected


def test_the_allowed_mask_keeps_only_allowed_rows(tmp_path: Path) -> None:
    build_bm25_index(TEXTS, tmp_path / "bm25", "pool-a", rows_per_shard=5)
    retriever = BM25Retriever(tmp_path / "bm25")
    allowed = np.arange(len(TEXTS)) % 3 == 0
    related = retriever.related(4, TEXTS[4], 10, allowed=allowed)
    assert related and all(allowed[row] for row in related)
    assert related == top_rows(bm25s_scores(TEXTS, TEXTS[4]), 4, 10, allowed=allowed)
    assert retriever.related(4, TEXTS[4], 10, allowed=np.zeros(len(TEXTS), dtype=bool)) == []


def test_the_index_files_are_identical_on_a_rebuild(tmp_path: Path) -> None:
    build_bm25_index(TEXTS, tmp_path / "a", "pool-a", rows_per_shard=9)
    build_bm25_index(TEXTS, tmp_path / "b", "pool-a", rows_per_shard=9)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) > 5
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_an_index_folder_of_an_older_memtrain_is_removed_and_rebuilt_with_a_note(tmp_path: Path) -> None:
    old = tmp_path / "bm25"
    model = bm25s.BM25()
    model.index(bm25s.tokenize(TEXTS, stopwords="en", show_progress=False), show_progress=False)
    model.save(str(old), show_progress=False)  # the layout memtrain wrote before the shards
    (old / "memtrain-fingerprint.json").write_text('{"fingerprint": "pool-a"}\n')
    with pytest.raises(InputError, match=f"not a {BM25_FORMAT} index"):
        BM25Retriever(old)
    info = build_bm25_index(TEXTS, old, "pool-a")
    assert not info.reused and info.note is not None and "removed and rebuilt" in info.note
    assert not (old / "params.index.json").exists()
    assert BM25Retriever(old).related(0, TEXTS[0], 3)
    again = build_bm25_index(TEXTS, old, "pool-a")
    assert again.reused and again.note is None


def test_a_disk_too_small_for_the_index_is_one_line_with_the_size_needed(tmp_path: Path, monkeypatch: Any) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1_000, 1_000))
    with pytest.raises(InputError, match=r"not enough disk for the BM25 index .* needs about [\d.]+ GB .* free"):
        build_bm25_index(TEXTS, tmp_path / "bm25", "pool-a")
    assert not (tmp_path / "bm25").exists()
