"""The passage pool as the episode builder sees it: one memory-mapped table in a fixed order.

The pool's parquet shards are put in a canonical order (by a stable hash of the passage id, so
the order never depends on file names or worker count), cut to `pool_size` when set, and
written as one Arrow IPC file. Workers memory-map that file, so a pool of millions of passages
costs them almost no memory, and indices into it are the document ids of the retrieval index.

Writing the view never holds the pool in memory: a bucket sort on disk. The first pass reads
the shards a record batch at a time and appends each row to one of B bucket files, chosen by
the leading bits of its order key (so every key in bucket i is below every key in bucket i+1);
B is the pool's row count (from the parquet footers) over `rows_per_bucket`. The second pass
sorts one bucket at a time and appends it to the view. Peak memory is about one bucket of rows,
whatever the pool's size.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.errors import InputError, first_line

if TYPE_CHECKING:
    import pyarrow as pa

POOL_COLUMNS: tuple[str, ...] = ("id", "page_id", "title", "text", "n_words", "source")

ROWS_PER_BUCKET = 100_000
"""Rows sorted in memory at a time while writing the view (~60 MB of enwiki passages)."""

READ_BATCH_ROWS = 16_384
VIEW_BATCH_ROWS = 65_536
_KEY = "__memtrain_order_key"


def pool_files(output: Path) -> list[Path]:
    """The pool shards under `output/pool`, sorted by name."""
    return sorted((output / "pool").glob("passages-*.parquet"))


def _order_key(passage_id: str) -> bytes:
    return hashlib.sha256(f"memtrain-pool:{passage_id}".encode()).digest()


def _pool_error(output: Path, exc: Exception) -> InputError:
    return InputError(f"cannot read the passage pool in {output / 'pool'}: {first_line(exc)}")


def write_pool_view(
    output: Path, destination: Path, pool_size: int | None = None, *, rows_per_bucket: int = ROWS_PER_BUCKET
) -> str:
    """Write the canonical pool table to `destination` (Arrow IPC); return its fingerprint.

    The fingerprint (a hash of the ordered ids) tells whether indexes built on an earlier
    view still match. Memory stays at about `rows_per_bucket` rows (see the module docstring).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = pool_files(output)
    if not files:
        raise InputError(f"no passage pool in {output / 'pool'} (expected passages-*.parquet); build the pool first")
    try:
        readers = [pq.ParquetFile(path) for path in files]
        schema = pa.schema([readers[0].schema_arrow.field(name) for name in POOL_COLUMNS])
        total = sum(reader.metadata.num_rows for reader in readers)
    except (pa.ArrowInvalid, OSError, KeyError) as exc:
        raise _pool_error(output, exc) from None
    buckets = max(1, -(-total // max(1, rows_per_bucket)))
    bucket_width = -(-(1 << 64) // buckets)  # keys with the same leading 64 bits / width share a bucket
    keyed_schema = schema.append(pa.field(_KEY, pa.binary(32)))

    scratch = destination.with_name(destination.name + ".buckets")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
    try:
        for reader in readers:
            for batch in reader.iter_batches(batch_size=READ_BATCH_ROWS, columns=list(POOL_COLUMNS)):
                keys = [_order_key(passage_id) for passage_id in batch.column("id").to_pylist()]
                table = pa.Table.from_batches([batch]).cast(schema).append_column(_KEY, pa.array(keys, pa.binary(32)))
                bucket_of = np.array([int.from_bytes(key[:8], "big") // bucket_width for key in keys], dtype=np.int64)
                order = np.argsort(bucket_of, kind="stable")  # stable: equal keys keep file order
                sorted_buckets = bucket_of[order]
                bounds = np.flatnonzero(np.diff(sorted_buckets)) + 1
                for rows in np.split(order, bounds):
                    bucket = int(bucket_of[rows[0]])
                    if bucket not in writers:
                        writers[bucket] = pa.ipc.new_stream(str(scratch / f"{bucket:06d}.arrows"), keyed_schema)
                    writers[bucket].write_table(table.take(pa.array(rows)))
    except (pa.ArrowInvalid, OSError, KeyError) as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise _pool_error(output, exc) from None
    finally:
        for writer in writers.values():
            writer.close()

    fingerprint = hashlib.sha256()
    first = True
    remaining = total if pool_size is None else min(pool_size, total)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".tmp")
    pending: list[pa.Table] = []  # rows waiting for a full record batch: the layout never depends on buckets
    pending_rows = 0
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for bucket in sorted(writers):
            if remaining <= 0:
                break
            with pa.memory_map(str(scratch / f"{bucket:06d}.arrows"), "r") as source:
                table = pa.ipc.open_stream(source).read_all()
            order = table.column(_KEY).to_numpy(zero_copy_only=False).argsort(kind="stable")[:remaining]
            table = table.take(pa.array(order)).drop_columns([_KEY])
            remaining -= table.num_rows
            for passage_id in table.column("id").to_pylist():
                fingerprint.update(passage_id.encode() if first else f"\n{passage_id}".encode())
                first = False
            pending.append(table)
            pending_rows += table.num_rows
            if pending_rows >= VIEW_BATCH_ROWS:
                joined = pa.concat_tables(pending)
                full = pending_rows - pending_rows % VIEW_BATCH_ROWS
                for start in range(0, full, VIEW_BATCH_ROWS):
                    writer.write_table(_compact(joined.slice(start, VIEW_BATCH_ROWS)))
                pending, pending_rows = [joined.slice(full)], pending_rows - full
            del table
        if pending_rows:
            writer.write_table(_compact(pa.concat_tables(pending)))
    tmp.replace(destination)
    shutil.rmtree(scratch, ignore_errors=True)
    return fingerprint.hexdigest()


def _compact(table: pa.Table) -> pa.Table:
    """One record batch with buffers holding exactly its rows (a slice keeps its parent's
    buffers, and the IPC writer would store them), so the view's bytes depend only on its rows."""
    import numpy as np
    import pyarrow as pa

    return table.take(pa.array(np.arange(table.num_rows))).combine_chunks()


@dataclass
class PassageView:
    """Read access to the canonical pool table, memory-mapped.

    Random access (`rows`) goes through the memory map; whole passes over the pool
    (`text_batches`, `batches`) read the file a record batch at a time instead, so they never
    leave the whole file's pages resident in the reading process.
    """

    table: pa.Table
    path: Path | None = None

    @classmethod
    def open(cls, path: Path) -> PassageView:
        import pyarrow as pa

        return cls(pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all(), path)

    def batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """The view's record batches (at most 65,536 rows each), only `columns`, one in memory at a time."""
        import pyarrow as pa

        if self.path is None:
            yield from self.table.select(columns).to_batches()
            return
        with pa.OSFile(str(self.path), "rb") as source:
            reader = pa.ipc.open_file(source)
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index).select(columns)

    def __len__(self) -> int:
        return self.table.num_rows

    def rows(self, indices: list[int]) -> list[dict[str, object]]:
        """The passages at `indices`, in that order, as dicts of POOL_COLUMNS."""
        import pyarrow as pa

        return self.table.take(pa.array(indices, type=pa.int64())).to_pylist()

    def texts_between(self, start: int, stop: int) -> list[str]:
        """The texts of rows `start` to `stop` (exclusive), read through the memory map."""
        return self.table.column("text").slice(start, max(stop - start, 0)).to_pylist()

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Sent to a worker, a view on a file travels as its path (the worker maps the file itself), never as its rows.
        if self.path is None:
            return (PassageView, (self.table, None))
        return (PassageView.open, (self.path,))

    def texts(self) -> list[str]:
        """Every text in memory at once: for small pools and tests; indexes use `text_batches`."""
        return self.table.column("text").to_pylist()

    def text_batches(self, rows: int = READ_BATCH_ROWS) -> Iterator[list[str]]:
        """The texts in row order, `rows` at a time (only one record batch is in memory)."""
        for batch in self.batches(["text"]):
            column = batch.column(0)
            for start in range(0, len(column), rows):
                yield column.slice(start, rows).to_pylist()
