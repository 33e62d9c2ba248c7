"""`extract_boxed`: the last complete \\boxed{...}, nested braces kept, None when missing."""

from __future__ import annotations

import pytest

from memtrain_data.agent.answers import extract_boxed, strip_thinking


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\fbox{Paris}", "Paris"),
        ("\\boxed{Lyon} then \\fbox{Paris}", "Paris"),
        ("\\fbox{Lyon} then \\boxed{Paris}", "Paris"),
        ("So $\\boxed 1889$.", "1889"),
        ("\\boxed Ed Wood", "Ed Wood"),
        ("<think>maybe \\boxed{Lyon}</think> \\boxed{Paris}", "Paris"),
        ("<think>only \\boxed{Lyon} while thinking</think> no box after", None),
        ("<think>a</think><think>b \\boxed{x}</think>\\boxed{y}", "y"),
    ],
)
def test_memagent_forms_and_thinking(text: str, expected: str | None) -> None:
    """MemAgent's extraction: also \\fbox{} and `\\boxed x`, and only the text after </think>."""
    assert extract_boxed(text) == expected


def test_strip_thinking() -> None:
    assert strip_thinking("<think>plan</think>\n Memory: Paris") == "Memory: Paris"
    assert strip_thinking("no thoughts") == "no thoughts"


def test_a_reply_with_nothing_after_thinking_is_read_whole() -> None:
    """MemAgent falls back to the whole reply when the text after </think> is empty."""
    assert extract_boxed("<think>so \\boxed{Paris}</think>  ") == "Paris"
