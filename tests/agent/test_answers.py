"""`extract_boxed`: the last complete \\boxed{...}, nested braces kept, None when missing."""

from __future__ import annotations

import pytest

from memtrain_data.agent.answers import extract_boxed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is \\boxed{Paris}.", "Paris"),
        ("\\boxed{ 1889 }", "1889"),
        ("\\boxed{\\text{New York}}", "\\text{New York}"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{{a}{b}}", "{a}{b}"),
        ("first \\boxed{Lyon} then \\boxed{Paris}", "Paris"),
        ("complete \\boxed{Lyon} then unclosed \\boxed{Par", "Lyon"),
        ("\\boxed{}", ""),
        ("no box at all", None),
        ("boxed{Paris} without the backslash", None),
        ("\\boxed{never closed", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_boxed(text: str | None, expected: str | None) -> None:
    assert extract_boxed(text) == expected
