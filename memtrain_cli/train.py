"""`memtrain train`: MemTrain's joint GRPO on TRL (issue 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memtrain_cli._common import console

# Unknown `--field value` options are trl.GRPOConfig fields, parsed by the library.
CONTEXT_SETTINGS: dict[str, Any] = {"allow_extra_args": True, "ignore_unknown_options": True}


def train(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option(help="Policy to train: a local model folder or a Hub id.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="memtrain dataset: a folder from `memtrain build-dataset`, or a Hub id."),
    ] = None,
    config_name: Annotated[
        str | None, typer.Option(help="Dataset config (default: the only one in the folder).")
    ] = None,
    split: Annotated[str | None, typer.Option(help="Dataset split to train on (default train).")] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="Settings preset: paper (the MemTrain paper) or cpu-smoke (tiny CPU run)."),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Folder for checkpoints, metrics.jsonl and the final model."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="YAML file of MemTrain and GRPOConfig settings (flags override it)."),
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="Optimizer steps to train.")] = None,
    max_episodes: Annotated[int | None, typer.Option(help="Use at most this many episodes.")] = None,
    g1: Annotated[
        int | None, typer.Option("--g1", help="Trajectories per episode (end-to-end group size).")
    ] = None,
    g2: Annotated[
        int | None, typer.Option("--g2", help="Samples of each recall prompt (IMR group size).")
    ] = None,
    recall_bonus: Annotated[
        float | None, typer.Option(help="λ: weight of the recall reward inside the end-to-end reward.")
    ] = None,
    instruction_tokens: Annotated[int | None, typer.Option(help="Token budget of the instruction.")] = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Token budget of a chunk.")] = None,
    memory_tokens: Annotated[int | None, typer.Option(help="Token budget of the memory.")] = None,
    response_tokens: Annotated[int | None, typer.Option(help="Most tokens generated per turn.")] = None,
    dynamic_sampling: Annotated[
        bool | None,
        typer.Option(
            "--dynamic-sampling/--no-dynamic-sampling", help="Drop groups whose rewards are all equal."
        ),
    ] = None,
    resample_tries: Annotated[
        int | None,
        typer.Option(help="Dynamic sampling: extra rounds of random episodes to refill dropped groups (default 3)."),
    ] = None,
    loss_aggregation: Annotated[
        str | None,
        typer.Option(
            help="token_sum (Dr. GRPO, the paper; default) or trajectory (every trajectory weighs the same)."
        ),
    ] = None,
    recall_weight: Annotated[
        float | None, typer.Option(help="Loss weight of the recall rows relative to trajectory rows (default 1).")
    ] = None,
    templates: Annotated[
        str | None, typer.Option(help="YAML/JSON file overriding the agent's prompt templates.")
    ] = None,
    sanity_check: Annotated[
        bool | None,
        typer.Option(
            "--sanity-check",
            help="Train on memtrain's synthetic toy episodes instead of --dataset, to see rewards rise.",
        ),
    ] = None,
    use_vllm: Annotated[
        bool | None,
        typer.Option("--use-vllm", help="Generate with vLLM (GRPOConfig vllm_mode: colocate or server)."),
    ] = None,
    lora: Annotated[
        bool | None,
        typer.Option("--lora", help="Train a LoRA adapter (needs peft); the final model is saved merged."),
    ] = None,
    resume: Annotated[
        bool | None, typer.Option("--resume", help="Continue from the last checkpoint in --output-dir.")
    ] = None,
) -> None:
    """Train a memory agent with MemTrain's joint GRPO (memory trajectories + intermediate recall).

    Any trl.GRPOConfig field can follow as [cyan]--field value[/] (e.g. --learning-rate 1e-6 --beta 0.001 --report-to wandb); a YAML --config may hold the same keys.

    Multi-GPU or multi-node: accelerate launch -m memtrain_cli train … (see examples/deepspeed_zero2.yaml).
    """
    from memtrain_data.train.config import resolve_train_config
    from memtrain_data.train.run import train_memory_agent

    flags: dict[str, Any] = {
        "model": model,
        "dataset": dataset,
        "config_name": config_name,
        "split": split,
        "preset": preset,
        "output_dir": str(output_dir) if output_dir is not None else None,
        "max_steps": max_steps,
        "max_episodes": max_episodes,
        "g1": g1,
        "g2": g2,
        "recall_bonus": recall_bonus,
        "instruction_tokens": instruction_tokens,
        "chunk_tokens": chunk_tokens,
        "memory_tokens": memory_tokens,
        "response_tokens": response_tokens,
        "dynamic_sampling": dynamic_sampling,
        "resample_tries": resample_tries,
        "loss_aggregation": loss_aggregation,
        "recall_weight": recall_weight,
        "templates": templates,
        "sanity_check": sanity_check,
        "use_vllm": use_vllm,
        "lora": lora,
        "resume": resume,
    }
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
