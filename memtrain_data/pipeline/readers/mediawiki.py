"""Read article pages from MediaWiki XML dumps, streaming, with flat memory.

`iter_pages` turns one input unit (a whole dump file or a byte range of a multistream dump)
into `WikiPage`s: bytes are decompressed a block at a time, decoded as UTF-8 (invalid bytes
replaced and counted), fed to an incremental XML parser, and each `<page>` element is
released as soon as it has been read. Damage is never fatal to the pages before it: a cut
compressed file or malformed XML ends the unit, counted and logged, keeping every page read.

`MediaWikiReader` is the datatrove step: it keeps namespace-0 articles and drops (and counts)
redirects, disambiguation and set-index pages, other namespaces, empty and oversized pages.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.pipeline.aliases import (
    ALIAS_ONLY_KEY,
    ALIASES_KEY,
    LATEST_TIMESTAMP_KEY,
    REDIRECT,
    article_target,
)
from memtrain_data.pipeline.readers.dump_bytes import TruncatedInputError, iter_decompressed, iter_unit_bytes
from memtrain_data.pipeline.readers.input_unit import InputUnit
from memtrain_data.pipeline.readers.units import UnitReader

if TYPE_CHECKING:
    from datatrove.data import Document, DocumentsPipeline

_REPLACE_AND_COUNT = "memtrain.replace-and-count"
_invalid_utf8_bytes = [0]  # per process; a task reads its units one after another


def _replace_and_count(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _invalid_utf8_bytes[0] += error.end - error.start
    return "\ufffd", error.end


codecs.register_error(_REPLACE_AND_COUNT, _replace_and_count)

_DISAMBIGUATION_TEMPLATE = re.compile(
    r"\{\{\s*(?:[\w .-]*\bdisambiguation|disambig\w*|disamb|dab|dbig|hndis|geodis|[\w ]*set ?index(?: article)?"
    r"|sia|\w*index|surname|given name)\s*(?:\||\}\})",
    re.IGNORECASE,
)
_REDIRECT_TEXT = re.compile(r"^\s*#redirect\b", re.IGNORECASE)
_REDIRECT_LINK = re.compile(r"^\s*#redirect\s*:?\s*\[\[([^\[\]|\n]+)", re.IGNORECASE)
REDIRECT_BATCH = 10_000
"""Redirects carried to the writer in one alias-only document."""

# Canonical English namespace names, for dumps whose pages lack <ns> and that have no <siteinfo>.
_DEFAULT_NAMESPACES = {
    "media": -2, "special": -1, "talk": 1, "user": 2, "user talk": 3, "wikipedia": 4, "wikipedia talk": 5,
    "file": 6, "file talk": 7, "image": 6, "mediawiki": 8, "mediawiki talk": 9, "template": 10,
    "template talk": 11, "help": 12, "help talk": 13, "category": 14, "category talk": 15, "portal": 100,
    "portal talk": 101, "draft": 118, "draft talk": 119, "module": 828, "module talk": 829,
}  # fmt: skip


@dataclass
class WikiPage:
    """One `<page>` of a dump (its last revision)."""

    page_id: int
    title: str
    namespace: int
    text: str
    revision_id: int | None
    timestamp: str | None
    is_redirect: bool
    redirect_target: str | None = None
    """The target as written (`<redirect title=…>`, else the `#REDIRECT [[…]]` link); None if not a redirect."""


def is_disambiguation(title: str, wikitext: str) -> bool:
    """A disambiguation or set-index page: by its title or by one of the templates that mark them."""
    return title.rstrip().endswith("(disambiguation)") or bool(_DISAMBIGUATION_TEMPLATE.search(wikitext))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _to_int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value else None
    except ValueError:
        return None


def _read_namespaces(siteinfo: ET.Element) -> dict[str, int]:
    names: dict[str, int] = {}
    for element in siteinfo.iter():
        if _local(element.tag) == "namespace" and element.text and (key := _to_int(element.get("key"))) is not None:
            names[element.text.strip().lower()] = key
    return names


def _page_from_element(page: ET.Element, namespaces: dict[str, int]) -> WikiPage | None:
    title = ""
    namespace: int | None = None
    page_id: int | None = None
    is_redirect = False
    redirect_target: str | None = None
    revision: ET.Element | None = None
    for child in page:
        tag = _local(child.tag)
        if tag == "title":
            title = (child.text or "").strip()
        elif tag == "ns":
            namespace = _to_int(child.text)
        elif tag == "id":
            page_id = _to_int(child.text)
        elif tag == "redirect":
            is_redirect = True
            redirect_target = child.get("title") or None
        elif tag == "revision":
            revision = child  # full-history dumps list revisions oldest first: keep the last
    if page_id is None:
        return None
    if namespace is None:
        prefix, sep, _ = title.partition(":")
        namespace = namespaces.get(prefix.strip().lower(), 0) if sep else 0
    text, revision_id, timestamp = "", None, None
    if revision is not None:
        for child in revision:
            tag = _local(child.tag)
            if tag == "id":
                revision_id = _to_int(child.text)
            elif tag == "timestamp":
                timestamp = (child.text or "").strip() or None
            elif tag == "text":
                text = child.text or ""
    is_redirect = is_redirect or bool(_REDIRECT_TEXT.match(text))
    if is_redirect and redirect_target is None and (link := _REDIRECT_LINK.match(text)):
        redirect_target = link.group(1)
    return WikiPage(page_id, title, namespace, text, revision_id, timestamp, is_redirect, redirect_target)


_CLOSING_ROOT = "</mediawiki>"
FEED_CHARS = 1 << 16


def _text_chunks(unit: InputUnit) -> Iterator[str]:
    """The unit's XML as text, ready for one parser.

    A byte range after the first holds bare `<page>` elements (and, for the last range, the
    `</mediawiki>` that closes the file), so it is wrapped in a root of its own; the first
    range is closed with `</mediawiki>` where the range ends.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors=_REPLACE_AND_COUNT)
    path = Path(unit.path)
    if not unit.is_byte_range:
        for block in iter_decompressed(path):
            yield decoder.decode(block)
        yield decoder.decode(b"", final=True)
        return
    if unit.start != 0:
        yield "<memtrain-byte-range>"
    held = ""  # the tail is held back so a closing </mediawiki> split across blocks is still seen
    for block in iter_unit_bytes(unit):
        text = held + decoder.decode(block)
        held = text[-64:]
        yield text[:-64]
    held += decoder.decode(b"", final=True)
    stripped = held.rstrip()
    if stripped.endswith(_CLOSING_ROOT):
        held = stripped[: -len(_CLOSING_ROOT)]
    yield held
    yield "</mediawiki>" if unit.start == 0 else "</memtrain-byte-range>"


