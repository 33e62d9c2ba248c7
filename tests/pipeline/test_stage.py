"""run_stage: one way to run a stage's tasks, follow them on the bar, and report a failed task."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from memtrain_data.errors import DiskFullError, InputError
from memtrain_data.pipeline.stage import StageError, run_stage


class RecordingProgress:
    def __init__(self) -> None:
        self.advanced: list[tuple[str, int]] = []

    def start(self, stage: str, total: int | None = None) -> None: ...
    def finish(self, stage: str) -> None: ...
    def log(self, message: str) -> None: ...

    def advance(self, stage: str, amount: int = 1) -> None:
        self.advanced.append((stage, amount))


class FakeExecutor:
    """Finishes its tasks one by one (or raises `error`), as the marker files of real tasks would show."""

    def __init__(self, tasks: int, error: BaseException | None = None) -> None:
        self.tasks, self.error, self.done = tasks, error, 0

    def run(self) -> None:
        if self.error is not None:
            raise self.error
        for _ in range(self.tasks):
            self.done += 1


def test_the_bar_follows_the_finished_tasks_beyond_those_done_before(tmp_path: Path) -> None:
    executor, progress = FakeExecutor(3), RecordingProgress()
    seconds = run_stage(executor, stage="pool", count_done=lambda: 2 + executor.done, already=2, progress=progress, logs=tmp_path)
    assert sum(amount for stage, amount in progress.advanced if stage == "pool") == 3
    assert seconds >= 0


def test_a_failed_task_is_one_stage_error_naming_the_stage_and_its_logs(tmp_path: Path) -> None:
    crash = ValueError("bad row\n  traceback detail")
    with pytest.raises(StageError) as raised:
        run_stage(FakeExecutor(1, crash), stage="episodes", count_done=lambda: 0, already=0, progress=RecordingProgress(), logs=tmp_path / "logs")
    assert str(raised.value) == f"a task of the episodes stage failed (ValueError: bad row); task logs: {tmp_path / 'logs'}"
    assert raised.value.__cause__ is crash


def test_a_user_error_in_a_task_stays_that_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a dump"):
        run_stage(FakeExecutor(1, InputError("x.xml: not a dump")), stage="pool", count_done=lambda: 0, already=0, progress=RecordingProgress(), logs=tmp_path)


def test_a_full_disk_in_a_task_is_the_disk_full_error(tmp_path: Path) -> None:
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "pool" / "x.parquet"))
    with pytest.raises(DiskFullError, match="disk full while writing"):
        run_stage(FakeExecutor(1, full), stage="pool", count_done=lambda: 0, already=0, progress=RecordingProgress(), logs=tmp_path)
