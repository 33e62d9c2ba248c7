"""Write passages as parquet shards of the passage pool.

Each task writes one shard, `passages-{rank:05d}-of-{tasks:05d}.parquet`, with the explicit
schema of `memtrain_data.features.passage_arrow_schema()`. Rows are validated with the
`Passage` model first; an invalid one is skipped, counted and logged with its id. The shard
is written under a temporary name and renamed only once complete, so a crash never leaves a
half-written shard under the final name (datatrove then writes the task's completion marker).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatrove.pipeline.base import PipelineStep

if TYPE_CHECKING:
    from datatrove.data import Document, DocumentsPipeline

POOL_SHARD_GLOB = "passages-*-of-*.parquet"


def pool_shard_name(rank: int, tasks: int) -> str:
    """File name of task `rank`'s shard in a pool written by `tasks` tasks."""
    return f"passages-{rank:05d}-of-{tasks:05d}.parquet"


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

    Counters: `passages_written`, `words_written`, `invalid_passages_dropped`. Documents are
    passed on unchanged after writing, so steps may follow.
    """

    type = "💽 - WRITER"
    name = "passage pool"
    counters: tuple[str, ...] = ("passages_written", "words_written", "invalid_passages_dropped")
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
        writer = pq.ParquetWriter(temporary, schema)
        try:
            for document in data or ():
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
            os.replace(temporary, final)
        finally:
            if temporary.exists():
                writer.close()
                temporary.unlink()
