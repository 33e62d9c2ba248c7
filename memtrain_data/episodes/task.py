"""One episode task: build task `rank`'s episodes, write its shards and its `TaskSummary`.

Runs in a worker process (datatrove's executor starts it through `episode_step`). Task `rank`
owns candidates r, r + tasks, r + 2·tasks, … of each split's plan and a fixed target per split
(`splits.share_of_task`); it walks its own candidates in order until the target is met, counting
each dropped one with its reason. It reads nothing another task writes, so the output never
depends on `--workers`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data.atomic import atomic_path, atomic_write_text
from memtrain_data.episodes.job import EpisodeJob, WorkPaths, shard_name, work_paths
from memtrain_data.records import SPLITS

if TYPE_CHECKING:
    from memtrain_data.episodes.builder import EpisodeContext, EpisodeOutcome


@dataclass
class TaskSummary:
    """What one task did, written to `OUT/.memtrain/episodes-<config>/tasks/<rank>.json` and
    summed over tasks into the config's `stats.json` section."""

    rank: int
    episodes: dict[str, int] = field(default_factory=dict)  # written, per split
    requested: dict[str, int] = field(default_factory=dict)  # the task's target, per split
    dropped: dict[str, int] = field(default_factory=dict)  # candidates dropped, per reason
    drop_examples: dict[str, str] = field(default_factory=dict)  # the first dropped pivot, per reason
    masked_occurrences: int = 0
    recall_probes: int = 0
    n_tokens: list[int] = field(default_factory=list)  # per episode
    n_chunks: list[int] = field(default_factory=list)  # per episode
    pivot_ner_words: int = 0
    probe_ner_words: int = 0
    top_up_passages: int = 0
    episodes_topped_up: int = 0
    answer_labels: dict[str, int] = field(default_factory=dict)
    rejected_answers: dict[str, int] = field(default_factory=dict)
    # Absent from summaries written before probe targets were judged; read back as empty.
    rejected_probe_targets: dict[str, int] = field(default_factory=dict)
    title_answers: int = 0
    answers_masked_outside_pivot: int = 0
    answers_masked_at_least_twice: int = 0
    answers_with_page: int = 0
    masked_forms: int = 0
    files: list[str] = field(default_factory=list)  # shard names

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> TaskSummary:
        """A summary from its file; keys this version does not know are ignored, as they always were."""
        saved = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in saved.items() if key in known})

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, self.to_json())  # a reader never sees half a summary


@dataclass
class _Tally:
    """Counters a task sums while it walks its pivots (sorted into the summary at the end)."""

    answer_labels: Counter[str] = field(default_factory=Counter)
    rejected_answers: Counter[str] = field(default_factory=Counter)
    rejected_targets: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)

    def add(self, summary: TaskSummary, pivot: dict[str, Any], outcome: EpisodeOutcome) -> None:
        """Count one pivot's outcome into the tally and `summary`."""
        summary.pivot_ner_words += int(pivot["n_words"])
        summary.probe_ner_words += outcome.probe_ner_words
        summary.top_up_passages += outcome.top_up_passages
        self.rejected_answers.update(outcome.rejected_answers)
        self.rejected_targets.update(outcome.rejected_targets)
        episode = outcome.episode
        if episode is None:
            reason = str(outcome.drop_reason)
            self.dropped[reason] += 1
            summary.drop_examples.setdefault(reason, f"{pivot['id']}: {outcome.detail}".rstrip(": "))
            return
        summary.episodes_topped_up += int(outcome.top_up_passages > 0)
        summary.masked_occurrences += episode.masked_occurrences
        summary.recall_probes += len(episode.recall_probes)
        summary.n_tokens.append(episode.n_tokens)
        summary.n_chunks.append(len(episode.chunks))
        self.answer_labels[episode.answer_label] += 1
        summary.title_answers += int(outcome.title_answer)
        summary.answers_masked_outside_pivot += int(outcome.masked_outside_pivot > 0)
        summary.answers_masked_at_least_twice += int(episode.masked_occurrences >= 2)
        summary.answers_with_page += int(episode.answer_page_title is not None)
        summary.masked_forms += len(episode.masked_forms)

    def close(self, summary: TaskSummary) -> None:
        summary.dropped = dict(sorted(self.dropped.items()))
        summary.answer_labels = dict(sorted(self.answer_labels.items()))
        summary.rejected_answers = dict(sorted(self.rejected_answers.items()))
        summary.rejected_probe_targets = dict(sorted(self.rejected_targets.items()))


