"""What rendering keeps as text: links, external links, formatting, nowiki, entities, inline templates."""

from __future__ import annotations

from memtrain_data.pipeline.extractors.wikitext import (
    clean_wikitext,
)

# --------------------------------------------------------------------------- kept as text


def test_link_text_is_kept_for_every_link_form() -> None:
    wikitext = (
        "[[Sela River|The Sela]] meets the [[Ambrel River]] at [[Holmbury]]. "
        "Many [[steamboat]]s sailed on it. [[Tarnvik (town)|]] is at the mouth."
    )
    assert clean_wikitext(wikitext) == (
        "The Sela meets the Ambrel River at Holmbury. Many steamboats sailed on it. Tarnvik is at the mouth."
    )


def test_links_with_a_colon_keep_their_text_unless_hidden() -> None:
    wikitext = (
        "[[Star Wars: A New Hope]] was shown. A [[wikt:ford|ford]] is a crossing. "
        "See the [[:Category:Rivers|list of rivers]]. [[ABC: A film|The film]] ran."
    )
    assert clean_wikitext(wikitext) == (
        "Star Wars: A New Hope was shown. A ford is a crossing. See the list of rivers. The film ran."
    )


def test_external_links_keep_their_label_and_drop_bare_urls() -> None:
    wikitext = "The paper appears [https://courier.example.org online] at https://courier.example.org daily.[https://x.example.org]"
    assert clean_wikitext(wikitext) == "The paper appears online at daily."


def test_bold_and_italic_markup_is_removed_and_apostrophes_kept() -> None:
    wikitext = "'''Tarnvik''' is in ''Brenmark''. '''''The Courier''''' is read there. The '''town''''s harbour is deep."
    assert clean_wikitext(wikitext) == "Tarnvik is in Brenmark. The Courier is read there. The town's harbour is deep."


def test_formatting_tags_keep_their_content() -> None:
    wikitext = (
        '<span lang="cal">Estavèl</span> has <b>two</b> <i>banks</i>; H<sub>2</sub>O and x<sup>2</sup>, '
        "<small>small</small> <u>under</u> <abbr>abbr</abbr> <blockquote>a quote</blockquote>"
    )
    assert clean_wikitext(wikitext) == "Estavèl has two banks; H2O and x2, small under abbr a quote"


def test_nowiki_text_is_kept() -> None:
    assert clean_wikitext("The sign read <nowiki>'''closed'''</nowiki>.") == "The sign read '''closed'''."


def test_entities_are_decoded_with_no_escaped_residue() -> None:
    wikitext = "Vell &amp; Daughters made 2,400&nbsp;tonnes &ndash; 3 &lt; 4 &#233;t&eacute;"
    assert clean_wikitext(wikitext) == "Vell & Daughters made 2,400 tonnes – 3 < 4 été"


def test_inline_templates_that_stand_for_words_are_rendered() -> None:
    wikitext = (
        "The river is {{convert|212|km|mi}} long and {{cvt|5|to|7|m}} deep. "
        "It is called {{lang|cal|Sèla}} or {{lang-de|Sela}}. "
        "{{As of|2022}}, the port handled {{val|2.95|e=6|u=t}}. Marwood was born on {{birth date|1871|4|9|df=y}}; "
        "{{PAGENAME}} is {{nowrap|2,318 m}} high, a {{frac|1|2}} mile of it in {{chem|H|2|O}}."
    )
    assert clean_wikitext(wikitext, title="Mount Harrow") == (
        "The river is 212 km (132 mi) long and 5 to 7 m deep. It is called Sèla or Sela. "
        "As of 2022, the port handled 2.95×10^6 t. Marwood was born on 9 April 1871; "
        "Mount Harrow is 2,318 m high, a 1/2 mile of it in H2O."
    )


def test_gaps_left_by_removed_nodes_are_mended() -> None:
    wikitext = "'''Albert''' ({{IPAc-en|a|l}}; {{IPA-de|al}}, born 1879) was here .<ref>x</ref> A {{sfn|X|1}}, b ( {{efn|y}} ) c."
    assert clean_wikitext(wikitext) == "Albert (born 1879) was here. A, b c."
