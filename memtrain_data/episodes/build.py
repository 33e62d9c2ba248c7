"""`build_episodes`: the passage pool → masked-reconstruction episodes, as parquet shards.

The work split, chosen so that output never depends on `--workers`:

1. The main process validates everything a worker would trip on (entity labels, tokenizer,
   spaCy model, pool size), writes the canonical pool view, builds the retrieval index once
   (the BM25 shards as tasks on the stage's executor, see `bm25_index.py`),
   merges the pool's alias shards into a memory-mappable alias index (`aliases.py`), and
   writes the plan (`plan.py`: each split's candidate pivots in seeded order, and the split's
   pool rows, so documents draw only from their own split's pages).
2. The number of tasks is fixed by the request (`job.num_tasks`: 5 to 500 episodes per task),
   after `num_episodes` is capped by the number of candidate pivots (one episode per pivot).
   Each task (`task.py`) owns a fixed share of each split's candidates and target; no task
   reads another task's results, so `--workers 1` and `--workers 2` write identical shards.
3. Tasks run as one datatrove step on the executor `--executor` names (`local`, or `ray`; a
   Slurm build runs this stage in its finish job with `local`); each writes
   `OUT/<config>/<split>-<rank>-of-<tasks>.parquet` (temporary name, then rename) for every
   split it has episodes for, then its summary; datatrove writes the completion marker last,
   so a rerun skips finished tasks and redoes interrupted ones. This module then sums the
   task summaries into the config's statistics.

The stage reads only its `EpisodeJob` (`job.py`): its own settings and the request they serve.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data import BUILDER_VERSION
from memtrain_data.atomic import atomic_write_text
from memtrain_data.episodes.job import (
    MAX_EPISODES_PER_TASK,
    MIN_EPISODES_PER_TASK,
    EpisodeJob,
    WorkPaths,
    num_tasks,
    passages_per_episode,
    shard_name,
    work_paths,
)
from memtrain_data.episodes.plan import check_split_capacity, write_plan
from memtrain_data.episodes.task import TaskSummary, cached_tokenizer, episode_step
from memtrain_data.errors import ConfigError, InputError, MemtrainError
from memtrain_data.pipeline.stage import run_stage
from memtrain_data.progress import NullProgress, ProgressReporter
from memtrain_data.records import SPLITS

if TYPE_CHECKING:
    from memtrain_data.build_config import ExecutionSettings
    from memtrain_data.episodes.bm25_index import TaskRunner

__all__ = [
    "MAX_EPISODES_PER_TASK", "MIN_EPISODES_PER_TASK", "EpisodeBuildResult", "EpisodeJob", "WorkPaths",
    "build_episodes", "num_tasks", "passages_per_episode", "shard_name", "shortfall_message", "work_paths",
]  # fmt: skip


@dataclass
class EpisodeBuildResult:
    """Where the episodes went and what happened while building them."""

    output: Path
    files: list[Path] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def worker_tokenizer_path(tokenizer: Any, paths: WorkPaths) -> str:
    """A local folder workers can load the tokenizer from without any Hub lookup.

    A tokenizer loaded from a folder is reused as is; one resolved from the Hub (or its cache)
    is saved once under `OUT/.memtrain/tokenizer`.
    """
    source = Path(str(getattr(tokenizer, "name_or_path", "")))
    if source.is_dir():
        return str(source.resolve())
    if not (paths.tokenizer / "tokenizer_config.json").is_file():
        tokenizer.save_pretrained(str(paths.tokenizer))
    return str(paths.tokenizer)


def _settings_fingerprint(job: EpisodeJob, pool_fingerprint: str, tasks: int) -> dict[str, Any]:
    """What fixes this config's records: the build's record settings (with the episode count the
    tasks are planned for), the pool, the task count and the builder."""
    settings = {**job.record_settings, "num_episodes": job.num_episodes}
    return {"settings": settings, "pool": pool_fingerprint, "tasks": tasks, "builder_version": BUILDER_VERSION}


def _reset_if_stale(paths: WorkPaths, fingerprint: dict[str, Any], progress: ProgressReporter) -> None:
    """Forget completed tasks and shards of an earlier build of this config with other settings."""
    if paths.settings.is_file() and json.loads(paths.settings.read_text(encoding="utf-8")) == fingerprint:
        return
    if paths.settings.is_file():
        progress.log(f"episodes '{paths.config_name}': settings or pool changed since the last build; rebuilding it")
    shutil.rmtree(paths.logs, ignore_errors=True)
    shutil.rmtree(paths.state / "tasks", ignore_errors=True)
    if paths.shards.is_dir():
        for split in SPLITS:
            for old in paths.shards.glob(f"{split}-*-of-*.parquet"):
                old.unlink()
    paths.state.mkdir(parents=True, exist_ok=True)
    # Whole or not at all: a kill mid-write must not leave settings that cannot be read back.
    atomic_write_text(paths.settings, json.dumps(fingerprint, indent=2, sort_keys=True) + "\n")


def _build_aliases(output: Path, paths: WorkPaths) -> Any:
    """Merge the pool's alias shards once (reused while the shards are unchanged)."""
    from memtrain_data.episodes.aliases import AliasIndexInfo, alias_files, build_alias_index

    files = alias_files(output)
    fingerprint = [[path.name, path.stat().st_size, path.stat().st_mtime_ns] for path in files]
    marker = paths.aliases / "memtrain-fingerprint.json"
    if marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if saved.get("files") == fingerprint:
            return AliasIndexInfo(paths.aliases, saved["rows"], saved["redirects"], saved["anchors"], len(files))
    info = build_alias_index(output, paths.aliases)
    marker.write_text(
        json.dumps({"files": fingerprint, "rows": info.rows, "redirects": info.redirects, "anchors": info.anchors}) + "\n",
        encoding="utf-8",
    )
    return info


