from memtrain_data.episodes.masking import contains_any, count_occurrences, mask_occurrences
from memtrain_data.records import MASK_TOKEN


def test_every_occurrence_is_masked_case_insensitively() -> None:
    text = "Paris is large. PARIS hosts the Louvre; paris by night."
    masked, count = mask_occurrences(text, ["Paris"], MASK_TOKEN)
    assert masked == "[MASK] is large. [MASK] hosts the Louvre; [MASK] by night."
    assert count == 3


def test_matches_only_on_word_boundaries() -> None:
    masked, count = mask_occurrences("Parisian cafés near Paris-Nord and Paris.", ["Paris"], MASK_TOKEN)
    assert masked == "Parisian cafés near [MASK]-Nord and [MASK]."
    assert count == 2


def test_longest_alias_is_masked_whole_before_its_parts() -> None:
    masked, count = mask_occurrences("Barack Obama met Michelle. Obama spoke.", ["Obama", "Barack Obama"], MASK_TOKEN)
    assert masked == "[MASK] met Michelle. [MASK] spoke."
    assert count == 2


def test_multi_word_entity_matches_across_line_breaks() -> None:
    masked, count = mask_occurrences("the New\nYork subway", ["New York"], "[TARGET]")
    assert masked == "the [TARGET] subway"
    assert count == 1


def test_entities_with_punctuation_and_numbers() -> None:
    text = "It cost $5 million in 1998 (not 19980) and U.S. officials agreed."
    assert mask_occurrences(text, ["1998"], MASK_TOKEN) == (text.replace("1998 ", "[MASK] "), 1)
    assert count_occurrences(text, ["U.S."]) == 1
    assert count_occurrences(text, ["$5 million"]) == 1


def test_contains_any_is_the_leak_test() -> None:
    assert contains_any("the river Danube flows", ["danube"])
    assert not contains_any("the river [MASK] flows", ["Danube"])
    assert not contains_any("Danubes", ["Danube"])
