"""TRL-style configs: preset < YAML < flags, and unknown keys are errors with a suggestion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from memtrain_data.config import (
    build_config,
    config_field,
    config_to_dict,
    field_help,
    settings_fields,
    settings_part,
)
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


@dataclass
class ReadingSettings:
    """One stage's part of a larger config."""

    words: int = config_field(20, help="Words per passage.")


@dataclass
class StagedConfig:
    """A config made of a field of its own and one stage's part."""

    seed: int = config_field(0, help="A seed.", aliases=("-s",))
    reading: ReadingSettings = settings_part(ReadingSettings, panel="Reading")


def test_a_part_is_flat_for_users_and_nested_for_code(tmp_path: Path) -> None:
    config = build_config(StagedConfig, yaml_path=write(tmp_path, "words: 7\n"), overrides={"seed": 3})
    assert config.reading == ReadingSettings(words=7) and config.seed == 3
    assert config_to_dict(config) == {"seed": 3, "words": 7}


def test_settings_fields_name_each_setting_with_its_panel_and_part() -> None:
    fields = {f.name: f for f in settings_fields(StagedConfig, panel="General")}
    assert list(fields) == ["seed", "words"]
    assert (fields["seed"].panel, fields["seed"].part, fields["seed"].aliases) == ("General", None, ("-s",))
    assert (fields["words"].panel, fields["words"].part, fields["words"].help) == ("Reading", "reading", "Words per passage.")
    assert fields["words"].default == 20 and fields["words"].annotation is int


def test_unknown_key_in_a_staged_config_suggests_the_flat_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'words'"):
        build_config(StagedConfig, yaml_path=write(tmp_path, "wrods: 7\n"))
