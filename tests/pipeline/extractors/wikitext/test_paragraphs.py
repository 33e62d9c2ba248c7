"""Paragraph assembly: paragraphs, list structure, lead-ins and sections; the bundled sample wiki cleans clean."""

from __future__ import annotations

import pytest

from memtrain_data.pipeline.extractors.wikitext import (
    clean_page,
    clean_wikitext,
)

# --------------------------------------------------------------------------- paragraphs


def test_a_line_that_began_with_a_removed_template_loses_its_orphan_punctuation() -> None:
    wikitext = "* {{Citation |title=On light |year=1905}}. First of a series.\n\n{{sfn|Hollis|1998}}, and so on.\n\n...and more."
    assert clean_wikitext(wikitext) == "First of a series.\n\nand so on.\n\n...and more."


def test_headings_are_paragraph_boundaries_and_not_text() -> None:
    wikitext = "Lead paragraph.\n== History ==\nFirst history paragraph\nwraps here.\n\nSecond one.\n=== Early ===\nEarly days."
    assert clean_wikitext(wikitext) == (
        "Lead paragraph.\n\nFirst history paragraph wraps here.\n\nSecond one.\n\nEarly days."
    )


def test_list_items_stay_one_per_line_within_a_paragraph() -> None:
    wikitext = "Products:\n* Iron spans of the [[King Aldric Bridge]]\n** Boilers\n# Lanterns\n; Term\n: Definition\n\nAfter."
    assert clean_wikitext(wikitext) == (
        "Products:\nIron spans of the King Aldric Bridge\nBoilers\nLanterns\nTerm\nDefinition\n\nAfter."
    )


# --------------------------------------------------------------------------- list structure
# Items of a list keep a separator, so the names of adjacent items never run together
# ("Carnus Clarus Hippolytus of Sicyon" once reached an episode, and a mask covered half a name).


@pytest.mark.parametrize("line_break", ["<br>", "<br/>", "<br />", "</br>", "<BR>", '<br clear="all">', "<br/ >"])
def test_a_line_break_starts_a_new_line(line_break: str) -> None:
    wikitext = f"The sons were [[Carnus]]{line_break}[[Clarus]]{line_break}Hippolytus of Sicyon."
    assert clean_wikitext(wikitext) == "The sons were Carnus\nClarus\nHippolytus of Sicyon."


def test_a_line_wrapped_after_a_line_break_joins_the_line_after_the_break() -> None:
    assert clean_wikitext("Carnus<br>\nClarus, son\nof Apollo") == "Carnus\nClarus, son of Apollo"


def test_a_line_break_in_a_template_argument_becomes_a_semicolon() -> None:
    assert clean_wikitext("Sons: {{nowrap|Carnus<br>Clarus}}.") == "Sons: Carnus; Clarus."


@pytest.mark.parametrize(
    "wikitext",
    [
        "{{hlist|[[Carnus]]|[[Clarus]]|Hippolytus of Sicyon}}",
        "{{ubl|[[Carnus]]|[[Clarus]]|Hippolytus of Sicyon}}",
        "{{ubl|[[Carnus]]<br />[[Clarus]]|Hippolytus of Sicyon}}",
        "{{plainlist|\n* [[Carnus]]\n* [[Clarus]]\n* Hippolytus of Sicyon\n}}",
        "{{flatlist|\n* [[Carnus]]\n* [[Clarus]]\n* Hippolytus of Sicyon\n}}",
    ],
)
def test_list_templates_separate_their_items_however_they_are_written(wikitext: str) -> None:
    assert clean_wikitext(f"His sons were {wikitext}.") == "His sons were Carnus, Clarus, Hippolytus of Sicyon."


@pytest.mark.parametrize(
    "wikitext",
    [
        "<ul><li>[[Carnus]]</li><li>[[Clarus]]</li><li>Hippolytus of Sicyon</li></ul>",
        "<ol>\n<li>[[Carnus]]</li>\n<li>[[Clarus]]</li>\n<li>Hippolytus of Sicyon</li>\n</ol>",
        "<li>[[Carnus]]<li>[[Clarus]]<li>Hippolytus of Sicyon",
        "<div>[[Carnus]]</div><div>[[Clarus]]</div><p>Hippolytus of Sicyon</p>",
        "<center>[[Carnus]]</center><center>[[Clarus]]</center>Hippolytus of Sicyon",
    ],
)
def test_html_list_items_and_blocks_start_a_line(wikitext: str) -> None:
    assert clean_wikitext(f"Sons:{wikitext}") == "Sons:\nCarnus\nClarus\nHippolytus of Sicyon"


