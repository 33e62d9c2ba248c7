"""clean_page's links for the alias table: visible article links with their anchor as it reads."""

from __future__ import annotations

from memtrain_data.pipeline.extractors.wikitext import (
    clean_page,
)

# --------------------------------------------------------------------------- links for the alias table


def test_visible_links_are_listed_with_their_anchor_as_it_reads() -> None:
    page = clean_page(
        "A [[Canada|Canadian]] novel by [[Ayn Rand|Rand]], with [[dog]]s and [[United_States#History|''the'' US]]. "
        "[[Tarn (river)|]] flows. See [[#Later life|below]]."
    )
    assert page.text == "A Canadian novel by Rand, with dogs and the US. Tarn flows. See below."
    assert page.links == [
        ("Canada", "Canadian"), ("Ayn Rand", "Rand"), ("Dog", "dogs"), ("United States", "the US"), ("Tarn (river)", "Tarn"),
    ]  # fmt: skip


def test_links_to_other_namespaces_and_wikis_and_in_dropped_parts_are_not_listed() -> None:
    page = clean_page(
        "The [[Moon]] orbits.[[File:Moon.jpg|thumb|The [[Moon]] seen from [[Earth]]]] "
        "[[wikt:orbit|Orbit]] and [[:Category:Moons|moons]].<ref>[[Luna]]</ref>{{Infobox|x=[[Sun]]}}\n"
        "[[Category:Moons]]\n[[de:Mond]]\n\n== See also ==\n* [[Lunar phase]]"
    )
    assert page.links == [("Moon", "Moon")]


def test_link_trails_and_links_rendered_by_the_parser_keep_their_anchor() -> None:
    page = clean_page("Two [[Star Trek: The Next Generation|''TNG'']]s and {{nowrap|[[New York City]]}}, and [[Boston|  the hub  ]].")
    assert page.text == "Two TNGs and New York City, and the hub."
    assert page.links == [("Star Trek: The Next Generation", "TNGs"), ("New York City", "New York City"), ("Boston", "the hub")]


def test_a_link_shown_over_two_lines_is_not_listed() -> None:
    page = clean_page("[[Carnus (seer)|Carnus<br>the seer]] and [[Clarus]] were sons.")
    assert page.text == "Carnus\nthe seer and Clarus were sons."
    assert page.links == [("Clarus", "Clarus")]


def test_every_anchor_reads_in_the_clean_text() -> None:
    page = clean_page("'''Tarnvik''' ([[Norwegian language|Norwegian]]: ''Tarnvik'') lies on the [[Sela]]&nbsp;[[river]]s.")
    for _, anchor in page.links:
        assert anchor in page.text
    assert page.links == [("Norwegian language", "Norwegian"), ("Sela", "Sela"), ("River", "rivers")]
