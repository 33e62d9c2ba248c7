"""A tiny progress interface so the library can report progress and the CLI can draw it."""

from __future__ import annotations

from typing import Protocol


class ProgressReporter(Protocol):
    def start(self, stage: str, total: int | None = None) -> None:
        """A stage begins; `total` units of work when known."""

    def advance(self, stage: str, amount: int = 1) -> None:
        """`amount` more units of `stage` are done."""

    def finish(self, stage: str) -> None:
        """The stage is complete."""

    def log(self, message: str) -> None:
        """A one-line note for the user (skips, resumed tasks, chosen input)."""


class NullProgress:
    """Reports nothing; the default for library callers."""

    def start(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, stage: str, amount: int = 1) -> None:
        pass

    def finish(self, stage: str) -> None:
        pass

    def log(self, message: str) -> None:
        pass
