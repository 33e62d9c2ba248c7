"""Files written whole or not at all: write to a temporary name beside the target, then rename.

A reader (a resumed build, `validate`, a second worker) never sees half a file, and a process
killed mid-write leaves at most the temporary, which the next write replaces.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path, temporary: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on an error it is removed.

    The temporary is `path` + ".tmp" unless given (a shard hidden from globs while written).
    """
    temporary = temporary or path.with_name(path.name + ".tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` whole or not at all."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
