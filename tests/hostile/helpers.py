"""Shared helpers of the hostile-input tests: the CLI in-process, and one-line error checks."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

WIDE = {"COLUMNS": "400"}


def run_cli(*args: str | Path) -> Result:
    """`memtrain ARGS` in this process, with a terminal wide enough for one-line errors."""
    import memtrain_cli.app

    return CliRunner().invoke(memtrain_cli.app.app, [str(arg) for arg in args], env=WIDE)


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit 2, a single `error:` line holding every fragment, and no traceback or "internal error"."""
    output = result.output
    assert result.exit_code == 2, f"exit {result.exit_code}:\n{output}"
    assert "Traceback" not in output and "internal error" not in output, output
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in: {lines[0]}"
    return lines[0]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (to show a folder was left untouched)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
