"""The bundled sample wiki: a real MediaWiki export, invented articles, enough passages for `mini`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

import memtrain_data
from memtrain_data.build_config import BuildConfig, resolve_build_config
from memtrain_data.episodes.build import passages_per_episode
from memtrain_data.episodes.splits import split_of_page, split_targets
from memtrain_data.pipeline.extractors.wikitext import clean_wikitext
from memtrain_data.pipeline.passages import split_passages
from memtrain_data.records import SPLITS
from memtrain_data.resources import sample_wiki_path

EXPORT_NS = "{http://www.mediawiki.org/xml/export-0.11/}"


@dataclass
class Page:
    title: str
    ns: int
    page_id: int
    revision_id: int
    timestamp: str
    text: str
    redirect: str | None


@pytest.fixture(scope="module")
def root() -> ElementTree.Element:
    return ElementTree.parse(sample_wiki_path()).getroot()


@pytest.fixture(scope="module")
def pages(root: ElementTree.Element) -> list[Page]:
    result = []
    for page in root.iter(f"{EXPORT_NS}page"):
        revision = page.find(f"{EXPORT_NS}revision")
        assert revision is not None
        text = revision.find(f"{EXPORT_NS}text")
        assert text is not None and text.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"
        redirect = page.find(f"{EXPORT_NS}redirect")
        result.append(
            Page(
                title=page.findtext(f"{EXPORT_NS}title") or "",
                ns=int(page.findtext(f"{EXPORT_NS}ns") or -1),
                page_id=int(page.findtext(f"{EXPORT_NS}id") or -1),
                revision_id=int(revision.findtext(f"{EXPORT_NS}id") or -1),
                timestamp=revision.findtext(f"{EXPORT_NS}timestamp") or "",
                text=text.text or "",
                redirect=None if redirect is None else redirect.get("title"),
            )
        )
    return result


@pytest.fixture(scope="module")
def articles(pages: list[Page]) -> list[Page]:
    return [p for p in pages if p.ns == 0 and p.redirect is None and "{{disambiguation}}" not in p.text]


def test_sample_wiki_ships_inside_the_package() -> None:
    path = sample_wiki_path()
    assert path.is_file()
    assert path.parent.parent == Path(memtrain_data.__file__).parent / "resources"


def test_sample_wiki_is_a_mediawiki_export_with_siteinfo(root: ElementTree.Element, pages: list[Page]) -> None:
    assert root.tag == f"{EXPORT_NS}mediawiki"
    siteinfo = root.find(f"{EXPORT_NS}siteinfo")
    assert siteinfo is not None
    assert siteinfo.findtext(f"{EXPORT_NS}sitename") and siteinfo.findtext(f"{EXPORT_NS}dbname")
    namespaces = {ns.get("key") for ns in siteinfo.iter(f"{EXPORT_NS}namespace")}
    assert {"0", "6", "10", "14"} <= namespaces
    assert len({p.page_id for p in pages}) == len(pages)
    assert all(p.revision_id > 0 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p.timestamp) for p in pages)


def test_sample_wiki_has_redirects_a_disambiguation_and_a_template_page(pages: list[Page], articles: list[Page]) -> None:
    titles = {p.title for p in articles}
    redirects = [p for p in pages if p.redirect is not None]
    assert len(redirects) == 5
    for redirect in redirects:
        assert redirect.text.startswith(f"#REDIRECT [[{redirect.redirect}]]")
        assert redirect.redirect in titles
    assert len([p for p in pages if "{{disambiguation}}" in p.text]) == 1
    assert [p.title for p in pages if p.ns != 0] == ["Template:Brenmark Province"]


def test_sample_wiki_articles_use_real_markup(articles: list[Page]) -> None:
    wikitext = "\n".join(p.text for p in articles)
    for markup in ("{{Infobox", "<ref>{{cite", "<ref name=", '"/>', "\n{|", "|}", "[[File:", "|thumb|", "[[Category:",
                   "[[de:", "[[fr:", "<!--", "<br", "\n== ", "== References ==", "== See also ==",
                   "== External links ==", "'''", "''", "{{convert", "&amp;", "&nbsp;", "__NOTOC__", "]]s "):  # fmt: skip
        assert markup in wikitext, markup
    assert re.search(r"\[\[[^|\]]+\|[^\]]+\]\]", wikitext)  # piped links
    assert re.search(r"\[https?://\S+ [^\]]+\]", wikitext)  # labelled external links


def test_sample_wiki_has_about_two_dozen_articles_of_four_to_eight_paragraphs(articles: list[Page]) -> None:
    assert len(articles) >= 24
    for article in articles:
        paragraphs = clean_wikitext(article.text, article.title).split("\n\n")
        prose = [p for p in paragraphs if len(p.split()) >= 30]
        assert 4 <= len(prose) <= 8, article.title
        assert max(len(p.split()) for p in paragraphs) <= 150, article.title


def test_sample_wiki_articles_link_to_each_other(articles: list[Page]) -> None:
    titles = {p.title for p in articles}
    for article in articles:
        linked = {m.group(1).strip() for m in re.finditer(r"\[\[([^|\]]+)", article.text)}
        assert len((linked & titles) - {article.title}) >= 3, article.title


def test_sample_wiki_gives_a_pool_large_enough_for_the_mini_preset(articles: list[Page]) -> None:
    config = BuildConfig()
    passages = [
        passage
        for article in articles
        for passage in split_passages(clean_wikitext(article.text, article.title), config.min_passage_words, config.max_passage_words)
    ]
    # mini: 12 passages per episode (1 pivot + 3 related + 8 random), 24 episodes, distinct pivots
    assert len(passages) >= 120


def test_sample_wiki_fills_every_split_from_its_own_pages(articles: list[Page]) -> None:
    # Every passage of a document comes from pages of the document's own split, so validation and
    # test need their own pages: several pivots each, and passages for a few episodes' documents.
    config = resolve_build_config(None, {"preset": "mini"})
    pages: Counter[str] = Counter()
    passages: Counter[str] = Counter()
    for article in articles:
        split = split_of_page(article.page_id, config.validation_fraction, config.test_fraction)
        pages[split] += 1
        passages[split] += len(split_passages(clean_wikitext(article.text, article.title), config.min_passage_words, config.max_passage_words))
    targets = split_targets(config.num_episodes, config.validation_fraction, config.test_fraction)
    for split in SPLITS:
        assert targets[split] >= 1, split
        assert pages[split] >= 5, (split, pages[split])
        assert passages[split] >= 3 * passages_per_episode(config), (split, passages[split])
