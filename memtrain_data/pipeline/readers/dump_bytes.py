"""Reading a dump's bytes: compression by magic bytes, bz2 streams and multistream byte ranges,
plain-bz2 ranges through their block index, and the first characters of a dump.
"""

from __future__ import annotations

import bz2
import gzip
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from memtrain_data.errors import InputError
from memtrain_data.pipeline.readers.input_unit import InputUnit

SNIFF_CHARS = 1 << 20
READ_BLOCK = 1 << 20

BZ2_MAGIC = b"BZh"
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


def compression_of(path: Path) -> Literal["bz2", "gzip", "none"]:
    """Compression by magic bytes (never by suffix: a renamed file still reads right)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(BZ2_MAGIC):
        return "bz2"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    return "none"


class TruncatedInputError(Exception):
    """A compressed stream ended before its end-of-stream marker: the file was cut."""


def iter_bz2_streams(path: Path, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Decompressed bytes of the bz2 streams in `path[start:end]`, in order, a block at a time.

    Handles multistream files (one stream after another). Raises `TruncatedInputError` when the
    last stream is cut, after yielding everything before the cut, and `OSError` on corrupt data.
    """
    end = os.path.getsize(path) if end is None else end
    decompressor = bz2.BZ2Decompressor()
    stream_open = False
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = end - start
        while remaining > 0:
            block = handle.read(min(READ_BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)
            while block:
                stream_open = True
                # bounded output: a highly compressible block must not inflate all at once
                out = decompressor.decompress(block, max_length=READ_BLOCK)
                while True:
                    if out:
                        yield out
                    if decompressor.eof or decompressor.needs_input:
                        break
                    out = decompressor.decompress(b"", max_length=READ_BLOCK)
                if decompressor.eof:
                    block = decompressor.unused_data
                    decompressor = bz2.BZ2Decompressor()
                    stream_open = False
                else:
                    block = b""
    if stream_open:
        raise TruncatedInputError(f"{path.name}: compressed data ends inside a bz2 stream")


def iter_decompressed(path: Path, start: int | None = None, end: int | None = None) -> Iterator[bytes]:
    """Decompressed bytes of a whole dump file, or of a byte range of a multistream bz2 dump."""
    kind = compression_of(path)
    if kind == "bz2" or start is not None:
        yield from iter_bz2_streams(path, start or 0, end)
    elif kind == "gzip":
        with gzip.open(path, "rb") as handle:
            try:
                while block := handle.read(READ_BLOCK):
                    yield block
            except EOFError as exc:
                raise TruncatedInputError(f"{path.name}: {exc}") from None
    else:
        with open(path, "rb") as handle:
            while block := handle.read(READ_BLOCK):
                yield block


_PAGE_TAG = re.compile(rb"<page[\s>]")


def iter_page_range(unit: InputUnit) -> Iterator[bytes]:
    """The XML of a plain-bz2 range unit: from the first `<page>` tag at or after `start` (byte 0
    for the first range, so the header comes along) to the first `<page>` tag at or after `end`
    (the end of the file for the last range).

    Consecutive ranges therefore meet exactly at a page boundary: every page is read by the one
    task whose range its `<page>` tag starts in, whatever the range sizes.
    """
    import indexed_bzip2

    assert unit.start is not None and unit.end is not None and unit.block_offsets is not None
    tag_bytes = 6  # a tag split across two reads is found once the next read arrives
    with indexed_bzip2.open(unit.path, parallelization=1) as handle:
        handle.set_block_offsets(dict(unit.block_offsets))
        last_range = unit.end >= unit.block_offsets[-1][1]
        handle.seek(unit.start)
        position = unit.start  # decompressed offset of buffer[0]
        buffer = b""
        started = unit.start == 0
        while True:
            block = handle.read(READ_BLOCK)
            buffer += block
            if not started:
                found = _PAGE_TAG.search(buffer)
                if found is None:
                    if not block:
                        return  # no page starts in or after this range
                    drop = max(len(buffer) - tag_bytes, 0)
                    position, buffer = position + drop, buffer[drop:]
                    continue
                position, buffer = position + found.start(), buffer[found.start() :]
                started = True
            if not last_range:
                found = _PAGE_TAG.search(buffer, max(unit.end - position, 0))
                if found is not None:
                    yield buffer[: found.start()]
                    return
            if not block:
                yield buffer
                return
            ready = len(buffer) if last_range else max(len(buffer) - tag_bytes, 0)
            if ready:
                yield buffer[:ready]
                position, buffer = position + ready, buffer[ready:]


def iter_unit_bytes(unit: InputUnit) -> Iterator[bytes]:
    """The decompressed XML of one unit: a whole file, a multistream byte range or a plain-bz2 range."""
    if unit.block_offsets is not None:
        yield from iter_page_range(unit)
    else:
        yield from iter_decompressed(Path(unit.path), unit.start, unit.end)


def read_head(path: Path, limit: int = SNIFF_CHARS) -> str:
    """Up to `limit` decompressed characters from the start of a dump (errors replaced)."""
    collected = bytearray()
    try:
        for block in iter_decompressed(path):
            collected += block
            if len(collected) >= limit:
                break
    except TruncatedInputError:
        pass  # a cut file is reported by the reader, which keeps the pages before the cut
    except (OSError, EOFError, ValueError) as exc:
        raise InputError(f"{path}: cannot be decompressed ({exc})") from None
    return bytes(collected[:limit]).decode("utf-8", errors="replace")
