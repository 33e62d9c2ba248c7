"""`memtrain build-dataset` as far as the passage pool: bad input ends with one line, a build writes and resumes the pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from memtrain_cli.app import app
from tests.pipeline.readers.dump_factory import article_pages, write_dump

runner = CliRunner()


def build(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["build-dataset", *args])
    return result.exit_code, result.output


def assert_one_line_error(output: str, *fragments: str) -> None:
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    joined = " ".join(output.split())  # rich may wrap a long message over several lines
    for fragment in fragments:
        assert fragment in joined, output
    assert "Traceback" not in output


def test_a_missing_dump_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "enwiki-latest.xml.bz2"
    code, output = build("--dump", str(missing), "--output", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(output, str(missing), "no such file or folder")
    assert not (tmp_path / "out" / "pool").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.xml.bz2", b"", "the file is empty"),
        ("notes.xml", b"just some notes\n", "not a MediaWiki XML dump"),
        ("piece.xml", "".join(article_pages(2)).encode(), "bare <page>"),
    ],
)
def test_a_file_that_cannot_be_read_as_a_dump_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = write_dump(tmp_path / name, content) if content else tmp_path / name
    path.touch()
    code, output = build("--dump", str(path), "--output", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(output, name, message)


@pytest.mark.slow
def test_the_default_build_writes_the_pool_shows_its_counters_and_resumes(tmp_path: Path) -> None:
    output = tmp_path / "out"
    code, first = build("--output", str(output), "--num-episodes", "6")
    assert code == 0, first
    assert "pool input: the bundled sample wiki" in first
    assert (output / "pool" / "passages-00000-of-00001.parquet").is_file()
    for counter in ("pages read", "redirects dropped", "passages written", "episodes: config 'mini'"):
        assert counter in first
    code, second = build("--output", str(output), "--num-episodes", "6")
    assert code == 0, second
    assert "1 of 1 pool tasks already complete, skipped" in second
