"""Resolve `--dump` arguments into input units: the fixed list of work items of a pool build.

One unit is one task of the datatrove executor, so the number of tasks (and the shard files
written) depends only on the input, never on `--workers`:

- a plain `.xml` or `.xml.gz` dump file: one unit (a `.gz` has no block index to seek by;
  a note says so);
- a plain (single-stream) `.xml.bz2` dump: `indexed_bzip2` builds its block-offset index in one
  pass, and the decompressed text is cut into ranges of about `pages_per_task` ×
  `PLAIN_BYTES_PER_PAGE` bytes; each task seeks to its range and owns the pages whose `<page>`
  tag starts inside it. A file whose index cannot be built (a cut file) is one unit, with a note;
- a multistream `.bz2` dump with its index (`offset:page_id:title` lines): one unit per group
  of whole bz2 streams holding about `pages_per_task` pages, as a byte range of the file, so
  one 24 GB file feeds many workers. The index is taken from `--dump-index` or found next to
  the dump by its usual name (`…-multistream.xml.bz2` → `…-multistream-index.txt.bz2`);
  without one, the file is one unit;
- a folder or glob of dump parts: the files it holds, sorted by name (index files are paired
  with their dumps, not read as dumps);
- wikimedia/wikipedia parquet (columns `id, url, title, text`), a local file, folder or glob,
  or a Hub id such as `wikimedia/wikipedia:20231101.simple`: one unit per parquet file.

Everything is checked here, before any worker starts, so a missing path, an empty file or a
file that is not a dump ends the run with one line naming it.

Header rule: a whole dump file must start with the `<mediawiki>` root. One without
`<siteinfo>` is read (pages carry their namespace in `<ns>`) with a warning in `notes`; a file
of bare `<page>` elements is refused, since that is a piece of a multistream dump and only its
index says where it belongs. Byte ranges after the first of a multistream dump are bare pages
by design and are read as such.

This module plans the units; reading their bytes is `dump_bytes`'s, parquet input and the Hub
are `hub_parquet`'s, and `InputUnit` itself is `input_unit`'s (re-exported here: `InputUnit`
is what callers outside the readers import from this module).
"""

from __future__ import annotations

import bz2
import glob
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from memtrain_data.atomic import atomic_write_text
from memtrain_data.errors import InputError
from memtrain_data.pipeline.readers.dump_bytes import BZ2_MAGIC, PARQUET_MAGIC, compression_of, read_head
from memtrain_data.pipeline.readers.hub_parquet import check_parquet, parse_hub_id, resolve_hub_parquet
from memtrain_data.pipeline.readers.input_unit import _DUMP_SUFFIXES, InputUnit, UnitKind

DEFAULT_PAGES_PER_TASK = 50_000
"""Pages (index entries) per byte range of a multistream dump: enwiki (~24M entries) → ~480 tasks."""

PLAIN_BYTES_PER_PAGE = 4_096
"""Decompressed XML per page assumed when cutting a plain `.bz2` into ranges: enwiki's
pages-articles averages about 4 KiB a page (~95 GB for ~23M pages), so `pages_per_task` means
about the same amount of work for both kinds of bz2 dump."""


@dataclass
class SourcePlan:
    """The resolved input: its kind, its units in task order, and notes for the user."""

    kind: UnitKind
    units: list[InputUnit]
    notes: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        sources = sorted({unit.source for unit in self.units})
        shown = ", ".join(sources[:3]) + (f" and {len(sources) - 3} more" if len(sources) > 3 else "")
        return f"{shown} ({len(self.units)} task{'s' if len(self.units) != 1 else ''})"


def _index_cache_file(cache: Path, dump: Path) -> Path:
    return cache / f"{hashlib.sha256(str(dump.resolve()).encode()).hexdigest()[:16]}.json"


