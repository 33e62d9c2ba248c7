from typing import Any

import pytest

from memtrain_data.episodes.rules import episode_violations, split_violations, violation_code
from memtrain_data.records import RECONSTRUCTION_QUESTION, MaskedReconstructionEpisode, RecallProbe

CHUNKS = [
    "[MASK] was born in Honolulu in 1961.",
    "[MASK] taught law in Chicago. The city of Chicago lies on Lake Michigan.",
    "In 2008 [MASK] defeated John McCain.",
]


def _episode(**changes: Any) -> MaskedReconstructionEpisode:
    fields: dict[str, Any] = {
        "id": "mini-101-0-abcd1234",
        "split": "train",
        "preset": "mini",
        "question": RECONSTRUCTION_QUESTION,
        "answers": ["Barack Obama", "Obama"],
        "answer_label": "PERSON",
        "chunks": list(CHUNKS),
        "chunk_n_tokens": [10, 16, 9],
        "n_tokens": 35,
        "masked_occurrences": 3,
        "recall_probes": [
            RecallProbe(chunk_index=0, masked_chunk="[MASK] was born in [TARGET] in 1961.", target="Honolulu", label="GPE", masked_occurrences=1),
            RecallProbe(
                chunk_index=1,
                masked_chunk="[MASK] taught law in [TARGET]. The city of [TARGET] lies on Lake Michigan.",
                target="Chicago",
                label="GPE",
                masked_occurrences=2,
            ),
        ],
        "pivot_passage_id": "101-0",
        "pivot_title": "Barack Obama",
        "passage_ids": ["101-0", "107-2", "103-1"],
        "related_passage_ids": ["107-2"],
        "source": "test",
        "tokenizer": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "seed": 0,
        "builder_version": "memtrain-episodes/1",
    }
    fields.update(changes)
    return MaskedReconstructionEpisode(**fields)


def _codes(episode: MaskedReconstructionEpisode, **kwargs: Any) -> list[str]:
    return [violation_code(v) for v in episode_violations(episode, **kwargs)]


def test_a_clean_episode_has_no_violations() -> None:
    assert episode_violations(_episode(), chunk_tokens=16, max_chunks=3, min_doc_tokens=35, max_doc_tokens=35) == []


def test_an_alias_left_in_a_chunk_is_an_answer_leak() -> None:
    chunks = [*CHUNKS[:2], "In 2008 OBAMA defeated John McCain."]
    assert _codes(_episode(chunks=chunks, masked_occurrences=2)) == ["answer_leak"]


def test_mask_count_must_match() -> None:
    assert _codes(_episode(masked_occurrences=4)) == ["mask_count"]


def test_fixed_question_and_placeholder() -> None:
    assert _codes(_episode(question="Who is it?")) == ["wrong_question"]
    assert _codes(_episode(mask_token="<mask>")) == ["wrong_mask_token"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"max_chunks": 2}, "too_many_chunks"),
        ({"chunk_tokens": 15}, "chunk_too_long"),
        ({"min_doc_tokens": 36}, "doc_too_short"),
        ({"max_doc_tokens": 34}, "doc_too_long"),
    ],
)
def test_budgets_are_checked_when_given(kwargs: dict[str, int], code: str) -> None:
    assert _codes(_episode(), **kwargs) == [code]


def test_token_counts_are_rechecked_with_a_real_tokenizer(tokenizer: Any) -> None:
    from memtrain_data.episodes.chunking import count_tokens

    def recount(text: str) -> int:
        return count_tokens(tokenizer, [text])[0]

    exact = [recount(chunk) for chunk in CHUNKS]
    assert _codes(_episode(chunk_n_tokens=exact, n_tokens=sum(exact)), count_tokens=recount) == []
    off_by_one = [exact[0] + 1, *exact[1:]]
    assert _codes(_episode(chunk_n_tokens=off_by_one, n_tokens=sum(off_by_one)), count_tokens=recount) == ["token_count"]


