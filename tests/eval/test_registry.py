"""The task registry: built-in tasks by name, new tasks by decorator, clear unknown-name errors."""

from __future__ import annotations

import pytest

from memtrain_data.errors import ConfigError
from memtrain_data.eval.registry import TASKS, get_task, register_task, task_names
from memtrain_data.eval.tasks.base import EvalTask
from memtrain_data.eval.tasks.hotpotqa import HotpotQATask
from memtrain_data.eval.tasks.proxy import ProxyTask


def test_built_in_tasks() -> None:
    assert {"hotpotqa", "proxy"} <= set(task_names())
    assert isinstance(get_task("hotpotqa"), HotpotQATask)
    assert isinstance(get_task("proxy"), ProxyTask)


def test_unknown_task_lists_known_names_and_suggests() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown task 'hotpot' \(did you mean 'hotpotqa'\?\); known tasks: hotpotqa, proxy",
    ):
        get_task("hotpot")


def test_register_a_new_task() -> None:
    @register_task("test-only-task")
    class Custom(EvalTask):
        pass

    try:
        assert isinstance(get_task("test-only-task"), Custom)
        assert Custom.name == "test-only-task"
        with pytest.raises(ValueError, match="already registered"):
            register_task("test-only-task")(type("Other", (EvalTask,), {}))
    finally:
        TASKS.pop("test-only-task")
