import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from memtrain_data.build_config import ONTONOTES_LABELS
from memtrain_data.episodes.aliases import AliasTable, build_alias_index
from memtrain_data.episodes.chunking import chunk_document
from memtrain_data.episodes.masking import contains_any, mask_occurrences
from memtrain_data.episodes.probes import (
    find_targets,
    is_valid_target,
    make_recall_probes,
    person_name_parts,
    visible_target_forms,
)
from memtrain_data.records import MASK_TOKEN, TARGET_TOKEN, RecallProbe
from tests.episodes.pool_helpers import PAGES, write_aliases

ANSWERS = ["Barack Obama", "Obama"]


def _document(tokenizer: Any) -> Any:
    passages = [text for title in ("Barack Obama", "Lyon", "Apollo 11", "Istanbul") for text in PAGES[title]]
    masked = [mask_occurrences(text, ANSWERS, MASK_TOKEN)[0] for text in passages]
    return chunk_document(tokenizer, masked, 120)


def test_probes_on_every_chunk_but_the_last(tokenizer: Any, nlp: Any) -> None:
    chunking = _document(tokenizer)
    probes, words_read = make_recall_probes(
        nlp, chunking.chunks, chunking.pieces, ANSWERS, list(ONTONOTES_LABELS), 2, random.Random(0)
    )
    last = len(chunking.chunks) - 1
    assert last >= 2
    assert {p.chunk_index for p in probes} == set(range(last))
    assert all(sum(p.chunk_index == i for p in probes) <= 2 for i in range(last))
    assert 0 < words_read < sum(len(c.split()) for c in chunking.chunks)  # NER did not read everything
    for probe in probes:
        chunk = chunking.chunks[probe.chunk_index]
        assert contains_any(chunk, [probe.target])
        assert not contains_any(probe.masked_chunk, [probe.target])
        assert probe.masked_chunk.count(TARGET_TOKEN) == probe.masked_occurrences >= 1
        assert probe.masked_chunk == mask_occurrences(chunk, [probe.target], TARGET_TOKEN)[0]
        assert is_valid_target(probe.target, ANSWERS)
        assert visible_target_forms(probe.masked_chunk, probe.target, probe.label) == []


def test_probes_are_reproducible_from_the_seed(tokenizer: Any, nlp: Any) -> None:
    chunking = _document(tokenizer)
    run = [
        make_recall_probes(nlp, chunking.chunks, chunking.pieces, ANSWERS, list(ONTONOTES_LABELS), 2, random.Random(7))[0]
        for _ in range(2)
    ]
    assert run[0] == run[1]


def test_targets_never_overlap_the_answer_or_its_aliases(nlp: Any) -> None:
    pieces = PAGES["Barack Obama"]
    targets, _ = find_targets(nlp, pieces, ["Obama"], list(ONTONOTES_LABELS), 20, random.Random(1))
    assert targets
    assert all("obama" not in t.text.casefold() for t in targets)
    assert not is_valid_target("Michelle Obama", ["Obama"])
    assert not is_valid_target("obama", ["Barack Obama"])
    assert is_valid_target("Honolulu", ["Barack Obama"])


def test_zero_probes_per_chunk_gives_none(tokenizer: Any, nlp: Any) -> None:
    chunking = _document(tokenizer)
    probes, words = make_recall_probes(nlp, chunking.chunks, chunking.pieces, ANSWERS, ["GPE"], 0, random.Random(0))
    assert probes == [] and words == 0


LABELS = list(ONTONOTES_LABELS)
# The page that showed the bug: "Daoud Khan" masked while "Mohammed Daoud Khan" stayed readable.
DAOUD_REPLACED = (
    "Prime Minister Shah Mahmud Khan was replaced in 1953 by Mohammed Daoud Khan. "
    "Daoud Khan sought closer ties with the Soviet Union."
)
DAOUD_SURNAME = (
    "Mohammed Daoud Khan became prime minister in 1953. "
    "As prime minister, Khan sought closer ties with the Soviet Union and built roads in Kandahar."
)
SOVIET = "The Soviet Union sent engineers to Kabul in 1955. The USSR also trained the army of Afghanistan."