@dataclass
class UnitProblems:
    """What went wrong while reading one unit; every page before the problem was kept."""

    truncated: bool = False
    xml_error: str | None = None
    decompress_error: str | None = None
    invalid_utf8_bytes: int = 0
    pages_without_id: int = 0
    last_page_id: int | None = None


def iter_pages(unit: InputUnit, problems: UnitProblems | None = None) -> Iterator[WikiPage]:
    """Every `<page>` of `unit`, in file order; problems are recorded in `problems`, not raised."""
    problems = problems if problems is not None else UnitProblems()
    parser = ET.XMLPullParser(events=("start", "end"))
    root: ET.Element | None = None
    namespaces = dict(_DEFAULT_NAMESPACES)
    invalid_before = _invalid_utf8_bytes[0]

    def drain() -> Iterator[WikiPage]:
        nonlocal root
        for event, element in parser.read_events():
            if event == "start":
                if root is None:
                    root = element
                continue
            tag = _local(element.tag)
            if tag == "siteinfo":
                namespaces.update(_read_namespaces(element))
            elif tag == "page":
                page = _page_from_element(element, namespaces)
                element.clear()
                if root is not None:
                    root.clear()  # drop the emptied <page> from its parent: memory stays flat
                if page is None:
                    problems.pages_without_id += 1
                else:
                    problems.last_page_id = page.page_id
                    yield page

    try:
        for chunk in _text_chunks(unit):
            # small feeds: the parser builds every page of a feed before they can be released
            for at in range(0, len(chunk), FEED_CHARS):
                parser.feed(chunk[at : at + FEED_CHARS])
                yield from drain()
        parser.close()
        yield from drain()
    except ET.ParseError as exc:
        yield from _drain_quietly(drain)
        problems.xml_error = str(exc)
    except TruncatedInputError:
        yield from _drain_quietly(drain)
        problems.truncated = True
    except (OSError, EOFError, ValueError) as exc:  # corrupt compressed data
        yield from _drain_quietly(drain)
        problems.decompress_error = str(exc)
    finally:
        problems.invalid_utf8_bytes = _invalid_utf8_bytes[0] - invalid_before


def _drain_quietly(drain: Callable[[], Iterator[WikiPage]]) -> Iterator[WikiPage]:
    """Pages the parser completed before an error that are still queued."""
    try:
        yield from drain()
    except ET.ParseError:
        return


