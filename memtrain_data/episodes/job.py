"""What the episode stage is given, and where it keeps its files.

`EpisodeJob` is the part of a build the stage reads: the dataset it makes (`DatasetIdentity`:
config name, preset, seed), how many episodes, its own `EpisodeSettings`, the pool cap, how it
runs, and the build's record settings for its fingerprint. Workers receive it pickled, so it
holds no more than that. `WorkPaths` names the stage's files under `OUT/.memtrain` and its
shard folder; the task count depends on the request alone (never on `--workers`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data.build_config import EpisodeSettings, ExecutionSettings

if TYPE_CHECKING:
    from memtrain_data.build_config import BuildConfig, DocumentBudget

# Episodes each task is responsible for: at least MIN, at most MAX (a task holds its episodes in
# memory until it writes its shard), and about TARGET_TASKS tasks in between. Depends on the
# request alone, so the task count never depends on --workers.
MIN_EPISODES_PER_TASK = 5
MAX_EPISODES_PER_TASK = 500
TARGET_TASKS = 256


@dataclass(frozen=True)
class DatasetIdentity:
    """What every record of one dataset config carries: its name, its preset and its seed."""

    config_name: str
    preset: str
    seed: int

    @classmethod
    def of(cls, config: BuildConfig) -> DatasetIdentity:
        return cls(config_name=str(config.config_name), preset=config.preset, seed=config.seed)


@dataclass(frozen=True)
class EpisodeJob:
    """One run of the episode stage: which dataset, how many episodes, with which settings."""

    output: Path
    dataset: DatasetIdentity
    num_episodes: int
    settings: EpisodeSettings
    execution: ExecutionSettings
    # Cap on the pool passages the stage reads (`pool_size`); None: the whole pool.
    pool_size: int | None
    # What the stage's records say they came from (the `source` statistic).
    source: str
    # The build's settings that fix the records (`BuildConfig.record_settings`), for the fingerprint
    # that lets a rerun with the same settings resume and one with other settings rebuild.
    record_settings: dict[str, Any]

    @classmethod
    def of(cls, config: BuildConfig) -> EpisodeJob:
        return cls(
            output=config.output,
            dataset=DatasetIdentity.of(config),
            num_episodes=config.num_episodes,
            settings=config.episodes,
            execution=config.execution,
            pool_size=config.pool.pool_size,
            source=", ".join(config.dump) if config.dump else "bundled sample wiki",
            record_settings=config.record_settings(),
        )


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


def work_paths(job: EpisodeJob) -> WorkPaths:
    config_name = job.dataset.config_name
    return WorkPaths(job.output / ".memtrain", config_name, job.output / config_name)


def shard_name(split: str, rank: int, tasks: int) -> str:
    return f"{split}-{rank:05d}-of-{tasks:05d}.parquet"


def passages_per_episode(documents: DocumentBudget) -> int:
    """Passages one document is planned with: the pivot, the related and the random ones."""
    return 1 + documents.related_passages + documents.random_passages


def num_tasks(num_episodes: int) -> int:
    per_task = min(MAX_EPISODES_PER_TASK, max(MIN_EPISODES_PER_TASK, math.ceil(num_episodes / TARGET_TASKS)))
    return max(1, math.ceil(num_episodes / per_task))
