"""Options generated from the config fields: one declaration per setting, shown in its panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from memtrain_cli.app import app
from memtrain_cli.options import TRAIN_NOT_FLAGS, flag_name, settings_document
from memtrain_data.build_config import BuildConfig
from memtrain_data.config import settings_fields
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