def _completed_tasks(logs: Path) -> int:
    folder = logs / "completions"
    return sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0


def index_task_runner(execution: ExecutionSettings, progress: ProgressReporter) -> TaskRunner:
    """Runs the BM25 index's per-shard tasks on the stage's executor (local or Ray), `--workers` at a time."""
    from memtrain_data.pipeline.executors import CallStep, make_executor

    def run(step: str, task: Callable[[int], None], count: int, logs: Path) -> None:
        stage = f"index ({step})"
        executor = make_executor(
            [CallStep(f"🔎 MemTrain BM25 {step}", task)], tasks=count, kind=execution.executor,
            workers=execution.workers, logging_dir=logs, job_name=f"memtrain-index-{step}",
        )  # fmt: skip
        already = _completed_tasks(logs)
        progress.start(stage, total=count)
        if already:
            progress.advance(stage, already)
        run_stage(
            executor, stage=stage, count_done=lambda: _completed_tasks(logs), already=already,
            progress=progress, logs=logs / "logs",
        )  # fmt: skip
        progress.finish(stage)

    return run


def _prepare(job: EpisodeJob, progress: ProgressReporter) -> tuple[WorkPaths, dict[str, Any]]:
    """Everything checked and built once, before any worker starts."""
    from memtrain_data.episodes.entities import validate_entity_labels
    from memtrain_data.episodes.passages import PassageView, pool_files, write_pool_view
    from memtrain_data.episodes.retrieval import build_index
    from memtrain_data.nlp import load_spacy_ner, spacy_model_version

    settings, documents, preset = job.settings, job.settings.documents, job.dataset.preset
    if job.execution.executor == "slurm":
        raise ConfigError("on Slurm the episodes run inside the finish job of a Slurm build (memtrain_data.build), not here")
    paths = work_paths(job)
    if not pool_files(job.output):
        raise InputError(f"no passage pool in {job.output / 'pool'} (expected passages-*.parquet); build the pool first")
    nlp = load_spacy_ner(settings.spacy_model)
    validate_entity_labels(settings.entity_labels, known=nlp.get_pipe("ner").labels)
    tokenizer = cached_tokenizer(settings.tokenizer)

    pool_fingerprint = write_pool_view(job.output, paths.pool_view, job.pool_size)
    view = PassageView.open(paths.pool_view)
    needed = passages_per_episode(documents)
    if len(view) < needed:
        raise InputError(
            f"the passage pool has {len(view)} passages but one '{preset}' episode needs {needed} "
            f"(1 pivot + {documents.related_passages} related + {documents.random_passages} random); "
            + "use a larger dump"
            + (" or raise --pool-size" if job.pool_size is not None else "")
            # never suggest the preset already in use
            + (" or choose --preset mini" if preset != "mini" else "")
        )
    progress.log(f"episodes: indexing {len(view):,} passages with {settings.retriever}")
    index = build_index(
        settings.retriever, view, paths.root, pool_fingerprint, settings.dense_model, index_task_runner(job.execution, progress)
    )
    if index.note:
        progress.log(index.note)
    paths.state.mkdir(parents=True, exist_ok=True)
    candidates, split_sizes = write_plan(settings, job.dataset.seed, paths)
    possible = sum(candidates.values())
    if job.num_episodes > possible:
        # One episode per pivot: asking for more only plans tasks that cannot find one.
        progress.log(
            f"episodes: --num-episodes {job.num_episodes:,} capped to {possible:,}, "
            "the number of candidate pivots in the pool"
        )
        job = replace(job, num_episodes=max(possible, 1))
    check_split_capacity(settings, job.num_episodes, preset, split_sizes)
    tasks = num_tasks(job.num_episodes)
    _reset_if_stale(paths, _settings_fingerprint(job, pool_fingerprint, tasks), progress)
    alias_info = _build_aliases(job.output, paths)
    facts = {
        "num_episodes": job.num_episodes,
        "split_sizes": split_sizes,
        "alias_rows": alias_info.rows,
        "alias_redirects": alias_info.redirects,
        "alias_anchors": alias_info.anchors,
        "pool_passages": len(view),
        "candidates": candidates,
        "tasks": tasks,
        "spacy_model": spacy_model_version(nlp),
        "index_bytes": index.size_bytes,
        "index_build_seconds": round(index.build_seconds, 3),
        "index_reused": index.reused,
        "tokenizer_path": worker_tokenizer_path(tokenizer, paths),
    }
    return paths, facts


