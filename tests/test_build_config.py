"""Build settings: the paper and mini presets, and impossible settings rejected up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from memtrain_data.build_config import PRESETS, BuildConfig, resolve_build_config
from memtrain_data.errors import ConfigError


def test_paper_preset_has_the_papers_numbers() -> None:
    config = resolve_build_config(None, {"preset": "paper"})
    documents, pool = config.episodes.documents, config.pool
    assert (documents.related_passages, documents.random_passages) == (29, 120)
    assert documents.chunk_tokens == 5120
    assert documents.max_chunks == 8
    assert documents.min_doc_tokens == 24_000
    assert documents.max_doc_tokens <= documents.chunk_tokens * documents.max_chunks
    # passages sized so 150 of them span 24k-40k tokens (measured: README, "Passage sizes")
    assert pool.min_passage_words < pool.target_passage_words < pool.max_passage_words
    assert pool.passage_size_spread > 1


def test_mini_is_the_default_and_names_the_config() -> None:
    config = resolve_build_config(None, {})
    assert config.preset == "mini"
    assert config.config_name == "mini"
    assert config.episodes.documents.related_passages == PRESETS["mini"]["related_passages"]


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
        BuildConfig.from_settings(**{**PRESETS["mini"], **changes})


def test_answer_settings_default_to_names_places_works_events_and_numbers() -> None:
    answers = BuildConfig().episodes.answers
    assert {"PERSON", "GPE", "ORG", "WORK_OF_ART", "EVENT", "DATE", "CARDINAL"} <= set(answers.answer_labels)
    assert "NORP" not in answers.answer_labels and "ORDINAL" not in answers.answer_labels
    assert answers.answer_evidence == "occurrences_or_outside_pivot" and answers.answer_min_occurrences == 2
    assert 0 < answers.title_answer_share < 1


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
    config = BuildConfig.from_settings(answer_labels=["cardinal", "GPE", "LOC"])
    assert config.episodes.answers.answer_labels == ["CARDINAL", "GPE", "LOC"]


# The flat order of the settings before they were split into parts: `config_to_dict` (the saved
# Slurm request, written unsorted) and `settings_fields` keep it.
FLAT_ORDER_BEFORE_PARTS = [
    "output", "dump", "dump_index", "preset", "config_name", "seed", "workers", "executor", "num_episodes",
    "min_passage_words", "target_passage_words", "max_passage_words", "passage_size_spread", "page_timeout_s",
    "max_page_bytes", "pool_size", "pages_per_task", "related_passages", "random_passages", "chunk_tokens",
    "max_chunks", "min_doc_tokens", "max_doc_tokens", "top_up_to_min_tokens", "probes_per_chunk", "entity_labels",
    "answer_labels", "answer_evidence", "answer_min_occurrences", "title_answer_share", "tokenizer", "spacy_model",
    "retriever", "dense_model", "validation_fraction", "test_fraction", "push_to_hub", "private", "revision",
    "create_pr",
]  # fmt: skip


def test_settings_stay_flat_and_in_their_old_order() -> None:
    from memtrain_data.config import config_to_dict, field_names

    config = resolve_build_config(None, {"preset": "paper"})
    assert list(config_to_dict(config)) == FLAT_ORDER_BEFORE_PARTS
    assert field_names(BuildConfig) == FLAT_ORDER_BEFORE_PARTS


def test_flat_yaml_keys_and_flags_reach_their_part(tmp_path: Path) -> None:
    path = tmp_path / "build.yaml"
    path.write_text("chunk_tokens: 1024\nmax_chunks: 2\nmin_doc_tokens: 100\nmax_doc_tokens: 2000\nanswer_evidence: none\n")
    config = resolve_build_config(path, {"workers": 3, "max_page_bytes": 10, "private": True})
    assert (config.episodes.documents.chunk_tokens, config.episodes.answers.answer_evidence) == (1024, "none")
    assert (config.execution.workers, config.pool.max_page_bytes, config.publish.private) == (3, 10, True)


def test_a_saved_flat_request_reads_back_as_the_same_config() -> None:
    from memtrain_data.config import assemble, config_to_dict

    config = resolve_build_config(None, {"preset": "paper", "seed": 3, "workers": 2})
    assert assemble(BuildConfig, config_to_dict(config)) == config


def test_record_settings_leave_out_where_and_how_the_build_runs() -> None:
    record = resolve_build_config(None, {}).record_settings()
    left_out = {"output", "workers", "executor", "push_to_hub", "private", "revision", "create_pr", "page_timeout_s"}
    assert set(record) == set(FLAT_ORDER_BEFORE_PARTS) - left_out


def test_transition_shim_reads_and_builds_flat_settings() -> None:
    config = BuildConfig(workers=2, chunk_tokens=6000, answer_labels=["PERSON"])
    assert (config.workers, config.chunk_tokens, config.answer_labels) == (2, 6000, ["PERSON"])
    assert config.execution.workers == 2 and config.episodes.documents.chunk_tokens == 6000
