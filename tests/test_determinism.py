"""Determinism: the dataset depends on the input and the seed only, never on `--workers` or on
which run wrote it. Every parquet file (passage pool and episodes) is compared byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_resume import (
    build_command,
    dataset_files,
    dataset_stats,
    dump_parts,
    reference_build,
    run_build,
)


@pytest.mark.slow
def test_one_worker_and_two_workers_write_byte_identical_datasets(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, enwiki_sample: Path
) -> None:
    two_workers = reference_build(tmp_path_factory, enwiki_sample)
    one_worker = tmp_path / "dataset"
    run_build(build_command(dump_parts(tmp_path, enwiki_sample), one_worker, workers=1))

    files = dataset_files(one_worker)
    assert len([name for name in files if name.startswith("pool/passages-")]) == 3, "one pool shard per dump part"
    assert len([name for name in files if name.startswith("pool/aliases-")]) == 3, "one alias table per pool shard"
    assert any(name.startswith("mini/train-") for name in files)
    assert files == dataset_files(two_workers)
    assert dataset_stats(one_worker) == dataset_stats(two_workers)


@pytest.mark.slow
def test_the_same_command_twice_writes_byte_identical_datasets(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, enwiki_sample: Path
) -> None:
    first = reference_build(tmp_path_factory, enwiki_sample)
    second = tmp_path / "dataset"
    run_build(build_command(dump_parts(tmp_path, enwiki_sample), second, workers=2))

    assert dataset_files(second) == dataset_files(first)
    assert dataset_stats(second) == dataset_stats(first)
