"""Per-step logs of `memtrain train`: `OUTPUT/metrics.jsonl` and a rich line on the console.

TRL collects the step's numbers (the MemTrain ones are added by `MemTrainGRPOTrainer`) and
calls `on_log`; the same numbers go to every `report_to` target through TRL itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

# The MemTrain numbers, in the order the console shows them.
STEP_KEYS: tuple[str, ...] = (
    "e2e_em",
    "imr_em",
    "reward",
    "advantage_mean",
    "advantage_std",
    "groups_kept_fraction",
    "groups_kept",
    "groups_dropped",
    "episodes_resampled",
    "skipped_step",
    "chunks_resplit",
    "probes_dropped",
    "memory_tokens",
    "turns_per_trajectory",
    "tokens_per_second",
)


class MetricsFileCallback(TrainerCallback):
    """Appends one JSON object per logged training step to `path` (main process only).

    A resumed run appends to the same file, so the file covers the whole run.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero or not logs or "e2e_em" not in logs:
            return
        record = {
            "step": state.global_step,
            "epoch": state.epoch,
            **{k: _json_number(v) for k, v in logs.items()},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=False) + "\n")


class RichStepCallback(TrainerCallback):
    """Prints the MemTrain numbers of each logged step as one line on a rich console."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero or not logs or "e2e_em" not in logs:
            return
        parts = [f"[bold]step {state.global_step}/{state.max_steps}[/]"]
        for key in STEP_KEYS:
            if logs.get(key) is not None:
                parts.append(f"{key} [cyan]{logs[key]:.4g}[/]")
        if logs.get("loss") is not None:
            parts.append(f"loss [cyan]{logs['loss']:.4g}[/]")
        if logs.get("step_time") is not None:
            parts.append(f"step_time [cyan]{logs['step_time']:.3g}s[/]")
        self.console.print("  ".join(parts), highlight=False)


def _json_number(value: Any) -> Any:
    # JSON has no NaN/inf; write null so every line stays parseable.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
