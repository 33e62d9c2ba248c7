"""`memtrain eval` (evaluate a memory agent) and `memtrain eval plot` (draw results)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memtrain_cli._common import console, new_app
from memtrain_cli.progress import RichProgress

eval_app = new_app(
    help=(
        "Evaluate a memory agent: on long-context HotpotQA at growing lengths (--task hotpotqa) or on "
        "held-out MemTrain proxy episodes (--task proxy). Writes results.json, predictions.jsonl and plot.png."
    ),
)


@eval_app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(help="Model: local folder or Hub id (served model name with --backend openai)."),
    ] = None,
    task: Annotated[str | None, typer.Option(help="Task: hotpotqa or proxy.")] = None,
    data: Annotated[
        str | None,
        typer.Option(help="hotpotqa: HotpotQA JSON file; proxy: memtrain dataset folder or Hub id."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Output folder (a rerun with the same settings reuses finished examples)."
        ),
    ] = None,
    config_name: Annotated[
        str | None, typer.Option(help="proxy: dataset config name (default: the only one).")
    ] = None,
    split: Annotated[str | None, typer.Option(help="proxy: split to evaluate (default test).")] = None,
    lengths: Annotated[
        str | None,
        typer.Option(help="hotpotqa: comma-separated context lengths in tokens, e.g. 7k,14k,28k (k = 1024)."),
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="memory (chunk by chunk) or full-context (one prompt; the baseline).")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Generation backend: transformers, vllm or openai.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="openai backend: endpoint base URL ending in /v1; key from $OPENAI_API_KEY."),
    ] = None,
    tokenizer: Annotated[
        str | None, typer.Option(help="Tokenizer for lengths and budgets with --backend openai.")
    ] = None,
    device: Annotated[str | None, typer.Option(help="transformers backend: cpu, cuda, cuda:1 …")] = None,
    dtype: Annotated[
        str | None, typer.Option(help="transformers backend: torch dtype, e.g. bfloat16.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="openai backend: requests in flight.")] = None,
    num_samples: Annotated[
        int | None, typer.Option(help="Trajectories per example (scores are averaged).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Only the first N examples (per length for hotpotqa).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of padding, probe choice and sampling.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature (0: greedy).")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling threshold.")] = None,
    templates: Annotated[
        Path | None, typer.Option(help="YAML/JSON file overriding the prompt templates.")
    ] = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Tokens per chunk (default 5120).")] = None,
    memory_tokens: Annotated[int | None, typer.Option(help="Memory budget in tokens (default 1024).")] = None,
    response_tokens: Annotated[
        int | None, typer.Option(help="Most tokens generated per turn (default 1024).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Examples advanced together per generate call.")
    ] = None,
    max_context_tokens: Annotated[
        int | None, typer.Option(help="full-context: the model's context length (default: from the model).")
    ] = None,
    pool: Annotated[
        Path | None,
        typer.Option(help="hotpotqa: memtrain output folder whose passage pool adds distractors."),
    ] = None,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not write plot.png.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file of eval settings (flags override it).")
    ] = None,
) -> None:
    """Evaluate a memory agent and print its scores.

    Example: memtrain eval --model HuggingFaceTB/SmolLM2-135M-Instruct --task hotpotqa
    --data hotpot_dev_distractor_v1.json --lengths 2k,4k --output runs/smollm2
    """
    if ctx.invoked_subcommand is not None:
        return
    from memtrain_data.config import build_config
    from memtrain_data.eval.config import EvalConfig
    from memtrain_data.eval.runner import run_evaluation

    flags: dict[str, Any] = {
        "model": model,
        "task": task,
        "data": data,
        "output": output,
        "config_name": config_name,
        "split": split,
        "lengths": lengths,
        "mode": mode,
        "backend": backend,
        "base_url": base_url,
        "tokenizer": tokenizer,
        "device": device,
        "dtype": dtype,
        "concurrency": concurrency,
        "num_samples": num_samples,
        "limit": limit,
        "seed": seed,
        "temperature": temperature,
        "top_p": top_p,
        "templates": templates,
        "chunk_tokens": chunk_tokens,
        "memory_tokens": memory_tokens,
        "response_tokens": response_tokens,
        "batch_size": batch_size,
        "max_context_tokens": max_context_tokens,
        "pool": pool,
        "plot": False if no_plot else None,
    }
    settings = build_config(EvalConfig, yaml_path=config, overrides=flags)
    console.print(
        f"[bold]memtrain eval[/]: model [cyan]{settings.model}[/] ({settings.backend}), task [cyan]{settings.task}[/], "
        f"mode {settings.mode}; output {settings.output}",
        highlight=False,
    )
    with RichProgress(console) as progress:
        result = run_evaluation(settings, progress=progress)
    console.print(metrics_table(result.results))
    timing = result.results["timing"]
    console.print(
        f"{result.examples_run} example(s) run, {result.examples_reused} reused; "
        f"{timing['generate_calls']} generate calls in {timing['seconds']:.1f} s",
        highlight=False,
    )
    console.print(
        f"[green]wrote[/]: {result.results_path}, {result.predictions_path}"
        + (f", {result.plot_path}" if result.plot_path else "")
    )


def metrics_table(results: dict[str, Any]) -> Table:
    """One row per metrics key (length or proxy task): n, EM, F1, substring EM, mean tokens."""
    table = Table(title=f"{results['task']} · {results['mode']} · {results['model']}")
    table.add_column("length" if results["task"] == "hotpotqa" else "metric")
    for name in ("n", "EM", "F1", "sub-EM", "tokens"):
        table.add_column(name, justify="right")
    for key, values in results["metrics"].items():
        table.add_row(
            key,
            str(values["n"]),
            f"{100 * values['em']:.1f}",
            f"{100 * values['f1']:.1f}",
            f"{100 * values['sub_em']:.1f}",
            f"{values.get('mean_tokens', 0):,.0f}",
        )
    return table


@eval_app.command("plot")
def plot(
    results: Annotated[list[Path], typer.Argument(help="results.json files written by memtrain eval.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")] = Path(
        "eval-plot.png"
    ),
    metric: Annotated[str, typer.Option(help="em, f1 or sub_em.")] = "em",
) -> None:
    """Plot score against context length for one or more results.json files, on one figure."""
    from memtrain_data.eval.plot import plot_results

    path = plot_results(results, output, metric=metric)
    console.print(f"[green]wrote[/]: {path}")
