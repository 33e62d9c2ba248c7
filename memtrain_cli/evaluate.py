"""`memtrain eval` (evaluate a memory agent) and `memtrain eval plot` (draw results)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memtrain_cli._common import console, new_app
from memtrain_cli.options import settings_options
from memtrain_cli.progress import RichProgress
from memtrain_data.eval.config import EvalConfig

eval_app = new_app(
    help=(
        "Evaluate a memory agent: on MemAgent's released RULER-HotpotQA files (--task ruler-hqa, the "
        "benchmark of the MemAgent and MemTrain tables), on RULER-style contexts built from raw HotpotQA "
        "(--task hotpotqa) or on held-out MemTrain proxy episodes (--task proxy). Writes results.json, "
        "predictions.jsonl and plot.png."
    ),
)


@eval_app.callback(invoke_without_command=True)
@settings_options(EvalConfig)
def evaluate(
    flags: dict[str, Any],
    ctx: typer.Context,
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
    from memtrain_data.eval.runner import run_evaluation

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