def test_each_line_of_a_poem_stays_a_line_and_stanzas_stay_paragraphs() -> None:
    wikitext = "<poem>O beautiful for spacious skies,\nFor amber waves of grain,\n\nAmerica! America!</poem>"
    assert clean_wikitext(wikitext) == "O beautiful for spacious skies,\nFor amber waves of grain,\n\nAmerica! America!"


def test_a_bullet_template_between_items_is_shown() -> None:
    assert clean_wikitext("[[Carnus]]{{•}}[[Clarus]]{{bull}}Hippolytus") == "Carnus • Clarus • Hippolytus"


def test_definition_list_terms_and_definitions_stay_one_per_line() -> None:
    wikitext = ";[[Carnus]]\n:a seer of Acarnania\n; [[Clarus]] : son of Apollo"
    assert clean_wikitext(wikitext) == "Carnus\na seer of Acarnania\nClarus: son of Apollo"


def test_pages_with_nothing_readable_clean_to_an_empty_string() -> None:
    assert clean_wikitext("{{Infobox person\n| name = X\n}}\n[[Category:People]]\n[[File:X.jpg|thumb|X]]") == ""


def test_nul_characters_do_not_cut_the_page_short() -> None:
    assert clean_wikitext("Tarnvik\x00 is a town.") == "Tarnvik is a town."


def test_bundled_sample_wiki_cleans_without_residue(sample_wiki_pages: list[tuple[str, str]]) -> None:
    for title, wikitext in sample_wiki_pages:
        text = clean_wikitext(wikitext, title)
        assert text, title
        for residue in ("{{", "}}", "[[", "]]", "<ref", "&lt;", "&amp;", "&nbsp;", "thumb|", "File:", "|", "=="):
            assert residue not in text, (title, residue)


@pytest.fixture(scope="module")
def sample_wiki_pages() -> list[tuple[str, str]]:
    import xml.etree.ElementTree as ElementTree

    from memtrain_data.resources import sample_wiki_path

    root = ElementTree.parse(sample_wiki_path()).getroot()
    pages = []
    for page in root.iter("{*}page"):
        if page.findtext("{*}ns") == "0" and page.find("{*}redirect") is None:
            pages.append((page.findtext("{*}title") or "", page.findtext("{*}revision/{*}text") or ""))
    return pages


# --------------------------------------------------------------------------- lead-ins and sections


def test_a_lead_in_whose_content_was_removed_is_dropped() -> None:
    table = "{|\n! City !! Population\n|-\n| Oran || 1,000,000\n|}"
    wikitext = (
        f"Algeria has many cities. The largest are:\n{table}\nAfter independence, they grew.\n\n"
        "Its provinces are:\n{{Provinces of Algeria}}\n\n== Culture ==\nModern literature is rich."
    )
    assert clean_wikitext(wikitext) == "Algeria has many cities. After independence, they grew.\n\nModern literature is rich."


def test_a_lead_in_followed_by_its_list_or_quote_is_kept() -> None:
    wikitext = "The parishes are:\n* Canillo\n* Encamp\n\nIn it, he writes:\n\n<blockquote>Alms are the fruits of a gift.</blockquote>"
    assert clean_wikitext(wikitext) == "The parishes are:\nCanillo\nEncamp\n\nIn it, he writes:\n\nAlms are the fruits of a gift."


def test_sections_are_reported_as_the_paragraphs_that_open_them() -> None:
    page = clean_page("Lead one.\n\nLead two.\n\n== History ==\nOld.\n=== Early ===\nOlder.\n\nOldest.\n\n== Notes ==\n{{reflist}}")
    assert page.text.split("\n\n") == ["Lead one.", "Lead two.", "Old.", "Older.", "Oldest."]
    assert page.section_starts == [2, 3]
