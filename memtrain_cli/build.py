"""`memtrain build-dataset` and `memtrain schema`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memtrain_cli._common import console
from memtrain_cli.progress import RichProgress


def build_dataset(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (pool, episodes, dataset card).")] = None,
    dump: Annotated[
        list[str] | None,
        typer.Option("--dump", help="Wikipedia dump: .xml, .xml.bz2, multistream .bz2, folder or glob; or wikimedia/wikipedia parquet (path or Hub id). Repeatable. Default: the bundled sample wiki."),
    ] = None,
    dump_index: Annotated[str | None, typer.Option(help="Index file of a multistream dump (…-multistream-index.txt.bz2).")] = None,
    preset: Annotated[str | None, typer.Option(help="Episode preset: mini (CPU demos) or paper (the paper's numbers).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML file of build settings (flags override it).")] = None,
    config_name: Annotated[str | None, typer.Option(help="Dataset config name for the episodes (default: the preset).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    workers: Annotated[int | None, typer.Option(help="Parallel worker processes.")] = None,
    executor: Annotated[str | None, typer.Option(help="Pipeline executor: local, slurm or ray.")] = None,
    num_episodes: Annotated[int | None, typer.Option(help="Episodes to build over all splits.")] = None,
    tokenizer: Annotated[str | None, typer.Option(help="Tokenizer that counts tokens and cuts chunks (Hub id or folder).")] = None,
    spacy_model: Annotated[str | None, typer.Option(help="spaCy NER pipeline (default en_core_web_sm).")] = None,
    retriever: Annotated[str | None, typer.Option(help="Related-passage retriever: bm25 or dense.")] = None,
    dense_model: Annotated[str | None, typer.Option(help="sentence-transformers model for --retriever dense.")] = None,
    probes_per_chunk: Annotated[int | None, typer.Option(help="Recall probes per chunk.")] = None,
    pool_size: Annotated[int | None, typer.Option(help="Cap on passages used for episodes (for very large dumps).")] = None,
    push_to_hub: Annotated[str | None, typer.Option(help="Upload the finished folder to this Hub dataset repo (ORG/NAME).")] = None,
    private: Annotated[bool | None, typer.Option("--private", help="Create the Hub repo as private.")] = None,
    revision: Annotated[str | None, typer.Option(help="Hub branch to push to.")] = None,
    create_pr: Annotated[bool | None, typer.Option("--create-pr", help="Open a Hub pull request instead of pushing to the branch.")] = None,
) -> None:
    """Build a MemTrain proxy-task dataset: dump → clean passages → masked-reconstruction episodes with recall probes."""
    from memtrain_data.build import build_dataset as run_build
    from memtrain_data.build_config import resolve_build_config

    flags: dict[str, Any] = {
        "output": output,
        "dump": dump or None,
        "dump_index": dump_index,
        "preset": preset,
        "config_name": config_name,
        "seed": seed,
        "workers": workers,
        "executor": executor,
        "num_episodes": num_episodes,
        "tokenizer": tokenizer,
        "spacy_model": spacy_model,
        "retriever": retriever,
        "dense_model": dense_model,
        "probes_per_chunk": probes_per_chunk,
        "pool_size": pool_size,
        "push_to_hub": push_to_hub,
        "private": private,
        "revision": revision,
        "create_pr": create_pr,
    }
    settings = resolve_build_config(config, flags)
    source = ", ".join(settings.dump) if settings.dump else "the bundled sample wiki (pass --dump for real data)"
    console.print(f"[bold]memtrain build-dataset[/]: input {source}; preset [cyan]{settings.preset}[/]; output {settings.output}")
    with RichProgress(console) as progress:
        result = run_build(settings, progress=progress, command=shlex.join(["memtrain", *sys.argv[1:]]))
    console.print(stats_table(result.stats))
    console.print(f"[green]done[/]: {result.output}")
    if result.pushed_url:
        console.print(f"[green]pushed[/]: {result.pushed_url}")


def stats_table(stats: dict[str, Any]) -> Table:
    """One row per counter: stage, counter, value (nested dicts flattened with dots)."""
    table = Table(title="build statistics")
    table.add_column("stage")
    table.add_column("counter")
    table.add_column("value", justify="right")

    def add(stage: str, prefix: str, values: dict[str, Any]) -> None:
        for key, value in values.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                add(stage, f"{name}.", value)
            elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
                table.add_row(stage, name, f"{value:,}" if isinstance(value, int) else str(value))

    if "pool" in stats:
        add("pool", "", stats["pool"])
    for config_name, values in stats.get("configs", {}).items():
        add(f"episodes ({config_name})", "", values)
    return table


def schema(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the JSON Schema files.")] = Path("schemas"),
    check: Annotated[bool, typer.Option("--check", help="Only check that the folder matches the models; exit 1 if not.")] = False,
) -> None:
    """Write the JSON Schemas of memtrain's records (generated from the Pydantic models)."""
    from memtrain_data.schemas import stale_schemas, write_schemas

    if check:
        stale = stale_schemas(output)
        if stale:
            console.print(f"[red]out of date[/] in {output}: {', '.join(stale)} (run `memtrain schema --output {output}`)")
            raise typer.Exit(1)
        console.print(f"[green]up to date[/]: {output}")
        return
    for path in write_schemas(output):
        console.print(f"wrote {path}")
