"""`memtrain build-dataset` and `memtrain schema`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.table import Table

from memtrain_cli._common import console
from memtrain_cli.options import settings_options
from memtrain_cli.progress import RichProgress
from memtrain_data.build_config import BuildConfig


@settings_options(BuildConfig)
def build_dataset(
    flags: dict[str, Any],
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file of build settings (flags override it).")
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Build in a non-empty folder that is not a memtrain build (its README.md, stats.json, pool/ and config folder are replaced).",
        ),
    ] = False,
    finish_saved_build: Annotated[
        Path | None,
        typer.Option("--finish-saved-build", hidden=True, help="Internal: run a build saved by a Slurm launch (its finish job)."),
    ] = None,
) -> None:
    """Build a MemTrain proxy-task dataset: dump → clean passages → masked-reconstruction episodes with recall probes."""
    from memtrain_data.build import build_dataset as run_build
    from memtrain_data.build import finish_saved_build as run_saved_build
    from memtrain_data.build_config import resolve_build_config

    if finish_saved_build is not None:
        # A Slurm build's finish job: the settings were checked and saved when it was submitted.
        with RichProgress(console) as progress:
            result = run_saved_build(finish_saved_build, progress=progress)
        console.print(stats_table(result.stats))
        console.print(f"[green]done[/]: {result.output}")
        return
    settings = resolve_build_config(config, flags)
    source = (
        ", ".join(settings.dump) if settings.dump else "the bundled sample wiki (pass --dump for real data)"
    )
    console.print(
        f"[bold]memtrain build-dataset[/]: input {source}; preset [cyan]{settings.preset}[/]; output {settings.output}"
    )
    with RichProgress(console) as progress:
        result = run_build(
            settings, progress=progress, command=shlex.join(["memtrain", *sys.argv[1:]]), overwrite=overwrite
        )
    console.print(stats_table(result.stats))
    if "slurm" in result.stats:
        console.print(f"[green]submitted[/]: Slurm jobs write {result.output}; rerun the same command to resubmit unfinished tasks")
        return
    console.print(f"[green]done[/]: {result.output} (all counters in {result.output / 'stats.json'})")
    if result.pushed_url:
        console.print(f"[green]pushed[/]: {result.pushed_url}")


def stats_table(stats: dict[str, Any]) -> Group:
    """A compact summary of the build; every counter is in OUT/stats.json."""
    tables: list[Table] = []
    pool = stats.get("pool")
    if pool:
        read, extract, write = pool.get("read", {}), pool.get("extract", {}), pool.get("write", {})
        skipped = sum(v for k, v in extract.items() if k.startswith("skipped_")) + read.get(
            "oversized_pages_dropped", 0
        )
        table = Table(title="passage pool", show_header=False)
        table.add_column("counter")
        table.add_column("value", justify="right")
        rows = [
            ("pages read", read.get("pages_read", 0)),
            ("articles kept", read.get("articles", 0)),
            ("redirects dropped", read.get("redirects_dropped", 0)),
            ("disambiguation pages dropped", read.get("disambiguations_dropped", 0)),
            ("other namespaces dropped", read.get("other_namespaces_dropped", 0)),
            ("pages skipped (too large, parse error, timeout, empty)", skipped),
            (
                "XML errors / truncated files",
                f"{read.get('xml_errors', 0)} / {read.get('truncated_files', 0)}",
            ),
            ("passages written", write.get("passages_written", 0)),
            ("words written", write.get("words_written", 0)),
            ("tasks (already complete)", f"{pool.get('tasks', 0)} ({pool.get('tasks_skipped', 0)})"),
        ]
        for name, value in rows:
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
        tables.append(table)
    for config_name, values in stats.get("configs", {}).items():
        table = Table(
            title=f"episodes: config '{config_name}' (per episode: token range; mean chunks, masked occurrences, recall probes)"
        )
        for column in ("split", "episodes", "tokens", "chunks", "masked", "probes"):
            table.add_column(column, justify="left" if column == "split" else "right")
        splits = values.get("splits", {})
        for split in sorted(
            splits,
            key=lambda name: (
                ("train", "validation", "test").index(name) if name in ("train", "validation", "test") else 9
            ),
        ):
            split_stats = splits[split]
            tokens = split_stats.get("tokens_per_episode", {})
            table.add_row(
                split,
                f"{split_stats.get('episodes', 0):,}",
                f"{tokens.get('min', 0):,}–{tokens.get('max', 0):,}",
                f"{split_stats.get('chunks_per_episode', {}).get('mean', 0):.2f}",
                f"{split_stats.get('masked_occurrences', {}).get('mean', 0):.2f}",
                f"{split_stats.get('probes_per_episode', {}).get('mean', 0):.2f}",
            )
        dropped = values.get("dropped", {})
        requested = values.get("episodes_requested")
        if isinstance(requested, dict):
            requested = sum(requested.values())
        written = values.get("episodes_total")
        caption = f"{written} of {requested} requested episodes written" if requested is not None else ""
        if dropped:
            caption += "; dropped: " + ", ".join(
                f"{reason} {count}" for reason, count in sorted(dropped.items())
            )
        table.caption = caption
        tables.append(table)
    if "slurm" in stats:
        table = Table(title="slurm", show_header=False)
        for key, value in stats["slurm"].items():
            table.add_row(str(key), str(value))
        tables.append(table)
    return Group(*tables)


def schema(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the JSON Schema files.")] = Path(
        "schemas"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the folder matches the models; exit 1 if not.")
    ] = False,
) -> None:
    """Write the JSON Schemas of memtrain's records (generated from the Pydantic models)."""
    from memtrain_data.schemas import stale_schemas, write_schemas

    if check:
        stale = stale_schemas(output)
        if stale:
            console.print(
                f"[red]out of date[/] in {output}: {', '.join(stale)} (run `memtrain schema --output {output}`)"
            )
            raise typer.Exit(1)
        console.print(f"[green]up to date[/]: {output}")
        return
    for path in write_schemas(output):
        console.print(f"wrote {path}")
