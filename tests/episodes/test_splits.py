from collections import Counter

from memtrain_data.episodes.splits import (
    page_id_of,
    share_of_task,
    split_of_page,
    split_of_passage_id,
    split_targets,
    unit_hash,
)


def test_split_depends_only_on_the_page() -> None:
    assert split_of_passage_id("12345-0", 0.1, 0.1) == split_of_passage_id("12345-17", 0.1, 0.1)
    assert split_of_page(12345, 0.1, 0.1) == split_of_passage_id("12345-3", 0.1, 0.1)
    assert page_id_of("987-12") == 987


def test_split_shares_follow_the_fractions() -> None:
    counts = Counter(split_of_page(page, 0.1, 0.2) for page in range(20_000))
    assert abs(counts["validation"] / 20_000 - 0.1) < 0.01
    assert abs(counts["test"] / 20_000 - 0.2) < 0.01
    assert counts["train"] + counts["validation"] + counts["test"] == 20_000


def test_unit_hash_is_stable_and_in_range() -> None:
    # Golden value: a page's split must be the same in every process and on every machine.
    assert unit_hash("memtrain-split", 1) == 0.6223581681521125
    assert unit_hash("a", 1) != unit_hash("a", 2)
    assert all(0 <= unit_hash(i) < 1 for i in range(1000))


def test_targets_keep_every_split_once_there_are_three_episodes() -> None:
    assert split_targets(3, 0.1, 0.1) == {"train": 1, "validation": 1, "test": 1}
    assert split_targets(100, 0.1, 0.05) == {"train": 85, "validation": 10, "test": 5}
    assert split_targets(2, 0.1, 0.1) == {"train": 2, "validation": 0, "test": 0}
    assert split_targets(10, 0.0, 0.1) == {"train": 9, "validation": 0, "test": 1}


def test_task_shares_add_up() -> None:
    for total in (0, 1, 7, 30):
        for tasks in (1, 3, 8):
            shares = [share_of_task(total, rank, tasks) for rank in range(tasks)]
            assert sum(shares) == total
            assert max(shares) - min(shares) <= 1