@lru_cache(maxsize=4)
def cached_tokenizer(name_or_path: str) -> Any:
    """A tokenizer per process: loading one takes seconds, and every task of a worker reuses it."""
    from memtrain_data.models import load_tokenizer

    return load_tokenizer(name_or_path)


def _episode_context(job: EpisodeJob, tokenizer_path: str) -> EpisodeContext:
    """Heavy objects of a worker; the tokenizer and spaCy are cached per process, the rest is mmapped."""
    import numpy as np

    from memtrain_data.episodes.aliases import AliasTable
    from memtrain_data.episodes.builder import EpisodeContext
    from memtrain_data.episodes.entities import validate_entity_labels
    from memtrain_data.episodes.passages import PassageView
    from memtrain_data.episodes.retrieval import load_retriever
    from memtrain_data.nlp import load_spacy_ner

    paths = work_paths(job)
    settings = job.settings
    return EpisodeContext(
        settings=settings,
        dataset=job.dataset,
        labels=validate_entity_labels(settings.entity_labels),
        passages=PassageView.open(paths.pool_view),
        retriever=load_retriever(settings.retriever, paths.root),
        tokenizer=cached_tokenizer(tokenizer_path),
        nlp=load_spacy_ner(settings.spacy_model),
        aliases=AliasTable.open(paths.aliases),
        split_rows={split: np.load(paths.split_rows(split), mmap_mode="r") for split in SPLITS},
    )


def _write_shard(paths: WorkPaths, split: str, rank: int, tasks: int, episodes: list[dict[str, Any]]) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import episode_arrow_schema

    # Whole or not at all, hidden while written: a killed task never leaves a half-written shard behind.
    final = paths.shards / shard_name(split, rank, tasks)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(final, final.with_name(f".{final.name}.tmp")) as temporary:
        pq.write_table(pa.Table.from_pylist(episodes, schema=episode_arrow_schema()), temporary)
    return final.name


def run_episode_task(job: EpisodeJob, rank: int, tasks: int, tokenizer_path: str) -> TaskSummary:
    """Build task `rank`'s episodes, write its shards and summary; return the summary."""
    import numpy as np

    from memtrain_data.episodes.builder import build_episode
    from memtrain_data.episodes.entities import NER_BATCH_SIZE, extract_entities
    from memtrain_data.episodes.splits import share_of_task, split_targets

    paths = work_paths(job)
    context = _episode_context(job, tokenizer_path)
    targets = split_targets(job.num_episodes, job.settings.validation_fraction, job.settings.test_fraction)
    summary = TaskSummary(rank=rank)
    tally = _Tally()
    for split in SPLITS:
        target = share_of_task(targets[split], rank, tasks)
        summary.requested[split] = target
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
            outcome = build_episode(context, row, pivot, entities, split)
            tally.add(summary, pivot, outcome)
            if outcome.episode is None:
                continue
            episodes.append(outcome.episode.model_dump(mode="json"))
            if len(episodes) >= target:
                break
        entity_stream.close()
        summary.episodes[split] = len(episodes)
        if episodes:
            summary.files.append(_write_shard(paths, split, rank, tasks, episodes))
    tally.close(summary)
    summary.write(paths.summary(rank))
    return summary


def episode_step(job: EpisodeJob, tasks: int, tokenizer_path: str) -> Any:
    """The datatrove step that runs `run_episode_task` for its rank (built lazily: datatrove is heavy)."""
    from datatrove.pipeline.base import PipelineStep

    class EpisodeTaskStep(PipelineStep):
        """Builds one task's episodes; yields no documents (it writes its own shards)."""

        name = "🧩 MemTrain episodes"
        type = "EPISODES"

        def __init__(self, job: EpisodeJob, tasks: int, tokenizer_path: str) -> None:
            super().__init__()
            self.job = job
            self.tasks = tasks
            self.tokenizer_path = tokenizer_path

        def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
            summary = run_episode_task(self.job, rank, self.tasks, self.tokenizer_path)
            for split, count in summary.episodes.items():
                self.stat_update(f"episodes_{split}", value=count)
            for reason, count in summary.dropped.items():
                self.stat_update(f"dropped_{reason}", value=count)
            yield from ()

    return EpisodeTaskStep(job, tasks, tokenizer_path)
