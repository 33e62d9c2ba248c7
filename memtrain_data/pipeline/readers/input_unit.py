"""`InputUnit`: one task's input (a whole file, a byte range of a dump, or a parquet file).

The unit planning (`sources`), the byte reading (`dump_bytes`) and the Hub resolution
(`hub_parquet`) all build or read these, so the type sits below all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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


# Suffixes of the files a folder of dump parts is read for; a Hub id never ends in one.
_DUMP_SUFFIXES = (".xml", ".xml.bz2", ".xml.gz", ".bz2", ".parquet")
