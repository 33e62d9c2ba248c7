"""The recall pairing rule shared by training and eval: memory m(k), probe on a chunk read before it."""

from __future__ import annotations

import random

from memtrain_data.agent.recall import pick_recall_probe


def test_recall_probe_is_on_a_chunk_read_before_the_memory_step() -> None:
    probes = [{"chunk_index": 0}, {"chunk_index": 1}, {"chunk_index": 2}]
    steps = set()
    for seed in range(200):
        step, probe = pick_recall_probe(4, probes, random.Random(seed))
        assert 2 <= step <= 4 and probe["chunk_index"] + 1 < step
        steps.add(step)
    assert steps == {2, 3, 4}
    # A probe on the second chunk needs k ≥ 3; one chunk, or no probes, gives no recall prompt.
    assert all(pick_recall_probe(3, [{"chunk_index": 1}], random.Random(s))[0] == 3 for s in range(20))
    assert pick_recall_probe(2, [{"chunk_index": 1}], random.Random(0)) is None
    assert pick_recall_probe(1, probes, random.Random(0)) is None
    assert pick_recall_probe(5, [], random.Random(0)) is None


def test_recall_probe_choice_follows_the_rule() -> None:
    probes = [{"chunk_index": 0, "target": "a"}, {"chunk_index": 2, "target": "b"}]
    seen = set()
    for seed in range(200):
        step, probe = pick_recall_probe(5, probes, random.Random(seed))
        # The memory m(k) was rewritten after reading the probed chunk (1-based step l+1 < k).
        assert 2 <= step <= 5 and probe["chunk_index"] + 1 < step
        seen.add((step, probe["target"]))
    assert seen == {(2, "a"), (3, "a"), (4, "a"), (4, "b"), (5, "a"), (5, "b")}
    assert pick_recall_probe(5, [], random.Random(0)) is None
    assert pick_recall_probe(1, probes, random.Random(0)) is None
    assert pick_recall_probe(1, probes, random.Random(0)) is None
