"""`build_episodes`: the passage pool → masked-reconstruction episodes, as parquet shards.

The work split, chosen so that output never depends on `--workers`:

1. The main process validates everything a worker would trip on (entity labels, tokenizer,
   spaCy model, pool size), writes the canonical pool view, builds the retrieval index once,
   merges the pool's alias shards into a memory-mappable alias index (`aliases.py`), and
   writes the *plan*: for each split, the candidate pivots (pool rows whose page hashes to
   that split and whose text can hold an entity), ordered by a stable hash of
   (seed, passage id), and the split's pool rows (`rows-<split>.npy`): documents draw only
   from their own split's pages. A split that must hold episodes but cannot fill one
   document from its own pages is a one-line error naming it.
2. The number of tasks is fixed by the request (`num_tasks`: 5 to 500 episodes per task), after
   `num_episodes` is capped by the number of candidate pivots (one episode per pivot).
   Task `r` owns candidates r, r + tasks, r + 2·tasks, … of each split and a fixed target
   per split (`splits.share_of_task`). It walks its own candidates in order until the target
   is met; a dropped candidate is counted with its reason and the next one is taken. No task
   reads another task's results, so `--workers 1` and `--workers 2` write identical shards.
3. Tasks run as one datatrove step on the executor `--executor` names (`local`, or `ray`; a
   Slurm build runs this stage in its finish job with `local`); each writes
   `OUT/<config>/<split>-<rank>-of-<tasks>.parquet` (temporary name, then rename) for every
   split it has episodes for, then its summary; datatrove writes the completion marker last,
   so a rerun skips finished tasks and redoes interrupted ones.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data import BUILDER_VERSION
from memtrain_data.config import config_to_dict
from memtrain_data.errors import ConfigError, InputError, MemtrainError
from memtrain_data.progress import NullProgress, ProgressReporter
from memtrain_data.records import SPLITS

if TYPE_CHECKING:
    from memtrain_data.build_config import BuildConfig
    from memtrain_data.episodes.builder import EpisodeContext

# Episodes each task is responsible for: at least MIN, at most MAX (a task holds its episodes in
# memory until it writes its shard), and about TARGET_TASKS tasks in between. Depends on the
# request alone, so the task count never depends on --workers.
MIN_EPISODES_PER_TASK = 5
MAX_EPISODES_PER_TASK = 500
TARGET_TASKS = 256
# Settings that do not change the records: leaving them out lets a rerun with other values resume.
_NON_RECORD_SETTINGS = frozenset(
    {"output", "workers", "executor", "push_to_hub", "private", "revision", "create_pr", "page_timeout_s"}
)
# A candidate pivot must show a digit or a capitalized word after its first word: a cheap test
# that skips NER on passages that cannot hold a usable entity anyway.
_ENTITY_HINT = re.compile(r"\d|\s[A-Z]")


@dataclass
class EpisodeBuildResult:
    """Where the episodes went and what happened while building them."""

    output: Path
    files: list[Path] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkPaths:
    """Files of one episode build under `OUT/.memtrain` and the shard folder."""

    root: Path
    config_name: str
    shards: Path

    @property
    def pool_view(self) -> Path:
        return self.root / "index" / "passages.arrow"

    @property
    def tokenizer(self) -> Path:
        return self.root / "tokenizer"

    @property
    def state(self) -> Path:
        return self.root / f"episodes-{self.config_name}"

    @property
    def logs(self) -> Path:
        return self.root / "logs" / f"episodes-{self.config_name}"

    def plan(self, split: str) -> Path:
        return self.state / f"plan-{split}.npy"

    def split_rows(self, split: str) -> Path:
        """Pool rows of the pages of `split` (documents of that split draw only from them)."""
        return self.state / f"rows-{split}.npy"

    @property
    def aliases(self) -> Path:
        return self.root / "aliases"

    def summary(self, rank: int) -> Path:
        return self.state / "tasks" / f"{rank:05d}.json"

    @property
    def settings(self) -> Path:
        return self.state / "settings.json"


def work_paths(config: BuildConfig) -> WorkPaths:
    return WorkPaths(config.output / ".memtrain", str(config.config_name), config.output / str(config.config_name))


def shard_name(split: str, rank: int, tasks: int) -> str:
    return f"{split}-{rank:05d}-of-{tasks:05d}.parquet"


def passages_per_episode(config: BuildConfig) -> int:
    return 1 + config.related_passages + config.random_passages


def num_tasks(num_episodes: int) -> int:
    per_task = min(MAX_EPISODES_PER_TASK, max(MIN_EPISODES_PER_TASK, math.ceil(num_episodes / TARGET_TASKS)))
    return max(1, math.ceil(num_episodes / per_task))


# --- worker side -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _cached_tokenizer(name_or_path: str) -> Any:
    """A tokenizer per process: loading one takes seconds, and every task of a worker reuses it."""
    from memtrain_data.models import load_tokenizer

    return load_tokenizer(name_or_path)


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


def _episode_context(config: BuildConfig, tokenizer_path: str) -> EpisodeContext:
    """Heavy objects of a worker; the tokenizer and spaCy are cached per process, the rest is mmapped."""
    import numpy as np

    from memtrain_data.episodes.aliases import AliasTable
    from memtrain_data.episodes.builder import EpisodeContext
    from memtrain_data.episodes.entities import validate_entity_labels
    from memtrain_data.episodes.passages import PassageView
    from memtrain_data.episodes.retrieval import load_retriever
    from memtrain_data.nlp import load_spacy_ner

    paths = work_paths(config)
    return EpisodeContext(
        config=config,
        labels=validate_entity_labels(config.entity_labels),
        passages=PassageView.open(paths.pool_view),
        retriever=load_retriever(config.retriever, paths.root),
        tokenizer=_cached_tokenizer(tokenizer_path),
        nlp=load_spacy_ner(config.spacy_model),
        aliases=AliasTable.open(paths.aliases),
        split_rows={split: np.load(paths.split_rows(split), mmap_mode="r") for split in SPLITS},
    )


def run_episode_task(config: BuildConfig, rank: int, tasks: int, tokenizer_path: str) -> dict[str, Any]:
    """Build task `rank`'s episodes, write its shards and summary; return the summary."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.episodes.builder import build_episode
    from memtrain_data.episodes.entities import NER_BATCH_SIZE, extract_entities
    from memtrain_data.episodes.splits import share_of_task, split_targets
    from memtrain_data.features import episode_arrow_schema

    paths = work_paths(config)
    context = _episode_context(config, tokenizer_path)
    targets = split_targets(config.num_episodes, config.validation_fraction, config.test_fraction)
    summary: dict[str, Any] = {
        "rank": rank,
        "episodes": {},
        "requested": {},
        "dropped": {},
        "drop_examples": {},
        "masked_occurrences": 0,
        "recall_probes": 0,
        "n_tokens": [],
        "n_chunks": [],
        "pivot_ner_words": 0,
        "probe_ner_words": 0,
        "top_up_passages": 0,
        "episodes_topped_up": 0,
        "answer_labels": {},
        "rejected_answers": {},
        "rejected_probe_targets": {},
        "title_answers": 0,
        "answers_masked_outside_pivot": 0,
        "answers_masked_at_least_twice": 0,
        "answers_with_page": 0,
        "masked_forms": 0,
        "files": [],
    }
    answer_labels: Counter[str] = Counter()
    rejected_answers: Counter[str] = Counter()
    rejected_targets: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for split in SPLITS:
        target = share_of_task(targets[split], rank, tasks)
        summary["requested"][split] = target
        if target == 0:
            continue
        plan = np.load(paths.plan(split), mmap_mode="r")
        own_rows = [int(row) for row in plan[rank::tasks]]
        episodes: list[dict[str, Any]] = []

        def pivot_texts(rows: list[int] = own_rows) -> Any:
            for row in rows:
                yield str(context.passages.rows([row])[0]["text"])

        # Batches sized to the target: most pivots yield an episode, so NER rarely runs far ahead.
        batch_size = min(NER_BATCH_SIZE, max(4, 2 * target))
        entity_stream = extract_entities(context.nlp, pivot_texts(), context.labels, batch_size=batch_size)
        for row in own_rows:
            entities = next(entity_stream)
            pivot = context.passages.rows([row])[0]
            summary["pivot_ner_words"] += int(pivot["n_words"])
            outcome = build_episode(context, row, pivot, entities, split)
            summary["probe_ner_words"] += outcome.probe_ner_words
            summary["top_up_passages"] += outcome.top_up_passages
            rejected_answers.update(outcome.rejected_answers)
            rejected_targets.update(outcome.rejected_targets)
            if outcome.episode is None:
                reason = str(outcome.drop_reason)
                dropped[reason] += 1
                summary["drop_examples"].setdefault(reason, f"{pivot['id']}: {outcome.detail}".rstrip(": "))
                continue
            episode = outcome.episode
            summary["episodes_topped_up"] += int(outcome.top_up_passages > 0)
            summary["masked_occurrences"] += episode.masked_occurrences
            summary["recall_probes"] += len(episode.recall_probes)
            summary["n_tokens"].append(episode.n_tokens)
            summary["n_chunks"].append(len(episode.chunks))
            answer_labels[episode.answer_label] += 1
            summary["title_answers"] += int(outcome.title_answer)
            summary["answers_masked_outside_pivot"] += int(outcome.masked_outside_pivot > 0)
            summary["answers_masked_at_least_twice"] += int(episode.masked_occurrences >= 2)
            summary["answers_with_page"] += int(episode.answer_page_title is not None)
            summary["masked_forms"] += len(episode.masked_forms)
            episodes.append(episode.model_dump(mode="json"))
            if len(episodes) >= target:
                break
        entity_stream.close()
        summary["episodes"][split] = len(episodes)
        if episodes:
            # Temporary name then rename: a killed task never leaves a half-written shard behind.
            final = paths.shards / shard_name(split, rank, tasks)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(f".{final.name}.tmp")
            pq.write_table(pa.Table.from_pylist(episodes, schema=episode_arrow_schema()), tmp)
            tmp.replace(final)
            summary["files"].append(final.name)
    summary["dropped"] = dict(sorted(dropped.items()))
    summary["answer_labels"] = dict(sorted(answer_labels.items()))
    summary["rejected_answers"] = dict(sorted(rejected_answers.items()))
    summary["rejected_probe_targets"] = dict(sorted(rejected_targets.items()))
    target_path = paths.summary(rank)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_summary = target_path.with_suffix(".json.tmp")
    tmp_summary.write_text(json.dumps(summary, sort_keys=True) + "\n", encoding="utf-8")
    tmp_summary.replace(target_path)
    return summary


