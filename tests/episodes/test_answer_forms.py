"""Which entity may be the answer and every form that names it, rule by rule (issue 10)."""

from collections import Counter
from typing import Any

import pytest

from memtrain_data.build_config import ANSWER_LABELS, ONTONOTES_LABELS
from memtrain_data.episodes.aliases import AliasTable, build_alias_index
from memtrain_data.episodes.answer_forms import (
    abbreviates,
    answer_candidates,
    answer_forms,
    equals_title,
    parenthetical_names,
    parenthetical_names_beside,
    surname_of,
)
from memtrain_data.episodes.entities import (
    Entity,
    answer_reason,
    common_word_use,
    extract_entities,
    span_junk_reason,
)
from memtrain_data.episodes.masking import contains_any, mask_occurrences_with_forms
from memtrain_data.records import MASK_TOKEN
from tests.episodes.pool_helpers import write_aliases


@pytest.fixture(scope="module")
def aliases(tmp_path_factory: pytest.TempPathFactory) -> AliasTable:
    folder = tmp_path_factory.mktemp("aliases")
    write_aliases(folder)
    build_alias_index(folder, folder / "index")
    return AliasTable.open(folder / "index")


def _mask(text: str, forms: list[str]) -> tuple[str, list[str]]:
    masked, _, seen = mask_occurrences_with_forms(text, forms, MASK_TOKEN)
    return masked, seen


def test_a_surname_after_the_full_name_is_accepted_and_masked_but_not_inside_another_name() -> None:
    pivot = "Thomas Jefferson wrote the draft in 1776. Jefferson later met Thomas Paine in Paris."
    forms = answer_forms(Entity("Thomas Jefferson", "PERSON"), False, [Entity("Thomas Paine", "PERSON")], None)
    assert forms.accepted == ["Thomas Jefferson", "Jefferson"]
    masked, seen = _mask(pivot, forms.masked)
    assert masked == "[MASK] wrote the draft in 1776. [MASK] later met Thomas Paine in Paris."
    assert seen == ["Thomas Jefferson", "Jefferson"]


def test_a_middle_name_or_initial_may_be_left_out() -> None:
    forms = answer_forms(Entity("Lyndon B. Johnson", "PERSON"), False, [], None)
    assert forms.accepted == ["Lyndon B. Johnson", "Johnson", "Lyndon Johnson"]


def test_a_rank_before_a_name_is_not_part_of_it() -> None:
    pivot = "Einstein stayed with British naval officer Commander Oliver Locker-Lampson in Norfolk."
    candidates = answer_candidates(pivot, [Entity("Oliver Locker-Lampson", "PERSON")], ANSWER_LABELS)
    assert candidates == [(Entity("Oliver Locker-Lampson", "PERSON"), False)]


def test_a_surname_shared_with_another_person_of_the_pivot_is_not_masked() -> None:
    forms = answer_forms(Entity("Joseph Dwan", "PERSON"), False, [], None, pivot_title="Allan Dwan")
    assert forms.accepted == ["Joseph Dwan"]


def test_a_demonym_link_is_masked_but_does_not_score(aliases: AliasTable) -> None:
    forms = answer_forms(Entity("Canada", "GPE"), False, [], aliases)
    assert forms.page_title == "Canada" and forms.accepted == ["Canada"]
    assert "Canadian" in forms.masked
    masked, seen = _mask("Canadian troops landed; Canada declared war. The Canadian Pacific Railway ran.", forms.masked)
    assert masked == "[MASK] troops landed; [MASK] declared war. The Canadian Pacific Railway ran."
    assert seen == ["Canadian", "Canada"]


def test_a_the_title_is_canonical_without_the_and_both_forms_score(aliases: AliasTable, nlp: Any) -> None:
    pivot = "Jefferson drafted the United States Declaration of Independence in June 1776."
    [entities] = list(extract_entities(nlp, [pivot], ONTONOTES_LABELS))
    candidates = dict(answer_candidates(pivot, entities, ANSWER_LABELS))
    entity = next(e for e in candidates if e.text == "United States Declaration of Independence")
    assert candidates[entity] is True
    forms = answer_forms(entity, True, entities, aliases)
    assert forms.accepted[:2] == ["United States Declaration of Independence", "the United States Declaration of Independence"]
    assert "Declaration of Independence" in forms.accepted
    masked, _ = _mask("Signers of the United States Declaration of Independence and of the Declaration of Independence", forms.masked)
    assert masked == "Signers of the [MASK] and of the [MASK]"


def test_a_redirect_is_an_accepted_alias(aliases: AliasTable) -> None:
    forms = answer_forms(Entity("USA", "GPE"), False, [], aliases)
    assert forms.page_title == "United States" and forms.accepted[0] == "USA"
    assert {"United States", "U.S.A."} <= set(forms.accepted)
    assert "American" in forms.masked and "American" not in forms.accepted


