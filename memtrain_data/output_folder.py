"""The output folder of a build: checked before anything is written, and locked while a build runs.

- A folder that is neither empty nor a memtrain build (one holding `.memtrain/`) is refused
  unless the caller says to overwrite: the user's own files must never be replaced or read
  as pool shards by mistake.
- One build at a time: `OUT/.memtrain/build.lock` is held with `flock` for the whole build.
  The kernel drops the lock when its holder dies (even by `kill -9`), so a stale lock never
  blocks a rerun; the file records who holds it (pid, host, start time, command) so a second
  build can say so. Pool workers started by `fork` inherit the lock, so a rerun also refuses
  while an orphaned worker of a killed build is still running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from memtrain_data.errors import InputError, OutputInUseError, user_error_from_os_error
from memtrain_data.processes import process_alive

WORKING_STATE = ".memtrain"
LOCK_NAME = "build.lock"
# What a build writes at the top of its folder; `--overwrite` replaces these and nothing else.
_BUILD_OUTPUTS = ("README.md", "stats.json", "pool")


def is_memtrain_build(output: Path) -> bool:
    return (Path(output) / WORKING_STATE).is_dir()


def prepare_output(output: Path, *, config_name: str, overwrite: bool = False) -> list[str]:
    """Make `output` ready for a build, or refuse with one line; returns notes for the user.

    Creates the folder (and `.memtrain/`), so a rerun recognizes it as a memtrain build.
    With `overwrite`, memtrain's own outputs in a foreign folder (README.md, stats.json,
    pool/, and the config's folder) are removed first; other files are left alone.
    """
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise InputError(f"--output {output} is a file, not a folder; choose a folder path")
    notes: list[str] = []
    try:
        output.mkdir(parents=True, exist_ok=True)
        if not is_memtrain_build(output):
            foreign = sorted(entry.name for entry in output.iterdir())
            if foreign and not overwrite:
                shown = ", ".join(foreign[:4]) + (", …" if len(foreign) > 4 else "")
                raise InputError(
                    f"--output {output} is not empty and is not a memtrain build ({len(foreign)} entries: {shown}); "
                    "choose a new or empty folder, or pass --overwrite to build there "
                    "(memtrain's README.md, stats.json, pool/ and config folder in it are replaced)"
                )
            if foreign:
                removed = _remove_build_outputs(output, config_name)
                notes.append(
                    "--overwrite: building in a folder that was not a memtrain build"
                    + (f"; removed {', '.join(removed)}" if removed else "")
                )
        (output / WORKING_STATE).mkdir(exist_ok=True)
    except OSError as exc:
        _raise_as_user_error(exc, output)
    return notes


def _raise_as_user_error(exc: OSError, output: Path) -> NoReturn:
    user_error = user_error_from_os_error(exc, str(output))
    if user_error is None:
        raise exc
    raise user_error from exc


def _remove_build_outputs(output: Path, config_name: str) -> list[str]:
    removed = []
    for name in (*_BUILD_OUTPUTS, config_name):
        path = output / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            continue
        removed.append(name)
    return removed


def lock_path(output: Path) -> Path:
    return Path(output) / WORKING_STATE / LOCK_NAME


def read_lock_holder(output: Path) -> dict[str, Any]:
    """What the lock file says about its last holder ({} when unreadable)."""
    try:
        return json.loads(lock_path(output).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _describe_holder(holder: dict[str, Any]) -> str:
    if not holder:
        return "another process"
    pid, host = holder.get("pid"), holder.get("host")
    text = f"pid {pid} on {host}, started {holder.get('started', '?')}"
    if host == socket.gethostname() and isinstance(pid, int) and not process_alive(pid):
        text += f"; pid {pid} has ended but processes it started (pool workers) still hold the lock"
    if holder.get("command"):
        text += f" ({holder['command']})"
    return text


@contextlib.contextmanager
def output_lock(output: Path, command: str | None = None) -> Iterator[dict[str, Any]]:
    """Hold `OUT/.memtrain/build.lock` while the block runs; OutputInUseError names a live holder.

    Yields the previous holder's record when it was left by a build that ended without
    releasing it (killed): the lock is taken over, and the caller may say so.
    """
    path = lock_path(output)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        _raise_as_user_error(exc, output)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputInUseError(
                f"another memtrain build is using {output}: {_describe_holder(read_lock_holder(output))}; "
                "wait for it to finish (or stop it), or choose another --output"
            ) from None
        previous = read_lock_holder(output) if os.fstat(fd).st_size else {}
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "command": command,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        try:
            yield previous
        finally:
            # Cleared, not deleted: deleting would let a waiting build lock an orphaned inode.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)
