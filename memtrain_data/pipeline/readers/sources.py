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
"""

from __future__ import annotations

import bz2
import glob
import gzip
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from memtrain_data.errors import InputError

DEFAULT_PAGES_PER_TASK = 50_000
"""Pages (index entries) per byte range of a multistream dump: enwiki (~24M entries) → ~480 tasks."""

PLAIN_BYTES_PER_PAGE = 4_096
"""Decompressed XML per page assumed when cutting a plain `.bz2` into ranges: enwiki's
pages-articles averages about 4 KiB a page (~95 GB for ~23M pages), so `pages_per_task` means
about the same amount of work for both kinds of bz2 dump."""

SNIFF_CHARS = 1 << 20
READ_BLOCK = 1 << 20

BZ2_MAGIC = b"BZh"
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"

UnitKind = Literal["mediawiki", "parquet"]


@dataclass(frozen=True)
class InputUnit:
    """One task's input: a whole file, a byte range of a multistream dump, or a parquet file.

    `start`/`end` are set only for byte ranges; `start == 0` marks the range that holds the
    `<mediawiki>` header. For a multistream dump they are offsets in the compressed file (whole
    bz2 streams). For a plain `.bz2` (`block_offsets` set: the file's block index, compressed bit
    offset → decompressed byte offset) they are offsets in the decompressed text, and the unit
    holds the pages whose `<page>` tag starts in `[start, end)`. `hub_repo`/`hub_revision` are
    set for parquet files that are downloaded from the Hub inside the task.
    """

    kind: UnitKind
    path: str
    source: str
    start: int | None = None
    end: int | None = None
    hub_repo: str | None = None
    hub_revision: str | None = None
    block_offsets: tuple[tuple[int, int], ...] | None = field(default=None, repr=False)

    @property
    def is_byte_range(self) -> bool:
        return self.start is not None

    def describe(self) -> str:
        if self.is_byte_range:
            what = "decompressed bytes" if self.block_offsets is not None else "bytes"
            return f"{self.source} ({what} {self.start:,}-{self.end:,})"
        return self.source


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


# --------------------------------------------------------------------------- decompression


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


def plain_bz2_units(dump: Path, pages_per_task: int) -> tuple[list[InputUnit], str | None]:
    """Ranges of a plain `.bz2` dump's decompressed text, and a note for the user (None for one range).

    A dump that fits in one range, or whose block index cannot be built (a cut or damaged
    file), is one whole-file unit, read sequentially.
    """
    import indexed_bzip2

    range_bytes = pages_per_task * PLAIN_BYTES_PER_PAGE
    try:
        with indexed_bzip2.open(str(dump), parallelization=os.cpu_count() or 1) as handle:
            offsets = tuple(sorted(handle.block_offsets().items()))
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


# --------------------------------------------------------------------------- dump files

_LEADING_NOISE = re.compile(r"^(?:\ufeff|\s|<\?xml[^>]*\?>|<!--.*?-->)*", re.DOTALL)
_FIRST_TAG = re.compile(r"<([A-Za-z_][\w.:-]*)")
_INDEX_NAME = re.compile(r"-index\d*\.txt", re.IGNORECASE)
_DUMP_SUFFIXES = (".xml", ".xml.bz2", ".xml.gz", ".bz2", ".parquet")


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


# --------------------------------------------------------------------------- parquet

PARQUET_COLUMNS = ("id", "title", "text")


def check_parquet(path: Path) -> None:
    """Raise `InputError` unless `path` is a parquet file in the wikimedia/wikipedia layout."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: not a readable parquet file ({exc})") from None
    missing = [name for name in PARQUET_COLUMNS if name not in schema.names]
    if missing:
        raise InputError(
            f"{path}: parquet without column(s) {', '.join(missing)}; expected the wikimedia/wikipedia "
            f"layout (id, url, title, text), found: {', '.join(schema.names)}"
        )
    wrong = [
        f"{name} is {schema.field(name).type}"
        for name in PARQUET_COLUMNS
        if not _parquet_type_fits(name, schema.field(name).type)
    ]
    if wrong:
        raise InputError(
            f"{path}: parquet column types do not fit the wikimedia/wikipedia layout ({', '.join(wrong)}); "
            "expected title and text as strings and id as a string or integer"
        )


