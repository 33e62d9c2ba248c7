"""Bigger or split MediaWiki dumps made from a small one, for benchmarks and resume tests.

- `write_repeated_multistream(src, dst, times)`: the pages of `src` repeated `times` times, every
  copy with new page and revision ids (and a title suffix, so titles stay unique), written as a
  multistream `.bz2` dump (one bz2 stream of at most `pages_per_stream` pages after a header
  stream) plus its `…-index.txt.bz2` (`offset:page_id:title` lines), like Wikimedia's own.
- `write_repeated_plain(src, dst, times)`: the same copies as one plain (single-stream) `.bz2`,
  the layout of Wikimedia's default `pages-articles.xml.bz2`, written streaming.
- `write_parts(src, folder, parts)`: the pages of `src` split into `parts` whole dump files
  (each with the `<mediawiki>` header), as a folder of dump parts.

Pages are copied as raw XML text, so the copies are exactly as hard to parse as the original.
"""

from __future__ import annotations

import bz2
import html
import re
from dataclasses import dataclass
from pathlib import Path

_PAGE = re.compile(r"  <page>\n.*?</page>\n", re.DOTALL)
_PAGE_ID = re.compile(r"(<ns>[^<]*</ns>\s*<id>)(\d+)(</id>)")
_REVISION_ID = re.compile(r"(<revision>\s*<id>)(\d+)(</id>)")
_TITLE = re.compile(r"<title>([^<]*)</title>")


@dataclass
class DumpText:
    """A dump's XML split into its header (up to the first page), page blocks, and footer."""

    header: str
    pages: list[str]
    footer: str


def read_dump(src: Path) -> DumpText:
    """Read a `.xml` or `.xml.bz2` dump into header, pages and footer."""
    raw = bz2.decompress(src.read_bytes()) if src.read_bytes()[:3] == b"BZh" else src.read_bytes()
    text = raw.decode("utf-8")
    pages = _PAGE.findall(text)
    if not pages:
        raise ValueError(f"{src}: no <page> elements found")
    first = text.index(pages[0])
    last = text.rindex(pages[-1]) + len(pages[-1])
    return DumpText(header=text[:first], pages=pages, footer=text[last:])


def renumber(page: str, copy: int, id_offset: int) -> tuple[str, int, str]:
    """`page` with page and revision ids shifted by `copy * id_offset` and a title suffix; returns (xml, id, title)."""
    if copy == 0:
        title = html.unescape(_TITLE.search(page).group(1))  # type: ignore[union-attr]
        return page, int(_PAGE_ID.search(page).group(2)), title  # type: ignore[union-attr]
    shift = copy * id_offset
    page = _PAGE_ID.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + shift}{m.group(3)}", page, count=1)
    page = _REVISION_ID.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + shift}{m.group(3)}", page, count=1)
    page = _TITLE.sub(lambda m: f"<title>{m.group(1)} (copy {copy})</title>", page, count=1)
    title = html.unescape(_TITLE.search(page).group(1))  # type: ignore[union-attr]
    return page, int(_PAGE_ID.search(page).group(2)), title  # type: ignore[union-attr]


def write_repeated_multistream(
    src: Path, dst: Path, times: int, pages_per_stream: int = 100
) -> tuple[Path, Path]:
    """Write `times` copies of `src`'s pages as a multistream dump at `dst` and its index; return both paths."""
    dump = read_dump(src)
    max_id = max(int(_PAGE_ID.search(page).group(2)) for page in dump.pages)  # type: ignore[union-attr]
    id_offset = 10 ** len(str(max_id))
    copies = [renumber(page, copy, id_offset) for copy in range(times) for page in dump.pages]
    index_lines: list[str] = []
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "wb") as out:
        out.write(bz2.compress(dump.header.encode("utf-8")))
        for start in range(0, len(copies), pages_per_stream):
            offset = out.tell()
            group = copies[start : start + pages_per_stream]
            out.write(bz2.compress("".join(xml for xml, _, _ in group).encode("utf-8")))
            index_lines.extend(f"{offset}:{page_id}:{title}" for _, page_id, title in group)
        out.write(bz2.compress(dump.footer.encode("utf-8")))
    name = dst.name.removesuffix(".xml.bz2").removesuffix(".bz2")
    index = dst.with_name(f"{name}-index.txt.bz2")
    index.write_bytes(bz2.compress(("\n".join(index_lines) + "\n").encode("utf-8")))
    return dst, index


def write_repeated_plain(src: Path, dst: Path, times: int) -> Path:
    """Write `times` renumbered copies of `src`'s pages as one plain `.bz2` dump at `dst`; return it."""
    dump = read_dump(src)
    max_id = max(int(_PAGE_ID.search(page).group(2)) for page in dump.pages)  # type: ignore[union-attr]
    id_offset = 10 ** len(str(max_id))
    dst.parent.mkdir(parents=True, exist_ok=True)
    compressor = bz2.BZ2Compressor(9)
    with open(dst, "wb") as out:
        out.write(compressor.compress(dump.header.encode("utf-8")))
        for copy in range(times):
            text = "".join(renumber(page, copy, id_offset)[0] for page in dump.pages)
            out.write(compressor.compress(text.encode("utf-8")))
        out.write(compressor.compress(dump.footer.encode("utf-8")))
        out.write(compressor.flush())
    return dst


def write_parts(src: Path, folder: Path, parts: int) -> list[Path]:
    """Split `src`'s pages into `parts` contiguous whole dump files `part-NN.xml.bz2` in `folder`."""
    dump = read_dump(src)
    if not 1 <= parts <= len(dump.pages):
        raise ValueError(f"cannot split {len(dump.pages)} pages into {parts} parts")
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(dump.pages) // parts)
    paths = []
    for part in range(parts):
        pages = dump.pages[part * size : (part + 1) * size]
        path = folder / f"part-{part:02d}.xml.bz2"
        path.write_bytes(bz2.compress((dump.header + "".join(pages) + dump.footer).encode("utf-8")))
        paths.append(path)
    return paths
