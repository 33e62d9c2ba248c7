"""Build the passage pool: dump → pages → clean text → passages → `OUT/pool/*.parquet`.

The stages are datatrove steps (see `memtrain_data.pipeline`) run by a datatrove executor
(`pipeline/executors.py`: local or Ray here; Slurm submits the same pipeline as a job array).
The input fixes the tasks (one per input unit, see `pipeline/readers/sources.py`), so
`--workers` only changes how many run at once and a rerun with other workers writes identical
shards. Task `rank` writes `OUT/pool/passages-{rank:05d}-of-{tasks:05d}.parquet` under a
temporary name, renamed when complete, and its alias table (redirects and link anchors) as
`OUT/pool/aliases-{rank:05d}-of-{tasks:05d}.parquet`; datatrove then writes the task's completion marker
under `OUT/.memtrain/logs/pool/completions/`, so a rerun (after a crash, even `kill -9`) skips
finished tasks and redoes only the others. The per-task stats files there are merged into
`PoolBuildResult.stats`, stage by stage.

With `workers > 1`, datatrove starts its workers with forkserver, which re-imports the main
module: a script calling `build_passage_pool` needs the `if __name__ == "__main__":` guard
(the `memtrain` command and pytest have it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from memtrain_data.atomic import atomic_path, atomic_write_text
from memtrain_data.build_config import ExecutionSettings, PoolSettings
from memtrain_data.errors import ConfigError, InputError
from memtrain_data.pipeline.readers.sources import (
    InputUnit,
    SourcePlan,
    resolve_sources,
)
from memtrain_data.pipeline.stage import run_stage
from memtrain_data.progress import NullProgress, ProgressReporter

if TYPE_CHECKING:
    from datatrove.executor.base import PipelineExecutor
    from datatrove.pipeline.base import PipelineStep

POOL_FORMAT_VERSION = "2"
"""Bump when the pool's content changes for the same input and settings (old pools are then refused)."""

_PLAN_FILE = "plan.json"
# Pool settings that do not shape the shards: pages_per_task only divides the input into the
# units the plan records, pool_size only caps what the episode stage reads of the pool.
_NOT_IN_SHARDS = frozenset({"pages_per_task", "pool_size"})
_DUPLICATES_FILE = "duplicate_pages.json"
_ISSUE_COUNTERS = {
    "truncated_files": "the file was cut short (truncated compressed data); the pages before the cut were kept",
    "xml_errors": "malformed XML; the pages before the error were kept",
    "decompress_errors": "corrupt compressed data; the pages before it were kept",
    "invalid_utf8_bytes": "invalid UTF-8 byte(s) replaced by U+FFFD",
}


class PoolRequest(Protocol):
    """What the pool stage reads of a build: its input, its folder, its settings, how it runs.

    A `BuildConfig` is one; nothing else of it (episodes, publishing) reaches this stage.
    """

    @property
    def output(self) -> Path: ...
    @property
    def dump(self) -> list[str]: ...
    @property
    def dump_index(self) -> str | None: ...
    @property
    def pool(self) -> PoolSettings: ...
    @property
    def execution(self) -> ExecutionSettings: ...


@dataclass
class PoolBuildResult:
    """What `build_passage_pool` did: where the pool is, its shards, and the merged counters."""

    pool_dir: Path
    stats: dict[str, Any] = field(default_factory=dict)
    shards: list[Path] = field(default_factory=list)
    tasks: int = 0
    skipped_tasks: int = 0


def pool_dir(output: Path) -> Path:
    return Path(output) / "pool"


def bz2_index_cache(output: Path) -> Path:
    """Where the block indexes of plain `.bz2` dumps are kept, so a rerun skips the decompression pass."""
    return output / ".memtrain" / "bz2-index"


def pool_logging_dir(output: Path) -> Path:
    return Path(output) / ".memtrain" / "logs" / "pool"


def plan_pool_input(request: PoolRequest, *, pages_per_task: int | None = None) -> SourcePlan:
    """Resolve the build's input (the bundled sample wiki when no `--dump`) into units."""
    dumps = list(request.dump)
    if not dumps:
        from memtrain_data.resources import sample_wiki_path

        dumps = [str(sample_wiki_path())]
    return resolve_sources(
        dumps, request.dump_index, pages_per_task=pages_per_task or request.pool.pages_per_task,
        index_cache=bz2_index_cache(request.output),
    )


def stage_names(plan: SourcePlan) -> list[str]:
    return ["read", "extract", "split", "write"] if plan.kind == "mediawiki" else ["read", "split", "write"]


