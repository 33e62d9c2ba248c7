"""The CLI: every command has help, start-up stays light, errors are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memtrain_cli._common import new_app
from memtrain_cli.app import app
from memtrain_data.errors import InputError

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [[], ["build-dataset"], ["schema"], ["validate"], ["inspect"], ["push"], ["eval"], ["eval", "plot"], ["train"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from memtrain_cli.app import app; "
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'spacy', 'datasets', 'datatrove') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_user_errors_are_one_line_with_exit_code_2() -> None:
    demo = new_app()

    @demo.command()
    def fail() -> None:
        """Fails like bad input does."""
        raise InputError("dump not found: /nowhere.xml.bz2")

    @demo.command()
    def other() -> None:
        """A second command so typer keeps subcommands."""

    result = runner.invoke(demo, ["fail"])
    assert result.exit_code == 2
    assert "error: dump not found: /nowhere.xml.bz2" in result.output
    assert "Traceback" not in result.output


def test_unexpected_exceptions_are_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMTRAIN_DEBUG", raising=False)
    demo = new_app()

    @demo.command()
    def crash() -> None:
        """Has a bug."""
        raise ZeroDivisionError("division by zero")

    @demo.command()
    def other() -> None:
        """A second command so typer keeps subcommands."""

    result = runner.invoke(demo, ["crash"])
    assert result.exit_code == 1
    assert "internal error: ZeroDivisionError: division by zero" in result.output
    assert "MEMTRAIN_DEBUG=1" in result.output


def test_schema_command_writes_and_checks(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "masked_reconstruction_episode.schema.json").is_file()
    assert runner.invoke(app, ["schema", "--output", str(tmp_path), "--check"]).exit_code == 0
    (tmp_path / "passage.schema.json").write_text("{}")
    stale = runner.invoke(app, ["schema", "--output", str(tmp_path), "--check"])
    assert stale.exit_code == 1
    assert "passage.schema.json" in stale.output


def test_build_dataset_rejects_a_typod_config_key(tmp_path: Path) -> None:
    config = tmp_path / "build.yaml"
    config.write_text("num_episode: 3\n")
    result = runner.invoke(app, ["build-dataset", "--output", str(tmp_path / "out"), "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown key 'num_episode' (did you mean 'num_episodes'?)" in result.output


def test_module_entry_point_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "memtrain_cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "build-dataset" in out.stdout
