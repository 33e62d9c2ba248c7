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
    config = EvalConfig(task="hotpotqa", lengths="2k, 4k, 50docs")  # type: ignore[arg-type]
    assert config.lengths == ["2k", "4k", "50docs"]
    assert config.length_targets == {
        "2k": ("tokens", 2048),
        "4k": ("tokens", 4096),
        "50docs": ("documents", 50),
    }


def test_ruler_rejects_token_lengths() -> None:
    with pytest.raises(ConfigError, match="ruler-hqa length '2k' is not a document count"):
        EvalConfig(task="ruler-hqa", lengths=["2k"])


@pytest.mark.parametrize(
    ("task", "protocol", "chunk", "temperature"),
    [
        ("ruler-hqa", "memagent", 5000, 0.7),
        ("hotpotqa", "memagent", 5000, 0.7),
        ("proxy", "memtrain", 5120, 0.0),
    ],
)
def test_protocol_defaults_per_task(task: str, protocol: str, chunk: int, temperature: float) -> None:
    config = EvalConfig(task=task)
    assert (config.protocol, config.chunk_tokens, config.temperature) == (protocol, chunk, temperature)
    # Every resolved setting is written out, not left as "default".
    assert config.to_dict()["chunk_tokens"] == chunk and config.to_dict()["top_p"] is not None


def test_explicit_settings_override_the_protocol() -> None:
    config = EvalConfig(task="ruler-hqa", protocol="memagent", temperature=0.0, chunk_tokens=1000)
    assert (config.temperature, config.chunk_tokens, config.top_p, config.memory_tokens) == (
        0.0,
        1000,
        0.95,
        1024,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mode": "rag"}, "unknown mode 'rag'"),
        ({"task": "hotpotqa", "lengths": ["2k", "2k"]}, "lengths repeat"),
        ({"protocol": "memagnet"}, "unknown protocol"),
        ({"num_samples": 0}, "num_samples must be at least 1"),
        ({"limit": 0}, "limit must be at least 1"),
        ({"top_p": 0.0}, "top_p"),
    ],
)
def test_invalid_settings(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EvalConfig(**values)


def test_prediction_key_ignores_which_examples_run_but_not_how(tmp_path: Path) -> None:
    identity = {"path": "/m", "weights_fingerprint": "abc"}

    def key(templates: str = "t", **values) -> str:
        return EvalConfig(**{"model": "m", "data": "d", **values}).prediction_key(identity, templates)

    base = key(output=tmp_path / "a")
    assert base == key(output=tmp_path / "b", lengths=["50"], limit=3, ids=["1"], data="elsewhere")
    assert base != key(seed=1)
    assert base != key(memory_tokens=10)
    assert base != key(protocol="memtrain")
    assert base != key(templates="other prompts")
    assert base != EvalConfig(model="m").prediction_key({**identity, "weights_fingerprint": "abd"}, "t")
