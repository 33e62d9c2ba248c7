"""WikipediaParquetReader: the wikimedia/wikipedia parquet layout (id, url, title, text) as an already-clean source."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from memtrain_data.pipeline.readers.sources import InputUnit, resolve_sources
from memtrain_data.pipeline.readers.wikipedia_parquet import (
    WikipediaParquetReader,
    is_heading_line,
    paragraphs_of,
)

ARTICLE = (
    "Riverton is a town on the Vell river. It was founded in 1742 by Anna Morrow.\n\n"
    "History\n\n"
    "The town grew around a mill built in 1760. Its first school opened in 1801.\n\n"
    "Geography\n"
    "Riverton lies in a wide valley, 40 kilometres from the coast."
)


def write_wikipedia_parquet(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = {key: [row[key] for row in rows] for key in ("id", "url", "title", "text")}
    pq.write_table(pa.table(columns), path)
    return path


def test_headings_become_boundaries_and_paragraphs_are_kept() -> None:
    assert paragraphs_of(ARTICLE).split("\n\n") == [
        "Riverton is a town on the Vell river. It was founded in 1742 by Anna Morrow.",
        "The town grew around a mill built in 1760. Its first school opened in 1801.",
        "Riverton lies in a wide valley, 40 kilometres from the coast.",
    ]


def test_a_heading_is_a_short_line_without_final_punctuation() -> None:
    assert is_heading_line("Early life and career")
    assert not is_heading_line("It rained.")
    assert not is_heading_line("a line " * 12)


def test_rows_become_articles_with_page_id_title_and_source(tmp_path: Path) -> None:
    path = write_wikipedia_parquet(
        tmp_path / "train-00000-of-00001.parquet",
        [
            {"id": "12", "url": "https://x.test/wiki/Riverton", "title": "Riverton", "text": ARTICLE},
            {"id": "13", "url": "https://x.test/wiki/Empty", "title": "Empty", "text": "   "},
            {"id": "not-a-number", "url": "https://x.test/wiki/Odd", "title": "Odd", "text": "Some text."},
        ],
    )
    plan = resolve_sources([str(path)])
    reader = WikipediaParquetReader(plan.units, batch_rows=2)
    documents = list(reader.run())
    assert len(documents) == 1
    assert documents[0].id == "12"
    assert documents[0].text == paragraphs_of(ARTICLE)
    assert documents[0].metadata == {
        "page_id": 12,
        "title": "Riverton",
        "revision_id": None,
        "timestamp": None,
        "source": "train-00000-of-00001.parquet",
    }
    counters = {key: value.total for key, value in reader.stats.stats.items()}
    assert counters["rows_read"] == 3
    assert counters["empty_pages_dropped"] == 1
    assert counters["bad_ids_dropped"] == 1


def test_each_task_reads_its_own_files(tmp_path: Path) -> None:
    units = []
    for n in range(3):
        path = write_wikipedia_parquet(
            tmp_path / f"train-{n}.parquet",
            [{"id": str(100 + n), "url": "u", "title": f"T{n}", "text": f"Text of article {n} is here."}],
        )
        units.append(InputUnit(kind="parquet", path=str(path), source=path.name))
    reader = WikipediaParquetReader(units)
    assert [d.id for d in reader.run(rank=2, world_size=3)] == ["102"]
    assert [d.id for d in reader.run(rank=0, world_size=2)] == ["100", "102"]
