"""Train/validation/test assignment by a stable hash of the pivot's page id.

The split depends only on the page id (not on the seed, the preset or the passage), so no
page is ever a pivot in two splits, in one build or across builds with other settings.
"""

from __future__ import annotations

import hashlib

from memtrain_data.records import SPLITS


def unit_hash(*parts: object) -> float:
    """A stable number in [0, 1) from `parts` (sha256; never Python's salted `hash`)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of_page(page_id: int, validation_fraction: float, test_fraction: float) -> str:
    """The split every episode pivoted on `page_id` goes to."""
    u = unit_hash("memtrain-split", page_id)
    if u < test_fraction:
        return "test"
    if u < test_fraction + validation_fraction:
        return "validation"
    return "train"


def split_of_passage_id(passage_id: str, validation_fraction: float, test_fraction: float) -> str:
    """Same as `split_of_page` for a passage id '{page_id}-{n}'."""
    return split_of_page(page_id_of(passage_id), validation_fraction, test_fraction)


def page_id_of(passage_id: str) -> int:
    """The page id inside a passage id '{page_id}-{n}'."""
    return int(passage_id.rsplit("-", 1)[0])


def split_targets(num_episodes: int, validation_fraction: float, test_fraction: float) -> dict[str, int]:
    """Episodes wanted per split: rounded shares, at least one per split once there are 3 episodes."""
    wanted: dict[str, int] = {}
    for split, fraction in (("validation", validation_fraction), ("test", test_fraction)):
        count = round(num_episodes * fraction)
        if count == 0 and fraction > 0 and num_episodes >= 3:
            count = 1
        wanted[split] = count
    wanted["train"] = max(num_episodes - wanted["validation"] - wanted["test"], 0)
    return {split: wanted[split] for split in SPLITS}


def share_of_task(total: int, rank: int, tasks: int) -> int:
    """Task `rank`'s fixed part of `total` (the first `total % tasks` tasks take one more)."""
    return total // tasks + (1 if rank < total % tasks else 0)