def _parquet_type_fits(column: str, arrow_type: object) -> bool:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type):
        return True
    return column == "id" and pa.types.is_integer(arrow_type)


_HUB_ID = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)(?::(?P<config>[\w.-]+))?$")
_HUB_URL = re.compile(r"^hf://datasets/(?P<repo>[\w.-]+/[\w.-]+)(?:/(?P<config>[\w.-]+))?/?$")


def parse_hub_id(spec: str) -> tuple[str, str | None] | None:
    """(repo, config) for `owner/name`, `owner/name:config` or `hf://datasets/owner/name[/config]`.

    A spec that looks like a file path (starts with `.`, `/`, `~`, or ends like a dump file) is
    never taken for a Hub id, so a mistyped path is reported as missing.
    """
    if spec.startswith((".", "/", "~")) or spec.lower().endswith((*_DUMP_SUFFIXES, ".gz", ".txt")):
        return None
    match = _HUB_URL.match(spec) or _HUB_ID.match(spec)
    if not match:
        return None
    return match.group("repo"), match.group("config")


def _hub_offline() -> bool:
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "")
    return bool(constants.HF_HUB_OFFLINE) or flag.strip().lower() in {"1", "true", "yes", "on"}


def resolve_hub_parquet(spec: str, repo: str, config: str | None) -> list[InputUnit]:
    """Parquet files of a Hub dataset (one config folder), pinned to the commit seen now.

    Tasks download their file with `hf_hub_download` (cached), so every task reads the same
    revision. Offline, a copy already in the local cache is used instead.
    """
    pattern = f"{config}/*.parquet" if config else "*.parquet"
    if _hub_offline():
        from huggingface_hub import snapshot_download

        try:
            folder = snapshot_download(
                repo, repo_type="dataset", allow_patterns=[pattern], local_files_only=True
            )
        except Exception:
            raise InputError(
                f"--dump {spec}: no such file or folder, and the Hub dataset {repo} cannot be looked up: the Hub is "
                "offline (HF_HUB_OFFLINE=1) and it is not in the local cache; unset HF_HUB_OFFLINE, or download "
                "its parquet files and pass their folder"
            ) from None
        files = sorted(Path(folder).glob(pattern))
        if not files:
            raise InputError(f"{spec}: no parquet files for '{pattern}' in the local cache of {repo}")
        return [
            InputUnit(kind="parquet", path=str(path), source=f"{repo}/{path.relative_to(folder)}")
            for path in files
        ]

    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        info = HfApi().dataset_info(repo)
    except RepositoryNotFoundError:
        raise InputError(
            f"{spec}: no such dataset on the Hugging Face Hub (and no such local path)"
        ) from None
    except (HfHubHTTPError, OSError) as exc:
        raise InputError(f"{spec}: cannot reach the Hugging Face Hub ({exc})") from None
    names = sorted(s.rfilename for s in info.siblings or [] if s.rfilename.endswith(".parquet"))
    chosen = [name for name in names if config is None or name.startswith(f"{config}/")]
    if not chosen:
        configs = sorted({name.split("/")[0] for name in names if "/" in name})
        hint = f"; configs include: {', '.join(configs[:8])}" if configs else ""
        raise InputError(
            f"{spec}: no parquet files{f' for config {config}' if config else ''} in {repo}{hint}"
        )
    if config is None and len({name.split("/")[0] for name in chosen}) > 1:
        raise InputError(
            f"{spec}: {repo} has several configs; name one, e.g. {repo}:{chosen[0].split('/')[0]}"
        )
    return [
        InputUnit(kind="parquet", path=name, source=f"{repo}/{name}", hub_repo=repo, hub_revision=info.sha)
        for name in chosen
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
    dumps: list[str], dump_index: str | None = None, *, pages_per_task: int = DEFAULT_PAGES_PER_TASK
) -> SourcePlan:
    """Check every input and turn it into the units of a pool build (see the module docstring)."""
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
            ranges, note = plain_bz2_units(file, pages_per_task)
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
