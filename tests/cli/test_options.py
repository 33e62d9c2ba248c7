"""Options generated from the config fields: one declaration per setting, shown in its panel."""

from __future__ import annotations

import dataclasses
import enum
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import typer
from typer.testing import CliRunner

from memtrain_cli.app import app
from memtrain_cli.options import TRAIN_NOT_FLAGS, flag_name, settings_document, settings_options
from memtrain_data.build_config import BuildConfig
from memtrain_data.config import config_field, settings_fields
from memtrain_data.eval.config import EvalConfig
from memtrain_data.train.config import MemTrainConfig

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
SETTINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "SETTINGS.md"


def help_panels(command: list[str]) -> dict[str, str]:
    result = runner.invoke(app, [*command, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return {panel.split(" ─", 1)[0]: panel for panel in result.output.split("╭─ ")[1:]}


@pytest.mark.parametrize(
    ("command", "config_type", "not_flags"),
    [(["build-dataset"], BuildConfig, ()), (["eval"], EvalConfig, ()), (["train"], MemTrainConfig, TRAIN_NOT_FLAGS)],
)
def test_every_setting_is_a_flag_in_its_panel_with_the_fields_help(command: list[str], config_type: type, not_flags: tuple[str, ...]) -> None:
    by_panel = help_panels(command)
    for setting in [s for s in settings_fields(config_type) if s.name not in not_flags]:
        assert setting.panel in by_panel, setting.panel
        assert flag_name(setting.name) in by_panel[setting.panel], (setting.name, setting.panel)
        assert " ".join(setting.help.split()[:3]) in " ".join(by_panel[setting.panel].replace("│", " ").split())


def test_build_settings_are_grouped_by_stage() -> None:
    assert {"Input and output", "Episodes", "Execution", "Passage pool", "Publishing"} <= set(help_panels(["build-dataset"]))


@pytest.fixture
def given_flags(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The flags build-dataset hands to the settings resolver (the build itself is not run)."""
    seen: dict[str, Any] = {}

    def capture(config: Path | None, flags: dict[str, Any]) -> BuildConfig:
        seen.update(flags, config=config)
        raise typer.Exit(0)

    monkeypatch.setattr("memtrain_data.build_config.resolve_build_config", capture)
    return seen


def test_only_the_flags_given_reach_the_settings(given_flags: dict[str, Any], tmp_path: Path) -> None:
    args = ["build-dataset", "-o", str(tmp_path / "out"), "--related-passages", "3", "--no-top-up-to-min-tokens",
            "--dump", "a.xml", "--dump", "b.xml", "--private", "--passage-size-spread", "1.5"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert given_flags == {
        "output": tmp_path / "out",
        "related_passages": 3,
        "top_up_to_min_tokens": False,
        "dump": ["a.xml", "b.xml"],
        "private": True,
        "passage_size_spread": 1.5,
        "config": None,
    }


def test_no_flag_given_leaves_every_setting_to_the_file_or_preset(given_flags: dict[str, Any]) -> None:
    result = runner.invoke(app, ["build-dataset"])
    assert result.exit_code == 0, result.output
    assert given_flags == {"config": None}


def test_eval_lists_take_commas_or_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def capture(config_type: type, *, yaml_path: Path | None, overrides: dict[str, Any]) -> EvalConfig:
        seen.update(overrides)
        settings = config_type(**overrides)
        raise typer.Exit(0) if settings else typer.Exit(1)

    monkeypatch.setattr("memtrain_data.config.build_config", capture)
    result = runner.invoke(app, ["eval", "--task", "ruler-hqa", "--lengths", "50,100", "--lengths", "7k", "--ids", "3,9", "--no-plot"])
    assert result.exit_code == 0, result.output
    assert seen == {"task": "ruler-hqa", "lengths": ["50,100", "7k"], "ids": ["3,9"], "plot": False}
    settings = EvalConfig(**seen)
    assert (settings.lengths, settings.ids, settings.plot) == (["50", "100", "7k"], ["3", "9"], False)


def test_a_wrong_type_is_a_usage_error() -> None:
    result = runner.invoke(app, ["build-dataset", "--related-passages", "many"], env=WIDE)
    assert result.exit_code == 2
    assert "Invalid value for '--related-passages'" in result.output


def test_the_settings_document_is_generated_from_the_fields() -> None:
    assert SETTINGS_DOC.read_text(encoding="utf-8") == settings_document(), (
        "docs/SETTINGS.md is stale: run python -m memtrain_cli.options > docs/SETTINGS.md"
    )


def _document_rows(title: str) -> dict[str, list[str]]:
    """The settings rows of one command's section of docs/SETTINGS.md, by YAML key: flags, default, meaning."""
    section = SETTINGS_DOC.read_text(encoding="utf-8").split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [re.split(r"(?<!\\)\|", line.strip().strip("|")) for line in section.splitlines() if line.startswith("| `")]
    return {row[0].strip().strip("`"): [cell.strip() for cell in row[1:]] for row in rows}


def _shown_default(default: Any) -> str:
    if default is None or default == []:
        return "—"
    if isinstance(default, bool):
        return str(default).lower()
    return ", ".join(map(str, default)) if isinstance(default, list) else str(default)


@pytest.mark.parametrize(
    ("title", "config_type", "not_flags"),
    [
        ("memtrain build-dataset", BuildConfig, ()),
        ("memtrain eval", EvalConfig, ()),
        ("memtrain train", MemTrainConfig, TRAIN_NOT_FLAGS),
    ],
)
def test_every_setting_has_a_row_with_its_flag_and_default(title: str, config_type: type, not_flags: tuple[str, ...]) -> None:
    rows = _document_rows(title)
    settings = [s for s in settings_fields(config_type) if s.name not in not_flags and not s.hidden]
    assert sorted(rows) == sorted(s.name for s in settings)  # grouped by panel there
    for setting in settings:
        flags, default, meaning = rows[setting.name]
        assert flags.split(", ")[0] == f"`{flag_name(setting.name)}`"
        assert default.replace("\\|", "|") == _shown_default(setting.default), setting.name
        assert meaning.replace("\\|", "|") == setting.help


def _readme_table(header: str) -> list[list[str]]:
    """The rows (cells stripped) of the README table whose header line starts with `header`."""
    lines = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_readme_preset_table_states_the_presets() -> None:
    from memtrain_data.build_config import PRESETS

    rows = {row[0].strip("`"): row[1:] for row in _readme_table("| preset |")}
    assert set(rows) == set(PRESETS)
    for name, values in PRESETS.items():
        passages, chunk_tokens, chunks, document_tokens, episodes = rows[name]
        numbers = [int(word) for word in passages.split() if word.isdigit()]
        assert numbers == [1, values["related_passages"], values["random_passages"]], name
        assert chunk_tokens == f"{values['chunk_tokens']:,}"
        assert chunks == f"≤ {values['max_chunks']}"
        assert document_tokens == f"{values['min_doc_tokens']:,}–{values['max_doc_tokens']:,}"
        assert episodes == f"{values['num_episodes']:,}"


def test_the_readme_protocol_table_states_the_protocols_and_the_tasks_defaults() -> None:
    from memtrain_data.agent.protocols import PROTOCOLS
    from memtrain_data.eval.registry import task_class, task_names

    rows = {row[0]: row[1:] for row in _readme_table("| | `memagent`")}
    for column, name in enumerate(("memagent", "memtrain")):
        protocol = PROTOCOLS[name]
        budgets = f"{protocol.chunk_tokens:,} / {protocol.memory_tokens:,} / {protocol.response_tokens:,} tokens"
        assert rows["chunk / memory / response"][column] == budgets
        decoding = rows["decoding"][column]
        if protocol.temperature == 0:
            assert decoding == "greedy"
        else:
            assert decoding.startswith(f"temperature {protocol.temperature}, top-p {protocol.top_p}")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    stated = readme.split("(`--protocol`; default ", 1)[1].split(";", 1)[0]  # "`memagent` for a and b, ..."
    by_task: dict[str, str] = {}
    for part in stated.replace("`", "").split(", "):
        protocol, tasks = part.split(" for ", 1)
        by_task |= dict.fromkeys(tasks.split(" and "), protocol)
    assert by_task == {name: task_class(name).default_protocol for name in task_names()}


class _Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class _Settings:
    mode: Literal["fast", "exact"] = config_field("fast", help="How to run.")
    color: _Color = config_field(_Color.RED, help="Which colour.")
    dry_run: bool = config_field(False, help="Only plan.", panel="Execution")
    output: str = config_field("out", help="Where to write.", aliases=("-o",))
    tags: list[str] = config_field([], help="Extra tags.")
    internal: int | None = config_field(None, help="Not for users.", hidden=True)


def test_a_field_becomes_its_typed_option() -> None:
    """Choices from Literal and Enum, --x/--no-x for bools, aliases, panels; only given flags reach the command."""
    command_app = typer.Typer(rich_markup_mode="rich")
    seen: list[dict[str, Any]] = []

    @command_app.command()
    @settings_options(_Settings)
    def command(flags: dict[str, Any], verbose: Annotated[bool, typer.Option("--verbose")] = False) -> None:
        seen.append({**flags, "verbose": verbose})

    output = runner.invoke(command_app, ["--help"], env=WIDE).output
    panels = {panel.split(" ─", 1)[0]: panel for panel in output.split("╭─ ")[1:]}
    assert "--dry-run" in panels["Execution"] and "--no-dry-run" in panels["Execution"]
    assert "<fast|exact>" in panels["Options"] and "<red|blue>" in panels["Options"]
    assert "-o" in panels["Options"] and "--verbose" in panels["Options"] and "--internal" not in output
    result = runner.invoke(command_app, ["--mode", "exact", "--color", "blue", "--dry-run", "-o", "x", "--tags", "a", "--tags", "b"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(command_app, ["--no-dry-run", "--verbose"])
    assert result.exit_code == 0, result.output
    assert seen == [
        {"mode": "exact", "color": _Color.BLUE, "dry_run": True, "output": "x", "tags": ["a", "b"], "verbose": False},
        {"dry_run": False, "verbose": True},
    ]
    result = runner.invoke(command_app, ["--mode", "slow"], env=WIDE)
    assert result.exit_code == 2 and "Invalid value for '--mode'" in result.output


def test_a_setting_named_like_a_command_option_is_refused() -> None:
    with pytest.raises(TypeError, match=r"\['output'\] are settings of _Settings"):

        @settings_options(_Settings)
        def command(flags: dict[str, Any], output: str = "") -> None: ...
