"""Evaluation of memory agents (lm-evaluation-harness style).

`registry` maps task names to tasks (`tasks/ruler_hqa.py`, `tasks/hotpotqa.py`,
`tasks/proxy.py`), `metrics` holds the HotpotQA answer metrics and MemAgent's accuracy,
`runner.run_evaluation` runs a task and writes results, and `plot` draws them. Heavy libraries are imported only when a task runs.
"""

from __future__ import annotations

from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.metrics import (
    exact_match,
    f1_score,
    memagent_accuracy,
    normalize_answer,
    substring_exact_match,
)
from memtrain_data.eval.registry import get_task, register_task

__all__ = [
    "EvalConfig",
    "exact_match",
    "f1_score",
    "get_task",
    "memagent_accuracy",
    "normalize_answer",
    "register_task",
    "substring_exact_match",
]
