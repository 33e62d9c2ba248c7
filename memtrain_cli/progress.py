"""Rich rendering of the library's progress reports."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class RichProgress:
    """A `ProgressReporter` that draws one bar per stage."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def start(self, stage: str, total: int | None = None) -> None:
        if stage in self._tasks:
            self._progress.reset(self._tasks[stage], total=total)
        else:
            self._tasks[stage] = self._progress.add_task(stage, total=total)

    def advance(self, stage: str, amount: int = 1) -> None:
        if stage not in self._tasks:
            self.start(stage)
        self._progress.advance(self._tasks[stage], amount)

    def finish(self, stage: str) -> None:
        if stage in self._tasks:
            task = self._progress.tasks[self._tasks[stage]]
            total = task.total if task.total is not None else task.completed
            self._progress.update(self._tasks[stage], total=total, completed=total)

    def log(self, message: str) -> None:
        self._progress.console.print(message, highlight=False)
