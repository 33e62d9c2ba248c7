"""Build settings: the paper and mini presets, and impossible settings rejected up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from memtrain_data.build_config import PRESETS, BuildConfig, resolve_build_config
from memtrain_data.errors import ConfigError


def test_paper_preset_has_the_papers_numbers() -> None:
    config = resolve_build_config(None, {"preset": "paper"})
    assert (config.related_passages, config.random_passages) == (29, 120)
    assert config.chunk_tokens == 5120
    assert config.max_chunks == 8
    assert config.min_doc_tokens == 24_000
    assert config.max_doc_tokens <= config.chunk_tokens * config.max_chunks
    # passages sized so 150 of them span 24k-40k tokens (measured: README, "Passage sizes")
    assert config.min_passage_words < config.target_passage_words < config.max_passage_words
    assert config.passage_size_spread > 1


def test_mini_is_the_default_and_names_the_config() -> None:
    config = resolve_build_config(None, {})
    assert config.preset == "mini"
    assert config.config_name == "mini"
    assert config.related_passages == PRESETS["mini"]["related_passages"]


def test_flags_override_the_preset() -> None:
    config = resolve_build_config(None, {"preset": "paper", "num_episodes": 10})
    assert config.num_episodes == 10


def test_preset_can_come_from_the_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "build.yaml"
    path.write_text("preset: paper\nseed: 7\n")
    config = resolve_build_config(path, {})
    assert config.preset == "paper"
    assert config.seed == 7


def test_typod_yaml_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "build.yaml"
    path.write_text("num_episode: 3\n")
    with pytest.raises(ConfigError, match="did you mean 'num_episodes'"):
        resolve_build_config(path, {})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"preset": "huge"}, "unknown preset 'huge'"),
        ({"executor": "k8s"}, "unknown executor"),
        ({"retriever": "tfidf"}, "unknown retriever"),
        ({"workers": 0}, "workers must be at least 1"),
        ({"min_doc_tokens": 5000, "max_doc_tokens": 100}, "is above max_doc_tokens"),
        ({"chunk_tokens": 10, "max_chunks": 2, "min_doc_tokens": 1, "max_doc_tokens": 100}, "cannot fit"),
        ({"validation_fraction": 0.6, "test_fraction": 0.5}, "leave room for train"),
        ({"target_passage_words": 500, "max_passage_words": 400}, "target_passage_words <= max_passage_words"),
        ({"target_passage_words": 10, "min_passage_words": 20}, "min_passage_words <= target_passage_words"),
        ({"passage_size_spread": 0.5}, "passage_size_spread must be at least 1"),
    ],
)
def test_impossible_settings_are_config_errors(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BuildConfig(**{**PRESETS["mini"], **changes})


def test_answer_settings_default_to_names_places_works_events_and_numbers() -> None:
    config = BuildConfig()
    assert {"PERSON", "GPE", "ORG", "WORK_OF_ART", "EVENT", "DATE", "CARDINAL"} <= set(config.answer_labels)
    assert "NORP" not in config.answer_labels and "ORDINAL" not in config.answer_labels
    assert config.answer_evidence == "occurrences_or_outside_pivot" and config.answer_min_occurrences == 2
    assert 0 < config.title_answer_share < 1


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("answer_labels: [PERSON, CITY]\n", r"unknown answer label\(s\) CITY in answer_labels; valid labels: CARDINAL"),
        ("answer_labels: [NORP]\nentity_labels: [PERSON]\n", "answer_labels has no label in entity_labels"),
        ("answer_evidence: twice\n", "unknown answer_evidence 'twice'; choose one of: occurrences, outside_pivot"),
        ("answer_min_occurrences: 0\n", "answer_min_occurrences must be at least 1"),
        (
            "answer_evidence: outside_pivot\nrelated_passages: 0\nrandom_passages: 0\n",
            "answer_evidence 'outside_pivot' cannot be met: documents have no passage besides the pivot",
        ),
        ("title_answer_share: 1.5\n", r"title_answer_share must be in \[0, 1\]"),
    ],
)
def test_a_settings_file_with_an_unknown_label_or_impossible_evidence_rule_is_one_line_error(
    tmp_path: Path, yaml_text: str, message: str
) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message) as caught:
        resolve_build_config(path, {})
    assert "\n" not in str(caught.value)


def test_a_number_or_a_location_stays_possible() -> None:
    config = BuildConfig(answer_labels=["cardinal", "GPE", "LOC"])
    assert config.answer_labels == ["CARDINAL", "GPE", "LOC"]