def _targets(nlp: Any, text: str, aliases: AliasTable | None = None, rejected: Counter[str] | None = None) -> list[str]:
    targets, _ = find_targets(nlp, [text], [], LABELS, 20, random.Random(0), aliases=aliases, rejected=rejected)
    for target in targets:
        masked, count = mask_occurrences(text, [target.text], TARGET_TOKEN)
        assert count >= 1 and visible_target_forms(masked, target.text, target.label, aliases) == []
    return [target.text for target in targets]


@pytest.fixture
def soviet_aliases(tmp_path: Path) -> AliasTable:
    write_aliases(tmp_path, [("Soviet Union", "Soviet Union", "anchor", 5), ("Soviet Union", "USSR", "redirect", 2)])
    build_alias_index(tmp_path, tmp_path / "index")
    return AliasTable.open(tmp_path / "index")


def test_a_target_inside_a_longer_name_is_never_chosen(nlp: Any) -> None:
    rejected: Counter[str] = Counter()
    targets = _targets(nlp, DAOUD_REPLACED, rejected=rejected)
    # "Daoud Khan" widens to "Mohammed Daoud Khan", whose masked chunk still reads "Daoud Khan sought".
    assert not any("Daoud" in target for target in targets)
    assert {"Shah Mahmud Khan", "Soviet Union"} <= set(targets)  # "the" dropped
    assert rejected["target_still_named"] >= 1
    masked, _ = mask_occurrences(DAOUD_REPLACED, ["Daoud Khan"], TARGET_TOKEN)
    assert "Mohammed Daoud Khan" in masked  # the whole-name-aware masking leaves the longer name
    assert visible_target_forms(masked, "Daoud Khan", "PERSON") == ["Daoud Khan"]


def test_a_span_is_widened_to_the_whole_name_and_loses_its_possessive(nlp: Any) -> None:
    text = "The reforms of Mohammed Daoud Khan's government were funded from Moscow. Daoud Khan was overthrown in 1978."
    targets, _ = find_targets(nlp, [text], [], ["PERSON"], 5, random.Random(0))
    assert [target.text for target in targets] == []  # "Daoud Khan" stays readable without "Mohammed"
    text = "The reforms of Mohammed Daoud Khan's government were funded from Moscow. Mohammed Daoud Khan fell in 1978."
    targets, _ = find_targets(nlp, [text], [], ["PERSON"], 5, random.Random(0))
    assert [target.text for target in targets] == ["Mohammed Daoud Khan"]
    assert mask_occurrences(text, ["Mohammed Daoud Khan"], TARGET_TOKEN)[0].startswith("The reforms of [TARGET]'s")


def test_a_visible_surname_keeps_a_person_from_being_a_target(nlp: Any) -> None:
    targets = _targets(nlp, DAOUD_SURNAME)
    assert "Mohammed Daoud Khan" not in targets and "Khan" not in targets
    assert {"Kandahar", "Soviet Union"} <= set(targets)
    masked, _ = mask_occurrences(DAOUD_SURNAME, ["Mohammed Daoud Khan"], TARGET_TOKEN)
    assert visible_target_forms(masked, "Mohammed Daoud Khan", "PERSON") == ["Khan"]
    # A surname inside another name names someone else.
    assert visible_target_forms("[TARGET] met Genghis Khan.", "Mohammed Daoud Khan", "PERSON") == []
    assert visible_target_forms("[TARGET] and Daoud Khan", "Mohammed Daoud Khan", "PERSON") == ["Daoud Khan"]
    assert visible_target_forms("[TARGET] and Khan", "Mohammed Daoud Khan", "GPE") == []  # not a person


