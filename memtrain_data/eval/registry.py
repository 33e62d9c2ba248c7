"""The registry of evaluation tasks, by name (lm-evaluation-harness style).

A task module decorates its class with `@register_task("name")`; `get_task("name")` returns
an instance, importing the built-in tasks first so they are always known.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from memtrain_data.errors import ConfigError

if TYPE_CHECKING:
    from memtrain_data.eval.tasks.base import EvalTask

TaskT = TypeVar("TaskT", bound="type[EvalTask]")

TASKS: dict[str, type[EvalTask]] = {}


def register_task(name: str) -> Callable[[TaskT], TaskT]:
    """Class decorator: make a task available to `get_task(name)` and `memtrain eval --task name`."""

    def decorator(task_class: TaskT) -> TaskT:
        if name in TASKS and TASKS[name] is not task_class:
            raise ValueError(f"task '{name}' is already registered by {TASKS[name].__qualname__}")
        task_class.name = name
        TASKS[name] = task_class
        return task_class

    return decorator


def task_names() -> list[str]:
    """Names of every registered task (built-in tasks included), sorted."""
    import memtrain_data.eval.tasks  # noqa: F401  (registers the built-in tasks)

    return sorted(TASKS)


def task_class(name: str) -> type[EvalTask]:
    """The task class registered as `name`; ConfigError listing the known names otherwise."""
    known = task_names()
    if name not in TASKS:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"unknown task '{name}'{hint}; known tasks: {', '.join(known)}")
    return TASKS[name]


def get_task(name: str) -> EvalTask:
    """A new instance of the task registered as `name`; ConfigError listing the known names otherwise."""
    return task_class(name)()