def test_a_fragment_entity_becomes_the_whole_name(nlp: Any) -> None:
    pivot = "The novelist Ayn Rand moved to New York. The Atlantic Ocean was calm that year."
    spacy_like = [Entity("Rand", "PERSON"), Entity("Ocean", "LOC"), Entity("New York", "GPE")]
    names = [entity.text for entity, _ in answer_candidates(pivot, spacy_like, ANSWER_LABELS)]
    assert names == ["Ayn Rand", "Atlantic Ocean", "New York"]


def test_an_anchor_that_is_part_of_a_page_name_becomes_that_name(aliases: AliasTable) -> None:
    forms = answer_forms(Entity("Rand", "PERSON"), False, [], aliases)
    assert forms.page_title == "Ayn Rand" and forms.accepted[:2] == ["Ayn Rand", "Rand"]


def test_only_a_persons_name_part_resolves_through_an_anchor(aliases: AliasTable) -> None:
    # "Declaration of Independence" is an anchor of the US declaration, not a title or redirect.
    forms = answer_forms(Entity("Declaration of Independence", "LAW"), False, [], aliases)
    assert forms.page_title is None and forms.accepted == ["Declaration of Independence"]


def test_a_lowercase_common_word_equal_to_an_answer_is_not_masked() -> None:
    forms = answer_forms(Entity("Articles", "WORK_OF_ART"), False, [], None)
    masked, seen = _mask("Articles sold well; the articles in it were short. ARTICLES was reprinted.", forms.masked)
    assert masked == "[MASK] sold well; the articles in it were short. [MASK] was reprinted."
    assert seen == ["Articles", "ARTICLES"]


def test_a_number_inside_a_longer_number_is_not_masked() -> None:
    forms = answer_forms(Entity("1937", "DATE"), False, [], None)
    masked, _ = _mask("Founded in 1937, it had 19370 members and 2,1937 shares; in 1937.5 terms.", forms.masked)
    assert masked == "Founded in [MASK], it had 19370 members and 2,1937 shares; in 1937.5 terms."


@pytest.mark.parametrize(
    ("span", "reason"),
    [
        ("Stylistically, Swift and", "function_word_edge"),
        ("North, South and", "function_word_edge"),
        ("about six or", "function_word_edge"),
        ("Both von Franz", "function_word_edge"),
        ("About 1939", "function_word_edge"),
        ("Stylistically, Swift", "punctuation_edge"),
        ("Lyon (", "punctuation_edge"),
    ],
)
def test_mis_cut_spans_are_rejected(span: str, reason: str) -> None:
    assert span_junk_reason(span) == reason


@pytest.mark.parametrize("span", ["Ayn Rand", "U.S.", "Apple Inc.", "29,455", "5%", "World War II"])
def test_whole_names_and_numbers_are_not_mis_cut(span: str) -> None:
    assert span_junk_reason(span) is None


@pytest.mark.parametrize(
    ("text", "label", "reason"),
    [
        ("winter", "DATE", "vague_number_or_date"),
        ("today", "DATE", "vague_number_or_date"),
        ("annually", "DATE", "vague_number_or_date"),
        ("second", "ORDINAL", "label_not_allowed"),
        ("days", "DATE", "vague_number_or_date"),
        ("year", "DATE", "vague_number_or_date"),
        ("democrats", "NORP", "label_not_allowed"),
        ("state", "GPE", "common_noun"),
        ("BC", "ORG", "too_short"),
        ("20", "CARDINAL", "bare_number"),
        ("29,455", "CARDINAL", "bare_number"),
        ("0.5", "CARDINAL", "bare_number"),
        ("8s", "CARDINAL", "number_glued_to_letters"),
        ("C2", "CARDINAL", "number_glued_to_letters"),
        ("5km", "QUANTITY", "number_glued_to_letters"),
        ("1900", "CARDINAL", "year_not_labelled_date"),
        ("CH4", "ORG", "code_like"),
        ("ITA2", "GPE", "code_like"),
        ("B-52", "PRODUCT", None),
        ("WD-2", "ORG", None),
        ("2,500 km", "QUANTITY", None),
        ("1900s", "DATE", None),
        ("9 weeks", "DATE", None),
        ("1937", "DATE", None),
        ("May 1994", "DATE", None),
        ("Lyon", "GPE", None),
    ],
)
def test_vague_words_and_disallowed_labels_are_not_answers(text: str, label: str, reason: str | None) -> None:
    assert answer_reason(text, label, ANSWER_LABELS) == reason


def test_a_possessive_is_not_part_of_the_answer() -> None:
    pivot = "Francisco Goya's painting shows the shootings. Goya's keen eye is clear."
    candidates = answer_candidates(pivot, [Entity("Francisco Goya's", "PERSON")], ANSWER_LABELS)
    assert candidates == [(Entity("Francisco Goya", "PERSON"), False)]


