"""The pool from a plain `.bz2` dump cut into several tasks equals the pool built in one task."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from memtrain_data.build_config import BuildConfig
from memtrain_data.pool import build_passage_pool


def pool_records(pool_dir: Path) -> list[dict[str, object]]:
    """Every passage of the pool, shard after shard (shards are in task order, tasks in file order)."""
    return [row for path in sorted(pool_dir.glob("passages-*.parquet")) for row in pq.read_table(path).to_pylist()]


def merged_aliases(pool_dir: Path) -> dict[tuple[str, str, str], int]:
    """The pool's alias table with the counts of all shards summed per (target, alias, kind)."""
    totals: dict[tuple[str, str, str], int] = {}
    for path in sorted(pool_dir.glob("aliases-*.parquet")):
        for row in pq.read_table(path).to_pylist():
            key = (row["target"], row["alias"], row["kind"])
            totals[key] = totals.get(key, 0) + row["count"]
    return totals


def test_a_plain_bz2_split_into_tasks_gives_the_records_of_a_one_task_build(tmp_path: Path, enwiki_sample: Path) -> None:
    one = build_passage_pool(BuildConfig.from_settings(output=tmp_path / "one", dump=[str(enwiki_sample)], workers=1))
    split = build_passage_pool(
        BuildConfig.from_settings(output=tmp_path / "split", dump=[str(enwiki_sample)], workers=2), pages_per_task=200
    )
    assert one.tasks == 1
    assert split.tasks == 4  # 3.1 MB of XML in ranges of 200 × 4 KiB
    records = pool_records(one.pool_dir)
    assert len(records) > 1_000
    assert pool_records(split.pool_dir) == records
    assert split.stats["read"]["pages_read"] == 120  # 60 articles + 60 redirects, each read once
    assert split.stats["read"] == one.stats["read"]
    # Alias shards hold unique rows per task, so their row count grows with the tasks; what they
    # say together (counts summed per target, alias and kind) is the same.
    assert {k: v for k, v in split.stats["write"].items() if k != "alias_rows"} == {
        k: v for k, v in one.stats["write"].items() if k != "alias_rows"
    }
    assert merged_aliases(split.pool_dir) == merged_aliases(one.pool_dir)
