"""`first_line`: what a one-line error quotes of a library's complaint."""

from __future__ import annotations

import pytest

from memtrain_data.errors import first_line


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ValueError("bad value\n  at line 3\n"), "bad value"),
        (ValueError("\n\n  indented first line\nsecond"), "indented first line"),
        (ValueError(""), "ValueError"),
        (KeyError(), "KeyError"),
        (b"sbatch: error: invalid partition\nmore", "sbatch: error: invalid partition"),
        (b"\xff\xfe broken bytes", "\ufffd\ufffd broken bytes"),
        ("  text  ", "text"),
        ("", ""),
        (None, ""),
    ],
)
def test_the_first_non_blank_line_or_the_type_name(error: object, expected: str) -> None:
    assert first_line(error) == expected  # type: ignore[arg-type]


def test_a_blank_message_can_name_its_own_placeholder() -> None:
    assert first_line(OSError(""), empty="") == ""
    assert first_line(b"  \n", empty="no output") == "no output"
    assert first_line(ValueError("said something"), empty="no output") == "said something"
