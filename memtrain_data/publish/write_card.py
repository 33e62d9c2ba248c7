"""Write a config's card: its statistics and figures computed from the shards, merged into
`stats.json`, then README.md rendered from them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data.atomic import atomic_write_text
from memtrain_data.errors import InputError
from memtrain_data.publish.card import REPO_ID_PLACEHOLDER, render_card
from memtrain_data.publish.figures import write_figures
from memtrain_data.publish.layout import README_NAME, find_configs
from memtrain_data.publish.provenance import describe_build
from memtrain_data.publish.statistics import compute_split_statistics

if TYPE_CHECKING:
    from memtrain_data.build_config import BuildConfig


def write_dataset_card(config: BuildConfig, stats: dict[str, Any], command: str | None) -> Path:
    """Compute the statistics of `config`'s shards, merge them into stats.json, draw figures, write README.md.

    `stats` is the current content of stats.json (pool and config sections); other configs in
    the folder keep their sections, their header entries and their part of the card.
    """
    import pyarrow.parquet as pq

    from memtrain_data.stats import write_stats  # contract 4

    folder = config.output
    name = str(config.config_name)
    shards = find_configs(folder).get(name)
    if not shards:
        raise InputError(f"no episode shards under {folder / name} (expected {name}/<split>-*.parquet)")
    split_stats = compute_split_statistics(
        shards,
        planned_passages=1 + config.related_passages + config.random_passages,
    )
    entry = dict(stats.get("configs", {}).get(name, {}))
    entry["splits"] = split_stats
    entry["build"] = describe_build(config, entry, command)
    first_shard = next(path for paths in shards.values() for path in paths)
    entry["build"]["records_have_masked_forms"] = "masked_forms" in pq.read_schema(first_shard).names
    entry["figures"] = write_figures(folder, name, shards, split_stats)
    write_stats(folder, "configs", {name: entry})
    # The judge's verdicts added up exactly as `memtrain validate --report` does (it reads the same stats).
    from memtrain_data.publish.validate import config_quality

    entry["quality"] = config_quality(folder, name)
    merged = write_stats(folder, "configs", {name: entry})
    repo_id = config.push_to_hub or REPO_ID_PLACEHOLDER
    text = render_card(folder, merged, repo_id)
    readme = folder / README_NAME
    atomic_write_text(readme, text)
    return readme
