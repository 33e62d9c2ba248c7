"""`memtrain validate`, `memtrain inspect`, `memtrain push`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from memtrain_cli._common import console, err_console, is_interactive
from memtrain_cli.options import settings_options
from memtrain_data.build_config import PublishSettings

# Enough bad rows to see the pattern; the summary by reason counts them all.
MAX_PROBLEMS_SHOWN = 50


def validate(
    source: Annotated[str, typer.Argument(metavar="DIR|ID", help="Dataset folder, or a Hub dataset id (ORG/NAME) to download and check.")],
    max_rows: Annotated[int, typer.Option(help="Most bad rows to list (all are counted).")] = MAX_PROBLEMS_SHOWN,
    recount_tokens: Annotated[bool, typer.Option("--recount-tokens", help="Re-count every chunk's tokens with the record's tokenizer (slower; without it a word-count bound is checked).")] = False,
    report: Annotated[bool, typer.Option("--report", help="Also print the quality report per config and split (masks, evidence, composition, cross-split leaks).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result (problem counts and the quality report) as JSON instead of tables.")] = False,
) -> None:
    """Check every record of a memtrain dataset against its model, the builder's own judge of episode rules, and the folder rules.

    Exit code 0 only when everything passes; 1 when any row or file is bad (including cross-split
    passages, partial masks and masked forms left visible).
    """
    from memtrain_cli.progress import RichProgress
    from memtrain_data.publish.validate import validate_dataset

    if is_interactive() and not as_json:
        with RichProgress(err_console) as progress:
            result = validate_dataset(source, progress=progress, recount_tokens=recount_tokens)
    else:
        result = validate_dataset(source, recount_tokens=recount_tokens)
    if as_json:
        import json

        payload = {
            "source": result.source,
            "ok": result.ok,
            "rows": result.rows,
            "problems_by_code": result.counts_by_code(),
            "problems": [{"file": p.file, "row": p.row, "episode": p.episode_id, "reason": p.reason} for p in result.problems[:max_rows]],
            "quality": result.quality,
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        if not result.ok:
            raise typer.Exit(1)
        return
    _print_validation(result, max_rows)
    if report:
        for config_name, quality in result.quality.items():
            console.print(_quality_table(config_name, quality))
    if not result.ok:
        raise typer.Exit(1)


_QUALITY_ROWS: list[tuple[str, str]] = [
    ("episodes", "episodes"),
    ("aligned with the pool", "aligned_with_pool"),
    ("partial-mask rate", "partial_mask_rate"),
    ("visible-alias rate", "visible_alias_rate"),
    ("alias-table forms visible (informational)", "alias_table_visible_rate"),
    ("over-mask rate (case mismatch)", "over_mask_rate"),
    ("title-answer share", "title_answer_share"),
    ("masked occurrences (min / mean / max)", "masked_occurrences"),
    ("masked at least twice", "masked_at_least_twice_share"),
    ("masks outside the pivot (min / mean / max)", "masks_outside_pivot"),
    ("masked outside the pivot", "masked_outside_pivot_share"),
    ("top-up share", "top_up_share"),
    ("tokens per document (p10 / p50 / p90)", "tokens_per_document"),
    ("passages per document (min / mean / max)", "passages_per_document"),
    ("related share", "related_share"),
    ("documents with passages of other splits", "cross_split_documents"),
    ("answer labels", "answer_labels"),
]


def _quality_cell(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:,.2f}"
    if isinstance(value, dict):
        if set(value) <= {"min", "mean", "max", "p10", "p50", "p90"}:
            return " / ".join("n/a" if v is None else f"{v:,}" for v in value.values())
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return f"{value:,}" if isinstance(value, int) else str(value)


def _quality_table(config_name: str, quality: dict) -> Table:  # type: ignore[type-arg]
    splits = quality["splits"]
    settings = quality["settings"]
    caption = (
        f"splits by page: validation {settings['validation_fraction']}, test {settings['test_fraction']} ({settings['fractions_from']}); "
        f"{settings['pool']}; train documents holding validation/test pages: {quality['train_documents_with_validation_or_test_pages']}"
    )
    table = Table(title=f"quality of config {escape(config_name)}", title_justify="left", caption=escape(caption), caption_justify="left")
    table.add_column("measured from the files", overflow="fold")
    for split in splits:
        table.add_column(split, justify="right", overflow="fold")
    for label, key in _QUALITY_ROWS:
        table.add_row(label, *[escape(_quality_cell(values.get(key))) for values in splits.values()])
    examples = {key: sorted({e for values in splits.values() for e in values.get(key, [])}) for key in ("partial_mask_examples", "visible_alias_examples", "over_mask_examples", "alias_table_visible_examples")}
    for key, found in examples.items():
        if found:
            table.add_row(key.replace("_", " "), escape("; ".join(found[:3])), *["" for _ in list(splits)[1:]])
    return table


def _print_validation(report, max_rows: int) -> None:  # type: ignore[no-untyped-def]
    summary = Table(title=f"checked {escape(report.source)}", title_justify="left")
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
        # Reasons quote record text: never read it as markup.
        problems.add_row(escape(problem.file), "" if problem.row is None else str(problem.row), escape(problem.episode_id or ""), escape(problem.reason))
    console.print(problems)
    if len(report.problems) > max_rows:
        console.print(f"… and {len(report.problems) - max_rows:,} more (--max-rows to list more)")
    by_code = ", ".join(f"{code} {count:,}" for code, count in report.counts_by_code().items())
    console.print(f"[red]invalid[/]: {len(report.problems):,} problems in {report.bad_rows:,} of {report.rows_checked:,} rows ({by_code})")


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


@settings_options(PublishSettings, panel="Hub", exclude=("push_to_hub",))
def push(
    flags: dict[str, Any],
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Dataset folder written by `memtrain build-dataset`.")],
    repo_id: Annotated[str, typer.Argument(metavar="ORG/NAME", help="Hub dataset repo; created if it does not exist.")],
    include_pool: Annotated[bool, typer.Option("--include-pool", help="Also upload the passage pool (pool/passages-*.parquet, pool/aliases-*.parquet). Default: episodes only.")] = False,
    include_stats: Annotated[bool, typer.Option("--stats/--no-stats", help="Upload stats.json (the build counters).")] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be uploaded and what is left out; send nothing.")] = False,
) -> None:
    """Validate a dataset folder, then upload the dataset in it to the Hugging Face Hub in one commit.

    Only the dataset goes up: README.md, stats.json, each config's split shards and figures, and the
    pool with --include-pool. Everything else in the folder is listed as left out. Token: HF_TOKEN or `hf auth login`.
    """
    from memtrain_data.publish.push import check_push_target, plan_upload, push_dataset

    if not dry_run:
        check_push_target(repo_id)
    plan = plan_upload(folder, include_pool=include_pool, include_stats=include_stats)
    listing = Table(title=f"{'would upload' if dry_run else 'uploading'} {len(plan.files)} files ({plan.total_bytes / 1e6:,.1f} MB) to {repo_id}", title_justify="left")
    listing.add_column("file", overflow="fold")
    listing.add_column("bytes", justify="right")
    for path in plan.files:
        listing.add_row(escape(path), f"{(folder / path).stat().st_size:,}")
    console.print(listing)
    for path, why in plan.left_out.items():
        style = "yellow" if path in plan.secrets or why.startswith("symlink") else "dim"
        console.print(f"[{style}]left out[/] {escape(path)}: {why}")
    if plan.secrets:
        err_console.print(f"[yellow]warning[/]: {len(plan.secrets)} file(s) in {escape(str(folder))} look like secrets; they are not uploaded, but consider moving them out of the dataset folder")
    if dry_run:
        console.print("dry run: nothing was sent")
        return

    def attempt_failed(attempt: int, attempts: int, reason: str) -> None:
        err_console.print(f"[yellow]attempt {attempt} of {attempts} failed[/]: {escape(reason)}; retrying")

    console.print(f"validating {escape(str(folder))}, then pushing to [cyan]{escape(repo_id)}[/]")
    url = push_dataset(
        folder, repo_id, private=flags.get("private", False), revision=flags.get("revision"),
        create_pr=flags.get("create_pr", False),
        include_pool=include_pool, include_stats=include_stats, on_attempt_failed=attempt_failed,
    )  # fmt: skip
    console.print(f"[green]pushed[/]: {url}")
