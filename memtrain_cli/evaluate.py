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
        "Evaluate a memory agent: on MemAgent's released RULER-HotpotQA files (--task ruler-hqa, the "
        "benchmark of the MemAgent and MemTrain tables), on RULER-style contexts built from raw HotpotQA "
        "(--task hotpotqa) or on held-out MemTrain proxy episodes (--task proxy). Writes results.json, "
        "predictions.jsonl and plot.png."
    ),
)


@eval_app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(help="Model: local folder or Hub id (served model name with --backend openai)."),
    ] = None,
    task: Annotated[str | None, typer.Option(help="Task: ruler-hqa (default), hotpotqa or proxy.")] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="ruler-hqa: an eval_{N}.json file, a folder of them or a Hub dataset id; "
            "hotpotqa: HotpotQA JSON file; proxy: memtrain dataset folder or Hub id."
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            help="memagent: MemAgent's eval (its prompts, chunk 5000, memory 1024, response 1024, "
            "temperature 0.7, top-p 0.95); memtrain: memtrain's prompts with the paper's training budgets "
            "(chunk 5120, memory 1024, response 1024), greedy. Default: memagent for ruler-hqa and "
            "hotpotqa, memtrain for proxy. Budget/decoding flags override it."
        ),
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
        typer.Option(
            help="ruler-hqa: document counts to run, e.g. 50,100 or the paper's 7k,14k (default: all files); "
            "hotpotqa: lengths in tokens (7k,14k,28k; k = 1024) or documents (50docs)."
        ),
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
    request_retries: Annotated[
        int | None,
        typer.Option(help="openai backend: retries of a failed request before one error line (5)."),
    ] = None,
    num_samples: Annotated[
        int | None, typer.Option(help="Trajectories per example (scores are averaged).")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(help="Only the first N examples (per length); results.json still reports all done."),
    ] = None,
    ids: Annotated[
        str | None, typer.Option(help="Only these comma-separated example ids (ruler-hqa: index).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of padding, probe choice and sampling.")] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Sampling temperature, 0 is greedy (default: the protocol's).")
    ] = None,
    top_p: Annotated[
        float | None, typer.Option(help="Nucleus sampling threshold (default: the protocol's).")
    ] = None,
    templates: Annotated[
        Path | None, typer.Option(help="YAML/JSON file overriding some of the protocol's prompt templates.")
    ] = None,
    chunk_tokens: Annotated[
        int | None, typer.Option(help="Tokens per chunk (memagent 5000, memtrain 5120).")
    ] = None,
    memory_tokens: Annotated[int | None, typer.Option(help="Memory budget in tokens (default 1024).")] = None,
    response_tokens: Annotated[
        int | None,
        typer.Option(help="Most tokens generated per turn, the full-context answer included (default 1024)."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Examples advanced together per generate call.")
    ] = None,
    max_context_tokens: Annotated[
        int | None,
        typer.Option(
            help="full-context: prompt + answer limit (default: the model config's max_position_embeddings, "
            "capped by the tokenizer's model_max_length; 32768 for stock Qwen2.5-7B-Instruct). "
            "Longer documents are cut in the middle; the answer gets --response-tokens."
        ),
    ] = None,
    pool: Annotated[
        Path | None,
        typer.Option(
            help="hotpotqa: more distractor paragraphs: a HotpotQA JSON file (MemAgent used all distinct "
            "paragraphs of the dev set) or a memtrain output folder (its passage pool)."
        ),
    ] = None,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not write plot.png.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file of eval settings (flags override it).")
    ] = None,
) -> None:
    """Evaluate a memory agent and print its scores.

    Example: memtrain eval --model Qwen/Qwen2.5-7B-Instruct --task ruler-hqa --data ruler_hqa/
    --protocol memagent --output runs/qwen7b
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
        "protocol": protocol,
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
        "request_retries": request_retries,
        "num_samples": num_samples,
        "limit": limit,
        "ids": ids,
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
        f"mode {settings.mode}, protocol {settings.protocol} (chunk {settings.chunk_tokens}, memory "
        f"{settings.memory_tokens}, response {settings.response_tokens}, temperature {settings.temperature}, "
        f"top-p {settings.top_p}, seed {settings.seed}); output {settings.output}",
        highlight=False,
    )
    with RichProgress(console) as progress:
        result = run_evaluation(settings, progress=progress)
    console.print(metrics_table(result.results))
    console.print(f"[dim]{result.results['metric_note']}[/]", highlight=False)
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
    """One row per metrics key (length or proxy task): n, EM, F1, sub-EM, accuracy, mean tokens."""
    from memtrain_data.eval.registry import task_class

    task = task_class(results["task"])
    table = Table(
        title=f"{results['task']} · {results['mode']} · {results.get('protocol', '?')} · {results['model']}"
    )
    table.add_column("length" if results.get("keyed_by_length", task.keyed_by_length) else "metric")
    for name in ("n", "EM", "F1", "sub-EM", "accuracy", "tokens"):
        table.add_column(name, justify="right")
    for key, values in results["metrics"].items():
        n = str(values["n"]) + ("" if values.get("complete", True) else f"/{values.get('n_total')}")
        table.add_row(
            task.length_label(key, values)
            + (" (earlier run)" if values.get("from_previous_run") else ""),
            n,
            f"{100 * values['em']:.1f}",
            f"{100 * values['f1']:.1f}",
            f"{100 * values['sub_em']:.1f}",
            f"{100 * values['accuracy']:.1f}" if "accuracy" in values else "-",
            f"{values.get('mean_tokens', 0):,.0f}",
        )
    return table


@eval_app.command("plot")
def plot(
    results: Annotated[list[Path], typer.Argument(help="results.json files written by memtrain eval.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")] = Path(
        "eval-plot.png"
    ),
    metric: Annotated[
        str, typer.Option(help="em, f1, sub_em or accuracy (the papers' tables).")
    ] = "accuracy",
) -> None:
    """Plot score against context length for one or more results.json files, on one figure."""
    from memtrain_data.eval.plot import plot_results

    path = plot_results(results, output, metric=metric)
    console.print(f"[green]wrote[/]: {path}")
