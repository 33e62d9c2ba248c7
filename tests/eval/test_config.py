"""EvalConfig: length labels, validation, and which settings invalidate earlier predictions."""

from __future__ import annotations

from pathlib import Path

import pytest

from memtrain_data.errors import ConfigError
from memtrain_data.eval.config import EvalConfig, parse_length


@pytest.mark.parametrize(
    ("label", "tokens"),
    [("2k", 2048), ("7k", 7168), ("1.5k", 1536), ("1m", 1_048_576), ("3000", 3000), ("4K", 4096)],
)
def test_parse_length(label: str, tokens: int) -> None:
    assert parse_length(label) == tokens


@pytest.mark.parametrize("label", ["", "two", "2kb", "-1k", "0"])
def test_bad_lengths(label: str) -> None:
    with pytest.raises(ConfigError):
        parse_length(label)


def test_lengths_from_a_comma_separated_flag() -> None:
    config = EvalConfig(lengths="2k, 4k")  # type: ignore[arg-type]
    assert config.lengths == ["2k", "4k"]
    assert config.length_tokens == {"2k": 2048, "4k": 4096}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mode": "rag"}, "unknown mode 'rag'"),
        ({"lengths": ["2k", "2k"]}, "lengths repeat"),
        ({"num_samples": 0}, "num_samples must be at least 1"),
        ({"limit": 0}, "limit must be at least 1"),
        ({"top_p": 0.0}, "top_p"),
    ],
)
def test_invalid_settings(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EvalConfig(**values)


def test_prediction_key_ignores_which_examples_run_but_not_how(tmp_path: Path) -> None:
    base = EvalConfig(model="m", data="d", output=tmp_path / "a")
    assert (
        base.prediction_key()
        == EvalConfig(model="m", data="d", output=tmp_path / "b", lengths=["2k"], limit=3).prediction_key()
    )
    assert base.prediction_key() != EvalConfig(model="m", data="d", seed=1).prediction_key()
    assert base.prediction_key() != EvalConfig(model="m", data="d", memory_tokens=10).prediction_key()
    templates = tmp_path / "t.yaml"
    templates.write_text("initial_memory: a\n")
    first = EvalConfig(model="m", data="d", templates=templates).prediction_key()
    templates.write_text("initial_memory: b\n")
    assert EvalConfig(model="m", data="d", templates=templates).prediction_key() != first
