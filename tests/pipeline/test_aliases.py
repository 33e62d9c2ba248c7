"""Alias targets: link and redirect targets in the alias table's normal form, articles only."""

from __future__ import annotations

import pytest

from memtrain_data.pipeline.aliases import article_target, normalize_target


@pytest.mark.parametrize(
    ("written", "title"),
    [
        ("Ayn_Rand", "Ayn Rand"),
        ("iPod", "IPod"),
        ("Ayn Rand#Early life", "Ayn Rand"),
        ("  United   States ", "United States"),
        ("AT&amp;T", "AT&T"),
        ("#History", ""),
    ],
)
def test_targets_are_normalized_as_titles(written: str, title: str) -> None:
    assert normalize_target(written) == title


@pytest.mark.parametrize(
    "written",
    [
        "File:Apollo 8.jpg",
        "Category:Moons",
        ":Category:Moons",
        "wikt:dog",
        "de:Hund",
        "Wikipedia:Manual of Style",
        "s:Text",
        "#History",
    ],
)
def test_links_outside_the_articles_of_this_wiki_have_no_target(written: str) -> None:
    assert article_target(written) is None


@pytest.mark.parametrize(
    ("written", "title"),
    [
        ("Star Trek: The Next Generation", "Star Trek: The Next Generation"),
        (":Moon", "Moon"),
        ("Apollo 8", "Apollo 8"),
        ("MIT: A history", "MIT: A history"),
    ],
)
def test_article_titles_with_a_colon_are_articles(written: str, title: str) -> None:
    assert article_target(written) == title
