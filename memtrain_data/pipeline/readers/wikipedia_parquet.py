"""Read the Hugging Face `wikimedia/wikipedia` layout: parquet with columns `id, url, title, text`.

Its text is already plain (no wikitext), so a pool built from it skips the wikitext extractor
and goes straight to the passage splitter. Section headings survive in that text as short
lines of their own; they are turned into paragraph boundaries here, as the extractor does for
dumps, so headings never become passage text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.pipeline.readers.input_unit import InputUnit
from memtrain_data.pipeline.readers.units import UnitReader

if TYPE_CHECKING:
    from datatrove.data import DocumentsPipeline

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = (".", "!", "?", ":", ";", '"', "”", "'", ")")
HEADING_MAX_WORDS = 10


def is_heading_line(line: str) -> bool:
    """A section heading as it appears in wikimedia/wikipedia text: one short line, no final punctuation."""
    stripped = line.strip()
    return bool(stripped) and "\n" not in stripped and len(stripped.split()) <= HEADING_MAX_WORDS and not stripped.endswith(_SENTENCE_END)


def paragraphs_of(text: str) -> str:
    """Plain text with headings removed and paragraphs separated by exactly one blank line."""
    kept: list[str] = []
    for block in _PARAGRAPH_BREAK.split(text):
        lines = [line for line in block.strip().split("\n") if line.strip()]
        # a heading may sit on the first line of a block, directly above its paragraph
        while lines and len(lines) > 1 and is_heading_line(lines[0]):
            lines.pop(0)
        paragraph = " ".join(line.strip() for line in lines)
        if paragraph and not is_heading_line(paragraph):
            kept.append(paragraph)
    return "\n\n".join(kept)


class WikipediaParquetReader(UnitReader):
    """datatrove step: wikimedia/wikipedia parquet units → one `Document` per article.

    Documents carry `text` = plain text (paragraphs separated by a blank line), `id` =
    str(page_id) and metadata `page_id, title, revision_id (None), timestamp (None), source`.
    Counters: `rows_read`, `articles`, `empty_pages_dropped`, `bad_ids_dropped`.
    """

    name = "wikimedia/wikipedia parquet"
    counters: tuple[str, ...] = ("rows_read", "articles", "empty_pages_dropped", "bad_ids_dropped")
    """Counters reported even when zero, so every stats.json has the same keys."""

    def __init__(self, units: list[InputUnit], batch_rows: int = 1_000, limit: int = -1) -> None:
        super().__init__(units, limit=limit)
        self.batch_rows = batch_rows

    def _local_path(self, unit: InputUnit) -> Path:
        if unit.hub_repo is None:
            return Path(unit.path)
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(unit.hub_repo, unit.path, repo_type="dataset", revision=unit.hub_revision))

    def read_unit(self, unit: InputUnit) -> DocumentsPipeline:
        import pyarrow.parquet as pq
        from datatrove.data import Document
        from datatrove.utils.logging import logger

        parquet = pq.ParquetFile(self._local_path(unit))
        for batch in parquet.iter_batches(batch_size=self.batch_rows, columns=["id", "title", "text"]):
            for row in batch.to_pylist():
                self.stat_update("rows_read")
                raw_id = str(row["id"] or "").strip()
                if not raw_id.isdigit():
                    self.stat_update("bad_ids_dropped")
                    logger.warning(f"{unit.source}: row with id {row['id']!r} ({row['title']!r}) is not a page id; skipped")
                    continue
                text = paragraphs_of(row["text"] or "")
                if not text:
                    self.stat_update("empty_pages_dropped")
                    continue
                self.stat_update("articles")
                page_id = int(raw_id)
                document = Document(
                    text=text,
                    id=str(page_id),
                    metadata={
                        "page_id": page_id,
                        "title": str(row["title"] or ""),
                        "revision_id": None,
                        "timestamp": None,
                        "source": unit.source,
                    },
                )
                self.update_doc_stats(document)
                yield document
