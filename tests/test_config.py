"""TRL-style configs: preset < YAML < flags, and unknown keys are errors with a suggestion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from memtrain_data.config import build_config, config_field, config_to_dict, field_help
from memtrain_data.errors import ConfigError


@dataclass
class ExampleConfig:
    """A config with one field of each kind."""

    name: str = config_field("base", help="A name.")
    steps: int = config_field(10, help="How many steps.")
    rate: float = config_field(0.5, help="A rate.")
    labels: list[str] = config_field(["A"], help="Some labels.")
    output: Path = config_field(Path("out"), help="Where to write.")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_fields_carry_their_help_text() -> None:
    assert field_help(ExampleConfig, "steps") == "How many steps."


def test_list_defaults_are_not_shared_between_instances() -> None:
    first, second = ExampleConfig(), ExampleConfig()
    first.labels.append("B")
    assert second.labels == ["A"]


def test_preset_then_yaml_then_flags(tmp_path: Path) -> None:
    path = write(tmp_path, "steps: 20\nrate: 1\nname: from-yaml\n")
    config = build_config(
        ExampleConfig,
        preset_values={"steps": 5, "name": "preset"},
        yaml_path=path,
        overrides={"name": "from-flag", "rate": None},
    )
    assert config.steps == 20  # YAML beats preset
    assert config.name == "from-flag"  # a flag beats YAML
    assert config.rate == 1.0 and isinstance(config.rate, float)  # None means "flag not given"


def test_dashes_in_yaml_keys_match_underscored_fields(tmp_path: Path) -> None:
    config = build_config(ExampleConfig, yaml_path=write(tmp_path, "steps: 3\n"))
    assert config.steps == 3


def test_unknown_yaml_key_is_an_error_naming_file_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "stpes: 3\n")
    with pytest.raises(ConfigError, match=r"config.yaml: unknown key 'stpes' \(did you mean 'steps'\?\)"):
        build_config(ExampleConfig, yaml_path=path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: many\n", "'steps' must be an integer"),
        ("rate: fast\n", "'rate' must be a number"),
        ("labels: GPE\n", "'labels' must be a list"),
        ("- a\n- b\n", "expected a mapping"),
        ("steps: [1\n", "not valid YAML"),
    ],
)
def test_bad_yaml_values_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        build_config(ExampleConfig, yaml_path=write(tmp_path, text))
    assert "\n" not in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        build_config(ExampleConfig, yaml_path=tmp_path / "nope.yaml")


def test_config_to_dict_is_plain_data() -> None:
    assert config_to_dict(ExampleConfig()) == {
        "name": "base",
        "steps": 10,
        "rate": 0.5,
        "labels": ["A"],
        "output": "out",
    }
