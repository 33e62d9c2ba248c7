"""The passage pool as the episode builder sees it: one memory-mapped table in a fixed order.

The pool's parquet shards are read once in the main process, put in a canonical order (by a
stable hash of the passage id, so the order never depends on file names or worker count),
cut to `pool_size` when set, and written as one Arrow IPC file. Workers memory-map that file,
so a pool of millions of passages costs them almost no memory, and indices into it are the
document ids of the retrieval index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

POOL_COLUMNS: tuple[str, ...] = ("id", "page_id", "title", "text", "n_words", "source")


def pool_files(output: Path) -> list[Path]:
    """The pool shards under `output/pool`, sorted by name."""
    return sorted((output / "pool").glob("passages-*.parquet"))


def _order_key(passage_id: str) -> bytes:
    return hashlib.sha256(f"memtrain-pool:{passage_id}".encode()).digest()


def write_pool_view(output: Path, destination: Path, pool_size: int | None = None) -> str:
    """Write the canonical pool table to `destination` (Arrow IPC); return its fingerprint.

    The fingerprint (a hash of the ordered ids) tells whether indexes built on an earlier
    view still match.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = pool_files(output)
    if not files:
        raise InputError(f"no passage pool in {output / 'pool'} (expected passages-*.parquet); build the pool first")
    try:
        table = pa.concat_tables([pq.read_table(path, columns=list(POOL_COLUMNS)) for path in files])
    except (pa.ArrowInvalid, OSError, KeyError) as exc:
        raise InputError(f"cannot read the passage pool in {output / 'pool'}: {str(exc).splitlines()[0]}") from None
    ids = table.column("id").to_pylist()
    order = sorted(range(len(ids)), key=lambda i: _order_key(ids[i]))
    if pool_size is not None:
        order = order[:pool_size]
    table = table.take(pa.array(order, type=pa.int64()))
    fingerprint = hashlib.sha256("\n".join(table.column("id").to_pylist()).encode()).hexdigest()
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=65_536)
    tmp.replace(destination)
    return fingerprint


@dataclass
class PassageView:
    """Read access to the canonical pool table, memory-mapped."""

    table: pa.Table

    @classmethod
    def open(cls, path: Path) -> PassageView:
        import pyarrow as pa

        return cls(pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all())

    def __len__(self) -> int:
        return self.table.num_rows

    def rows(self, indices: list[int]) -> list[dict[str, object]]:
        """The passages at `indices`, in that order, as dicts of POOL_COLUMNS."""
        import pyarrow as pa

        return self.table.take(pa.array(indices, type=pa.int64())).to_pylist()

    def texts(self) -> list[str]:
        return self.table.column("text").to_pylist()
