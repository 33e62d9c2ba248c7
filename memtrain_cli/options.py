"""Typer options generated from a config dataclass's fields: a setting is declared once.

`settings_options(Config)` decorates a command `def command(flags, *, own options...)`: every
setting of `Config` (its parts' fields included, see `memtrain_data.config.settings_fields`)
becomes `--kebab-name` with the field's type, help, panel and aliases, and the command receives
`flags`, the settings the user actually gave on the command line (to lay over its YAML file).
Options that are not settings (`--config`, `--overwrite`) stay in the command's own signature.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from memtrain_data.config import SettingField, settings_fields

F = TypeVar("F", bound=Callable[..., Any])


# train's `grpo` holds trl.GRPOConfig's fields, given one by one (`--learning-rate 1e-6`), not as one flag.
TRAIN_NOT_FLAGS = ("grpo",)


def flag_name(name: str) -> str:
    """The option of setting `name`: `chunk_tokens` → `--chunk-tokens`."""
    return "--" + name.replace("_", "-")


def _without_none(annotation: Any) -> Any:
    """`int | None` → `int`: every generated option is optional, unset meaning "not given"."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kept = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return kept[0] if len(kept) == 1 else annotation
    return annotation


def setting_parameter(setting: SettingField) -> inspect.Parameter:
    """The keyword parameter typer reads as the option of `setting`."""
    kind = _without_none(setting.annotation)
    names = [flag_name(setting.name), *setting.aliases]
    if kind is bool:
        names = [f"{flag_name(setting.name)}/--no-{setting.name.replace('_', '-')}", *setting.aliases]
    option = typer.Option(
        *names,
        help=setting.help,
        rich_help_panel=setting.panel,
        hidden=setting.hidden,
        # Not the dataclass default: a preset or the YAML file may set it, and --help cannot know which.
        show_default=False,
    )
    return inspect.Parameter(
        setting.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind | None, option]
    )


def settings_options(config_type: type, *, panel: str = "Options", exclude: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Give a command one option per setting of `config_type`; it receives the given ones as `flags`.

    `exclude` names settings that are no flag (train's `grpo` mapping: its keys pass through).
    """
    settings = [setting for setting in settings_fields(config_type, panel=panel) if setting.name not in exclude]
    generated = [setting_parameter(setting) for setting in settings]
    names = {setting.name for setting in settings}

    def decorate(command: F) -> F:
        hints = typing.get_type_hints(command, include_extras=True)
        own = [
            parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
            for parameter in list(inspect.signature(command).parameters.values())[1:]
        ]
        clash = names & {parameter.name for parameter in own}
        if clash:
            raise TypeError(f"{command.__name__}: {sorted(clash)} are settings of {config_type.__name__}")

        @functools.wraps(command)
        def wrapper(**given: Any) -> Any:
            flags = {name: given.pop(name) for name in list(given) if name in names}
            # Typer gives an unset option as None and an unset repeatable one as an empty list.
            flags = {name: value for name, value in flags.items() if value is not None and value != []}
            return command(flags, **given)

        parameters = [*own, *generated]
        del wrapper.__wrapped__  # typer must read the generated signature, not the command's
        wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        return typing.cast(F, wrapper)

    return decorate


def _default_text(setting: SettingField) -> str:
    default = setting.default
    if default is None or default == []:
        return "—"
    if isinstance(default, list):
        return ", ".join(map(str, default))
    return str(default).lower() if isinstance(default, bool) else str(default)


def settings_reference(config_type: type, title: str, *, panel: str = "Options", exclude: tuple[str, ...] = ()) -> str:
    """A Markdown table per panel of `config_type`'s settings: YAML key, flag, default, meaning."""
    by_panel: dict[str, list[SettingField]] = {}
    for setting in settings_fields(config_type, panel=panel):
        if not setting.hidden and setting.name not in exclude:
            by_panel.setdefault(setting.panel, []).append(setting)
    lines = [f"## {title}", ""]
    for name, settings in by_panel.items():
        lines += [f"### {name}", "", "| YAML key | flag | default | meaning |", "|---|---|---|---|"]
        for setting in settings:
            flags = ", ".join(f"`{flag}`" for flag in (flag_name(setting.name), *setting.aliases))
            meaning = setting.help.replace("|", "\\|")
            lines.append(f"| `{setting.name}` | {flags} | {_default_text(setting).replace('|', chr(92) + '|')} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def settings_document() -> str:
    """docs/SETTINGS.md: every setting of build-dataset, eval and train, from the config fields."""
    from memtrain_data.build_config import BuildConfig
    from memtrain_data.eval.config import EvalConfig
    from memtrain_data.train.config import MemTrainConfig

    return "\n".join(
        [
            "# Settings",
            "",
            "Generated from the config dataclasses (`python -m memtrain_cli.options > docs/SETTINGS.md`); a test",
            "checks it is current. Every setting is a YAML key of `--config` and a flag; flags override the",
            "file. Defaults are the dataclasses'; a build's `--preset` sets its own before the file and flags.",
            "",
            settings_reference(BuildConfig, "memtrain build-dataset"),
            settings_reference(EvalConfig, "memtrain eval"),
            settings_reference(MemTrainConfig, "memtrain train", exclude=TRAIN_NOT_FLAGS),
            "Any `trl.GRPOConfig` field follows as `--field value` or sits in the YAML file, e.g.",
            "`--learning-rate 1e-6 --beta 0.001`; `--output-dir`/`-o`, `--max-steps` and `--use-vllm` are named",
            "options of `memtrain train`.",
            "",
        ]
    )


if __name__ == "__main__":
    print(settings_document(), end="")
