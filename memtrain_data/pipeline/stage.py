"""`run_stage`: run one stage's datatrove tasks with a progress bar that follows them.

The pool and the episode stages run the same way: a watcher thread advances the bar as finished
tasks appear (they may run in other processes), datatrove's console stays quiet, and a task
that fails ends the stage with one `StageError` naming the stage and its task logs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.errors import MemtrainError, first_line, user_error_from_os_error

if TYPE_CHECKING:
    from datatrove.executor.base import PipelineExecutor

    from memtrain_data.progress import ProgressReporter


class StageError(MemtrainError):
    """A task of a build stage failed; its log files say why."""


def _follow(stage: str, count_done: Callable[[], int], reported: int, progress: ProgressReporter, stop: threading.Event) -> None:
    while True:
        stopping = stop.wait(0.2)
        done = count_done()
        if done > reported:
            progress.advance(stage, done - reported)
            reported = done
        if stopping:
            return


def run_stage(
    executor: PipelineExecutor,
    *,
    stage: str,
    count_done: Callable[[], int],
    already: int,
    progress: ProgressReporter,
    logs: Path,
) -> float:
    """Run `executor`; `count_done()` counts finished tasks for the bar. Returns the seconds it took.

    A user error raised in a task (a MemtrainError, a full disk) is raised as such; any other
    failure becomes a StageError, its cause kept for MEMTRAIN_DEBUG tracebacks.
    """
    from memtrain_data.pipeline.executor import datatrove_console_quiet

    stop = threading.Event()
    watcher = threading.Thread(target=_follow, args=(stage, count_done, already, progress, stop), daemon=True)
    started = time.perf_counter()
    watcher.start()
    try:
        with datatrove_console_quiet():
            executor.run()
    except MemtrainError:
        raise
    except Exception as exc:
        user_error = user_error_from_os_error(exc)
        if user_error is not None:
            raise user_error from exc
        raise StageError(f"a task of the {stage} stage failed ({type(exc).__name__}: {first_line(exc, empty='')}); task logs: {logs}") from exc
    finally:
        stop.set()
        watcher.join()
    return time.perf_counter() - started
