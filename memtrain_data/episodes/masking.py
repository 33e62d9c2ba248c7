"""Replacing every occurrence of an entity (and its aliases) with a placeholder.

Matching is case-insensitive and on word boundaries: "Paris" masks "PARIS" and "Paris-based"
(as "[MASK]-based") but never the inside of "Parisian". Whitespace inside a multi-word entity
matches any run of whitespace, so a line break in the text does not hide an occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def _alternative(surface: str) -> str:
    return r"\s+".join(re.escape(word) for word in surface.split())


@lru_cache(maxsize=4096)
def _compiled(surfaces: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "Barack Obama" is taken whole before "Obama" could match inside it.
    ordered = sorted({s for s in surfaces if s.strip()}, key=lambda s: (-len(s), s))
    body = "|".join(_alternative(s) for s in ordered)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def occurrence_pattern(surfaces: Iterable[str]) -> re.Pattern[str]:
    """A regex matching any of `surfaces` case-insensitively on word boundaries."""
    cleaned = tuple(s for s in surfaces if s.strip())
    if not cleaned:
        raise ValueError("occurrence_pattern needs at least one non-blank string")
    return _compiled(cleaned)


def mask_occurrences(text: str, surfaces: Iterable[str], placeholder: str) -> tuple[str, int]:
    """`text` with every occurrence of any of `surfaces` replaced by `placeholder`, and the count."""
    return occurrence_pattern(surfaces).subn(placeholder, text)


def count_occurrences(text: str, surfaces: Iterable[str]) -> int:
    """How many times any of `surfaces` occurs in `text` (same matching as masking)."""
    return sum(1 for _ in occurrence_pattern(surfaces).finditer(text))


def contains_any(text: str, surfaces: Iterable[str]) -> bool:
    """Whether any of `surfaces` still occurs in `text`: the leakage test."""
    return occurrence_pattern(surfaces).search(text) is not None
