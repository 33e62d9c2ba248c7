from pathlib import Path

import pytest

from memtrain_data.episodes.aliases import (
    AliasTable,
    build_alias_index,
    display_title,
    is_word_run_of,
    names_several_pages,
    strip_the,
)
from memtrain_data.errors import InputError
from tests.episodes.pool_helpers import ALIASES, write_aliases


@pytest.fixture
def aliases(tmp_path: Path) -> AliasTable:
    write_aliases(tmp_path)
    build_alias_index(tmp_path, tmp_path / "index")
    return AliasTable.open(tmp_path / "index")


def test_shards_are_merged_with_counts_summed_and_redirect_chains_followed(tmp_path: Path) -> None:
    write_aliases(tmp_path, [*ALIASES, ("Canada", "Canadian", "anchor", 2)], shards=3)
    info = build_alias_index(tmp_path, tmp_path / "index")
    table = AliasTable.open(tmp_path / "index")
    assert info.shards == 3 and info.redirects == 5
    [canadian] = [row for row in table.rows_of_target("Canada") if row.alias == "Canadian"]
    assert canadian.count == 6 and canadian.alias_total == 7
    # U.S.A. → USA → United States: the chain ends at the page.
    assert [row.target for row in table.rows_of_alias("U.S.A.")] == ["United States"]


def test_an_answer_surface_is_resolved_to_the_page_it_names(aliases: AliasTable) -> None:
    assert aliases.resolve("United States") == "United States"  # a linked title
    assert aliases.resolve("USA") == "United States"  # a redirect
    assert aliases.resolve("Donau") == "Danube"
    assert aliases.resolve("Rand") == "Ayn Rand"  # an unambiguous anchor that is part of the name
    assert aliases.resolve("Canadian") is None  # a demonym names no page
    assert aliases.resolve("Mercury") is None  # an anchor split between two pages
    assert aliases.resolve("Nowhere Land") is None


def test_name_forms_score_and_related_forms_are_only_masked(aliases: AliasTable) -> None:
    us = aliases.forms("United States")
    assert us.names[0] == "United States" and {"USA", "U.S.A."} <= set(us.names)
    assert "American" in us.related and "American" not in us.names
    canada = aliases.forms("Canada")
    assert canada.names == ["Canada"] and canada.related == ["Canadian"]
    # "the Declaration" loses its "the"; lowercase anchors ("executive") are never forms.
    declaration = aliases.forms("United States Declaration of Independence")
    assert "Declaration of Independence" in declaration.names
    assert aliases.forms("Executive (government)").names == ["Executive"]
    assert all(form != "executive" for form in aliases.forms("Executive (government)").related)


def test_no_alias_shards_give_an_empty_table_that_resolves_nothing(tmp_path: Path) -> None:
    info = build_alias_index(tmp_path, tmp_path / "index")
    table = AliasTable.open(tmp_path / "index")
    assert info.rows == 0 and len(table) == 0
    assert table.resolve("Canada") is None and table.forms("Canada").names == ["Canada"]


def test_an_unreadable_shard_is_a_one_line_input_error(tmp_path: Path) -> None:
    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "aliases-00000-of-00001.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"cannot read the alias table .*aliases-00000-of-00001.parquet") as caught:
        build_alias_index(tmp_path, tmp_path / "index")
    assert "\n" not in str(caught.value)


def test_title_helpers() -> None:
    assert display_title("Mercury (planet)") == "Mercury" and display_title("The Beatles") == "Beatles"
    assert strip_the("the United States") == "United States" and strip_the("The") == "The"
    assert is_word_run_of("Rand", "Ayn Rand") and not is_word_run_of("Ran", "Ayn Rand")


AMBIGUOUS_ALIASES: list[tuple[str, str, str, int]] = [
    *ALIASES,
    ("Hippolytus (son of Theseus)", "Hippolytus", "anchor", 5),
    ("Hippolytus of Rome", "Hippolytus", "anchor", 4),
    ("Paris", "Paris", "anchor", 50),
    ("Paris, Texas", "Paris", "anchor", 3),
    ("Bonn", "Bonn", "anchor", 3),
    ("Bonn Zoo", "Bonn", "anchor", 1),
    # "Georgia" is a page of its own (a redirect leads there), and its anchor mostly links elsewhere.
    ("Georgia", "Georgia (disambiguation)", "redirect", 1),
    ("Georgia (country)", "Georgia", "anchor", 6),
]


@pytest.fixture
def ambiguous(tmp_path: Path) -> AliasTable:
    write_aliases(tmp_path, AMBIGUOUS_ALIASES)
    build_alias_index(tmp_path, tmp_path / "index")
    return AliasTable.open(tmp_path / "index")


def test_a_surface_linked_to_two_pages_names_several(ambiguous: AliasTable) -> None:
    assert names_several_pages(ambiguous, "Hippolytus")  # 5 and 4 links to two people
    assert names_several_pages(ambiguous, "Mercury")  # the planet and the element, 3 links each
    assert names_several_pages(ambiguous, "Georgia")  # a page title whose anchor links to another page


def test_a_dominant_or_single_page_is_not_ambiguous(ambiguous: AliasTable) -> None:
    assert not names_several_pages(ambiguous, "Paris")  # 3 of 53 links elsewhere: under the share
    assert not names_several_pages(ambiguous, "Bonn")  # 25% elsewhere, but one link: a slip
    assert not names_several_pages(ambiguous, "Obama")  # every link to one page
    assert not names_several_pages(ambiguous, "USA")  # a redirect
    assert not names_several_pages(ambiguous, "Canadian")  # 4 links and 1: one link is no second meaning
    assert not names_several_pages(ambiguous, "mercury")  # lowercase: an ordinary word
    assert not names_several_pages(ambiguous, "Nowhere Land")
    assert not names_several_pages(AliasTable.empty(), "Hippolytus")
