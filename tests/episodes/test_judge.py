"""The one judge of episode records: each rule, as the builder, `validate` and `train` apply it."""

from __future__ import annotations

from typing import Any

import pytest

from memtrain_data.episodes.judge import (
    JudgeSettings,
    Verdict,
    align_masks,
    judge_episode,
    partial_reason,
    split_violations,
    violation_code,
)
from memtrain_data.episodes.splits import split_of_page
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
    if "chunks" in changes and "chunk_n_tokens" not in changes:
        # Changed chunks get counts that keep the word bound (every word is at least one token).
        changes["chunk_n_tokens"] = [2 * len(chunk.split()) for chunk in changes["chunks"]]
        changes.setdefault("n_tokens", sum(changes["chunk_n_tokens"]))
    fields.update(changes)
    return MaskedReconstructionEpisode(**fields)


def _codes(episode: MaskedReconstructionEpisode, count_tokens: Any = None, **settings: Any) -> list[str]:
    return [violation_code(v) for v in judge_episode(episode, JudgeSettings(**settings), count_tokens=count_tokens).violations]


def test_a_clean_episode_has_no_violations() -> None:
    assert judge_episode(_episode(), JudgeSettings(chunk_tokens=16, max_chunks=3, min_doc_tokens=35, max_doc_tokens=35)).violations == []


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
    assert _codes(_episode(chunks=[*CHUNKS[:2], chunk])) == ["partial_mask"]


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


# ---------------------------------------------------------------------------------------------
# The alignment rules: what each [MASK] replaced, recovered from the original passages

TRAIN_PAGES = [page for page in range(1, 1000) if split_of_page(page, 0.1, 0.1) == "train"][:3]


def _judged(passages: list[str], masked: list[str], answers: list[str], **changes: Any) -> Verdict:
    """The verdict on an episode whose document is `masked`, made of `passages` of train pages."""
    passage_ids = [f"{page}-0" for page in TRAIN_PAGES[: len(passages)]]
    fields: dict[str, Any] = {
        "chunks": masked,
        "answers": answers,
        "masked_forms": [],
        "masked_occurrences": sum(chunk.count("[MASK]") for chunk in masked),
        "passage_ids": passage_ids,
        "pivot_passage_id": passage_ids[0],
        "related_passage_ids": passage_ids[1:2],
        "recall_probes": [],
    }
    fields.update(changes)
    return judge_episode(_episode(**fields), originals=passages)


def test_alignment_recovers_what_each_mask_replaced_across_chunk_and_passage_joins() -> None:
    passages = ["Ayn Rand wrote novels.\nRand lived in New York.", "Critics read Rand widely."]
    chunks = ["[MASK] wrote novels. [MASK] lived", "in New York.\n\nCritics read [MASK] widely."]

    original, spans, starts = align_masks(chunks, passages)  # type: ignore[misc]

    assert [original[a:b] for a, b in spans] == ["Ayn Rand", "Rand", "Rand"]
    assert starts == [0, len("Ayn Rand wrote novels. Rand lived in New York.") + 1]
    assert "\n" in original  # line breaks survive, so list items stay apart for the span rules
    assert align_masks(["Something else entirely [MASK]."], passages) == "the text before the first [MASK] differs from the original passages"


