from typing import Any

import pytest

from memtrain_data.build_config import ONTONOTES_LABELS
from memtrain_data.episodes.entities import (
    extract_entities,
    junk_reason,
    validate_entity_labels,
)
from memtrain_data.errors import ConfigError

TEXT = (
    "Barack Obama was born in Honolulu in 1961. Obama later taught law in Chicago, "
    "and in 2008 he defeated John McCain."
)


def test_real_ner_finds_people_places_and_dates(nlp: Any) -> None:
    [entities] = list(extract_entities(nlp, [TEXT], ONTONOTES_LABELS))
    found = {(e.text, e.label) for e in entities}
    assert ("Barack Obama", "PERSON") in found
    assert ("Honolulu", "GPE") in found
    assert ("1961", "DATE") in found
    assert ("Chicago", "GPE") in found


def test_label_filter_keeps_only_allowed_labels(nlp: Any) -> None:
    [entities] = list(extract_entities(nlp, [TEXT], ["GPE"]))
    assert entities
    assert {e.label for e in entities} == {"GPE"}


def test_one_entry_per_case_folded_form_in_order_of_mention(nlp: Any) -> None:
    [entities] = list(extract_entities(nlp, ["Paris is in France. PARIS is big. Paris has museums."], ["GPE"]))
    texts = [e.text.casefold() for e in entities]
    assert texts.count("paris") == 1
    assert texts[0] == "paris"


def test_batches_keep_one_result_per_text(nlp: Any) -> None:
    texts = [TEXT, "no entities here at all", "Vienna lies on the Danube."]
    results = list(extract_entities(nlp, texts, ONTONOTES_LABELS, batch_size=2))
    assert len(results) == 3
    assert results[1] == []
    assert any(e.text == "Vienna" for e in results[2])


@pytest.mark.parametrize(
    ("text", "reason"),
    [("X", "one_character"), ("  ", "one_character"), ("--", "punctuation"), ("US", "stopword"), ("[MASK] Agreement", "placeholder")],
)
def test_junk_entities_are_rejected_with_a_reason(text: str, reason: str) -> None:
    assert junk_reason(text) == reason


@pytest.mark.parametrize("text", ["1998", "Obama", "U.S. Army", "$5 million", "7th"])
def test_real_entities_are_not_junk(text: str) -> None:
    assert junk_reason(text) is None


def test_unknown_label_is_a_one_line_config_error_listing_valid_labels() -> None:
    with pytest.raises(ConfigError) as raised:
        validate_entity_labels(["PERSON", "CITY"])
    message = str(raised.value)
    assert "CITY" in message and "GPE" in message and "PERSON" in message
    assert "\n" not in message


def test_labels_are_case_insensitive() -> None:
    assert validate_entity_labels(["person", "Gpe"]) == ["PERSON", "GPE"]