def test_candidates_drop_the_and_count_what_they_reject() -> None:
    pivot = "In the winter the Netherlands and about six or seven towns joined."
    entities = [Entity("the winter", "DATE"), Entity("the Netherlands", "GPE"), Entity("about six or seven", "CARDINAL")]
    rejected: Counter[str] = Counter()
    candidates = answer_candidates(pivot, entities, ANSWER_LABELS, rejected)
    assert candidates == [(Entity("Netherlands", "GPE"), True)]
    assert rejected == Counter({"vague_number_or_date": 1, "function_word_edge": 1})


def test_an_answer_equal_to_the_pivots_page_is_recognised(aliases: AliasTable) -> None:
    assert equals_title(answer_forms(Entity("Tarkovsky", "PERSON"), False, [], None, "Andrei Tarkovsky"), "Andrei Tarkovsky")
    assert equals_title(answer_forms(Entity("USA", "GPE"), False, [], aliases), "United States")
    assert not equals_title(answer_forms(Entity("Lyon", "GPE"), False, [], None), "France")


def test_forms_resolved_through_aliases_are_never_visible_after_masking(aliases: AliasTable) -> None:
    forms = answer_forms(Entity("Barack Obama", "PERSON"), False, [], aliases)
    text = "Barack Hussein Obama, known as Obama, met President Obama's staff and OBAMA fans."
    masked, _ = _mask(text, forms.masked)
    assert not contains_any(masked, forms.accepted, whole_names=False)
    assert masked == "[MASK], known as [MASK], met [MASK]'s staff and [MASK] fans."  # the redirect "President Obama" whole


def test_a_name_with_of_has_no_surname_to_mask() -> None:
    # "Qovsi of Tabriz": "Tabriz" is the poet's city, which other passages name as a place.
    assert surname_of("Qovsi of Tabriz") is None
    forms = answer_forms(Entity("Qovsi of Tabriz", "PERSON"), False, [], None)
    assert forms.accepted == ["Qovsi of Tabriz"] and forms.masked == ["Qovsi of Tabriz"]
    assert surname_of("Thomas Jefferson") == "Jefferson"


@pytest.mark.parametrize(
    ("answer", "texts", "common"),
    [
        ("Sodium", ["Sodium is soft.", "Lithium is lighter than sodium."], True),
        ("SEQUENCE", ["structures: SEQUENCE, IF-THEN-ELSE", "an infinite sequence of boxes"], True),
        ("Councillors", ["42 Councillors sit.", "A councillor serves four years."], True),
        ("Cabinet", ["the Cabinet of Azerbaijan", "the Council of Ministers (cabinet)"], True),
        ("Plato", ["Plato taught Aristotle.", "platonic love"], False),
        ("Sodium", ["Sodium is soft.", "Sodium-22 decays."], False),
        ("Ayn Rand", ["Ayn Rand wrote.", "ayn rand"], False),  # only one-word names
        ("UNITA", ["UNITA went back to war."], False),
    ],
)
def test_a_one_word_name_used_as_an_ordinary_lowercase_word_is_a_common_noun(answer: str, texts: list[str], common: bool) -> None:
    assert common_word_use(answer, texts) is common


@pytest.mark.parametrize(
    ("short", "name", "expected"),
    [
        ("ARR", "Alaska Railroad", True),
        ("CBP", "U.S. Customs and Border Protection", True),
        ("DHS", "United States Department of Homeland Security", True),
        ("UK", "London", False),
        ("Paris", "Paris", False),
        ("A", "Alaska", False),
    ],
)
def test_an_abbreviation_has_the_names_letters_in_order_from_a_words_initial(short: str, name: str, expected: bool) -> None:
    assert abbreviates(short, name) is expected


def test_a_name_given_in_parentheses_beside_the_answer_is_one_of_its_forms() -> None:
    text = "Built in 1915, the Alaska Railroad (ARR) ran north. U.S. Customs and Border Protection (CBP) checks it. London (UK) is far."
    assert parenthetical_names(text, ["Alaska Railroad"]) == ["ARR"]
    assert parenthetical_names(text, ["CBP"]) == ["U.S. Customs and Border Protection"]
    assert parenthetical_names(text, ["London"]) == []


def test_a_written_record_shows_a_name_in_parentheses_beside_its_placeholder() -> None:
    assert parenthetical_names_beside("the [MASK] (ARR) played a role", "[MASK]", ["Alaska Railroad"]) == ["ARR"]
    assert parenthetical_names_beside("U.S. Customs and Border Protection ([TARGET]) checks", "[TARGET]", ["CBP"]) == ["U.S. Customs and Border Protection"]
    assert parenthetical_names_beside("in [MASK] (UK) it rained", "[MASK]", ["London"]) == []