def _aggregate(job: EpisodeJob, paths: WorkPaths, tasks: int, facts: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The config's statistics: the task summaries summed, the settings they were built with, the stage's facts."""
    settings = job.settings
    summaries = [TaskSummary.read(paths.summary(rank)) for rank in range(tasks)]
    episodes = {split: sum(s.episodes.get(split, 0) for s in summaries) for split in SPLITS}
    requested = {split: sum(s.requested.get(split, 0) for s in summaries) for split in SPLITS}
    dropped: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for s in summaries:
        dropped.update(s.dropped)
        for reason, example in s.drop_examples.items():
            examples.setdefault(reason, example)
    n_tokens = [n for s in summaries for n in s.n_tokens]
    n_chunks = [n for s in summaries for n in s.n_chunks]

    def total(counter: str) -> int:
        return sum(getattr(s, counter) for s in summaries)

    def merged(counts: str) -> dict[str, int]:
        return dict(sorted(sum((Counter(getattr(s, counts)) for s in summaries), Counter()).items()))

    written = sum(episodes.values())
    return {
        "episodes": episodes,
        "episodes_total": written,
        "episodes_requested": requested,
        "dropped": dict(sorted(dropped.items())),
        "drop_examples": dict(sorted(examples.items())),
        "masked_occurrences": total("masked_occurrences"),
        "recall_probes": total("recall_probes"),
        "tokens": {
            "min": min(n_tokens, default=0),
            "mean": round(sum(n_tokens) / len(n_tokens), 1) if n_tokens else 0,
            "max": max(n_tokens, default=0),
        },
        "chunks": {"min": min(n_chunks, default=0), "max": max(n_chunks, default=0)},
        "episodes_topped_up": total("episodes_topped_up"),
        # Answer choice (issue 10): labels, evidence, title answers, alias use, passed-over candidates.
        "answer_labels": merged("answer_labels"),
        "rejected_answers": merged("rejected_answers"),
        "rejected_probe_targets": merged("rejected_probe_targets"),
        "title_answers": total("title_answers"),
        "answers_masked_outside_pivot": total("answers_masked_outside_pivot"),
        "answers_masked_at_least_twice": total("answers_masked_at_least_twice"),
        "answers_with_page": total("answers_with_page"),
        "masked_forms": total("masked_forms"),
        "answer_settings": asdict(settings.answers),
        "alias_rows": facts["alias_rows"],
        "alias_redirects": facts["alias_redirects"],
        "alias_anchors": facts["alias_anchors"],
        # Documents draw only from their own split's pages; the validator re-derives each page's split from these.
        "validation_fraction": settings.validation_fraction,
        "test_fraction": settings.test_fraction,
        "split_pool": facts["split_sizes"],
        "top_up_passages": total("top_up_passages"),
        "pivot_ner_words": total("pivot_ner_words"),
        "probe_ner_words": total("probe_ner_words"),
        "tokenizer": settings.tokenizer,
        "spacy_model": facts["spacy_model"],
        "source": job.source,
        "seed": job.dataset.seed,
        "preset": job.dataset.preset,
        "retriever": settings.retriever,
        # The budgets the rules were checked against (`memtrain validate` re-checks with them).
        **asdict(settings.documents),
        "probes_per_chunk": settings.probes_per_chunk,
        "pool_passages": facts["pool_passages"],
        "candidate_pivots": facts["candidates"],
        "tasks": tasks,
        "index_bytes": facts["index_bytes"],
        "index_build_seconds": facts["index_build_seconds"],
        "index_reused": facts["index_reused"],
        "build_seconds": round(seconds, 3),
        "builder_version": BUILDER_VERSION,
    }


def shortfall_message(config_name: str, stats: dict[str, Any]) -> str:
    """One line saying how many episodes are missing per split, and why."""
    parts = []
    for split in SPLITS:
        wanted, got = stats["episodes_requested"][split], stats["episodes"][split]
        if got < wanted:
            parts.append(f"{split} {got}/{wanted} from {stats['candidate_pivots'][split]:,} candidate pivots")
    dropped = ", ".join(f"{reason} {count}" for reason, count in stats["dropped"].items()) or "none"
    return (
        f"wrote {stats['episodes_total']} of {stats.get('episodes_asked', sum(stats['episodes_requested'].values()))} "
        f"requested '{config_name}' "
        f"episodes: the pool ran out of pivots ({'; '.join(parts)}; dropped: {dropped}); use a larger dump"
    )


def _finished_tasks(paths: WorkPaths) -> int:
    """Tasks that wrote their summary (one directory listing, cheap even for thousands of tasks)."""
    folder = paths.state / "tasks"
    return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0


def build_episodes(job: EpisodeJob, progress: ProgressReporter | None = None) -> EpisodeBuildResult:
    """Build `job.num_episodes` episodes from the pool in `job.output/pool` (see the module doc)."""
    from memtrain_data.pipeline.executors import make_executor

    progress = progress or NullProgress()
    started = time.perf_counter()
    paths, facts = _prepare(job, progress)
    asked = job.num_episodes
    job = replace(job, num_episodes=facts["num_episodes"])
    tasks = facts["tasks"]
    done_before = _finished_tasks(paths)
    if done_before == tasks:
        progress.log(f"episodes '{paths.config_name}': all {tasks} tasks already done; nothing to rebuild")
    elif done_before:
        progress.log(f"episodes '{paths.config_name}': {done_before}/{tasks} tasks already done; resuming the rest")
    progress.start("episodes", total=tasks)
    if done_before:
        progress.advance("episodes", done_before)
    executor = make_executor(
        [episode_step(job, tasks, facts["tokenizer_path"])], tasks=tasks, kind=job.execution.executor,
        workers=job.execution.workers, logging_dir=paths.logs,
        job_name=f"memtrain-episodes-{paths.config_name}",
    )
    run_stage(
        executor, stage="episodes", count_done=lambda: _finished_tasks(paths), already=done_before,
        progress=progress, logs=paths.logs / "logs",
    )
    missing = [rank for rank in range(tasks) if not paths.summary(rank).is_file()]
    if missing:
        raise MemtrainError(f"{len(missing)} episode task(s) did not finish (first: {missing[0]}); see {paths.logs / 'logs'}")
    progress.finish("episodes")

    stats = _aggregate(job, paths, tasks, facts, time.perf_counter() - started)
    # What the user asked for, before the cap by candidate pivots: a shortfall is announced against it.
    stats["episodes_asked"] = asked
    requested, written = asked, stats["episodes_total"]
    if written < requested:
        progress.log(f"warning: {shortfall_message(paths.config_name, stats)}")
    files = sorted(paths.shards.glob("*-of-*.parquet")) if paths.shards.is_dir() else []
    return EpisodeBuildResult(output=paths.shards, files=files, stats=stats)