def test_a_name_of_the_targets_page_keeps_it_from_being_a_target(nlp: Any, soviet_aliases: AliasTable) -> None:
    assert {"Soviet Union", "USSR", "Kabul", "Afghanistan"} <= set(_targets(nlp, SOVIET))
    with_aliases = _targets(nlp, SOVIET, soviet_aliases)
    assert "Soviet Union" not in with_aliases and "USSR" not in with_aliases
    assert {"Kabul", "Afghanistan", "1955"} <= set(with_aliases)  # clean targets are still chosen
    masked, _ = mask_occurrences(SOVIET, ["Soviet Union"], TARGET_TOKEN)
    assert visible_target_forms(masked, "Soviet Union", "GPE", soviet_aliases) == ["USSR"]
    assert visible_target_forms(masked, "Soviet Union", "GPE") == []


def test_visible_target_forms_judges_written_records(soviet_aliases: AliasTable) -> None:
    chunk = "Prime Minister Shah Mahmud Khan was replaced by Mohammed Daoud Khan. Kabul grew."
    leaky = RecallProbe(chunk_index=0, masked_chunk=mask_occurrences(chunk, ["Daoud Khan"], TARGET_TOKEN)[0],
                        target="Daoud Khan", label="PERSON", masked_occurrences=1)  # fmt: skip
    clean = RecallProbe(chunk_index=0, masked_chunk=mask_occurrences(chunk, ["Kabul"], TARGET_TOKEN)[0],
                        target="Kabul", label="GPE", masked_occurrences=1)  # fmt: skip
    assert leaky.masked_chunk == chunk  # nothing was masked: the name is whole
    assert visible_target_forms(leaky.masked_chunk, leaky.target, leaky.label, soviet_aliases) == ["Daoud Khan"]
    assert visible_target_forms(clean.masked_chunk, clean.target, clean.label, soviet_aliases) == []


def test_probes_take_the_alias_table_and_count_what_they_pass_over(nlp: Any, soviet_aliases: AliasTable) -> None:
    chunks = [DAOUD_REPLACED, SOVIET, DAOUD_SURNAME]
    rejected: Counter[str] = Counter()
    probes, _ = make_recall_probes(
        nlp, chunks, [[chunk] for chunk in chunks], ["Kandahar"], LABELS, 5, random.Random(0),
        aliases=soviet_aliases, rejected=rejected,
    )  # fmt: skip
    assert {probe.chunk_index for probe in probes} == {0, 1}
    for probe in probes:
        assert probe.masked_chunk == mask_occurrences(chunks[probe.chunk_index], [probe.target], TARGET_TOKEN)[0]
        assert visible_target_forms(probe.masked_chunk, probe.target, probe.label, soviet_aliases) == []
    targets = [{probe.target for probe in probes if probe.chunk_index == index} for index in (0, 1)]
    assert "Soviet Union" in targets[0] and not {"Mohammed Daoud Khan", "Daoud Khan"} & targets[0]
    assert not {"Soviet Union", "USSR"} & targets[1]  # each is named by the other in chunk 1
    assert rejected["target_still_named"] >= 3


def test_person_name_parts() -> None:
    assert person_name_parts("Mohammed Daoud Khan") == ["Daoud Khan", "Khan", "Mohammed Khan"]
    assert person_name_parts("Thomas Jefferson") == ["Jefferson"]
    assert person_name_parts("Martin Luther King Jr.") == ["Luther King", "King", "Martin King"]
    assert person_name_parts("Catherine of Aragon") == [] and person_name_parts("Khan") == []


@pytest.mark.parametrize(
    ("text", "label", "reason"),
    [
        ("second", "ORDINAL", "vague_number_or_date"),
        ("at least one", "CARDINAL", "function_word_edge"),
        ("15", "CARDINAL", "bare_number"),
        ("congress", "ORG", "common_noun"),
        ("9s", "CARDINAL", "number_glued_to_letters"),
        ("Kabul", "GPE", None),
        ("1955", "DATE", None),
    ],
)
def test_a_target_must_pass_the_answers_rules(text: str, label: str, reason: str | None) -> None:
    from memtrain_data.episodes.entities import Entity
    from memtrain_data.episodes.probes import _target_surface

    piece = f"In that year {text} was noted."
    assert _target_surface(Entity(text, label), piece, {text.casefold()}, [label])[1] == reason
