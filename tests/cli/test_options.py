"""Options generated from the config fields: one declaration per setting, shown in its panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from memtrain_cli.app import app
from memtrain_cli.options import flag_name, settings_document
from memtrain_data.build_config import BuildConfig
from memtrain_data.config import settings_fields

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
SETTINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "SETTINGS.md"


def test_every_build_setting_is_a_flag_in_its_panel() -> None:
    result = runner.invoke(app, ["build-dataset", "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    panels = result.output.split("╭─ ")[1:]
    by_panel = {panel.split(" ─", 1)[0]: panel for panel in panels}
    for setting in settings_fields(BuildConfig):
        assert setting.panel in by_panel, setting.panel
        assert flag_name(setting.name) in by_panel[setting.panel], (setting.name, setting.panel)
        assert setting.help.split()[0] in by_panel[setting.panel]
    assert {"Input and output", "Episodes", "Execution", "Passage pool", "Publishing"} <= set(by_panel)


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


def test_a_wrong_type_is_a_usage_error() -> None:
    result = runner.invoke(app, ["build-dataset", "--related-passages", "many"], env=WIDE)
    assert result.exit_code == 2
    assert "Invalid value for '--related-passages'" in result.output


def test_the_settings_document_is_generated_from_the_fields() -> None:
    assert SETTINGS_DOC.read_text(encoding="utf-8") == settings_document(), (
        "docs/SETTINGS.md is stale: run python -m memtrain_cli.options > docs/SETTINGS.md"
    )
