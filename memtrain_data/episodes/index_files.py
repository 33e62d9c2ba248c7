"""What every retrieval index folder under `OUT/.memtrain/index/` shares.

A folder is current when its fingerprint file names the pool (and layout) it was built for; a
folder that is not current is removed and rebuilt, never read or mixed. The disk check runs
before the big writes, with the size measured from the pool.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from memtrain_data.errors import InputError

FINGERPRINT_FILE = "memtrain-fingerprint.json"


@dataclass
class IndexInfo:
    """Where an index lives, its size on disk, and how long building it took (0 when reused).

    `note` says why an existing folder was replaced (another pool, or an older layout)."""

    directory: Path
    size_bytes: int
    build_seconds: float
    reused: bool
    note: str | None = None


def directory_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def is_current(directory: Path, fingerprint: str) -> bool:
    marker = directory / FINGERPRINT_FILE
    try:
        return marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == fingerprint
    except (ValueError, OSError):
        return False


def mark_current(directory: Path, fingerprint: str) -> None:
    (directory / FINGERPRINT_FILE).write_text(json.dumps({"fingerprint": fingerprint}) + "\n")


def clear_stale(directory: Path) -> str | None:
    """Remove an index folder that is not current; say so."""
    if not directory.exists():
        return None
    shutil.rmtree(directory)
    return (
        f"index folder {directory} was built from another pool or by an older memtrain: removed and rebuilt"
    )


def check_disk(directory: Path, needed: int, what: str) -> None:
    existing = directory
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise InputError(
            f"not enough disk for the {what} in {directory}: it needs about {needed / 1e9:.2f} GB "
            f"(measured from the pool), {free / 1e9:.2f} GB are free"
        )
