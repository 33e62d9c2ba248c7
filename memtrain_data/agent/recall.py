"""Which intermediate memory a recall probe is asked against: one rule for training and eval."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any


def pick_recall_probe(
    num_chunks: int, probes: Sequence[Mapping[str, Any]], rng: random.Random
) -> tuple[int, Mapping[str, Any]] | None:
    """A random memory step k ≥ 2 (1-based) and a probe on a chunk read before it, or None.

    A probe with 0-based `chunk_index` c masks chunk l = c + 1 (1-based); it pairs with memory
    m(k) when l < k ≤ T. k is drawn uniformly among the steps that have at least one such probe,
    then the probe uniformly among those.

    >>> probes = [{"chunk_index": 0, "target": "1889"}, {"chunk_index": 2, "target": "Paris"}]
    >>> step, probe = pick_recall_probe(4, probes, random.Random(0))
    >>> step >= 2 and probe["chunk_index"] + 1 < step
    True
    >>> pick_recall_probe(1, probes, random.Random(0)) is None
    True
    """
    steps = [k for k in range(2, num_chunks + 1) if any(int(p["chunk_index"]) + 1 < k for p in probes)]
    if not steps:
        return None
    step = rng.choice(steps)
    eligible = [p for p in probes if int(p["chunk_index"]) + 1 < step]
    return step, rng.choice(eligible)
