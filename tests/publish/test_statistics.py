"""Statistics of the written shards: what stats.json records per split and the card shows."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from tests.publish.conftest import read_episodes


def test_statistics_are_computed_from_the_written_shards(built_dataset: Path) -> None:
    card = (built_dataset / "README.md").read_text()
    stats = json.loads((built_dataset / "stats.json").read_text())["configs"]["mini"]
    for split in ("train", "validation", "test"):
        rows = read_episodes(built_dataset, "mini", split)
        tokens = [row["n_tokens"] for row in rows]
        recorded = stats["splits"][split]
        assert recorded["episodes"] == len(rows)
        assert recorded["tokens_per_episode"] == {"min": min(tokens), "mean": round(statistics.mean(tokens), 2), "max": max(tokens), "total": sum(tokens)}
        assert recorded["probes_per_episode"]["total"] == sum(len(row["recall_probes"]) for row in rows)
        assert recorded["masked_occurrences"]["total"] == sum(row["masked_occurrences"] for row in rows)
        labels: dict[str, int] = {}
        for row in rows:
            labels[row["answer_label"]] = labels.get(row["answer_label"], 0) + 1
        assert recorded["answer_labels"] == labels
    train = [row["n_tokens"] for row in read_episodes(built_dataset, "mini", "train")]
    assert f"| tokens per episode (min / mean / max) | {min(train)} / {statistics.mean(train):,.1f} / {max(train)} |" in card
    assert "| episodes | 6 | 2 | 2 |" in card
    # Dropped-and-why counts and the builder's own keys survive the merge into stats.json.
    assert stats["dropped"] == {"doc_too_short": 3, "no_usable_entity": 1, "answer_leak": 0}
    assert "| doc_too_short | 3 |" in card and "| no_usable_entity | 1 |" in card
    assert json.loads((built_dataset / "stats.json").read_text())["pool"]["passages"] == 12