@pytest.mark.parametrize(
    ("original", "span", "reason"),
    [
        ("The novelist Ayn Rand wrote it.", "Rand", "the name goes on before it ('Ayn')"),
        ("It crossed the Atlantic Ocean twice.", "Atlantic", "the name goes on after it ('Ocean')"),
        ("The Mid-Atlantic states voted.", "Atlantic", "joined by a hyphen to 'Mid'"),
        ("Then St. Louis grew.", "Louis", "after 'St.', which belongs to the name"),
        ("It had 29,455 people.", "455", "part of a longer number"),
        ("Many Canadians came.", "Canadian", "inside the longer word 'Canadians'"),
        ("Ayn Rand wrote it.", "Rand", "the name goes on before it ('Ayn')"),
        ("The endemic Aruba Rattlesnake, as well as lizards.", "Aruba", "the name goes on after it ('Rattlesnake')"),
        ("Stylistically, Swift and Eliot wrote.", "Stylistically, Swift and", "a mis-cut span: it starts or ends with the function word 'and'"),
        ("It took about six or seven years.", "about six or", "a mis-cut span: it starts or ends with the function word 'or'"),
        ("Both von Franz and Jung wrote.", "Both von Franz", "a mis-cut span: it starts or ends with the function word 'Both'"),
        # Whole names: none of these is a fragment.
        ("They visited Ayn Rand in 1950.", "Ayn Rand", None),
        ("Later Paris grew.", "Paris", None),
        ("input length R ← L While ANOVA is used", "ANOVA", None),  # an opener after a passage without a full stop
        ("Fairs are held each summer. Summer Paris is busy.", "Paris", None),  # sentence-initial and used in lower case elsewhere
        ("In 1937 the city of Lyon grew.", "Lyon", None),
        ("It had 29,455 people.", "29,455", None),
        ("The Austro-Hungarian army moved.", "army", None),
        ("He met Smith and Jones.", "Smith", None),
        # A title or honorific before a surname is not part of the name (the answers hold the full name).
        ("Then Mr. Smith left.", "Smith", None),
        ("It was signed by President Lincoln.", "Lincoln", None),
        ("Though Lincoln won, the war went on.", "Lincoln", None),
        ("It was Lincoln President of the Union who spoke.", "Lincoln", None),
        ("They fought against the Moors in 1492.", "the Moors", None),
        ("The Fed under Chairman Alan Greenspan raised rates.", "Alan Greenspan", None),
        ("The basilica of Saint Peter stands there.", "Peter", None),
        # A name may start with a lowercase particle or "the": still a name, still cut.
        ("He loved the Beatles Anthology.", "the Beatles", "the name goes on after it ('Anthology')"),
        ("Vincent van Gogh painted.", "van Gogh", "the name goes on before it ('Vincent')"),
        # Items of a list are apart: a line break is not a name going on.
        ("His sons were:\nCarnus\nClarus\nHippolytus of Sicyon", "Hippolytus of Sicyon", None),
        ("His sons were Carnus Clarus Hippolytus of Sicyon.", "Hippolytus of Sicyon", "the name goes on before it ('Clarus')"),
    ],
)
def test_partial_mask_rules(original: str, span: str, reason: str | None) -> None:
    start = original.index(span)
    assert partial_reason(original, start, start + len(span)) == reason


def test_a_chunk_cut_inside_a_long_word_and_a_blank_passage_still_align() -> None:
    aligned = align_masks(["see http://exa", "mple.com [MASK]."], ["  ", "see http://example.com Paris."])
    assert not isinstance(aligned, str)
    original, spans, starts = aligned
    assert [original[a:b] for a, b in spans] == ["Paris"] and starts == [0, 0]


def test_a_fragment_of_a_name_fails_with_its_neighbour_named() -> None:
    verdict = _judged(["Ayn Rand wrote novels.", "Rand lived in New York."], ["Ayn [MASK] wrote novels.", "[MASK] lived in New York."], ["Rand"])

    assert [span.text for span in verdict.partial_masks] == ["Rand"]
    assert verdict.violations == ["partial_mask: [MASK] replaced 'Rand', the name goes on before it ('Ayn')"]
    assert verdict.masks_outside_pivot(0) == 1


def test_an_ordinary_word_masked_for_a_capitalised_answer_is_a_case_mismatch() -> None:
    verdict = _judged(["Articles is a book.", "The articles were printed."], ["[MASK] is a book.", "The [MASK] were printed."], ["Articles"], answer_label="WORK_OF_ART")

    assert [span.text for span in verdict.case_mismatches] == ["articles"]
    assert verdict.codes == ["case_mismatch"]


def test_sentence_initial_capitals_are_not_a_case_mismatch() -> None:
    verdict = _judged(["Gold is soft.", "Some say gold is rare."], ["[MASK] is soft.", "Some say [MASK] is rare."], ["gold"], answer_label="PRODUCT")
    assert verdict.case_mismatches == [] and verdict.ok


