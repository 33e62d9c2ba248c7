"""Building the BM25 index: shards counted and weighed as tasks, the pool's statistics merged once.

The index folder is the same bytes wherever its tasks run (here, or 1 or 2 local worker
processes), whatever the shard count does to the work split, and an interrupted build resumes
without redoing finished shards.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from memtrain_data.build_config import ExecutionSettings
from memtrain_data.episodes.bm25_index import (
    BM25_FORMAT,
    as_row_texts,
    build_bm25_index,
    count_shard,
    merge_vocabularies,
    run_here,
    shard_bounds,
    tokenize,
)
from memtrain_data.episodes.build import index_task_runner
from memtrain_data.episodes.passages import PassageView, write_pool_view
from memtrain_data.episodes.retrieval import BM25Retriever
from memtrain_data.pipeline.executors import CallStep
from tests.episodes.pool_helpers import pool_rows

TEXTS = [str(row["text"]) for row in pool_rows()] + ["", "the of and", "Ünïcode café straße 東京 Tōkyō naïve"]


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_shards_are_consecutive_row_ranges_and_no_rows_make_one_empty_shard() -> None:
    assert shard_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert shard_bounds(8, 4) == [(0, 4), (4, 8)]
    assert shard_bounds(0, 4) == [(0, 0)]


@pytest.fixture
def counted(tmp_path: Path) -> tuple[Path, Path, int]:
    bounds = shard_bounds(len(TEXTS), 6)
    scratch, building = tmp_path / "scratch", tmp_path / "building"
    scratch.mkdir()
    building.mkdir()
    for rank in range(len(bounds)):
        count_shard(as_row_texts(TEXTS), bounds, scratch, rank)
    return scratch, building, len(bounds)


def test_merging_the_shard_counts_gives_the_pool_vocabulary_and_document_frequencies(counted: tuple[Path, Path, int]) -> None:
    scratch, building, shards = counted
    merged = merge_vocabularies(scratch, shards, building)
    tokenized = tokenize(TEXTS)
    frequencies: Counter[str] = Counter(token for tokens in tokenized for token in set(tokens))
    vocabulary = sorted(frequencies)
    offsets = np.load(building / "vocabulary_offsets.npy")
    blob = (building / "vocabulary.bin").read_bytes()
    assert [blob[a:b].decode() for a, b in pairwise(offsets)] == vocabulary
    assert merged.rows == len(TEXTS) and merged.tokens == len(vocabulary)
    assert merged.postings == sum(frequencies.values())
    assert merged.total_length == sum(len(tokens) for tokens in tokenized)
    # every shard's local ids map onto the pool's ids of the same tokens
    for shard in range(shards):
        folder = scratch / f"shard-{shard:05d}"
        local_offsets = np.load(folder / "vocabulary_offsets.npy")
        local_blob = (folder / "vocabulary.bin").read_bytes()
        local = [local_blob[a:b].decode() for a, b in pairwise(local_offsets)]
        pool_ids = np.fromfile(folder / "pool_ids.bin", dtype=np.int64)
        assert [vocabulary[i] for i in pool_ids] == local


def test_a_second_merge_reads_back_the_first_one(counted: tuple[Path, Path, int]) -> None:
    scratch, building, shards = counted
    first = merge_vocabularies(scratch, shards, building)
    (building / "vocabulary.bin").unlink()  # proof that nothing is merged again
    assert merge_vocabularies(scratch, shards, building) == first


@pytest.mark.parametrize("workers", [1, 2])
def test_the_index_is_the_same_bytes_on_local_workers_as_in_this_process(tmp_path: Path, workers: int) -> None:
    build_bm25_index(TEXTS, tmp_path / "here", "pool-a", rows_per_shard=5)
    progress = _Progress()
    runner = index_task_runner(ExecutionSettings(workers=workers, executor="local"), progress)
    info = build_bm25_index(TEXTS, tmp_path / "workers", "pool-a", rows_per_shard=5, run_tasks=runner)
    assert not info.reused
    shards = len(shard_bounds(len(TEXTS), 5))
    assert ("start", "index (count)", shards) in progress.events and ("finish", "index (weigh)", None) in progress.events
    assert sum(amount for event, stage, amount in progress.events if event == "advance" and stage == "index (weigh)") == shards
    here, there = files_of(tmp_path / "here"), files_of(tmp_path / "workers")
    assert len(here) > 20 and here == there
    assert not (tmp_path / "workers.building").exists()


def test_the_pool_view_reaches_worker_processes_as_its_path_and_indexes_like_its_texts(tmp_path: Path) -> None:
    from tests.episodes.pool_helpers import write_pool

    output = tmp_path / "out"
    write_pool(output, pool_rows())
    view_path = tmp_path / "passages.arrow"
    write_pool_view(output, view_path)
    view = PassageView.open(view_path)
    assert len(pickle.dumps(view)) < 500 and pickle.loads(pickle.dumps(view)).texts() == view.texts()
    assert view.texts_between(3, 9) == view.texts()[3:9]
    runner = index_task_runner(ExecutionSettings(workers=2), _Progress())
    build_bm25_index(view, tmp_path / "from-view", "pool-a", rows_per_shard=7, run_tasks=runner)
    build_bm25_index(view.texts(), tmp_path / "from-list", "pool-a", rows_per_shard=7)
    assert files_of(tmp_path / "from-view") == files_of(tmp_path / "from-list")


def test_an_interrupted_build_resumes_without_redoing_finished_shards(tmp_path: Path) -> None:
    ran: list[tuple[str, int]] = []

    def failing_after(limit: int) -> Callable[[str, Callable[[int], None], int, Path], None]:
        def run(step: str, task: Callable[[int], None], count: int, logs: Path) -> None:
            for rank in range(count):
                if len(ran) == limit:
                    raise KeyboardInterrupt
                ran.append((step, rank))
                task(rank)

        return run

    with pytest.raises(KeyboardInterrupt):
        build_bm25_index(TEXTS, tmp_path / "bm25", "pool-a", rows_per_shard=5, run_tasks=failing_after(3))
    building = tmp_path / "bm25.building"
    assert sorted(p.name for p in (building / "scratch").glob("shard-*")) == ["shard-00000", "shard-00001", "shard-00002"]
    finished = {p.name: (p / "tokens.npy").stat().st_mtime_ns for p in (building / "scratch").glob("shard-*")}
    after_counting: dict[str, int] = {}

    def resume(step: str, task: Callable[[int], None], count: int, logs: Path) -> None:
        run_here(step, task, count, logs)
        if step == "count":
            after_counting.update({name: (building / "scratch" / name / "tokens.npy").stat().st_mtime_ns for name in finished})

    build_bm25_index(TEXTS, tmp_path / "bm25", "pool-a", rows_per_shard=5, run_tasks=resume)
    assert after_counting == finished  # the three finished shards were not counted again
    build_bm25_index(TEXTS, tmp_path / "fresh", "pool-a", rows_per_shard=5)
    assert files_of(tmp_path / "bm25") == files_of(tmp_path / "fresh")
    assert not building.exists()  # the scratch goes once the index is whole


def test_a_half_built_index_of_another_pool_is_never_resumed(tmp_path: Path) -> None:
    def stop_after_counting(step: str, task: Callable[[int], None], count: int, logs: Path) -> None:
        if step == "weigh":
            raise KeyboardInterrupt
        run_here(step, task, count, logs)

    other = ["alpha beta gamma", "delta epsilon", "zeta eta theta"] * 4
    with pytest.raises(KeyboardInterrupt):
        build_bm25_index(other, tmp_path / "bm25", "pool-b", rows_per_shard=5, run_tasks=stop_after_counting)
    build_bm25_index(TEXTS, tmp_path / "bm25", "pool-a", rows_per_shard=5)
    build_bm25_index(TEXTS, tmp_path / "fresh", "pool-a", rows_per_shard=5)
    assert files_of(tmp_path / "bm25") == files_of(tmp_path / "fresh")
    assert BM25Retriever(tmp_path / "bm25").related(0, TEXTS[0], 3)


def test_the_format_of_the_folder_is_unchanged_so_older_indexes_stay_current() -> None:
    assert BM25_FORMAT == "memtrain-bm25-shards/2"


def test_a_call_step_calls_its_function_with_the_task_rank() -> None:
    seen: list[int] = []
    step = CallStep("test", seen.append)
    assert list(step.run(rank=4, world_size=9)) == [] and seen == [4]


class _Progress:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def start(self, stage: str, total: int | None = None) -> None:
        self.events.append(("start", stage, total))

    def advance(self, stage: str, amount: int = 1) -> None:
        self.events.append(("advance", stage, amount))

    def finish(self, stage: str) -> None:
        self.events.append(("finish", stage, None))

    def log(self, message: str) -> None:
        self.events.append(("log", message, None))