def _episode_step(config: BuildConfig, tasks: int, tokenizer_path: str) -> Any:
    """The datatrove step that runs `run_episode_task` for its rank (built lazily: datatrove is heavy)."""
    from datatrove.pipeline.base import PipelineStep

    class EpisodeTaskStep(PipelineStep):
        """Builds one task's episodes; yields no documents (it writes its own shards)."""

        name = "🧩 MemTrain episodes"
        type = "EPISODES"

        def __init__(self, config: BuildConfig, tasks: int, tokenizer_path: str) -> None:
            super().__init__()
            self.config = config
            self.tasks = tasks
            self.tokenizer_path = tokenizer_path

        def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
            summary = run_episode_task(self.config, rank, self.tasks, self.tokenizer_path)
            for split, count in summary["episodes"].items():
                self.stat_update(f"episodes_{split}", value=count)
            for reason, count in summary["dropped"].items():
                self.stat_update(f"dropped_{reason}", value=count)
            yield from ()

    return EpisodeTaskStep(config, tasks, tokenizer_path)


# --- main process ----------------------------------------------------------------------------


def _settings_fingerprint(config: BuildConfig, pool_fingerprint: str, tasks: int) -> dict[str, Any]:
    settings = {k: v for k, v in config_to_dict(config).items() if k not in _NON_RECORD_SETTINGS}
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
    # Temporary name then rename: a kill mid-write must not leave settings that cannot be read back.
    paths.settings.with_suffix(".tmp").write_text(json.dumps(fingerprint, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    paths.settings.with_suffix(".tmp").replace(paths.settings)


def _write_plan(config: BuildConfig, paths: WorkPaths) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Candidate pivots per split in seeded hash order, and each split's pool rows.

    Returns the candidate count per split and, per split, its passages and pages.
    """
    import numpy as np

    from memtrain_data.episodes.passages import PassageView
    from memtrain_data.episodes.splits import split_of_page, unit_hash

    view = PassageView.open(paths.pool_view)
    by_split: dict[str, list[tuple[float, int]]] = {split: [] for split in SPLITS}
    rows_of_split: dict[str, list[int]] = {split: [] for split in SPLITS}
    pages_of_split: dict[str, set[int]] = {split: set() for split in SPLITS}
    split_of: dict[int, str] = {}
    row = 0
    # Record batch by record batch, read from the file: a big pool never sits in memory whole.
    for batch in view.batches(["id", "page_id", "text"]):
        columns = batch.to_pydict()
        for passage_id, page_id, text in zip(columns["id"], columns["page_id"], columns["text"], strict=True):
            page = int(page_id)
            split = split_of.get(page)
            if split is None:
                split = split_of[page] = split_of_page(page, config.validation_fraction, config.test_fraction)
            rows_of_split[split].append(row)
            pages_of_split[split].add(page)
            if _ENTITY_HINT.search(text):
                by_split[split].append((unit_hash("memtrain-pivot", config.seed, passage_id), row))
            row += 1
    counts: dict[str, int] = {}
    for split, keyed in by_split.items():
        keyed.sort()
        np.save(paths.plan(split), np.array([row for _, row in keyed], dtype=np.int64))
        np.save(paths.split_rows(split), np.array(rows_of_split[split], dtype=np.int64))
        counts[split] = len(keyed)
    sizes = {split: {"passages": len(rows_of_split[split]), "pages": len(pages_of_split[split])} for split in SPLITS}
    return counts, sizes


def check_split_capacity(config: BuildConfig, sizes: dict[str, dict[str, int]]) -> None:
    """A one-line InputError when a split that must hold episodes cannot fill one document from its own pages."""
    from memtrain_data.episodes.splits import split_targets

    needed = passages_per_episode(config)
    targets = split_targets(config.num_episodes, config.validation_fraction, config.test_fraction)
    for split in SPLITS:
        have = sizes[split]
        if targets[split] > 0 and have["passages"] < needed:
            fraction = {"validation": "validation_fraction", "test": "test_fraction"}.get(split)
            advice = (
                f"raise {fraction} (now {getattr(config, fraction)}; e.g. validation_fraction: 0.25 and test_fraction: 0.25 "
                "in a --config YAML) or use a larger dump"
                if fraction
                else "lower validation_fraction/test_fraction or use a larger dump"
            )
            if config.preset != "mini":
                advice += ", or choose --preset mini"
            raise InputError(
                f"the {split} split has {have['passages']:,} passages from {have['pages']:,} pages, but one "
                f"'{config.preset}' episode needs {needed} passages from its own split's pages; {advice}"
            )


def _build_aliases(config: BuildConfig, paths: WorkPaths) -> Any:
    """Merge the pool's alias shards once (reused while the shards are unchanged)."""
    from memtrain_data.episodes.aliases import AliasIndexInfo, alias_files, build_alias_index

    files = alias_files(config.output)
    fingerprint = [[path.name, path.stat().st_size, path.stat().st_mtime_ns] for path in files]
    marker = paths.aliases / "memtrain-fingerprint.json"
    if marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if saved.get("files") == fingerprint:
            return AliasIndexInfo(paths.aliases, saved["rows"], saved["redirects"], saved["anchors"], len(files))
    info = build_alias_index(config.output, paths.aliases)
    marker.write_text(
        json.dumps({"files": fingerprint, "rows": info.rows, "redirects": info.redirects, "anchors": info.anchors}) + "\n",
        encoding="utf-8",
    )
    return info


def _prepare(config: BuildConfig, progress: ProgressReporter) -> tuple[WorkPaths, dict[str, Any]]:
    """Everything checked and built once, before any worker starts."""
    from memtrain_data.episodes.entities import validate_entity_labels
    from memtrain_data.episodes.passages import PassageView, pool_files, write_pool_view
    from memtrain_data.episodes.retrieval import build_index
    from memtrain_data.nlp import load_spacy_ner, spacy_model_version

    if config.executor == "slurm":
        raise ConfigError("on Slurm the episodes run inside the finish job of a Slurm build (memtrain_data.build), not here")
    paths = work_paths(config)
    if not pool_files(config.output):
        raise InputError(f"no passage pool in {config.output / 'pool'} (expected passages-*.parquet); build the pool first")
    nlp = load_spacy_ner(config.spacy_model)
    validate_entity_labels(config.entity_labels, known=nlp.get_pipe("ner").labels)
    tokenizer = _cached_tokenizer(config.tokenizer)

    pool_fingerprint = write_pool_view(config.output, paths.pool_view, config.pool_size)
    view = PassageView.open(paths.pool_view)
    needed = passages_per_episode(config)
    if len(view) < needed:
        raise InputError(
            f"the passage pool has {len(view)} passages but one '{config.preset}' episode needs {needed} "
            f"(1 pivot + {config.related_passages} related + {config.random_passages} random); "
            + "use a larger dump"
            + (" or raise --pool-size" if config.pool_size is not None else "")
            # never suggest the preset already in use
            + (" or choose --preset mini" if config.preset != "mini" else "")
        )
    progress.log(f"episodes: indexing {len(view):,} passages with {config.retriever}")
    index = build_index(config.retriever, view, paths.root, pool_fingerprint, config.dense_model)
    if index.note:
        progress.log(index.note)
    paths.state.mkdir(parents=True, exist_ok=True)
    candidates, split_sizes = _write_plan(config, paths)
    possible = sum(candidates.values())
    if config.num_episodes > possible:
        # One episode per pivot: asking for more only plans tasks that cannot find one.
        progress.log(
            f"episodes: --num-episodes {config.num_episodes:,} capped to {possible:,}, "
            "the number of candidate pivots in the pool"
        )
        config = replace(config, num_episodes=max(possible, 1))
    check_split_capacity(config, split_sizes)
    tasks = num_tasks(config.num_episodes)
    _reset_if_stale(paths, _settings_fingerprint(config, pool_fingerprint, tasks), progress)
    alias_info = _build_aliases(config, paths)
    facts = {
        "num_episodes": config.num_episodes,
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


def _aggregate(config: BuildConfig, paths: WorkPaths, tasks: int, facts: dict[str, Any], seconds: float) -> dict[str, Any]:
    summaries = [json.loads(paths.summary(rank).read_text(encoding="utf-8")) for rank in range(tasks)]
    episodes = {split: sum(s["episodes"].get(split, 0) for s in summaries) for split in SPLITS}
    requested = {split: sum(s["requested"].get(split, 0) for s in summaries) for split in SPLITS}
    dropped: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for s in summaries:
        dropped.update(s["dropped"])
        for reason, example in s["drop_examples"].items():
            examples.setdefault(reason, example)
    n_tokens = [n for s in summaries for n in s["n_tokens"]]
    n_chunks = [n for s in summaries for n in s["n_chunks"]]
    written = sum(episodes.values())
    return {
        "episodes": episodes,
        "episodes_total": written,
        "episodes_requested": requested,
        "dropped": dict(sorted(dropped.items())),
        "drop_examples": dict(sorted(examples.items())),
        "masked_occurrences": sum(s["masked_occurrences"] for s in summaries),
        "recall_probes": sum(s["recall_probes"] for s in summaries),
        "tokens": {
            "min": min(n_tokens, default=0),
            "mean": round(sum(n_tokens) / len(n_tokens), 1) if n_tokens else 0,
            "max": max(n_tokens, default=0),
        },
        "chunks": {"min": min(n_chunks, default=0), "max": max(n_chunks, default=0)},
        "episodes_topped_up": sum(s["episodes_topped_up"] for s in summaries),
        # Answer choice (issue 10): labels, evidence, title answers, alias use, passed-over candidates.
        "answer_labels": dict(sorted(sum((Counter(s["answer_labels"]) for s in summaries), Counter()).items())),
        "rejected_answers": dict(sorted(sum((Counter(s["rejected_answers"]) for s in summaries), Counter()).items())),
        "rejected_probe_targets": dict(sorted(sum((Counter(s.get("rejected_probe_targets", {})) for s in summaries), Counter()).items())),
        "title_answers": sum(s["title_answers"] for s in summaries),
        "answers_masked_outside_pivot": sum(s["answers_masked_outside_pivot"] for s in summaries),
        "answers_masked_at_least_twice": sum(s["answers_masked_at_least_twice"] for s in summaries),
        "answers_with_page": sum(s["answers_with_page"] for s in summaries),
        "masked_forms": sum(s["masked_forms"] for s in summaries),
        "answer_settings": {
            "answer_labels": list(config.answer_labels),
            "answer_evidence": config.answer_evidence,
            "answer_min_occurrences": config.answer_min_occurrences,
            "title_answer_share": config.title_answer_share,
        },
        "alias_rows": facts["alias_rows"],
        "alias_redirects": facts["alias_redirects"],
        "alias_anchors": facts["alias_anchors"],
        # Documents draw only from their own split's pages; the validator re-derives each page's split from these.
        "validation_fraction": config.validation_fraction,
        "test_fraction": config.test_fraction,
        "split_pool": facts["split_sizes"],
        "top_up_passages": sum(s["top_up_passages"] for s in summaries),
        "pivot_ner_words": sum(s["pivot_ner_words"] for s in summaries),
        "probe_ner_words": sum(s["probe_ner_words"] for s in summaries),
        "tokenizer": config.tokenizer,
        "spacy_model": facts["spacy_model"],
        "source": ", ".join(config.dump) if config.dump else "bundled sample wiki",
        "seed": config.seed,
        "preset": config.preset,
        "retriever": config.retriever,
        # The budgets the rules were checked against (`memtrain validate` re-checks with them).
        "related_passages": config.related_passages,
        "random_passages": config.random_passages,
        "chunk_tokens": config.chunk_tokens,
        "max_chunks": config.max_chunks,
        "min_doc_tokens": config.min_doc_tokens,
        "max_doc_tokens": config.max_doc_tokens,
        "probes_per_chunk": config.probes_per_chunk,
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


def _watch_tasks(paths: WorkPaths, tasks: int, already: int, progress: ProgressReporter, stop: threading.Event) -> None:
    """Advance the progress bar as task summaries appear (tasks may run in other processes)."""
    reported = already
    while True:
        stopping = stop.wait(0.2)
        done = _finished_tasks(paths)
        if done > reported:
            progress.advance("episodes", done - reported)
            reported = done
        if stopping:
            return


def build_episodes(config: BuildConfig, progress: ProgressReporter | None = None) -> EpisodeBuildResult:
    """Build `config.num_episodes` episodes from the pool in `config.output/pool` (see the module doc)."""
    from memtrain_data.pipeline.executor import datatrove_console_quiet
    from memtrain_data.pipeline.executors import make_executor

    progress = progress or NullProgress()
    started = time.perf_counter()
    paths, facts = _prepare(config, progress)
    asked = config.num_episodes
    config = replace(config, num_episodes=facts["num_episodes"])
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
        [_episode_step(config, tasks, facts["tokenizer_path"])], tasks=tasks, kind=config.executor,
        workers=config.workers, logging_dir=paths.logs,
        job_name=f"memtrain-episodes-{paths.config_name}",
    )
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_tasks, args=(paths, tasks, done_before, progress, stop), daemon=True)
    watcher.start()
    try:
        with datatrove_console_quiet():
            executor.run()
    except MemtrainError:
        raise
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise MemtrainError(
            f"an episode task failed ({type(exc).__name__}: {first_line}); task logs: {paths.logs / 'logs'}"
        ) from None
    finally:
        stop.set()
        watcher.join()
    missing = [rank for rank in range(tasks) if not paths.summary(rank).is_file()]
    if missing:
        raise MemtrainError(f"{len(missing)} episode task(s) did not finish (first: {missing[0]}); see {paths.logs / 'logs'}")
    progress.finish("episodes")

    stats = _aggregate(config, paths, tasks, facts, time.perf_counter() - started)
    # What the user asked for, before the cap by candidate pivots: a shortfall is announced against it.
    stats["episodes_asked"] = asked
    requested, written = asked, stats["episodes_total"]
    if written < requested:
        progress.log(f"warning: {shortfall_message(paths.config_name, stats)}")
    files = sorted(paths.shards.glob("*-of-*.parquet")) if paths.shards.is_dir() else []
    return EpisodeBuildResult(output=paths.shards, files=files, stats=stats)