class MediaWikiReader(UnitReader):
    """datatrove step: MediaWiki XML dump units → one `Document` per namespace-0 article.

    Task `rank` reads `units[rank::world_size]` (the pool build runs one task per unit).
    Documents carry `text` = raw wikitext, `id` = str(page_id) and metadata `page_id, title,
    revision_id, timestamp, source`. Redirects are dropped as pages but their (target, title)
    pairs go on to the pool writer as alias rows, in alias-only documents of up to
    `REDIRECT_BATCH` redirects (see `memtrain_data.pipeline.aliases`); the last document of a
    unit also carries the newest revision timestamp seen in it, dropped pages included.
    Counters: `pages_read`, `articles`, `redirects_dropped`, `redirects_seen` (those with an
    article target, which become alias rows),
    `disambiguations_dropped`, `other_namespaces_dropped`, `empty_pages_dropped`,
    `oversized_pages_dropped`, `pages_without_id_dropped`, `truncated_files`, `xml_errors`,
    `decompress_errors`, `invalid_utf8_bytes`, `articles_with_replaced_bytes`.
    """

    name = "MediaWiki dump"
    counters: tuple[str, ...] = (
        "pages_read", "articles", "redirects_dropped", "redirects_seen", "disambiguations_dropped", "other_namespaces_dropped",
        "empty_pages_dropped", "oversized_pages_dropped", "pages_without_id_dropped", "truncated_files",
        "xml_errors", "decompress_errors", "invalid_utf8_bytes", "articles_with_replaced_bytes",
    )  # fmt: skip
    """Counters reported even when zero, so every stats.json has the same keys."""

    def __init__(self, units: list[InputUnit], max_page_bytes: int = 4_000_000, limit: int = -1) -> None:
        super().__init__(units, limit=limit)
        self.max_page_bytes = max_page_bytes

    def _oversized(self, text: str) -> bool:
        # len(str) <= len(utf-8 bytes) <= 4 * len(str): encode only when the bounds do not decide
        if len(text) > self.max_page_bytes:
            return True
        if 4 * len(text) <= self.max_page_bytes:
            return False
        return len(text.encode("utf-8")) > self.max_page_bytes

    def read_unit(self, unit: InputUnit) -> DocumentsPipeline:
        from datatrove.data import Document
        from datatrove.utils.logging import logger

        problems = UnitProblems()
        redirects: list[tuple[str, str, str]] = []
        latest_timestamp: str | None = None
        for page in iter_pages(unit, problems):
            self.stat_update("pages_read")
            if page.timestamp and (latest_timestamp is None or page.timestamp > latest_timestamp):
                latest_timestamp = page.timestamp
            if page.namespace != 0:
                self.stat_update("other_namespaces_dropped")
            elif page.is_redirect:
                self.stat_update("redirects_dropped")
                target = article_target(page.redirect_target) if page.redirect_target else None
                if target and page.title:
                    self.stat_update("redirects_seen")
                    redirects.append((target, page.title, REDIRECT))
                    if len(redirects) >= REDIRECT_BATCH:
                        yield _alias_document(unit, redirects, None)
                        redirects = []
            elif not page.text.strip():
                self.stat_update("empty_pages_dropped")
            elif self._oversized(page.text):
                self.stat_update("oversized_pages_dropped")
                logger.warning(
                    f"page {page.page_id} ({page.title!r}) in {unit.describe()}: {len(page.text):,} characters of "
                    f"wikitext, over max_page_bytes={self.max_page_bytes:,}; skipped"
                )
            elif is_disambiguation(page.title, page.text):
                self.stat_update("disambiguations_dropped")
            else:
                self.stat_update("articles")
                if "\ufffd" in page.text:
                    self.stat_update("articles_with_replaced_bytes")
                    logger.warning(f"page {page.page_id} ({page.title!r}): invalid UTF-8 replaced by U+FFFD; kept")
                document = Document(
                    text=page.text,
                    id=str(page.page_id),
                    metadata={
                        "page_id": page.page_id,
                        "title": page.title,
                        "revision_id": page.revision_id,
                        "timestamp": page.timestamp,
                        "source": unit.source,
                    },
                )
                self.update_doc_stats(document)
                yield document
        if redirects or latest_timestamp:
            yield _alias_document(unit, redirects, latest_timestamp)
        after = f"after page {problems.last_page_id}" if problems.last_page_id is not None else "before the first page"
        if problems.invalid_utf8_bytes:
            self.stat_update("invalid_utf8_bytes", value=problems.invalid_utf8_bytes)
            logger.warning(f"{unit.describe()}: {problems.invalid_utf8_bytes} invalid UTF-8 byte(s) replaced by U+FFFD")
        if problems.pages_without_id:
            self.stat_update("pages_without_id_dropped", value=problems.pages_without_id)
            logger.warning(f"{unit.describe()}: {problems.pages_without_id} <page>(s) without an <id>; skipped")
        if problems.truncated:
            self.stat_update("truncated_files")
            logger.warning(f"{unit.describe()}: the file was cut short {after}; the pages before the cut were kept")
        if problems.xml_error:
            self.stat_update("xml_errors")
            logger.warning(f"{unit.describe()}: malformed XML {after} ({problems.xml_error}); the pages before were kept")
        if problems.decompress_error:
            self.stat_update("decompress_errors")
            logger.warning(f"{unit.describe()}: corrupt compressed data {after} ({problems.decompress_error})")


def _alias_document(unit: InputUnit, aliases: list[tuple[str, str, str]], latest_timestamp: str | None) -> Document:
    """A document without text that carries alias rows (and the unit's newest timestamp) to the writer."""
    from datatrove.data import Document

    return Document(
        text="",
        id=f"aliases:{unit.describe()}",
        metadata={ALIAS_ONLY_KEY: True, ALIASES_KEY: aliases, LATEST_TIMESTAMP_KEY: latest_timestamp, "source": unit.source},
    )
