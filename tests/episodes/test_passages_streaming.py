"""The pool view is written by a bucket sort on disk: any bucket size gives the same view."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from memtrain_data.episodes.passages import PassageView, write_pool_view
from tests.episodes.pool_helpers import pool_rows, write_pool


@pytest.mark.parametrize("rows_per_bucket", [1, 7, 1_000_000])
def test_the_view_is_the_pool_sorted_by_id_hash_whatever_the_bucket_size(tmp_path: Path, rows_per_bucket: int) -> None:
    write_pool(tmp_path, shards=3)
    fingerprint = write_pool_view(tmp_path, tmp_path / "v.arrow", rows_per_bucket=rows_per_bucket)
    # the reference order, computed here from the definition: sha256 of "memtrain-pool:<id>"
    expected = sorted((str(row["id"]) for row in pool_rows()), key=lambda i: hashlib.sha256(f"memtrain-pool:{i}".encode()).digest())
    view = PassageView.open(tmp_path / "v.arrow")
    assert view.table.column("id").to_pylist() == expected
    assert fingerprint == hashlib.sha256("\n".join(expected).encode()).hexdigest()
    assert not (tmp_path / "v.arrow.buckets").exists()


def test_bucket_size_never_changes_the_bytes_of_the_view(tmp_path: Path) -> None:
    write_pool(tmp_path, shards=2)
    write_pool_view(tmp_path, tmp_path / "small.arrow", pool_size=30, rows_per_bucket=5)
    write_pool_view(tmp_path, tmp_path / "large.arrow", pool_size=30)
    assert (tmp_path / "small.arrow").read_bytes() == (tmp_path / "large.arrow").read_bytes()


def test_text_batches_give_every_text_in_row_order(tmp_path: Path) -> None:
    write_pool(tmp_path)
    write_pool_view(tmp_path, tmp_path / "v.arrow")
    view = PassageView.open(tmp_path / "v.arrow")
    batches = list(view.text_batches(rows=10))
    assert all(len(batch) == 10 for batch in batches[:-1])
    assert [text for batch in batches for text in batch] == view.texts()
