"""datatrove's local executor, with its console logging kept off the terminal.

The CLI draws its own progress display; datatrove's per-task console logs (pipeline listing,
per-task stats) would scroll through it. The task log files under the logging dir are kept.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from datatrove.executor.local import LocalPipelineExecutor


@contextlib.contextmanager
def datatrove_console_quiet() -> Iterator[None]:
    """Keep datatrove's console logging off the terminal while the block runs.

    datatrove points its loguru sinks at `sys.stderr` as it is when a task starts and resets
    them after each task, so stderr is redirected for the duration and the default sink is
    restored afterwards. MEMTRAIN_DEBUG=1 leaves everything on the console.
    """
    if os.environ.get("MEMTRAIN_DEBUG"):
        yield
        return
    from datatrove.utils.logging import logger, setup_default_logger

    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
            logger.remove()
            logger.add(sink, level="ERROR")
            yield
    finally:
        setup_default_logger()


class QuietLocalExecutor(LocalPipelineExecutor):
    """`LocalPipelineExecutor` whose tasks log to their log files only (also in worker processes),
    and whose worker processes end when the process that started them ends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parent_pid = os.getpid()

    def run(self) -> Any:
        import multiprocess.util

        # Every process `multiprocess` forks from here (datatrove's Manager server, `fork` pool
        # workers) runs the hook first; forkserver workers start watching in their first task.
        multiprocess.util.register_after_fork(self, _exit_with_parent_of)
        return super().run()

    def _launch_run_for_rank(self, rank: int, ranks_q: Any, completed: Any = None, completed_lock: Any = None) -> Any:
        _exit_with_parent_of(self)
        # wraps the whole task, including the "N/M tasks completed" line logged after it
        with datatrove_console_quiet():
            return super()._launch_run_for_rank(rank, ranks_q, completed, completed_lock)


def _exit_with_parent_of(executor: QuietLocalExecutor) -> None:
    from memtrain_data.pipeline.executors import exit_with_parent

    exit_with_parent(executor.parent_pid)
