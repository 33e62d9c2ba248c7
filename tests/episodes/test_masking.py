import pytest

from memtrain_data.episodes.masking import (
    contains_any,
    count_occurrences,
    mask_occurrences,
    mask_occurrences_with_forms,
)
from memtrain_data.records import MASK_TOKEN


def test_a_capitalised_name_is_masked_as_written_or_in_capitals_never_as_a_lowercase_word() -> None:
    text = "Paris is large. PARIS hosts the Louvre; plaster of paris by night."
    masked, count = mask_occurrences(text, ["Paris"], MASK_TOKEN)
    assert masked == "[MASK] is large. [MASK] hosts the Louvre; plaster of paris by night."
    assert count == 2


def test_a_lowercase_common_word_equal_to_an_answer_stays() -> None:
    text = "Articles was a bestseller. The articles in the journal praised Articles."
    masked, forms = mask_occurrences_with_forms(text, ["Articles"], MASK_TOKEN)[0::2]
    assert masked == "[MASK] was a bestseller. The articles in the journal praised [MASK]."
    assert forms == ["Articles"]


def test_a_lowercase_form_also_matches_at_the_start_of_a_sentence() -> None:
    masked, count = mask_occurrences("iron is a metal. Iron rusts.", ["iron"], MASK_TOKEN)
    assert (masked, count) == ("[MASK] is a metal. [MASK] rusts.", 2)


def test_matches_only_on_word_boundaries_and_keeps_suffixes_outside() -> None:
    masked, count = mask_occurrences("Parisian cafés near Paris-based firms and Paris's parks.", ["Paris"], MASK_TOKEN)
    assert masked == "Parisian cafés near [MASK]-based firms and [MASK]'s parks."
    assert count == 2


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("Thomas Paine wrote Common Sense.", "Thomas"),  # a first name inside another person's name
        ("the United Kingdom voted", "Kingdom"),  # a short fragment inside a country's name
        ("the Atlantic Ocean is deep", "Atlantic"),
        ("the Mid-Atlantic states", "Atlantic"),
        ("writer Ayn Rand argued", "Rand"),
        ("Mt. Everest is high", "Everest"),
    ],
)
def test_a_name_is_never_masked_inside_a_longer_name(text: str, form: str) -> None:
    assert mask_occurrences(text, [form], MASK_TOKEN) == (text, 0)


def test_function_words_and_titles_next_to_a_name_do_not_make_it_a_fragment() -> None:
    text = "In Paris, President Obama met Mr. Obama's staff. The Obama administration"
    masked, count = mask_occurrences(text, ["Paris", "Obama"], MASK_TOKEN)
    assert masked == "In [MASK], President [MASK] met Mr. [MASK]'s staff. The [MASK] administration"
    assert count == 4


@pytest.mark.parametrize("text", ["in 19370 cases", "about 2,1937 units", "ratio 1937.5 today", "code 41937 and 1937a"])
def test_a_number_is_never_masked_inside_a_longer_number(text: str) -> None:
    assert mask_occurrences(text, ["1937"], MASK_TOKEN) == (text, 0)


def test_a_number_is_masked_as_the_same_token_sequence() -> None:
    text = "In 1937, and again (1937) and in May 1937."
    assert mask_occurrences(text, ["1937"], MASK_TOKEN) == ("In [MASK], and again ([MASK]) and in May [MASK].", 3)
    assert count_occurrences("It cost $5 million, not $5 millions.", ["$5 million"]) == 1


def test_longest_alias_is_masked_whole_before_its_parts() -> None:
    masked, count = mask_occurrences("Barack Obama met Michelle. Obama spoke.", ["Obama", "Barack Obama"], MASK_TOKEN)
    assert masked == "[MASK] met Michelle. [MASK] spoke."
    assert count == 2


def test_multi_word_entity_matches_across_line_breaks() -> None:
    masked, count = mask_occurrences("the New\nYork subway", ["New York"], "[TARGET]")
    assert masked == "the [TARGET] subway"
    assert count == 1


def test_masked_forms_are_recorded_as_they_read() -> None:
    _, count, forms = mask_occurrences_with_forms("USA and the USA, U.S.A.", ["USA", "U.S.A."], MASK_TOKEN)
    assert count == 3 and forms == ["USA", "U.S.A."]


def test_contains_any_is_the_leak_test_with_the_same_rules() -> None:
    assert contains_any("the river Danube flows", ["Danube"])
    assert not contains_any("the river [MASK] flows", ["Danube"])
    assert not contains_any("Danubes", ["Danube"])
    assert not contains_any("the Danube Delta", ["Danube"])


def test_a_name_with_a_lowercase_particle_or_after_st_is_not_masked_inside_a_longer_name() -> None:
    masked, count = mask_occurrences("Vincent van Gogh and van Gogh; St. Paul and Paul.", ["van Gogh", "Paul"], "[MASK]")
    assert masked == "Vincent van Gogh and [MASK]; St. Paul and [MASK]."
    assert count == 2
