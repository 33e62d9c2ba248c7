"""`memtrain validate`, `memtrain inspect`, `memtrain push`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from memtrain_cli._common import console, err_console, is_interactive

# Enough bad rows to see the pattern; the summary by reason counts them all.
MAX_PROBLEMS_SHOWN = 50


def validate(
    source: Annotated[str, typer.Argument(metavar="DIR|ID", help="Dataset folder, or a Hub dataset id (ORG/NAME) to download and check.")],
    max_rows: Annotated[int, typer.Option(help="Most bad rows to list (all are counted).")] = MAX_PROBLEMS_SHOWN,
) -> None:
    """Check every record of a memtrain dataset against its model, the episode rules and the folder rules.

    Exit code 0 only when everything passes; 1 when any row or file is bad.
    """
    from memtrain_cli.progress import RichProgress
    from memtrain_data.publish.validate import validate_dataset

    if is_interactive():
        with RichProgress(err_console) as progress:
            report = validate_dataset(source, progress=progress)
    else:
        report = validate_dataset(source)

    summary = Table(title=f"checked {report.source}", title_justify="left")
    summary.add_column("config")
    for split in ("train", "validation", "test"):
        summary.add_column(split, justify="right")
    for config_name, splits in report.rows.items():
        summary.add_row(config_name, *[f"{splits[s]:,}" if s in splits else "-" for s in ("train", "validation", "test")])
    console.print(summary)
    if report.ok:
        console.print(f"[green]valid[/]: {report.rows_checked:,} episodes, no problems")
        return

    problems = Table(title="problems", title_justify="left", show_lines=False)
    # fold, never truncate: the file and episode id are what a user needs to find the row
    problems.add_column("file", overflow="fold")
    problems.add_column("row", justify="right")
    problems.add_column("episode", overflow="fold")
    problems.add_column("reason", overflow="fold")
    for problem in report.problems[:max_rows]:
        problems.add_row(problem.file, "" if problem.row is None else str(problem.row), problem.episode_id or "", problem.reason)
    console.print(problems)
    if len(report.problems) > max_rows:
        console.print(f"… and {len(report.problems) - max_rows:,} more (--max-rows to list more)")
    by_code = ", ".join(f"{code} {count:,}" for code, count in report.counts_by_code().items())
    console.print(f"[red]invalid[/]: {len(report.problems):,} problems in {report.bad_rows:,} of {report.rows_checked:,} rows ({by_code})")
    raise typer.Exit(1)


def inspect(
    source: Annotated[str, typer.Argument(metavar="DIR", help="Dataset folder (or a Hub dataset id).")],
    config_name: Annotated[str | None, typer.Option(help="Config to read; needed when the folder has several.")] = None,
    split: Annotated[str, typer.Option(help="Split: train, validation or test.")] = "train",
    index: Annotated[int, typer.Option(help="Episode number within the split (0-based; negative counts from the end).")] = 0,
    max_chars: Annotated[int, typer.Option(help="Shorten chunks to this many characters (0: show them whole).")] = 0,
) -> None:
    """Show one episode as the agent sees it: chunks in order with [MASK] and [TARGET] highlighted, answers, probes, statistics."""
    from memtrain_data.publish.inspect import episode_renderables, load_episode

    view = load_episode(source, config_name=config_name, split=split, index=index)
    for renderable in episode_renderables(view, max_chars=max_chars):
        console.print(renderable)


def push(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Dataset folder written by `memtrain build-dataset`.")],
    repo_id: Annotated[str, typer.Argument(metavar="ORG/NAME", help="Hub dataset repo; created if it does not exist.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repo as private.")] = False,
    revision: Annotated[str | None, typer.Option(help="Branch to push to (created if needed).")] = None,
    create_pr: Annotated[bool, typer.Option("--create-pr", help="Open a pull request instead of writing to the branch.")] = False,
) -> None:
    """Validate a dataset folder, then upload it to the Hugging Face Hub in one commit (token: HF_TOKEN or `hf auth login`)."""
    from memtrain_data.publish.push import push_dataset

    console.print(f"validating {folder}, then pushing to [cyan]{repo_id}[/]")
    url = push_dataset(folder, repo_id, private=private, revision=revision, create_pr=create_pr)
    console.print(f"[green]pushed[/]: {url}")
