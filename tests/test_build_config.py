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
