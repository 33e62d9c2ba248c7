"""`OUT/stats.json`: the counters every stage reports, merged section by section.

A small module at the bottom of the import graph, so that every stage (pool, episodes, the
card) may record its statistics without importing the build that sequences them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memtrain_data.atomic import atomic_write_text

STATS_FILE = "stats.json"


def read_stats(output: Path) -> dict[str, Any]:
    """The current `OUT/stats.json`, or an empty mapping when there is none yet."""
    path = Path(output) / STATS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_stats(output: Path, section: str, values: dict[str, Any]) -> dict[str, Any]:
    """Merge `values` into `OUT/stats.json` under `section`, keeping other sections (e.g. other configs)."""
    path = Path(output) / STATS_FILE
    stats = read_stats(output)
    if section == "configs":
        stats.setdefault("configs", {}).update(values)
    else:
        stats[section] = values
    # Whole or not at all: a kill mid-write never leaves a stats.json that cannot be read.
    atomic_write_text(path, json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats
