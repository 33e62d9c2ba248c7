"""TRL-style configuration: dataclasses whose fields carry their help text.

Precedence, lowest first: the dataclass defaults, a named preset, a YAML file, then flags
given on the command line. Unknown keys in a YAML file are errors, with a suggestion.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from memtrain_data.errors import ConfigError

ConfigT = TypeVar("ConfigT")


def config_field(default: Any = dataclasses.MISSING, *, help: str, **kwargs: Any) -> Any:
    """A dataclass field with help text in its metadata (shown by `--help` and in docs)."""
    if isinstance(default, (list, dict, set)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata={"help": help}, **kwargs)
    return dataclasses.field(default=default, metadata={"help": help}, **kwargs)


def field_names(config_type: type) -> list[str]:
    return [f.name for f in dataclasses.fields(config_type)]


def field_help(config_type: type, name: str) -> str:
    for f in dataclasses.fields(config_type):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    raise KeyError(name)


def unknown_key_message(key: str, known: list[str], where: str) -> str:
    suggestion = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{suggestion[0]}'?)" if suggestion else ""
    return f"{where}: unknown key '{key}'{hint}"


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; errors name the file."""
    import yaml

    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not valid YAML ({first_line})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of option names to values, got {type(loaded).__name__}")
    return {str(k).replace("-", "_"): v for k, v in loaded.items()}


def check_known_keys(values: Mapping[str, Any], config_type: type, where: str) -> None:
    known = field_names(config_type)
    for key in values:
        if key not in known:
            raise ConfigError(unknown_key_message(key, known, where))


def _coerce(config_type: type, values: dict[str, Any], where: str) -> dict[str, Any]:
    """Light type checking of YAML values so a typo'd type fails here, not deep inside a run."""
    hints = typing.get_type_hints(config_type)
    out: dict[str, Any] = {}
    for key, value in values.items():
        hint = hints.get(key)
        if value is None or hint is None:
            out[key] = value
            continue
        origin = typing.get_origin(hint)
        if hint is int and isinstance(value, bool):
            raise ConfigError(f"{where}: '{key}' must be an integer, got {value!r}")
        if hint is int and not isinstance(value, int):
            raise ConfigError(f"{where}: '{key}' must be an integer, got {value!r}")
        if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        elif hint is float:
            raise ConfigError(f"{where}: '{key}' must be a number, got {value!r}")
        if hint is bool and not isinstance(value, bool):
            raise ConfigError(f"{where}: '{key}' must be true or false, got {value!r}")
        if hint is str and not isinstance(value, str):
            value = str(value)
        if origin is list and not isinstance(value, list):
            raise ConfigError(f"{where}: '{key}' must be a list, got {value!r}")
        out[key] = value
    return out


def build_config(
    config_type: type[ConfigT],
    *,
    preset_values: Mapping[str, Any] | None = None,
    yaml_path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ConfigT:
    """Merge preset < YAML file < flags into a `config_type` instance.

    `overrides` holds flag values; `None` means "flag not given" and is skipped.
    """
    values: dict[str, Any] = {}
    if preset_values:
        values.update(preset_values)
    if yaml_path is not None:
        from_file = read_yaml_mapping(yaml_path)
        check_known_keys(from_file, config_type, str(yaml_path))
        values.update(_coerce(config_type, from_file, str(yaml_path)))
    if overrides:
        given = {k: v for k, v in overrides.items() if v is not None}
        check_known_keys(given, config_type, "command line")
        values.update(given)
    try:
        return config_type(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON/YAML-friendly dict of a config dataclass (paths become strings)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, (list, tuple)):
            value = [str(v) if isinstance(v, Path) else v for v in value]
        out[f.name] = value
    return out