def pool_pipeline(plan: SourcePlan, settings: PoolSettings, output_dir: Path) -> list[PipelineStep]:
    """The pool's datatrove steps for `plan`; executor-independent (local, Slurm, Ray)."""
    from memtrain_data.pipeline.passages import PassageSplitter
    from memtrain_data.pipeline.writers.pool import PassagePoolWriter

    splitter = PassageSplitter(
        min_words=settings.min_passage_words,
        max_words=settings.max_passage_words,
        target_words=settings.target_passage_words,
        target_spread=settings.passage_size_spread,
        timeout_s=settings.page_timeout_s,
    )
    writer = PassagePoolWriter(output_dir, tasks=len(plan.units))
    if plan.kind == "parquet":
        from memtrain_data.pipeline.readers.wikipedia_parquet import WikipediaParquetReader

        return [WikipediaParquetReader(plan.units), splitter, writer]
    from memtrain_data.pipeline.extractors.wikitext import WikitextExtractor
    from memtrain_data.pipeline.readers.mediawiki import MediaWikiReader

    return [
        MediaWikiReader(plan.units, max_page_bytes=settings.max_page_bytes),
        WikitextExtractor(timeout_s=settings.page_timeout_s, max_page_bytes=settings.max_page_bytes),
        splitter,
        writer,
    ]


def plan_record(plan: SourcePlan, settings: PoolSettings) -> dict[str, Any]:
    """What fixes the pool's content: the units (by name, range and size) and the pool settings."""

    def unit_record(unit: InputUnit) -> dict[str, Any]:
        record = {key: value for key, value in asdict(unit).items() if key not in ("path", "block_offsets")}
        if unit.hub_repo is None:
            record["bytes"] = Path(unit.path).stat().st_size
        return record

    return {
        "format": POOL_FORMAT_VERSION,
        "kind": plan.kind,
        "units": [unit_record(unit) for unit in plan.units],
        **{name: value for name, value in asdict(settings).items() if name not in _NOT_IN_SHARDS},
    }


def check_same_plan(logging_dir: Path, record: dict[str, Any], output: Path) -> None:
    """Refuse to resume a pool that was started from other input or settings (it would mix both)."""
    path = logging_dir / _PLAN_FILE
    if path.is_file():
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous != record:
            changed = sorted(key for key in set(previous) | set(record) if previous.get(key) != record.get(key))
            raise InputError(
                f"{output} already holds a passage pool built from other input or settings ({', '.join(changed)}); "
                f"use another --output, or delete {pool_dir(output)} and {logging_dir} to rebuild it"
            )
        return
    logging_dir.mkdir(parents=True, exist_ok=True)
    # Whole or not at all: a kill mid-write must not leave a plan that cannot be read back.
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")


def _make_executor(pipeline: list[PipelineStep], tasks: int, execution: ExecutionSettings, logging_dir: Path) -> PipelineExecutor:
    """The executor `execution.executor` names (local or Ray; see `pipeline/executors.py`)."""
    from memtrain_data.pipeline.executors import make_executor

    # Pool workers only parse text (no torch, no tokenizers): forking them saves each one the ~2 s
    # re-import of datatrove, pyarrow and mwparserfromhell that forkserver costs (1.45x → 1.75x on 2 cores).
    return make_executor(
        pipeline, tasks=tasks, kind=execution.executor, workers=execution.workers, logging_dir=logging_dir,
        job_name="memtrain-pool", start_method="fork",
    )


def _completed_ranks(logging_dir: Path, tasks: int) -> set[int]:
    folder = logging_dir / "completions"
    if not folder.is_dir():
        return set()
    names = {path.name for path in folder.iterdir()}
    return {rank for rank in range(tasks) if f"{rank:05d}" in names}


