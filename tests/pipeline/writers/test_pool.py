"""PassagePoolWriter: one validated parquet shard per task, with the declared schema, renamed into place when complete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from memtrain_data.features import passage_arrow_schema
from memtrain_data.pipeline.aliases import ALIAS_ONLY_KEY, ALIASES_KEY, LATEST_TIMESTAMP_KEY
from memtrain_data.pipeline.writers.pool import (
    PassagePoolWriter,
    alias_arrow_schema,
    alias_shard_name,
    pool_shard_name,
    read_latest_timestamp,
)


def passage(page_id: int, n: int, text: str, **metadata: object) -> Document:
    base = {
        "page_id": page_id,
        "title": f"Page {page_id}",
        "n_words": len(text.split()),
        "revision_id": page_id * 10,
        "timestamp": "2024-01-01T00:00:00Z",
        "source": "test.xml",
    }
    return Document(text=text, id=f"{page_id}-{n}", metadata=base | metadata)


def write(tmp_path: Path, documents: list[Document], rank: int = 0, tasks: int = 1, **kwargs: int) -> PassagePoolWriter:
    writer = PassagePoolWriter(tmp_path / "pool", tasks=tasks, **kwargs)
    for _ in writer.run(iter(documents), rank=rank, world_size=tasks):
        pass
    return writer


def test_the_shard_is_named_by_rank_and_task_count() -> None:
    assert pool_shard_name(3, 12) == "passages-00003-of-00012.parquet"


def test_passages_are_written_with_the_declared_schema(tmp_path: Path) -> None:
    documents = [passage(1, 0, "First passage of page one."), passage(1, 1, "Second one."), passage(2, 0, "Another page.")]
    writer = write(tmp_path, documents, rank=1, tasks=3, batch_rows=2)  # two row groups
    shard = tmp_path / "pool" / "passages-00001-of-00003.parquet"
    table = pq.read_table(shard)
    assert table.schema.equals(passage_arrow_schema(), check_metadata=False)
    assert table.column("id").to_pylist() == ["1-0", "1-1", "2-0"]
    assert table.to_pylist()[2] == {
        "id": "2-0",
        "page_id": 2,
        "title": "Page 2",
        "text": "Another page.",
        "n_words": 2,
        "revision_id": 20,
        "timestamp": "2024-01-01T00:00:00Z",
        "source": "test.xml",
    }
    assert writer.stats["passages_written"].total == 3
    assert writer.stats["words_written"].total == 5 + 2 + 2
    # the passage shard and its (here empty) alias table; no temporary file left
    assert sorted(p.name for p in (tmp_path / "pool").iterdir()) == ["aliases-00001-of-00003.parquet", shard.name]


def test_invalid_passages_are_skipped_and_counted_never_written(tmp_path: Path) -> None:
    documents = [passage(1, 0, "Good text here."), passage(1, 1, "   ", n_words=0), passage(2, 0, "No title.", title=None)]
    writer = write(tmp_path, documents)
    table = pq.read_table(tmp_path / "pool" / pool_shard_name(0, 1))
    assert table.column("id").to_pylist() == ["1-0"]
    assert writer.stats["invalid_passages_dropped"].total == 2


def test_a_task_without_passages_still_writes_an_empty_shard(tmp_path: Path) -> None:
    write(tmp_path, [], rank=0, tasks=2)
    table = pq.read_table(tmp_path / "pool" / pool_shard_name(0, 2))
    assert table.num_rows == 0
    assert table.schema.equals(passage_arrow_schema(), check_metadata=False)


def test_a_task_that_fails_midway_leaves_no_shard_and_no_temporary_file(tmp_path: Path) -> None:
    def failing() -> Iterator[Document]:
        yield passage(1, 0, "Written before the failure.")
        raise RuntimeError("upstream step crashed")

    writer = PassagePoolWriter(tmp_path / "pool", tasks=1)
    with pytest.raises(RuntimeError, match="upstream step crashed"):
        for _ in writer.run(failing(), rank=0, world_size=1):
            pass
    assert list((tmp_path / "pool").iterdir()) == []


def test_the_same_passages_give_byte_identical_shards(tmp_path: Path) -> None:
    documents = [passage(i, 0, f"Passage number {i} text.") for i in range(50)]
    write(tmp_path / "a", documents)
    write(tmp_path / "b", documents)
    name = pool_shard_name(0, 1)
    assert (tmp_path / "a" / "pool" / name).read_bytes() == (tmp_path / "b" / "pool" / name).read_bytes()


# --------------------------------------------------------------------------- the alias table


def test_alias_rows_are_counted_unique_and_sorted_with_the_newest_timestamp(tmp_path: Path) -> None:
    anchors = [("Canada", "Canadian", "anchor"), ("Canada", "Canada", "anchor"), ("Canada", "Canadian", "anchor")]
    redirects = Document(
        text="",
        id="aliases:wiki.xml",
        metadata={ALIAS_ONLY_KEY: True, ALIASES_KEY: [("United States", "USA", "redirect")], LATEST_TIMESTAMP_KEY: "2016-05-01T00:00:00Z"},
    )
    old = "2015-01-01T00:00:00Z"
    documents = [passage(1, 0, "A Canadian novel.", aliases=anchors, timestamp=old), passage(1, 1, "More.", timestamp=old), redirects]
    writer = write(tmp_path, documents, rank=0, tasks=2)
    table = pq.read_table(tmp_path / "pool" / alias_shard_name(0, 2))
    assert table.schema.equals(alias_arrow_schema(), check_metadata=False)
    assert table.to_pylist() == [
        {"target": "Canada", "alias": "Canada", "kind": "anchor", "count": 1},
        {"target": "Canada", "alias": "Canadian", "kind": "anchor", "count": 2},
        {"target": "United States", "alias": "USA", "kind": "redirect", "count": 1},
    ]
    assert read_latest_timestamp(tmp_path / "pool" / alias_shard_name(0, 2)) == "2016-05-01T00:00:00Z"
    assert pq.read_table(tmp_path / "pool" / pool_shard_name(0, 2)).column("id").to_pylist() == ["1-0", "1-1"]
    assert writer.stats["alias_rows"].total == 3


def test_a_task_without_links_writes_an_empty_alias_table_with_the_schema(tmp_path: Path) -> None:
    write(tmp_path, [passage(1, 0, "Plain text.", timestamp=None)])
    table = pq.read_table(tmp_path / "pool" / alias_shard_name(0, 1))
    assert table.num_rows == 0 and table.schema.equals(alias_arrow_schema(), check_metadata=False)
    assert read_latest_timestamp(tmp_path / "pool" / alias_shard_name(0, 1)) is None
