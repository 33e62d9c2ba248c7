"""Write passages as parquet shards of the passage pool.

Each task writes one shard, `passages-{rank:05d}-of-{tasks:05d}.parquet`, with the explicit
schema of `memtrain_data.features.passage_arrow_schema()`. Rows are validated with the
`Passage` model first; an invalid one is skipped, counted and logged with its id. The shard
is written under a temporary name and renamed only once complete, so a crash never leaves a
half-written shard under the final name (datatrove then writes the task's completion marker).

Beside it the task writes its alias table, `aliases-{rank:05d}-of-{tasks:05d}.parquet`
(`alias_arrow_schema()`): the alias rows that documents carried in their metadata (see
`memtrain_data.pipeline.aliases`), counted per (target, alias, kind), unique and sorted. The
newest revision timestamp the task saw is kept in the table's metadata
(`LATEST_TIMESTAMP_METADATA`). The alias table is renamed into place before the passage shard.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatrove.pipeline.base import PipelineStep

from memtrain_data.pipeline.aliases import ALIAS_ONLY_KEY, ALIASES_KEY, LATEST_TIMESTAMP_KEY

if TYPE_CHECKING:
    import pyarrow as pa
    from datatrove.data import Document, DocumentsPipeline

POOL_SHARD_GLOB = "passages-*-of-*.parquet"
ALIAS_SHARD_GLOB = "aliases-*-of-*.parquet"
LATEST_TIMESTAMP_METADATA = b"memtrain.latest_revision_timestamp"


def pool_shard_name(rank: int, tasks: int) -> str:
    """File name of task `rank`'s shard in a pool written by `tasks` tasks."""
    return f"passages-{rank:05d}-of-{tasks:05d}.parquet"


def alias_shard_name(rank: int, tasks: int) -> str:
    """File name of task `rank`'s alias table in a pool written by `tasks` tasks."""
    return f"aliases-{rank:05d}-of-{tasks:05d}.parquet"


def alias_arrow_schema() -> pa.Schema:
    """target, alias, kind ("anchor" or "redirect"), count: the alias table's columns."""
    import pyarrow as pa

    return pa.schema(
        [("target", pa.string()), ("alias", pa.string()), ("kind", pa.string()), ("count", pa.int64())]
    )


def write_alias_table(
    path: Path, counts: Counter[tuple[str, str, str]], latest_timestamp: str | None
) -> None:
    """Write the counted alias rows, sorted by (target, alias, kind), under a temporary name then rename."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = sorted(counts)
    columns = {
        "target": [key[0] for key in keys],
        "alias": [key[1] for key in keys],
        "kind": [key[2] for key in keys],
        "count": [counts[key] for key in keys],
    }
    schema = alias_arrow_schema().with_metadata(
        {LATEST_TIMESTAMP_METADATA: (latest_timestamp or "").encode()}
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(pa.table(columns, schema=schema), temporary)
    os.replace(temporary, path)


def read_latest_timestamp(path: Path) -> str | None:
    """The newest revision timestamp recorded in an alias table, or None."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return metadata.get(LATEST_TIMESTAMP_METADATA, b"").decode() or None


def passage_row(document: Document) -> dict[str, Any]:
    """The `Passage` fields of a passage document (from the passage splitter)."""
    metadata = document.metadata
    return {
        "id": document.id,
        "page_id": metadata.get("page_id"),
        "title": metadata.get("title"),
        "text": document.text,
        "n_words": metadata.get("n_words", len(document.text.split())),
        "revision_id": metadata.get("revision_id"),
        "timestamp": metadata.get("timestamp"),
        "source": metadata.get("source"),
    }


class PassagePoolWriter(PipelineStep):
    """datatrove step: validate passage documents and write them to the task's pool shard.

    Counters: `passages_written`, `words_written`, `invalid_passages_dropped`, `alias_rows`
    (rows of the task's alias table). Passage documents are passed on unchanged after writing,
    so steps may follow; alias-only documents are consumed.
    """

    type = "💽 - WRITER"
    name = "passage pool"
    counters: tuple[str, ...] = (
        "passages_written",
        "words_written",
        "invalid_passages_dropped",
        "alias_rows",
    )
    """Counters reported even when zero, so every stats.json has the same keys."""

    def __init__(self, output_dir: str | Path, tasks: int, batch_rows: int = 2_000) -> None:
        super().__init__()
        self.output_dir = str(output_dir)
        self.tasks = tasks
        self.batch_rows = batch_rows

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from datatrove.utils.logging import logger
        from pydantic import ValidationError

        from memtrain_data.features import passage_arrow_schema
        from memtrain_data.records import Passage

        schema = passage_arrow_schema()
        folder = Path(self.output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / pool_shard_name(rank, self.tasks)
        temporary = folder / f".{final.name}.{os.getpid()}.tmp"
        # A task killed earlier (kill -9, node lost) left its temporary file behind: this rerun replaces it.
        for stale in folder.glob(f".{final.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        rows: list[dict[str, Any]] = []
        aliases: Counter[tuple[str, str, str]] = Counter()
        latest_timestamp: str | None = None
        writer = pq.ParquetWriter(temporary, schema)
        try:
            for document in data or ():
                metadata = document.metadata
                if carried := metadata.get(ALIASES_KEY):
                    aliases.update(tuple(row) for row in carried)  # type: ignore[misc]
                stamp = metadata.get(LATEST_TIMESTAMP_KEY) or metadata.get("timestamp")
                if stamp and (latest_timestamp is None or stamp > latest_timestamp):
                    latest_timestamp = stamp
                if metadata.get(ALIAS_ONLY_KEY):
                    continue
                row = passage_row(document)
                try:
                    Passage.model_validate(row)
                except ValidationError as exc:
                    self.stat_update("invalid_passages_dropped")
                    problem = exc.errors()[0]
                    where = ".".join(str(part) for part in problem["loc"])
                    logger.warning(f"passage {document.id}: invalid ({where}: {problem['msg']}); skipped")
                    continue
                rows.append(row)
                self.stat_update("passages_written")
                self.stat_update("words_written", value=row["n_words"])
                if len(rows) >= self.batch_rows:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                    rows = []
                yield document
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            writer.close()
            for stale in folder.glob(f".{alias_shard_name(rank, self.tasks)}.*.tmp"):
                stale.unlink(missing_ok=True)
            write_alias_table(folder / alias_shard_name(rank, self.tasks), aliases, latest_timestamp)
            self.stat_update("alias_rows", value=len(aliases))
            os.replace(temporary, final)
        finally:
            if temporary.exists():
                writer.close()
                temporary.unlink()