def _drop_pages_seen_in_earlier_shards(shards: list[Path], logging_dir: Path, progress: ProgressReporter) -> int:
    """Remove from each shard the pages whose id an earlier shard (lower rank) holds; return how many pages that is.

    Tasks never see each other's pages, so a page id that two inputs share (the same dump given
    twice, overlapping parts) reaches two shards; the copy in the lowest-ranked shard is kept.
    What was dropped is recorded per shard in the logging folder, so a rerun that finds the
    shards already clean reports the same count.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    record_path = logging_dir / _DUPLICATES_FILE
    record: dict[str, list[int]] = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    per_shard = [pc.unique(pq.read_table(shard, columns=["page_id"]).column("page_id")).to_numpy() for shard in shards]
    if per_shard:
        ids = np.concatenate(per_shard)
        ranks = np.concatenate([np.full(len(page_ids), rank) for rank, page_ids in enumerate(per_shard)])
        order = np.lexsort((ranks, ids))
        repeated = order[1:][ids[order][1:] == ids[order][:-1]]  # every copy after the lowest-ranked one
        for rank in sorted(set(ranks[repeated].tolist())):
            dropped = sorted(set(ids[repeated][ranks[repeated] == rank].tolist()))
            shard = shards[rank]
            table = pq.read_table(shard)
            keep = pc.invert(pc.is_in(table.column("page_id"), value_set=pa.array(dropped, type=pa.int64())))
            with atomic_path(shard, shard.with_name(f".{shard.name}.dedup.tmp")) as temporary:
                pq.write_table(table.filter(keep), temporary)
            record[str(rank)] = dropped
            record_path.write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
    total = sum(len(dropped) for dropped in record.values())
    if total:
        examples = ", ".join(str(page_id) for dropped in record.values() for page_id in dropped[:3])
        progress.log(
            f"warning: {total:,} page id(s) occur in more than one input (e.g. {examples}); "
            "each page was kept once, from the first input that has it"
        )
    return total


def build_passage_pool(
    request: PoolRequest, progress: ProgressReporter | None = None, *, pages_per_task: int | None = None
) -> PoolBuildResult:
    """Build (or finish building) the passage pool of `request.output`; return where it is and its counters.

    `pages_per_task` sets how many pages of a multistream dump one task reads (default
    `request.pool.pages_per_task`). Every input is checked before any task starts.
    """
    progress = progress or NullProgress()
    if request.execution.executor == "slurm":
        raise ConfigError("on Slurm the pool is submitted as a job array by memtrain_data.build (a Slurm build), not run here")
    bundled_sample = not request.dump
    plan = plan_pool_input(request, pages_per_task=pages_per_task)
    progress.log(f"pool input: {'the bundled sample wiki' if bundled_sample else plan.description}")
    for note in plan.notes:
        progress.log(note)

    output_dir = pool_dir(request.output)
    logging_dir = pool_logging_dir(request.output)
    tasks = len(plan.units)
    check_same_plan(logging_dir, plan_record(plan, request.pool), request.output)
    names = stage_names(plan)
    pipeline = pool_pipeline(plan, request.pool, output_dir)
    executor = _make_executor(pipeline, tasks, request.execution, logging_dir)

    already = len(_completed_ranks(logging_dir, tasks))
    if already:
        progress.log(f"{already} of {tasks} pool tasks already complete, skipped")
    progress.start("pool", total=tasks)
    if already:
        progress.advance("pool", already)
    seconds = run_stage(
        executor, stage="pool", count_done=lambda: len(_completed_ranks(logging_dir, tasks)), already=already,
        progress=progress, logs=logging_dir / "logs",
    )
    progress.finish("pool")

    from memtrain_data.pipeline.stats import merge_stage_stats, read_task_stats
    from memtrain_data.pipeline.writers.pool import alias_shard_name, pool_shard_name, read_latest_timestamp

    per_task = []
    for rank, unit in enumerate(plan.units):
        task_stats = read_task_stats(logging_dir, rank, names)
        if task_stats is None:
            raise RuntimeError(f"pool task {rank} ({unit.describe()}) left no stats in {logging_dir / 'stats'}")
        per_task.append(task_stats)
        for counter, meaning in _ISSUE_COUNTERS.items():
            if task_stats["read"].get(counter):
                count = task_stats["read"][counter]
                detail = f"{count:,} {meaning}" if counter == "invalid_utf8_bytes" else meaning
                progress.log(f"warning: {unit.describe()}: {detail} (log: {logging_dir / 'logs' / f'task_{rank:05d}.log'})")
    shards = [output_dir / pool_shard_name(rank, tasks) for rank in range(tasks)]
    alias_tables = [output_dir / alias_shard_name(rank, tasks) for rank in range(tasks)]
    missing = [shard.name for shard in [*shards, *alias_tables] if not shard.is_file()]
    if missing:
        raise RuntimeError(f"pool tasks are marked complete but shards are missing: {', '.join(missing[:3])}")

    duplicates_dropped = _drop_pages_seen_in_earlier_shards(shards, logging_dir, progress)
    by_stage = merge_stage_stats(per_task, names)
    for stage, step in zip(names, pipeline, strict=True):
        # steps may declare counters that are always reported, zero or not
        for counter in getattr(step, "counters", ()):
            by_stage[stage].setdefault(counter, 0)
        by_stage[stage] = dict(sorted(by_stage[stage].items()))
    stats: dict[str, Any] = {
        "input": "bundled sample wiki" if bundled_sample else plan.description,
        "input_kind": plan.kind,
        "tasks": tasks,
        "tasks_skipped": already,
        "seconds": round(seconds, 3),
        # the alias table (see pipeline/aliases.py) and the newest revision, which fixes the text's license
        "alias_rows": by_stage["write"].get("alias_rows", 0),
        "redirects_seen": by_stage["read"].get("redirects_seen", 0),
        "anchors_seen": by_stage.get("extract", {}).get("anchors_seen", 0),
        # the same page id in two inputs (a dump given twice): kept once, from the first task that has it
        "duplicate_pages_dropped": by_stage["split"].get("duplicate_pages_dropped", 0) + duplicates_dropped,
        "latest_revision_timestamp": max(filter(None, map(read_latest_timestamp, alias_tables)), default=None),
        **by_stage,
    }
    return PoolBuildResult(pool_dir=output_dir, stats=stats, shards=shards, tasks=tasks, skipped_tasks=already)
