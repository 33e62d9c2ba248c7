"""`memtrain train`: MemTrain's joint GRPO on TRL (issue 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memtrain_cli._common import console
from memtrain_cli.options import TRAIN_NOT_FLAGS, settings_options
from memtrain_data.train.config import MemTrainConfig

# Unknown `--field value` options are trl.GRPOConfig fields, parsed by the library.
CONTEXT_SETTINGS: dict[str, Any] = {"allow_extra_args": True, "ignore_unknown_options": True}


@settings_options(MemTrainConfig, exclude=TRAIN_NOT_FLAGS)
def train(
    flags: dict[str, Any],
    ctx: typer.Context,
    # GRPOConfig fields that get a named option (an alias, or a bare switch).
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Folder for checkpoints, metrics.jsonl and the final model."),
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="Optimizer steps to train.")] = None,
    use_vllm: Annotated[
        bool | None,
        typer.Option("--use-vllm", help="Generate with vLLM (GRPOConfig vllm_mode: colocate or server)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="YAML file of MemTrain and GRPOConfig settings (flags override it)."),
    ] = None,
) -> None:
    """Train a memory agent with MemTrain's joint GRPO (memory trajectories + intermediate recall).

    Any trl.GRPOConfig field can follow as [cyan]--field value[/] (e.g. --learning-rate 1e-6 --beta 0.001 --report-to wandb); a YAML --config may hold the same keys.

    Multi-GPU or multi-node: accelerate launch -m memtrain_cli train … (see examples/deepspeed_zero2.yaml).
    """
    from memtrain_data.train.config import resolve_train_config
    from memtrain_data.train.run import train_memory_agent

    grpo_flags = {"output_dir": str(output_dir) if output_dir is not None else None, "max_steps": max_steps, "use_vllm": use_vllm}
    flags |= {name: value for name, value in grpo_flags.items() if value is not None}
    settings = resolve_train_config(config, flags, list(ctx.args))
    console.print(
        f"[bold]memtrain train[/]: model {settings.model}; "
        f"dataset {'toy episodes (--sanity-check)' if settings.sanity_check else settings.dataset}; preset [cyan]{settings.preset}[/]; "
        f"G1={settings.g1} G2={settings.g2} λ={settings.recall_bonus}; output {settings.output_dir}",
        highlight=False,
    )
    result = train_memory_agent(settings, console=console)
    console.print(summary_table(result.last_metrics))
    if result.skipped_steps:
        console.print(
            f"[yellow]{result.skipped_steps} step(s) skipped[/]: every group of the batch was dropped "
            "(all rewards equal), so no optimizer step was taken for them",
            highlight=False,
        )
    console.print(
        f"[green]done[/]: {result.global_step} steps in {result.seconds:.1f}s ({result.seconds_per_step:.2f}s/step); "
        f"model {result.model_dir}; metrics {result.metrics_path}",
        highlight=False,
    )


def summary_table(metrics: dict[str, Any]) -> Table:
    """The last step's MemTrain numbers."""
    from memtrain_data.train.callbacks import STEP_KEYS

    table = Table(title="last step")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("step", *STEP_KEYS, "loss"):
        value = metrics.get(key)
        if value is not None:
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    return table
