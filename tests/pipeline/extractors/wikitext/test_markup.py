"""What the passes before parsing drop with its content: refs, templates, tables, files, comments, tags, back matter."""

from __future__ import annotations

import pytest

from memtrain_data.pipeline.extractors.wikitext import (
    clean_wikitext,
)

# --------------------------------------------------------------------------- dropped with content


def test_refs_and_named_refs_are_dropped() -> None:
    wikitext = (
        'Tarnvik lies on the Sela.<ref name="atlas">{{cite book |title=Atlas |year=2011}}</ref> '
        'It has a harbour.<ref name="atlas"/> It is old.<ref>Hollis 1998, p. 41.</ref>\n\n'
        "== References ==\n<references/>\n"
    )
    assert clean_wikitext(wikitext) == "Tarnvik lies on the Sela. It has a harbour. It is old."


def test_templates_infoboxes_and_navboxes_are_dropped() -> None:
    wikitext = (
        "{{Short description|Town}}\n{{Infobox settlement\n| name = Tarnvik\n| population = {{formatnum:48200}}\n}}\n"
        "'''Tarnvik''' is a town.{{citation needed|date=May 2024}}\n\n"
        "{{Navbox\n| list1 = [[Estavel]] · [[Holmbury]]\n}}\n{{DEFAULTSORT:Tarnvik}}"
    )
    assert clean_wikitext(wikitext) == "Tarnvik is a town."


def test_tables_are_dropped_including_nested_ones() -> None:
    wikitext = (
        "Cargo rose fast.\n"
        '{| class="wikitable"\n|+ Cargo\n! Year !! Tonnes\n|-\n| 1900 || 412,000\n|-\n'
        "|\n{|\n| nested || table\n|}\n|}\n"
        "The port grew."
    )
    assert clean_wikitext(wikitext) == "Cargo rose fast. The port grew."


def test_files_and_images_are_dropped_with_their_captions() -> None:
    wikitext = (
        "[[File:Tarnvik harbour.jpg|thumb|left|The harbour and the [[King Aldric Bridge]] in 1890]]\n"
        "[[Image:Map.png|200px|A map]]The harbour is deep.[[Media:Song.ogg]]"
    )
    assert clean_wikitext(wikitext) == "The harbour is deep."


def test_categories_and_interlanguage_links_are_dropped() -> None:
    wikitext = "Tarnvik is a town.\n\n[[Category:Towns in Brenmark]]\n[[de:Tarnvik]]\n[[fr:Tarnvik]]\n[[zh-min-nan:Tarnvik]]"
    assert clean_wikitext(wikitext) == "Tarnvik is a town."


def test_html_comments_are_dropped_even_when_unclosed() -> None:
    assert clean_wikitext("Tarnvik <!-- check this -->is a town.") == "Tarnvik is a town."
    assert clean_wikitext("Tarnvik is a town.<!-- the rest was never closed\n\nHidden.") == "Tarnvik is a town."


def test_behaviour_switches_are_dropped() -> None:
    assert clean_wikitext("__NOTOC__\nTarnvik is a town.__NOEDITSECTION__") == "Tarnvik is a town."


@pytest.mark.parametrize(
    "tag",
    ["gallery", "timeline", "imagemap", "score", "syntaxhighlight", "source", "pre", "includeonly", "graph"],
)
def test_non_prose_tags_are_dropped_with_their_content(tag: str) -> None:
    wikitext = f"The fair is old.<{tag} mode=packed>\nFile:Lantern.jpg|A lantern\nbar = 1\n</{tag}> It is held in October."
    assert clean_wikitext(wikitext) == "The fair is old. It is held in October."


def test_math_is_kept_as_its_tex_source() -> None:
    wikitext = r"The ratio is <math>\frac{a}{b}</math>, where <math>n = 2</math>. Then <math>\Big[[H^+]\Big]</math> holds."
    assert clean_wikitext(wikitext) == r"The ratio is \frac{a}{b}, where n = 2. Then \Big[ [H^+]\Big] holds."


def test_back_matter_sections_are_dropped_with_their_subsections() -> None:
    wikitext = (
        "Intro text of the article.\n\n== History ==\nFounded in 1604.\n\n"
        "== See also ==\n* [[Estavel]]\n\n== Notes ==\n{{notelist}}\n"
        "== References ==\n=== Sources ===\n* Hollis, ''Coast'', 1998.\n"
        "== Further reading ==\n* A book\n\n== Bibliography ==\n* Another\n\n"
        "== External links ==\n* [https://x.example.org Site]\n"
    )
    assert clean_wikitext(wikitext) == "Intro text of the article.\n\nFounded in 1604."


@pytest.mark.parametrize(
    "heading",
    ["Notes, references and sources", "General references", "Further reading and external links",
     "''Notes''", "Explanatory notes", "Works cited", "Other websites", "Related pages",
     "Editions", "Reference literature", "Etymological bibliography", "Primary sources", "Further information"],
)  # fmt: skip
def test_back_matter_is_recognised_by_its_words(heading: str) -> None:
    assert clean_wikitext(f"Intro.\n\n== {heading} ==\nHollis, 1998, p. 41.") == "Intro."


@pytest.mark.parametrize("heading", ["Works", "Literature", "Sources of the river", "History", "Publications"])
def test_sections_that_may_be_prose_are_kept(heading: str) -> None:
    assert clean_wikitext(f"Intro.\n\n== {heading} ==\nIt rises in the hills.") == "Intro.\n\nIt rises in the hills."


def test_only_back_matter_sections_are_dropped_not_what_follows() -> None:
    wikitext = "Intro.\n\n== See also ==\n* [[Estavel]]\n\n== Legacy ==\nThe bridge still stands."
    assert clean_wikitext(wikitext) == "Intro.\n\nThe bridge still stands."
