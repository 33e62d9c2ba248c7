"""Builds and their processes: one build per output folder at a time (a lock that names its
holder and is taken over when stale), and worker processes that end with their parent even
when only the parent is killed (as the OOM killer does)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from memtrain_data.errors import OutputInUseError
from memtrain_data.output_folder import lock_path, output_lock, prepare_output

MEMTRAIN = Path(sys.executable).parent / "memtrain"
REPO_ROOT = Path(__file__).resolve().parents[2]


def gone(pid: int) -> bool:
    """The process has exited (a zombie left for a non-reaping init counts as exited)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_second_build_on_a_locked_folder_names_the_holder_and_exits_2(tmp_path: Path) -> None:
    output = tmp_path / "out"
    prepare_output(output, config_name="mini")
    with output_lock(output, command="memtrain build-dataset --output out"):
        second = subprocess.run([str(MEMTRAIN), "build-dataset", "--output", str(output)], capture_output=True, text=True, timeout=120)
    message = " ".join(second.stderr.split())
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"another memtrain build is using {output}: pid {os.getpid()} on " in message
    assert "started 20" in message and "(memtrain build-dataset --output out)" in message
    assert "Traceback" not in second.stderr and "internal error" not in second.stderr
    assert not (output / "pool").exists(), "the refused build wrote nothing"


def test_a_lock_left_by_a_killed_build_is_taken_over(tmp_path: Path) -> None:
    output = tmp_path / "out"
    prepare_output(output, config_name="mini")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # What a build killed with -9 leaves: its record in the lock file, but no process holding the lock.
    lock_path(output).write_text(json.dumps({"pid": dead.pid, "host": "here", "started": "2026-01-01T00:00:00+00:00"}))

    with output_lock(output) as previous:
        assert previous["pid"] == dead.pid
        assert json.loads(lock_path(output).read_text())["pid"] == os.getpid()
    assert lock_path(output).read_text() == "", "a finished build leaves no holder behind"


def test_a_rerun_refuses_while_a_killed_builds_process_still_holds_the_folder(tmp_path: Path) -> None:
    output = tmp_path / "out"
    prepare_output(output, config_name="mini")
    script = tmp_path / "holder.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys, time
            sys.path.insert(0, {str(REPO_ROOT)!r})
            from memtrain_data.output_folder import output_lock
            with output_lock({str(output)!r}):
                if os.fork() == 0:  # a worker: inherits the lock, outlives its parent
                    os.setsid()
                    time.sleep(60)
                    os._exit(0)
                print("ready", flush=True)
                time.sleep(60)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        orphan = [child.pid for child in psutil.Process(parent.pid).children()]
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        with (
            pytest.raises(OutputInUseError, match=rf"pid {parent.pid} has ended but processes it started"),
            output_lock(output),
        ):
            pass
    finally:
        for pid in orphan:
            os.kill(pid, signal.SIGKILL)


WORKER_SCRIPT = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from memtrain_data.pipeline.executors import make_executor

def sleepy_task(data, rank=0, world_size=1):
    pid_file = Path({pids!r}, f"worker-{{rank}}")
    pid_file.with_suffix(".tmp").write_text(str(os.getpid()))
    pid_file.with_suffix(".tmp").replace(pid_file)  # complete once visible
    time.sleep(120)
    yield from ()

if __name__ == "__main__":
    make_executor([sleepy_task], tasks=2, kind="local", workers=2, logging_dir={logs!r}, job_name="t",
                  start_method={start_method!r}).run()
"""


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_pool_workers_end_when_only_their_parent_is_killed(tmp_path: Path, start_method: str) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "run_pipeline.py"
    script.write_text(WORKER_SCRIPT.format(repo=str(REPO_ROOT), pids=str(pids), logs=str(tmp_path / "logs"), start_method=start_method))
    # Its own session, so that nothing but the parent receives the kill.
    parent = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
    descendants: list[psutil.Process] = []
    try:
        wait_for(lambda: len(list(pids.glob("worker-*[0-9]"))) == 2, 120, "both workers to start their task")
        descendants = psutil.Process(parent.pid).children(recursive=True)
        workers = {int(path.read_text()) for path in pids.glob("worker-*[0-9]")}
        assert workers <= {child.pid for child in descendants}

        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_for(lambda: all(gone(child.pid) for child in descendants), 10, "the orphaned workers to end")
    finally:
        for child in descendants:
            if not gone(child.pid):
                child.kill()
        if parent.poll() is None:
            parent.kill()


@pytest.mark.slow
def test_two_concurrent_builds_of_one_folder_the_second_refuses_and_the_first_is_unharmed(tmp_path: Path) -> None:
    output = tmp_path / "out"
    command = [str(MEMTRAIN), "build-dataset", "--output", str(output), "--num-episodes", "5"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: lock_path(output).is_file() and str(first.pid) in lock_path(output).read_text(), 120, "the lock")
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert f"pid {first.pid} on" in " ".join(second.stderr.split())
        out, err = first.communicate(timeout=600)
        assert first.returncode == 0, out[-2000:] + err[-2000:]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    stats = json.loads((output / "stats.json").read_text())
    assert stats["configs"]["mini"]["episodes_total"] == 5
