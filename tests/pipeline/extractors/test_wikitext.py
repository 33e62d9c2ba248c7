"""clean_wikitext and WikitextExtractor: the cleaning rules, one by one, and skip-and-count on bad pages."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from datatrove.data import Document
from datatrove.utils.logging import logger

from memtrain_data.pipeline.extractors import wikitext as wikitext_module
from memtrain_data.pipeline.extractors.wikitext import (
    CleanPage,
    PageTimeout,
    WikitextExtractor,
    clean_page,
    clean_wikitext,
    time_limit,
)

# '{{a|' repeated: unclosed templates make mwparserfromhell's tokenizer backtrack (cubic time).
# 1,500 of them take about 5 s to parse on one core; 300 take about 0.1 s.
PATHOLOGICAL_SLOW_PAGE = "{{a|" * 1500
PATHOLOGICAL_SHORT_PAGE = "{{a|" * 300


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


# --------------------------------------------------------------------------- time limit

needs_alarm = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="SIGALRM timers are POSIX-only")


@needs_alarm
def test_time_limit_interrupts_the_parser_on_a_pathological_page() -> None:
    # Run in a fresh process, as a pipeline worker is: a long-lived test worker may run this test
    # outside the state a worker has (the main thread with default signal handling).
    code = (
        "import time\n"
        "from memtrain_data.pipeline.extractors.wikitext import PageTimeout, clean_wikitext, time_limit\n"
        "started = time.process_time()\n"
        "try:\n"
        "    with time_limit(0.05):\n"
        f"        clean_wikitext({PATHOLOGICAL_SLOW_PAGE * 2!r})\n"
        "except PageTimeout as exc:\n"
        "    print('timeout', round(time.process_time() - started, 2), exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    word, cpu_seconds, *message = out.stdout.split()
    assert word == "timeout" and "interrupted after 0.05 s" in " ".join(message)
    assert float(cpu_seconds) < 2.0  # the page needs several CPU-seconds uninterrupted


@needs_alarm
def test_time_limit_restores_the_previous_alarm_handler_and_timer() -> None:
    fired: list[int] = []

    def previous_handler(signum: int, frame: object) -> None:
        fired.append(signum)

    old_handler = signal.signal(signal.SIGALRM, previous_handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with time_limit(5.0):
            clean_wikitext("A short page.")
        assert signal.getsignal(signal.SIGALRM) is previous_handler
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.5
        time.sleep(0.7)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)


def test_time_limit_outside_the_main_thread_skips_a_slow_page_after_it_ends() -> None:
    outcome: list[str] = []

    def clean_in_thread() -> None:
        try:
            with time_limit(0.01):
                clean_wikitext(PATHOLOGICAL_SHORT_PAGE)
            outcome.append("finished")
        except PageTimeout:
            outcome.append("timeout")

    thread = threading.Thread(target=clean_in_thread)
    thread.start()
    thread.join()
    assert outcome == ["timeout"]


# --------------------------------------------------------------------------- the datatrove step


def page(page_id: int, wikitext: object, title: str = "Tarnvik") -> Document:
    return Document(
        text=wikitext,  # type: ignore[arg-type]
        id=str(page_id),
        metadata={"page_id": page_id, "title": title, "revision_id": 9, "timestamp": "2024-01-01T00:00:00Z", "source": "t.xml"},
    )


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    handler_id = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    yield lines
    logger.remove(handler_id)


def run_extractor(documents: list[Document], **kwargs: float) -> tuple[list[Document], dict[str, float]]:
    extractor = WikitextExtractor(**kwargs)  # type: ignore[arg-type]
    kept = list(extractor.run(iter(documents)))
    counters = {key: value.total for key, value in extractor.stats.stats.items()}
    return kept, counters


def test_extractor_replaces_text_and_keeps_id_and_metadata() -> None:
    kept, counters = run_extractor([page(7, "'''Tarnvik''' is a [[town]].<ref>x</ref>")])
    assert [(d.id, d.text) for d in kept] == [("7", "Tarnvik is a town.")]
    assert kept[0].metadata == {
        "page_id": 7, "title": "Tarnvik", "revision_id": 9, "timestamp": "2024-01-01T00:00:00Z", "source": "t.xml",
        "aliases": [("Town", "town", "anchor")], "section_starts": [],
    }  # fmt: skip
    assert counters["pages_in"] == 1 and counters["pages_cleaned"] == 1


SLOW_MARKER = "<<this page never finishes cleaning>>"


def clean_or_spin(wikitext: str, title: str = "") -> CleanPage:
    """`clean_page`, except that the marker page spins in Python until a signal interrupts it.

    The step's skip-and-count logic is tested with a page that is slow by construction; the
    test above shows that the real parser is interrupted too.
    """
    if wikitext == SLOW_MARKER:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pass
        raise AssertionError("the time limit never interrupted the page")
    return clean_page(wikitext, title)


@needs_alarm
def test_extractor_skips_counts_and_logs_a_page_that_times_out(
    log_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wikitext_module, "clean_page", clean_or_spin)
    kept, counters = run_extractor([page(1, "Good page one."), page(2, SLOW_MARKER), page(3, "Good page three.")], timeout_s=0.3)
    assert [d.id for d in kept] == ["1", "3"]
    assert counters["skipped_timeout"] == 1 and counters["pages_cleaned"] == 2
    assert any("page 2" in line and "timeout" in line for line in log_lines)


def test_extractor_skips_counts_and_logs_an_oversize_page(log_lines: list[str]) -> None:
    big = "The Sela is long. " * 600_000  # about 10.8 MB
    kept, counters = run_extractor([page(1, big), page(2, "Good page.")], max_page_bytes=10_000_000)
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_too_large"] == 1
    assert any("page 1" in line and "max_page_bytes" in line for line in log_lines)


def test_extractor_counts_bytes_not_characters_against_the_size_limit() -> None:
    kept, counters = run_extractor([page(1, "é" * 600), page(2, "e" * 600)], max_page_bytes=1000)
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_too_large"] == 1


def test_extractor_skips_counts_and_logs_a_page_the_parser_raises_on(log_lines: list[str]) -> None:
    # A reader bug that hands over bytes instead of text: cleaning raises TypeError on it.
    kept, counters = run_extractor([page(1, b"'''Tarnvik''' in bytes"), page(2, "Good page.")])
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_parse_error"] == 1
    assert any("page 1" in line and "TypeError" in line for line in log_lines)


def test_extractor_counts_pages_left_empty(log_lines: list[str]) -> None:
    kept, counters = run_extractor([page(1, "{{Infobox person|name=X}}[[Category:People]]"), page(2, "Good page.")])
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_empty"] == 1
    assert any("page 1" in line and "no prose" in line for line in log_lines)


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


# --------------------------------------------------------------------------- templates that carry words


@pytest.mark.parametrize(
    ("wikitext", "clean"),
    [
        (
            "It impacted the Atlantic Ocean at {{coord|8|7.5|N|165|1.2|W|type:landmark}} and the S-II second stage at "
            "{{Coord|31|50|N|37|17|W|display=inline}}.",
            "It impacted the Atlantic Ocean at 8°7.5′N 165°1.2′W and the S-II second stage at 31°50′N 37°17′W.",
        ),
        ("The pad is at {{coord|28.608|-80.604|display=inline,title}}.", "The pad is at 28.608°N 80.604°W."),
        ("The pair (after {{angbr|x}} and {{angbr|y}}) is ordered.", "The pair (after ⟨x⟩ and ⟨y⟩) is ordered."),
        (
            "{{flagicon|UK}} '''[[Ann Hale]]''' ({{flagu|UK}}) beat {{flag|France}}'s {{flagathlete|[[Jo Marr]]|USA}}.",
            "Ann Hale (UK) beat France's Jo Marr (USA).",
        ),
        (
            "It is {{convert|10|km}} long, {{convert|1200|ft|m}} high and {{convert|25|C}} in summer.",
            "It is 10 km (6.2 mi) long, 1200 ft (370 m) high and 25 °C (77 °F) in summer.",
        ),
        ("Hold {{keypress|Ctrl|C}}; {{chem|CH|3|COOH}} {{eqm}} {{chem|H|2|O}}.", "Hold Ctrl+C; CH3COOH ⇌ H2O."),
        ("The {{RailGauge|1435mm}} line; notes A{{Music|flat}} and D.", "The 1435 mm line; notes A♭ and D."),
        ("{{nuclide2|einsteinium|254|link=y}} + {{nuclide2|calcium|48}} fuse.", "einsteinium-254 + calcium-48 fuse."),
        ("About {{formatnum:1234567}} people, {{sfrac|1|2}} of them in {{lang|fr|Le Havre}}.", "About 1,234,567 people, 1/2 of them in Le Havre."),
        ("He was {{height|m=1.8}} tall ({{nowrap|10 May}}).", "He was 1.8 m tall (10 May)."),
        ("Smith, ''Dictionary'', {{vol.|3}}, {{p.|88}}.", "Smith, Dictionary, vol. 3, p. 88."),
    ],
)
def test_content_bearing_templates_keep_the_sentence(wikitext: str, clean: str) -> None:
    assert clean_wikitext(wikitext) == clean


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
