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


def test_each_task_orders_its_own_metrics_keys() -> None:
    from memtrain_data.eval.tasks.ruler_hqa import RulerHotpotQATask

    keys = {"800", "50", "200"}
    # ruler-hqa's keys are the files' document counts, whatever labels picked them.
    assert RulerHotpotQATask.metrics_order(keys, ["28k", "7k"]) == ["50", "200", "800"]
    assert HotpotQATask.metrics_order({"2k", "7k"}, ["7k", "2k"]) == ["7k", "2k"]
    assert HotpotQATask.metrics_order(keys, None) == ["50", "200", "800"]
    assert ProxyTask.metrics_order({"recall", "reconstruction"}, None) == list(ProxyTask.metric_order)


def test_the_eval_help_states_each_tasks_own_defaults() -> None:
    """The --protocol and --lengths help texts restate the tasks' defaults: they must agree."""
    from memtrain_data.config import field_help
    from memtrain_data.eval.config import EvalConfig
    from memtrain_data.eval.registry import task_class

    stated = field_help(EvalConfig, "protocol").split("Default: ", 1)[1].split(".", 1)[0]
    by_task = {}
    for part in stated.split(", "):
        protocol, tasks = part.split(" for ", 1)
        by_task |= dict.fromkeys(tasks.split(" and "), protocol)
    assert by_task == {name: task_class(name).default_protocol for name in task_names()}
    lengths_help = field_help(EvalConfig, "lengths")
    for name in task_names():
        default = task_class(name).default_lengths
        if default is not None:
            assert f"default {','.join(default)}" in lengths_help, name
