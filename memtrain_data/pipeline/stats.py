"""Per-stage statistics of a pipeline run, read back from datatrove's per-task stats files.

datatrove writes `LOGGING_DIR/stats/{rank:05d}.json` for each finished task: a list with one
entry per step, in pipeline order, holding that step's counters. Reading the files (rather
than the executor's return value) keeps the numbers complete when a rerun skipped tasks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# datatrove's update_doc_stats() counters, renamed for people reading stats.json
_RENAMED = {"doc_len": "chars", "doc_len_tokens": "tokens"}


def _total(value: Any) -> float:
    """A counter's total from its serialized form (a bare number, or a dict with `total`)."""
    if isinstance(value, dict):
        return float(value.get("total", 0))
    return float(value or 0)


def _clean_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


def read_task_stats(logging_dir: Path, rank: int, stage_names: list[str]) -> dict[str, dict[str, int | float]] | None:
    """One task's counters by stage name, or None when the task has not finished."""
    path = logging_dir / "stats" / f"{rank:05d}.json"
    if not path.is_file():
        return None
    steps = json.loads(path.read_text(encoding="utf-8"))
    if len(steps) != len(stage_names):
        raise ValueError(f"{path}: {len(steps)} steps, expected {len(stage_names)} ({', '.join(stage_names)})")
    by_stage: dict[str, dict[str, int | float]] = {}
    for stage, step in zip(stage_names, steps, strict=True):
        counters = step.get("stats", {})
        by_stage[stage] = {_RENAMED.get(key, key): _clean_number(_total(value)) for key, value in counters.items()}
    return by_stage


def merge_stage_stats(per_task: list[dict[str, dict[str, int | float]]], stage_names: list[str]) -> dict[str, dict[str, int | float]]:
    """Sum the counters of several tasks, stage by stage; counters keep a stable (sorted) order."""
    merged: dict[str, dict[str, float]] = {stage: {} for stage in stage_names}
    for task in per_task:
        for stage in stage_names:
            for key, value in task.get(stage, {}).items():
                merged[stage][key] = merged[stage].get(key, 0) + value
    return {stage: {key: _clean_number(counters[key]) for key in sorted(counters)} for stage, counters in merged.items()}
