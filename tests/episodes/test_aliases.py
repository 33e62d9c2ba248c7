from pathlib import Path

import pytest

from memtrain_data.episodes.aliases import (
    AliasTable,
    build_alias_index,
    display_title,
    is_word_run_of,
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