def test_probe_target_left_visible_is_a_target_leak() -> None:
    probe = RecallProbe(chunk_index=1, masked_chunk="[MASK] taught law in [TARGET]. The city of Chicago lies on Lake Michigan.", target="Chicago", label="GPE", masked_occurrences=1)
    codes = _codes(_episode(recall_probes=[probe]))
    assert codes[0] == "target_leak"
    assert "probe_chunk" in codes


def test_probe_target_may_not_be_the_answer() -> None:
    probe = RecallProbe(chunk_index=0, masked_chunk="[MASK] was born in Honolulu in 1961.", target="Obama", label="PERSON", masked_occurrences=1)
    assert "target_is_answer" in _codes(_episode(recall_probes=[probe]))


def test_probe_must_mask_its_own_chunk() -> None:
    probe = RecallProbe(chunk_index=0, masked_chunk="In 2008 [MASK] defeated [TARGET].", target="John McCain", label="PERSON", masked_occurrences=1)
    assert _codes(_episode(recall_probes=[probe])) == ["probe_chunk"]


def test_a_page_may_be_a_pivot_in_one_split_only() -> None:
    assert split_violations([("train", "101-0"), ("train", "101-3"), ("test", "102-0")]) == []
    [violation] = split_violations([("train", "101-0"), ("validation", "101-2")])
    assert violation_code(violation) == "split_leak"
    assert "101" in violation


@pytest.mark.parametrize(
    "chunk",
    ["In 2008 Ayn [MASK] defeated John McCain.", "In 2008 [MASK] Ocean defeated John McCain.", "In 2008 Mid-[MASK] defeated John McCain."],
)
def test_a_mask_that_continues_a_capitalised_name_is_a_partial_mask(chunk: str) -> None:
    assert _codes(_episode(chunks=[*CHUNKS[:2], chunk])) == ["mask_beside_name"]


def test_titles_function_words_and_sentence_ends_beside_a_mask_are_not_partial() -> None:
    chunk = "In 2008 President [MASK] met The [MASK] of it. Lake Michigan. [MASK] left."
    assert _codes(_episode(chunks=[*CHUNKS[:2], chunk], masked_occurrences=5)) == []


def test_a_year_masked_after_its_month_is_whole() -> None:
    chunks = ["Born in June [MASK].", "Died in [MASK].", "In May [MASK] he left."]
    episode = _episode(chunks=chunks, answers=["1961"], masked_forms=["1961"], answer_label="DATE", recall_probes=[])
    assert _codes(episode) == []


def test_a_masked_form_left_visible_elsewhere_is_a_visible_alias() -> None:
    chunks = [*CHUNKS[:2], "In 2008 [MASK] defeated John McCain; the Canadian view."]
    episode = _episode(chunks=chunks, masked_forms=["Barack Obama", "Canadian"])
    assert _codes(episode) == ["visible_alias"]


def test_a_lowercase_word_masked_for_a_capitalised_answer_is_a_case_mismatch() -> None:
    episode = _episode(answers=["Articles"], masked_forms=["Articles", "articles"], answer_label="WORK_OF_ART")
    assert _codes(episode) == ["case_mismatch"]


def test_a_passage_from_another_splits_page_is_reported_when_fractions_are_given() -> None:
    from memtrain_data.episodes.splits import split_of_page

    train_page = next(i for i in range(1, 1000) if split_of_page(i, 0.1, 0.1) == "train")
    test_page = next(i for i in range(1, 1000) if split_of_page(i, 0.1, 0.1) == "test")
    episode = _episode(pivot_passage_id=f"{train_page}-0", passage_ids=[f"{train_page}-0", f"{test_page}-3", f"{train_page}-1"], related_passage_ids=[])
    assert _codes(episode) == []
    assert _codes(episode, validation_fraction=0.1, test_fraction=0.1) == ["cross_split_passage"]