def test_a_masked_demonym_readable_anywhere_is_a_visible_alias_even_inside_a_longer_name() -> None:
    passages = ["Canada joined in 1949.", "Canadian troops served the Canadian Pacific Railway."]
    masked = ["[MASK] joined in 1949.", "[MASK] troops served the Canadian Pacific Railway."]

    verdict = _judged(passages, masked, ["Canada"], masked_forms=["Canada", "Canadian"], answer_label="GPE")

    assert verdict.visible == ["Canadian"]
    assert verdict.violations == ["visible_alias: 'Canadian' masked elsewhere but still visible in the chunks"]


def test_a_number_is_not_readable_inside_a_longer_number() -> None:
    passages = ["It opened in 1937.", "Its code 2,1937 and 1937.5 stayed."]
    masked = ["It opened in [MASK].", "Its code 2,1937 and 1937.5 stayed."]
    assert _judged(passages, masked, ["1937"], masked_forms=["1937"], answer_label="DATE").ok


def test_the_answer_left_visible_inside_a_longer_name_is_an_answer_leak() -> None:
    """Masking it there would be a partial mask; leaving it shows the answer. Either way the episode leaks."""
    passages = ["Arrhenius studied acids.", "The chemist Svante Arrhenius won a prize. Arrhenius died in 1927."]
    masked = ["[MASK] studied acids.", "The chemist Svante Arrhenius won a prize. [MASK] died in 1927."]

    verdict = _judged(passages, masked, ["Arrhenius"])

    assert verdict.partial_masks == [] and verdict.visible == ["Arrhenius"]
    assert verdict.codes == ["answer_leak"]  # named once, not again as a visible alias


def test_a_document_that_does_not_align_is_reported_and_fails_only_when_alignment_is_required() -> None:
    episode = _episode()
    assert judge_episode(episode, originals=["Something else."]).unaligned_reason is not None
    assert judge_episode(episode, originals=["Something else."]).ok
    assert judge_episode(episode, originals=["Something else."], require_alignment=True).codes == ["unaligned"]


def test_a_probe_target_readable_inside_a_longer_name_is_a_target_leak() -> None:
    chunk = "Daoud Khan led the army. He was replaced in 1953 by Mohammed Daoud Khan."
    probe = RecallProbe(chunk_index=0, masked_chunk="[TARGET] led the army. He was replaced in 1953 by Mohammed Daoud Khan.", target="Daoud Khan", label="PERSON", masked_occurrences=1)
    episode = _episode(chunks=[chunk, *CHUNKS[1:]], recall_probes=[probe], masked_occurrences=2)
    assert "target_leak" in _codes(episode)


def test_the_judge_reads_its_settings_from_stats_json() -> None:
    stats = {"build": {"chunk_tokens": 512, "max_chunks": 4, "doc_tokens": [512, 2048], "validation_fraction": 0.1, "test_fraction": 0.2}}
    assert JudgeSettings.from_stats(stats) == JudgeSettings(512, 4, 512, 2048, 0.1, 0.2)
    assert JudgeSettings.from_stats({}) == JudgeSettings()


def test_an_abbreviation_in_parentheses_beside_a_mask_is_a_visible_alias() -> None:
    chunks = [*CHUNKS[:2], "In 2008 [MASK] (BO) defeated John McCain."]
    assert _codes(_episode(chunks=chunks)) == ["visible_alias"]


def test_a_probe_whose_abbreviation_stands_beside_it_is_a_target_leak() -> None:
    chunk = "[MASK] joined the American Anthropological Association (AAA) in 1990."
    probe = RecallProbe(chunk_index=0, masked_chunk="[MASK] joined the [TARGET] (AAA) in 1990.", target="American Anthropological Association", label="ORG", masked_occurrences=1)
    episode = _episode(chunks=[chunk, *CHUNKS[1:]], recall_probes=[probe])
    assert _codes(episode) == ["target_leak"]
