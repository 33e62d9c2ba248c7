"""Build MediaWiki XML dumps for tests: synthetic pages, compression, multistream files + index.

Everything is written into a test's tmp_path; nothing is copied from ../shared into the repo.
"""

from __future__ import annotations

import bz2
import gzip
import re
from pathlib import Path
from xml.sax.saxutils import escape

EXPORT_NS = "http://www.mediawiki.org/xml/export-0.10/"
HEADER = f'<mediawiki xmlns="{EXPORT_NS}" version="0.10" xml:lang="en">\n'
SITEINFO = """  <siteinfo>
    <sitename>Testwiki</sitename>
    <dbname>testwiki</dbname>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="10" case="first-letter">Template</namespace>
    </namespaces>
  </siteinfo>
"""
FOOTER = "</mediawiki>\n"


def page_xml(
    page_id: int,
    title: str,
    text: str,
    *,
    ns: int | None = 0,
    redirect: str | None = None,
    revision_id: int | None = None,
    timestamp: str = "2024-01-02T03:04:05Z",
) -> str:
    """One `<page>` element as a dump writes it (text XML-escaped)."""
    parts = ["  <page>\n", f"    <title>{escape(title)}</title>\n"]
    if ns is not None:
        parts.append(f"    <ns>{ns}</ns>\n")
    parts.append(f"    <id>{page_id}</id>\n")
    if redirect is not None:
        parts.append(f'    <redirect title="{escape(redirect)}" />\n')
    parts += [
        "    <revision>\n",
        f"      <id>{revision_id if revision_id is not None else page_id * 10}</id>\n",
        f"      <timestamp>{timestamp}</timestamp>\n",
        f'      <text xml:space="preserve">{escape(text)}</text>\n',
        "    </revision>\n",
        "  </page>\n",
    ]
    return "".join(parts)


def article_text(page_id: int, words: int = 60) -> str:
    """Plain, markup-light wikitext of `words` words, different for every page id."""
    body = " ".join(f"word{page_id}x{i}" for i in range(words))
    return f"'''Article {page_id}''' is a test page. {body}."


def article_pages(count: int, first_id: int = 1) -> list[str]:
    return [page_xml(i, f"Article {i}", article_text(i)) for i in range(first_id, first_id + count)]


def dump_text(pages: list[str], *, siteinfo: bool = True) -> str:
    return HEADER + (SITEINFO if siteinfo else "") + "".join(pages) + FOOTER


def write_dump(path: Path, text: str | bytes) -> Path:
    """Write a dump, compressed by the file's suffix (.bz2, .gz or plain)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if path.name.endswith(".bz2"):
        data = bz2.compress(data)
    elif path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


_PAGE_ID = re.compile(r"<id>(\d+)</id>")
_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)


def write_multistream(
    path: Path, header: str, pages: list[str], footer: str = FOOTER, *, pages_per_stream: int = 3
) -> Path:
    """Write a multistream bz2 dump like Wikimedia's and its index; return the index path.

    Stream 1 holds `header` (the `<mediawiki>` start and `<siteinfo>`), then one stream per
    `pages_per_stream` pages, then one stream with `footer`. Index lines are
    `offset:page_id:title` for every page, offset being its stream's first byte.
    """
    index_name = path.name.replace("multistream", "multistream-index", 1).replace(".xml", ".txt", 1)
    index_path = path.with_name(index_name)
    index_lines: list[str] = []
    with open(path, "wb") as out:
        out.write(bz2.compress(header.encode("utf-8")))
        for start in range(0, len(pages), pages_per_stream):
            offset = out.tell()
            group = pages[start : start + pages_per_stream]
            for page in group:
                page_id = _PAGE_ID.search(page).group(1)
                title = _TITLE.search(page).group(1)
                index_lines.append(f"{offset}:{page_id}:{title}\n")
            out.write(bz2.compress("".join(group).encode("utf-8")))
        out.write(bz2.compress(footer.encode("utf-8")))
    index_path.write_bytes(bz2.compress("".join(index_lines).encode("utf-8")))
    return index_path


def split_dump(dump: Path) -> tuple[str, list[str], str]:
    """(header, raw `<page>` elements, footer) of a whole dump file, as text."""
    text = bz2.decompress(dump.read_bytes()).decode("utf-8") if dump.name.endswith(".bz2") else dump.read_text("utf-8")
    first = text.index("<page>")
    first = text.rindex("\n", 0, first) + 1
    last = text.rindex("</page>") + len("</page>\n")
    body = text[first:last]
    pages = [chunk + "</page>\n" for chunk in body.split("</page>\n") if chunk.strip()]
    return text[:first], pages, text[last:]


def multistream_copy(dump: Path, destination: Path, *, pages_per_stream: int = 10) -> tuple[Path, Path]:
    """Re-pack a whole dump as a multistream dump + index in `destination`; return (dump, index)."""
    header, pages, footer = split_dump(dump)
    target = destination / "testwiki-20240101-pages-articles-multistream.xml.bz2"
    index = write_multistream(target, header, pages, footer, pages_per_stream=pages_per_stream)
    return target, index
