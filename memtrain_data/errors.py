"""Errors a user can act on.

Anything raised as `MemtrainError` is shown by the CLI as one line (no traceback) and ends
the command with a non-zero exit code. Library code raises it for bad input; bugs stay
ordinary exceptions.
"""

from __future__ import annotations

import errno
import re


class MemtrainError(Exception):
    """A problem with the user's input or environment, explained in the message."""

    exit_code: int = 2


class InputError(MemtrainError):
    """A path, file or value given by the user cannot be used."""


class ConfigError(MemtrainError):
    """A configuration file or flag is invalid (unknown key, wrong type, impossible budget)."""


class MissingDependencyError(MemtrainError):
    """An optional package or model that the requested feature needs is not installed."""


class OutputInUseError(MemtrainError):
    """Another build holds the output folder's lock."""


class DiskFullError(InputError):
    """The disk (or quota) holding the output folder ran out of space."""


def first_line(error: BaseException | str | bytes | None, *, empty: str | None = None) -> str:
    """The first line of an error's message, for one-line errors that quote a library's complaint.

    A blank message gives `empty`, or by default the exception's type name ("" for text).
    """
    if isinstance(error, bytes):
        text = error.decode("utf-8", "replace")
    else:
        text = "" if error is None else str(error)
    text = text.strip()
    if text:
        return text.splitlines()[0]
    if empty is not None:
        return empty
    return type(error).__name__ if isinstance(error, BaseException) else ""


# errno values that mean the user's disk or folder, not memtrain, is the problem.
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_NOT_WRITABLE_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
# numpy's `tofile`/`save` report a short write without an errno: "122081 requested and 64480 written".
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def user_error_from_os_error(exc: BaseException, where: str | None = None) -> MemtrainError | None:
    """The one-line user error an OSError (or one in its cause chain) stands for, or None for a bug.

    Disk full, read-only or permission-denied paths, and a file where a folder is expected are
    the user's environment; `where` names the folder being written (e.g. the --output folder).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found = _describe_os_error(current, where)
            if found is not None:
                return found
        current = current.__cause__ or current.__context__
    return None


def _describe_os_error(exc: OSError, where: str | None) -> MemtrainError | None:
    path = exc.filename or where or "the output folder"
    folder = where or path
    if exc.errno in _DISK_FULL_ERRNOS or _SHORT_WRITE.search(str(exc)):
        return DiskFullError(
            f"disk full while writing {path}: free space on the disk holding {folder} (or choose another --output), "
            "then rerun the same command; finished work is kept"
        )
    if exc.errno in _NOT_WRITABLE_ERRNOS:
        reason = "the file system is read-only" if exc.errno == errno.EROFS else "permission denied"
        return InputError(f"cannot write {path}: {reason}; choose a folder you can write to with --output")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and where is not None:
        return InputError(f"cannot create {path}: a file is in the way of a folder; choose another --output")
    return None
