"""Measuring child processes: wall seconds and peak RSS, and the machine they ran on.

Timings are wall-clock seconds of a fresh process (start-up included, as a user sees it); peak
RSS is the largest sum of the resident memory of the process and all its descendants, polled
every 20 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import REPO_ROOT


@dataclass
class Run:
    """One measured child process."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    output: str = ""


@dataclass
class SplitRun:
    """One measured child: wall seconds, and the peak RSS of the driver and of its descendants."""

    seconds: float
    driver_peak: int
    workers_peak: int
    tree_peak: int
    output: str
    driver_anon_peak: int = 0
    tree_anon_peak: int = 0


def measure_split(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> SplitRun:
    """Run `command`, polling the RSS of the driver and of its descendants; raise with its output when it fails."""
    import psutil

    with tempfile.TemporaryFile(mode="w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        root = psutil.Process(process.pid)
        driver_peak = workers_peak = tree_peak = driver_anon_peak = tree_anon_peak = 0
        while process.poll() is None:
            driver = workers = driver_anon = workers_anon = 0
            with contextlib.suppress(psutil.Error):
                info = root.memory_info()
                # anonymous = RSS less file-backed and shared pages (memory-mapped view and index, libraries)
                driver, driver_anon = info.rss, info.rss - info.shared
            with contextlib.suppress(psutil.Error):
                for child in root.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        info = child.memory_info()
                        workers += info.rss
                        workers_anon += info.rss - info.shared
            driver_peak, workers_peak = max(driver_peak, driver), max(workers_peak, workers)
            tree_peak = max(tree_peak, driver + workers)
            driver_anon_peak = max(driver_anon_peak, driver_anon)
            tree_anon_peak = max(tree_anon_peak, driver_anon + workers_anon)
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{output[-4000:]}")
    return SplitRun(seconds, driver_peak, workers_peak, tree_peak, output, driver_anon_peak, tree_anon_peak)


def measure(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run `command`, polling the RSS of its whole process tree; raise with its output when it fails."""
    run = measure_split(command, env=env, cwd=cwd)
    return Run(seconds=run.seconds, peak_rss_bytes=run.tree_peak, returncode=0, output=run.output)


def child_env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def module_child(module: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """Command and environment that run `python -m module args` with this checkout first on the path.

    The checkout goes on PYTHONPATH rather than the child's working directory, so that relative
    paths in `args` mean what they meant to the caller, and the child imports this checkout's
    `bench` and `memtrain_data` wherever it is started from.
    """
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return [sys.executable, "-m", module, *args], env


def child_result(output: str) -> dict:
    """The JSON a child printed on its `RESULT ` line."""
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def machine_facts() -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.rstrip() if shutil.which("free") else "n/a"
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"CPU: {cpu}; nproc: {os.cpu_count()}; Python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"load average at start: {load}",
        "free -h:\n" + memory,
    ]


def _spin(_: int) -> int:
    """Pure-Python CPU work with no I/O: what two processes can gain on this machine at best."""
    total = 0
    for i in range(6_000_000):
        total += i * i % 7
    return total


def machine_ceiling(repeats: int) -> tuple[float, float]:
    """Best-of-`repeats` seconds of 4 units of `_spin` on 1 and on 2 processes."""
    import multiprocessing

    best = {1: float("inf"), 2: float("inf")}
    for _ in range(repeats):
        for processes in (1, 2):
            started = time.perf_counter()
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                pool.map(_spin, range(4))
            best[processes] = min(best[processes], time.perf_counter() - started)
    return best[1], best[2]


_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)")


def task_phase_seconds(pool_output: Path) -> float:
    """First task start to last task end, from datatrove's task logs: the pool's work without fixed costs."""
    from datetime import datetime

    starts, ends = [], []
    for log in (pool_output / ".memtrain" / "logs" / "pool" / "logs").glob("task_*.log"):
        for line in log.read_text(encoding="utf-8").splitlines():
            match = _LOG_TIME.match(line)
            if match and "Launching pipeline" in line:
                starts.append(datetime.fromisoformat(match.group(1)))
            elif match and "Processing done" in line:
                ends.append(datetime.fromisoformat(match.group(1)))
    return (max(ends) - min(starts)).total_seconds() if starts and ends else float("nan")
