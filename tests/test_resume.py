"""Crash and resume: `kill -9` a real `memtrain build-dataset` at several points, rerun the same
command, and the finished dataset is byte-identical to a build that was never interrupted.

The dump is the shared enwiki sample split into three dump parts, so the pool has three tasks
(two run at once with `--workers 2`) and a kill can land between them; ten `mini` episodes make
two episode tasks.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

MEMTRAIN = Path(sys.executable).parent / "memtrain"
POOL_TASKS = 3
NUM_EPISODES = 10
# Counters that measure time or what a particular run skipped, and the paths it was given
# (each test builds in its own folder), not what the dataset holds.
RUN_DEPENDENT_STATS = {
    "seconds", "tasks_skipped", "build_seconds", "index_build_seconds", "index_reused", "command", "source",
}  # fmt: skip

_reference_builds: dict[str, Path] = {}


def dump_parts(root: Path, enwiki_sample: Path) -> Path:
    """The enwiki sample as a folder of three dump parts (written once per folder)."""
    from bench.harness.dumps import write_parts

    folder = root / "enwiki-parts"
    if not folder.is_dir():
        write_parts(enwiki_sample, folder, POOL_TASKS)
    return folder


def build_command(dump: Path, output: Path, workers: int, seed: int = 0) -> list[str]:
    return [
        str(MEMTRAIN), "build-dataset", "--dump", str(dump), "--output", str(output), "--preset", "mini",
        "--num-episodes", str(NUM_EPISODES), "--workers", str(workers), "--seed", str(seed),
    ]  # fmt: skip


def run_build(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def reference_build(tmp_path_factory: pytest.TempPathFactory, enwiki_sample: Path) -> Path:
    """An uninterrupted `--workers 2` build, made once per test session (also used by test_determinism)."""
    if "workers2" not in _reference_builds:
        root = tmp_path_factory.mktemp("reference-build")
        output = root / "dataset"
        run_build(build_command(dump_parts(root, enwiki_sample), output, workers=2))
        _reference_builds["workers2"] = output
    return _reference_builds["workers2"]


def dataset_files(output: Path) -> dict[str, str]:
    """sha256 of every parquet file of the dataset (pool and episode configs), by relative path."""
    return {
        str(path.relative_to(output)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(output.glob("*/*.parquet"))
    }


def dataset_stats(output: Path) -> dict:
    """`stats.json` without the counters that describe a run rather than the data."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key not in RUN_DEPENDENT_STATS}
        return value

    return strip(json.loads((output / "stats.json").read_text()))  # type: ignore[return-value]


def count_files(folder: Path) -> int:
    return sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0


def kill_when(command: list[str], ready: Callable[[], bool], timeout_s: float = 600) -> bool:
    """Start `command` in its own process group and SIGKILL the whole group once `ready()`.

    Returns False when the build finished before `ready()` became true (nothing was killed).
    """
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    try:
        while not ready():
            if process.poll() is not None:
                return False
            assert time.monotonic() < deadline, "the build never reached the kill point"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # Workers share the group: wait until none is left writing before the rerun starts.
        while True:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def assert_only_complete_shards(output: Path, reference: dict[str, str]) -> None:
    """What a killed build leaves under the final names is finished: identical to the reference's file."""
    for name, digest in dataset_files(output).items():
        assert digest == reference[name], f"{name} is visible but differs from the uninterrupted build (half-written?)"
    pool_markers = output / ".memtrain" / "logs" / "pool" / "completions"
    for marker in pool_markers.iterdir() if pool_markers.is_dir() else []:
        shard = output / "pool" / f"passages-{int(marker.name):05d}-of-{POOL_TASKS:05d}.parquet"
        assert shard.is_file(), f"pool task {marker.name} is marked complete but its shard is missing"


@pytest.mark.slow
def test_a_build_killed_at_several_points_and_rerun_is_byte_identical_to_an_uninterrupted_one(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, enwiki_sample: Path
) -> None:
    reference = reference_build(tmp_path_factory, enwiki_sample)
    expected_files = dataset_files(reference)
    assert any(name.startswith("pool/") for name in expected_files) and any(
        name.startswith("mini/") for name in expected_files
    )
    output = tmp_path / "dataset"
    command = build_command(dump_parts(tmp_path, enwiki_sample), output, workers=2)
    pool_logs = output / ".memtrain" / "logs" / "pool"
    episode_summaries = output / ".memtrain" / "episodes-mini" / "tasks"

    kill_points = {
        "as soon as the pool stage has started": lambda: (pool_logs / "plan.json").is_file(),
        "after the first pool task completed": lambda: count_files(pool_logs / "completions") >= 1,
        "after the first episode task completed": lambda: count_files(episode_summaries) >= 1,
    }
    killed = []
    for point, ready in kill_points.items():
        if kill_when(command, ready):
            killed.append(point)
        assert_only_complete_shards(output, expected_files)
    assert "after the first episode task completed" in killed or len(killed) >= 2, f"too few kills landed: {killed}"

    run_build(command)
    assert dataset_files(output) == expected_files
    assert dataset_stats(output) == dataset_stats(reference)
    leftovers = [p.name for folder in ("pool", "mini") for p in (output / folder).iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [], f"temporary files left behind: {leftovers}"


# What a build saved before the settings were split into parts (sha256 of the files as written):
# the episode stage's settings.json, the pool's plan.json and a Slurm build's request.json. A
# rerun resumes only while these stay byte for byte the same for the same settings.
SAVED_BEFORE_PARTS = {
    "settings.json": "1ae42b2668ede7c5f11ccb4c546c7e877c4632e5614c7a3ea125726429d35f94",
    "plan.json": "1b020405f0ba4d339fd5954fc4e1845ade2149c3449e9664579c4f0883ccd262",
    "request.json": "1e8bddd034618af5ed1656db82da7e589ef5ba33a7e0f7fa6835b68233c9bd7c",
}


def test_fingerprints_and_saved_requests_match_what_older_versions_wrote(tmp_path: Path) -> None:
    from memtrain_data.build import save_build_request
    from memtrain_data.build_config import BuildConfig, resolve_build_config
    from memtrain_data.config import assemble
    from memtrain_data.episodes.build import EpisodeJob, _settings_fingerprint
    from memtrain_data.pool import plan_pool_input, plan_record

    config = resolve_build_config(None, {"output": "/tmp/golden-out", "preset": "paper", "seed": 7, "workers": 3, "pool_size": 500})
    written = {
        "settings.json": json.dumps(_settings_fingerprint(EpisodeJob.of(config), "POOL", 4), indent=2, sort_keys=True) + "\n",
        "plan.json": json.dumps(plan_record(plan_pool_input(config), config.pool), indent=2, sort_keys=True) + "\n",
        "request.json": save_build_request(config, "memtrain build-dataset", tmp_path / "request.json").read_text(encoding="utf-8"),
    }
    assert {name: hashlib.sha256(text.encode()).hexdigest() for name, text in written.items()} == SAVED_BEFORE_PARTS
    # The finish job of a Slurm build reads the flat request back into the same config.
    assert assemble(BuildConfig, json.loads(written["request.json"])["config"]) == config
