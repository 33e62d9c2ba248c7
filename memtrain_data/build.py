"""`build_dataset`: dump → passage pool → episodes → dataset card (→ Hub).

Each stage lives in its own package and can be run alone; this module only sequences them
and gathers their statistics into `OUT/stats.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memtrain_data.build_config import BuildConfig
from memtrain_data.progress import NullProgress, ProgressReporter


@dataclass
class BuildResult:
    output: Path
    stats: dict[str, Any] = field(default_factory=dict)
    pushed_url: str | None = None


def write_stats(output: Path, section: str, values: dict[str, Any]) -> dict[str, Any]:
    """Merge `values` into `OUT/stats.json` under `section`, keeping other sections (e.g. other configs)."""
    path = output / "stats.json"
    stats: dict[str, Any] = {}
    if path.is_file():
        stats = json.loads(path.read_text(encoding="utf-8"))
    if section == "configs":
        stats.setdefault("configs", {}).update(values)
    else:
        stats[section] = values
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return stats


def build_dataset(config: BuildConfig, progress: ProgressReporter | None = None, command: str | None = None) -> BuildResult:
    """Run the whole build into `config.output`; reruns skip finished work."""
    from memtrain_data.episodes.build import build_episodes
    from memtrain_data.pool import build_passage_pool
    from memtrain_data.publish.card import write_dataset_card

    progress = progress or NullProgress()
    if config.executor == "slurm":
        # Slurm runs the build as jobs (pool array, then a finish job): submit and return.
        from memtrain_data.pipeline.executors import launch_slurm_build

        launch = launch_slurm_build(config, progress=progress, command=command)
        return BuildResult(output=config.output, stats={"slurm": launch.as_stats()})
    config.output.mkdir(parents=True, exist_ok=True)
    pool = build_passage_pool(config, progress=progress)
    write_stats(config.output, "pool", pool.stats)
    episodes = build_episodes(config, progress=progress)
    stats = write_stats(config.output, "configs", {config.config_name: episodes.stats})
    write_dataset_card(config, stats=stats, command=command)
    # The card adds per-split statistics to stats.json; report those too.
    stats = json.loads((config.output / "stats.json").read_text(encoding="utf-8"))
    result = BuildResult(output=config.output, stats=stats)
    if config.push_to_hub:
        from memtrain_data.publish.push import push_dataset

        result.pushed_url = push_dataset(
            config.output,
            config.push_to_hub,
            private=config.private,
            revision=config.revision,
            create_pr=config.create_pr,
        )
    return result
