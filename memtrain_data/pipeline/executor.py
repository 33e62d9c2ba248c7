"""datatrove's local executor, with its console logging kept off the terminal and workers that
end with the process that started them.

The CLI draws its own progress display; datatrove's per-task console logs (pipeline listing,
per-task stats) would scroll through it. The task log files under the logging dir are kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from datatrove.executor.local import LocalPipelineExecutor

from memtrain_data.processes import process_alive


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
    exit_with_parent(executor.parent_pid)


_watching_parent = False


def exit_with_parent(parent_pid: int) -> None:
    """Make this worker process end as soon as `parent_pid` (the process running the executor) ends.

    A worker whose parent was killed (`kill -9`, the OOM killer) would otherwise run on as an
    orphan, holding memory and the output folder. On Linux the kernel sends SIGKILL when the
    parent dies (prctl PR_SET_PDEATHSIG); everywhere, a watchdog thread checks once a second
    that the worker was not re-parented and that `parent_pid` still runs. Called in the worker
    before its first task; does nothing in the parent itself.
    """
    global _watching_parent
    if _watching_parent or os.getpid() == parent_pid:
        return
    _watching_parent = True
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    first_parent = os.getppid()
    watchdog = threading.Thread(
        target=_watch_parent, args=(parent_pid, first_parent), name="memtrain-parent-watchdog", daemon=True
    )
    watchdog.start()


_PR_SET_PDEATHSIG = 1


def _watch_parent(parent_pid: int, first_parent: int) -> None:
    while True:
        if os.getppid() != first_parent or not process_alive(parent_pid):
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(1.0)

