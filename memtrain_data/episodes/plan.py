"""The episode plan: which pool rows may be pivots, in which order, and which rows each split may use.

For each split, the candidate pivots are the pool rows whose page hashes to that split and
whose text can hold an entity, ordered by a stable hash of (seed, passage id): written as
`plan-<split>.npy`, with the split's pool rows as `rows-<split>.npy` (documents draw only
from their own split's pages). A split that must hold episodes but cannot fill one document
from its own pages is a one-line error naming it.
"""

from __future__ import annotations

import re

from memtrain_data.build_config import EpisodeSettings
from memtrain_data.episodes.job import WorkPaths, passages_per_episode
from memtrain_data.errors import InputError
from memtrain_data.records import SPLITS

# A candidate pivot must show a digit or a capitalized word after its first word: a cheap test
# that skips NER on passages that cannot hold a usable entity anyway.
_ENTITY_HINT = re.compile(r"\d|\s[A-Z]")


def write_plan(settings: EpisodeSettings, seed: int, paths: WorkPaths) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
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
                split = split_of[page] = split_of_page(page, settings.validation_fraction, settings.test_fraction)
            rows_of_split[split].append(row)
            pages_of_split[split].add(page)
            if _ENTITY_HINT.search(text):
                by_split[split].append((unit_hash("memtrain-pivot", seed, passage_id), row))
            row += 1
    counts: dict[str, int] = {}
    for split, keyed in by_split.items():
        keyed.sort()
        np.save(paths.plan(split), np.array([row for _, row in keyed], dtype=np.int64))
        np.save(paths.split_rows(split), np.array(rows_of_split[split], dtype=np.int64))
        counts[split] = len(keyed)
    sizes = {split: {"passages": len(rows_of_split[split]), "pages": len(pages_of_split[split])} for split in SPLITS}
    return counts, sizes


def check_split_capacity(settings: EpisodeSettings, num_episodes: int, preset: str, sizes: dict[str, dict[str, int]]) -> None:
    """A one-line InputError when a split that must hold episodes cannot fill one document from its own pages."""
    from memtrain_data.episodes.splits import split_targets

    needed = passages_per_episode(settings.documents)
    targets = split_targets(num_episodes, settings.validation_fraction, settings.test_fraction)
    for split in SPLITS:
        have = sizes[split]
        if targets[split] > 0 and have["passages"] < needed:
            fraction = {"validation": "validation_fraction", "test": "test_fraction"}.get(split)
            advice = (
                f"raise {fraction} (now {getattr(settings, fraction)}; e.g. validation_fraction: 0.25 and test_fraction: 0.25 "
                "in a --config YAML) or use a larger dump"
                if fraction
                else "lower validation_fraction/test_fraction or use a larger dump"
            )
            if preset != "mini":
                advice += ", or choose --preset mini"
            raise InputError(
                f"the {split} split has {have['passages']:,} passages from {have['pages']:,} pages, but one "
                f"'{preset}' episode needs {needed} passages from its own split's pages; {advice}"
            )
