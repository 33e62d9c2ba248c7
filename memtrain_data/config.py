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

from memtrain_data.errors import ConfigError, first_line

ConfigT = TypeVar("ConfigT")


def config_field(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    panel: str | None = None,
    aliases: tuple[str, ...] = (),
    hidden: bool = False,
    **kwargs: Any,
) -> Any:
    """A dataclass field with its help text in the metadata: the one place a setting is declared.

    `panel` groups the flag in `--help` (default: the panel of the part holding it), `aliases`
    are extra flag names such as "-o", `hidden` keeps the field off the command line.
    """
    metadata = {"help": help, "panel": panel, "aliases": tuple(aliases), "hidden": hidden}
    if isinstance(default, (list, dict, set)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def settings_part(part_type: type, *, panel: str) -> Any:
    """A field holding one stage's settings (a dataclass of its own): flattened in YAML and flags.

    Users write `chunk_tokens: 512`, not `episodes: {chunk_tokens: 512}`; the flat names of all
    parts of one config are unique.
    """
    return dataclasses.field(default_factory=part_type, metadata={"part": True, "panel": panel})


@dataclasses.dataclass(frozen=True)
class SettingField:
    """One setting as users see it: its flat name (YAML key, `--flag-name`) and where it lives."""

    name: str
    annotation: Any
    default: Any
    help: str
    panel: str
    aliases: tuple[str, ...]
    hidden: bool
    part: str | None  # attribute holding the part's dataclass; None for a field of the config itself
    owner: type  # the dataclass that declares the field


def _is_part(f: dataclasses.Field[Any]) -> bool:
    return bool(f.metadata.get("part"))


def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def settings_fields(config_type: type, *, panel: str = "Options") -> list[SettingField]:
    """Every setting of `config_type`, parts flattened in declaration order."""
    hints = typing.get_type_hints(config_type)
    out: list[SettingField] = []
    for f in dataclasses.fields(config_type):
        if _is_part(f):
            part_type = hints[f.name]
            for inner in settings_fields(part_type, panel=str(f.metadata["panel"])):
                out.append(dataclasses.replace(inner, part=f.name))
            continue
        out.append(
            SettingField(
                name=f.name,
                annotation=hints[f.name],
                default=_field_default(f),
                help=str(f.metadata.get("help", "")),
                panel=str(f.metadata.get("panel") or panel),
                aliases=tuple(f.metadata.get("aliases", ())),
                hidden=bool(f.metadata.get("hidden", False)),
                part=None,
                owner=config_type,
            )
        )
    return out


def field_names(config_type: type) -> list[str]:
    """The flat names of a config's settings (its parts' fields included)."""
    return [f.name for f in settings_fields(config_type)]


def field_help(config_type: type, name: str) -> str:
    for f in settings_fields(config_type):
        if f.name == name:
            return f.help
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
        raise ConfigError(f"{path}: not valid YAML ({first_line(exc)})") from None
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
    hints = {f.name: f.annotation for f in settings_fields(config_type)}
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
        return assemble(config_type, values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def assemble(config_type: type[ConfigT], values: Mapping[str, Any]) -> ConfigT:
    """Build `config_type` from flat values: each part's keys go to that part's dataclass."""
    hints = typing.get_type_hints(config_type)
    own: dict[str, Any] = {}
    routed: set[str] = set()
    for f in dataclasses.fields(config_type):
        if _is_part(f):
            part_type = hints[f.name]
            part_names = set(field_names(part_type))
            own[f.name] = assemble(part_type, {k: v for k, v in values.items() if k in part_names})
            routed |= part_names
    own.update({k: v for k, v in values.items() if k not in routed})
    return config_type(**own)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A flat JSON/YAML-friendly dict of a config dataclass, parts flattened (paths become strings)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if _is_part(f):
            out.update(config_to_dict(value))
            continue
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, (list, tuple)):
            value = [str(v) if isinstance(v, Path) else v for v in value]
        out[f.name] = value
    return out
