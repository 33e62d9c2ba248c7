"""The record models enforce what one record can check about itself."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from memtrain_data.records import RECONSTRUCTION_QUESTION, MaskedReconstructionEpisode, Passage, RecallProbe


def episode(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "mini-0001",
        "split": "train",
        "preset": "mini",
        "question": RECONSTRUCTION_QUESTION,
        "answers": ["Lake Orvath", "Orvath"],
        "answer_label": "LOC",
        "chunks": ["[MASK] lies north of Brenna.", "Brenna was founded in 1721.", "The end."],
        "chunk_n_tokens": [7, 6, 3],
        "n_tokens": 16,
        "masked_occurrences": 1,
        "recall_probes": [
            {"chunk_index": 1, "masked_chunk": "Brenna was founded in [TARGET].", "target": "1721", "label": "DATE", "masked_occurrences": 1}
        ],
        "pivot_passage_id": "12-0",
        "pivot_title": "Lake Orvath",
        "passage_ids": ["12-0", "40-2", "7-1"],
        "related_passage_ids": ["40-2"],
        "source": "sample-wiki.xml",
        "tokenizer": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "seed": 0,
        "builder_version": "memtrain-episodes/1",
    }
    record.update(changes)
    return record


def test_a_consistent_episode_validates_with_defaults() -> None:
    parsed = MaskedReconstructionEpisode.model_validate(episode())
    assert parsed.schema_version == "1.0"
    assert parsed.mask_token == "[MASK]"
    assert isinstance(parsed.recall_probes[0], RecallProbe)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chunk_n_tokens": [7, 6]}, "chunk_n_tokens has 2 entries for 3 chunks"),
        ({"n_tokens": 99}, "n_tokens=99 but the chunks add up to 16"),
        ({"answers": []}, "at least 1 item"),
        ({"split": "dev"}, "Input should be 'train', 'validation' or 'test'"),
        ({"pivot_passage_id": "99-0"}, "pivot_passage_id is not among passage_ids"),
        ({"schema_version": "0.9"}, "Input should be '1.0'"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_inconsistent_episodes_are_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MaskedReconstructionEpisode.model_validate(episode(**changes))


def test_probe_on_the_last_chunk_is_rejected() -> None:
    probe = {"chunk_index": 2, "masked_chunk": "The [TARGET].", "target": "end", "label": "X", "masked_occurrences": 1}
    with pytest.raises(ValidationError, match="probes must be on chunks before the last"):
        MaskedReconstructionEpisode.model_validate(episode(recall_probes=[probe]))


def test_passage_needs_text() -> None:
    with pytest.raises(ValidationError):
        Passage(id="1-0", page_id=1, title="T", text="", n_words=1, source="x")