def cached_block_offsets(cache: Path | None, dump: Path) -> tuple[tuple[int, int], ...] | None:
    """The block index saved for `dump` by an earlier run, if the file is unchanged (size and mtime)."""
    if cache is None:
        return None
    path = _index_cache_file(cache, dump)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        stat = dump.stat()
        if saved["path"] == str(dump.resolve()) and saved["size"] == stat.st_size and saved["mtime_ns"] == stat.st_mtime_ns:
            return tuple((int(bits), int(offset)) for bits, offset in saved["offsets"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent, unreadable or stale: build the index again
    return None


def save_block_offsets(cache: Path, dump: Path, offsets: tuple[tuple[int, int], ...]) -> None:
    stat = dump.stat()
    record = {"path": str(dump.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "offsets": offsets}
    cache.mkdir(parents=True, exist_ok=True)
    atomic_write_text(_index_cache_file(cache, dump), json.dumps(record) + "\n")


def plain_bz2_units(dump: Path, pages_per_task: int, index_cache: Path | None = None) -> tuple[list[InputUnit], str | None]:
    """Ranges of a plain `.bz2` dump's decompressed text, and a note for the user (None for one range).

    The block index takes one decompression pass (on all cores); with `index_cache` it is saved
    there and reused while the dump's size and mtime stay the same. A dump that fits in one
    range, or whose block index cannot be built (a cut or damaged file), is one whole-file unit,
    read sequentially.
    """
    import indexed_bzip2

    range_bytes = pages_per_task * PLAIN_BYTES_PER_PAGE
    try:
        offsets = cached_block_offsets(index_cache, dump)
        if offsets is None:
            with indexed_bzip2.open(str(dump), parallelization=os.cpu_count() or 1) as handle:
                offsets = tuple(sorted(handle.block_offsets().items()))
            if index_cache is not None:
                save_block_offsets(index_cache, dump, offsets)
    except (RuntimeError, OSError, ValueError) as exc:
        whole = InputUnit(kind="mediawiki", path=str(dump), source=dump.name)
        reason = str(exc) if str(exc) and str(exc) != "std::exception" else "the file looks cut or damaged"
        return [whole], f"{dump.name}: no bz2 block index ({reason}); read sequentially as one task"
    size = offsets[-1][1]
    if size <= range_bytes:
        return [InputUnit(kind="mediawiki", path=str(dump), source=dump.name)], None
    starts = list(range(0, size, range_bytes))
    units = [
        InputUnit(kind="mediawiki", path=str(dump), source=dump.name, start=start, end=min(start + range_bytes, size),
                  block_offsets=offsets)
        for start in starts
    ]  # fmt: skip
    note = f"{dump.name}: plain bz2, block index ({len(offsets)} offsets) → {len(units)} range(s) of {range_bytes:,} bytes"
    return units, note


# --------------------------------------------------------------------------- dump files

_LEADING_NOISE = re.compile(r"^(?:\ufeff|\s|<\?xml[^>]*\?>|<!--.*?-->)*", re.DOTALL)
_FIRST_TAG = re.compile(r"<([A-Za-z_][\w.:-]*)")
_INDEX_NAME = re.compile(r"-index\d*\.txt", re.IGNORECASE)
def is_index_name(path: Path) -> bool:
    """Whether a file is named like a multistream index (`…-multistream-index.txt.bz2`)."""
    return bool(_INDEX_NAME.search(path.name))


def sibling_index(dump: Path) -> Path | None:
    """The index next to a multistream dump, by Wikimedia's naming, when it exists.

    `x-multistream.xml.bz2` → `x-multistream-index.txt.bz2`;
    `x-multistream1.xml-p1p41242.bz2` → `x-multistream-index1.txt-p1p41242.bz2`.
    """
    if "multistream" not in dump.name:
        return None
    name = dump.name.replace("multistream", "multistream-index", 1).replace(".xml", ".txt", 1)
    candidate = dump.with_name(name)
    return candidate if candidate.is_file() else None


def check_dump_header(path: Path) -> str | None:
    """Raise `InputError` unless `path` starts like a MediaWiki XML export; return a warning or None."""
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    head = read_head(path)
    if not head.strip():
        raise InputError(f"{path}: the file holds no XML (empty after decompression)")
    body = _LEADING_NOISE.sub("", head, count=1)
    first = _FIRST_TAG.match(body)
    root = first.group(1).rpartition(":")[2] if first else None
    if root == "page":
        raise InputError(
            f"{path}: starts with a bare <page>, without the <mediawiki> header: it looks like a piece of a "
            "multistream dump; pass the whole dump with its index (--dump-index)"
        )
    if root != "mediawiki":
        what = f"its first element is <{first.group(1)}>" if first else "it does not start with XML"
        raise InputError(f"{path}: not a MediaWiki XML dump ({what}, expected <mediawiki>)")
    page_at = body.find("<page")
    siteinfo_at = body.find("<siteinfo")
    if siteinfo_at < 0 or (0 <= page_at < siteinfo_at):
        return f"{path.name}: no <siteinfo> header; reading its pages anyway (namespaces come from each <ns>)"
    return None


def read_multistream_index(index: Path) -> list[tuple[int, int]]:
    """(byte offset, number of pages) of each stream listed in a multistream index, in file order."""
    opener = bz2.open if compression_of(index) == "bz2" else open
    streams: list[tuple[int, int]] = []
    try:
        with opener(index, "rt", encoding="utf-8", errors="replace") as lines:
            for line_number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                offset_text, sep, _ = line.partition(":")
                if not sep or not offset_text.isdigit():
                    raise InputError(
                        f"{index}:{line_number}: not a multistream index line (expected offset:page_id:title)"
                    )
                offset = int(offset_text)
                if streams and offset == streams[-1][0]:
                    streams[-1] = (offset, streams[-1][1] + 1)
                elif streams and offset < streams[-1][0]:
                    raise InputError(
                        f"{index}:{line_number}: offsets go backwards ({offset} after {streams[-1][0]})"
                    )
                else:
                    streams.append((offset, 1))
    except (OSError, EOFError) as exc:
        raise InputError(f"{index}: cannot read the multistream index ({exc})") from None
    if not streams:
        raise InputError(f"{index}: the multistream index is empty")
    return streams


def multistream_units(dump: Path, index: Path, pages_per_task: int) -> list[InputUnit]:
    """Byte ranges of whole bz2 streams holding about `pages_per_task` pages each.

    The first range starts at byte 0 so it also holds the header stream (`<siteinfo>`); the
    last runs to the end of the file, so it also holds the closing `</mediawiki>` stream.
    """
    streams = read_multistream_index(index)
    size = dump.stat().st_size
    if streams[-1][0] >= size:
        raise InputError(
            f"{index}: offset {streams[-1][0]:,} is past the end of {dump} ({size:,} bytes): wrong index?"
        )
    starts = [0]
    pages_in_range = 0
    for offset, pages in streams:
        if pages_in_range >= pages_per_task:
            starts.append(offset)
            pages_in_range = 0
        pages_in_range += pages
    with open(dump, "rb") as handle:
        for offset in [0, *starts[1:]]:
            handle.seek(offset)
            if handle.read(3) != BZ2_MAGIC:
                raise InputError(
                    f"{index}: offset {offset:,} is not the start of a bz2 stream in {dump}: wrong index?"
                )
    ends = [*starts[1:], size]
    return [
        InputUnit(kind="mediawiki", path=str(dump), source=dump.name, start=start, end=end)
        for start, end in zip(starts, ends, strict=True)
    ]


# --------------------------------------------------------------------------- resolution


def _expand(spec: str) -> tuple[list[Path], bool] | None:
    """Files named by `spec` and whether it named them explicitly (a file) or by folder/glob."""
    path = Path(spec).expanduser()
    if path.is_file():
        return [path], True
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(_DUMP_SUFFIXES))
        if not files:
            raise InputError(f"{spec}: the folder holds no dump files ({', '.join(_DUMP_SUFFIXES)})")
        return files, False
    if glob.has_magic(spec):
        files = sorted(Path(p) for p in glob.glob(os.path.expanduser(spec)) if Path(p).is_file())
        if not files:
            raise InputError(f"{spec}: the pattern matches no files")
        return files, False
    return None


def resolve_sources(
    dumps: list[str],
    dump_index: str | None = None,
    *,
    pages_per_task: int = DEFAULT_PAGES_PER_TASK,
    index_cache: Path | None = None,
) -> SourcePlan:
    """Check every input and turn it into the units of a pool build (see the module docstring).

    `index_cache` is a folder where plain `.bz2` block indexes are kept between runs.
    """
    if not dumps:
        raise InputError("no input given: pass --dump (a dump file, folder, glob, parquet or Hub id)")
    if pages_per_task < 1:
        raise InputError(f"pages_per_task must be at least 1, got {pages_per_task}")
    notes: list[str] = []
    dump_files: list[Path] = []
    parquet_units: list[InputUnit] = []
    explicit_index = Path(dump_index).expanduser() if dump_index else None
    if explicit_index is not None and not explicit_index.is_file():
        raise InputError(f"--dump-index {dump_index}: no such file")

    for spec in dumps:
        expanded = _expand(spec)
        if expanded is None:
            hub = parse_hub_id(spec)
            if hub is None:
                raise InputError(f"--dump {spec}: no such file or folder")
            parquet_units.extend(resolve_hub_parquet(spec, *hub))
            continue
        files, explicit = expanded
        for file in files:
            if is_index_name(file):
                if explicit:
                    raise InputError(
                        f"{file}: this is a multistream index; pass it with --dump-index, and the dump with --dump"
                    )
                continue  # paired with its dump below
            if file.stat().st_size >= 4 and _starts_with(file, PARQUET_MAGIC):
                check_parquet(file)
                parquet_units.append(InputUnit(kind="parquet", path=str(file), source=file.name))
            else:
                dump_files.append(file)

    if dump_files and parquet_units:
        raise InputError(
            "mixing MediaWiki dumps and parquet sources in one build is not supported; build them separately"
        )
    if parquet_units:
        if explicit_index is not None:
            raise InputError("--dump-index applies to a multistream MediaWiki dump, not to parquet input")
        return SourcePlan(kind="parquet", units=parquet_units, notes=notes)

    if explicit_index is not None and len(dump_files) != 1:
        raise InputError(
            f"--dump-index names one index but {len(dump_files)} dump files were given; "
            "put each part's index next to it under its usual name instead"
        )
    units: list[InputUnit] = []
    for file in dump_files:
        warning = check_dump_header(file)
        if warning:
            notes.append(warning)
        index = explicit_index or sibling_index(file)
        compression = compression_of(file)
        if index is not None and compression == "bz2":
            ranges = multistream_units(file, index, pages_per_task)
            notes.append(f"{file.name}: multistream index {index.name} → {len(ranges)} byte range(s)")
            units.extend(ranges)
        elif index is not None:
            raise InputError(f"{file}: an index was given but the dump is not bz2-compressed")
        elif compression == "bz2":
            ranges, note = plain_bz2_units(file, pages_per_task, index_cache)
            notes.extend([note] if note else [])
            units.extend(ranges)
        else:
            if compression == "gzip":
                notes.append(
                    f"{file.name}: gzip has no block index to seek by; read as one task (recompress with bzip2 to split it)"
                )
            units.append(InputUnit(kind="mediawiki", path=str(file), source=file.name))
    return SourcePlan(kind="mediawiki", units=units, notes=notes)


def _starts_with(path: Path, magic: bytes) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(magic)) == magic
