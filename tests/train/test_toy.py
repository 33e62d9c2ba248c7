"""The toy episodes of `memtrain train --sanity-check`: facts stated once, early; the [MASK] last."""

from __future__ import annotations

import pytest

from memtrain_data.episodes.masking import count_occurrences
from memtrain_data.records import MASK_TOKEN, TARGET_TOKEN
from memtrain_data.train.toy import toy_episodes


@pytest.mark.parametrize("num_chunks", [3, 5])
def test_target_and_answer_are_each_stated_once_in_an_early_chunk_only(num_chunks: int) -> None:
    episodes = toy_episodes(32, seed=3, num_chunks=num_chunks)
    assert len({e["id"] for e in episodes}) == 32
    for episode in episodes:
        chunks = episode["chunks"]
        [answer] = episode["answers"]
        [probe] = episode["recall_probes"]
        assert len(chunks) == num_chunks
        # The question names neither the answer nor the town.
        assert count_occurrences(episode["question"], [answer, probe["target"]]) == 0
        # Reconstruction needs the memory to carry the answer from chunk 1 to the end ...
        assert [count_occurrences(c, [answer]) for c in chunks] == [0, 1] + [0] * (num_chunks - 2)
        assert MASK_TOKEN in chunks[-1] and all(MASK_TOKEN not in c for c in chunks[:-1])
        # ... and recall needs it to carry the town, masked in chunk 0 and named nowhere else.
        assert probe["chunk_index"] == 0 and probe["target"] != answer
        assert probe["masked_chunk"] == chunks[0].replace(probe["target"], TARGET_TOKEN)
        assert [count_occurrences(c, [probe["target"]]) for c in chunks] == [1] + [0] * (num_chunks - 1)


def test_the_recall_sentence_holds_no_other_name_to_copy() -> None:
    for episode in toy_episodes(16, seed=0):
        [probe] = episode["recall_probes"]
        assert count_occurrences(probe["masked_chunk"], episode["answers"]) == 0


def test_same_seed_same_episodes_and_bad_sizes_refused() -> None:
    assert toy_episodes(5, seed=1) == toy_episodes(5, seed=1) != toy_episodes(5, seed=2)
    with pytest.raises(ValueError, match="at least 3 chunks"):
        toy_episodes(1, num_chunks=2)
