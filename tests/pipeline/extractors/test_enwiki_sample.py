"""WikitextExtractor over real English Wikipedia pages (../shared enwiki 2016 sample): clean and complete."""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from datatrove.data import Document

from memtrain_data.pipeline.extractors.wikitext import WikitextExtractor
from memtrain_data.pipeline.passages import split_passages

RESIDUE = ("{{", "}}", "[[", "]]", "<ref", "&lt;", "thumb|", "File:")
# wikiextractor 3.1.0 keeps 208,150 words of these pages (section titles included), with 2 `{{`,
# 2 `}}` and 3 `&lt;` left over; memtrain must be as clean and keep at least as much prose.
WIKIEXTRACTOR_WORDS = 208_150


@pytest.fixture(scope="module")
def enwiki_articles(enwiki_sample: Path) -> list[Document]:
    """Namespace-0, non-redirect pages, read with a plain bz2 + ElementTree loop."""
    documents = []
    with bz2.open(enwiki_sample) as stream:
        for _, element in ElementTree.iterparse(stream):
            if element.tag.rpartition("}")[2] != "page":
                continue
            if element.findtext("{*}ns") == "0" and element.find("{*}redirect") is None:
                page_id = int(element.findtext("{*}id") or 0)
                documents.append(
                    Document(
                        text=element.findtext("{*}revision/{*}text") or "",
                        id=str(page_id),
                        metadata={"page_id": page_id, "title": element.findtext("{*}title") or "", "source": enwiki_sample.name},
                    )
                )
            element.clear()
    return documents


@pytest.fixture(scope="module")
def cleaned(enwiki_articles: list[Document]) -> tuple[dict[str, str], dict[str, float]]:
    extractor = WikitextExtractor(timeout_s=20.0, max_page_bytes=4_000_000)
    pages = [Document(text=d.text, id=d.id, metadata=dict(d.metadata)) for d in enwiki_articles]
    texts = {d.metadata["title"]: d.text for d in extractor.run(iter(pages))}
    counters = {key: value.total for key, value in extractor.stats.stats.items()}
    return texts, counters


def test_every_article_is_cleaned_and_none_is_skipped(enwiki_articles: list[Document], cleaned: tuple[dict[str, str], dict[str, float]]) -> None:
    texts, counters = cleaned
    assert len(enwiki_articles) == 60
    assert counters["pages_cleaned"] == len(enwiki_articles) == len(texts)
    assert not any(key.startswith("skipped") for key in counters)


@pytest.mark.parametrize("residue", RESIDUE)
def test_cleaned_text_has_no_markup_residue(cleaned: tuple[dict[str, str], dict[str, float]], residue: str) -> None:
    texts, _ = cleaned
    left = {title: text.count(residue) for title, text in texts.items() if residue in text}
    assert left == {}


def test_cleaned_text_keeps_more_prose_than_wikiextractor(
    cleaned: tuple[dict[str, str], dict[str, float]], record_property: pytest.RecordProperty
) -> None:
    texts, _ = cleaned
    words = sum(len(text.split()) for text in texts.values())
    record_property("words", words)
    assert words > WIKIEXTRACTOR_WORDS


def test_lead_sentences_survive_and_headings_and_back_matter_do_not(cleaned: tuple[dict[str, str], dict[str, float]]) -> None:
    texts, _ = cleaned
    einstein = texts["Albert Einstein"]
    assert einstein.startswith("Albert Einstein (14 March 1879 – 18 April 1955) was a German-born theoretical physicist.")
    paragraphs = einstein.split("\n\n")
    assert "Early life and education" not in paragraphs  # a heading of the article
    assert not any(paragraph.startswith(("References", "External links", "Further reading")) for paragraph in paragraphs)
    assert "Andorra is the sixth-smallest nation in Europe, having an area of 468 km2 (181 sq mi)" in texts["Andorra"]


def test_cleaned_articles_split_into_passages_within_the_word_bounds(cleaned: tuple[dict[str, str], dict[str, float]]) -> None:
    texts, _ = cleaned
    for title, text in texts.items():
        passages = split_passages(text, min_words=20, max_words=220)
        assert all(len(p.split()) <= 220 for p in passages), title
        assert all(len(p.split()) >= 20 for p in passages), title
