"""build_passage_pool: the whole pool pipeline on datatrove's local executor, end to end.

Real steps throughout: the MediaWiki reader, the wikitext extractor, the passage splitter and
the pool writer, run by `LocalPipelineExecutor` in this process (workers=1) or in worker
processes (workers=2).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from memtrain_data.build_config import BuildConfig
from memtrain_data.errors import InputError
from memtrain_data.features import passage_arrow_schema
from memtrain_data.pool import build_passage_pool, pool_logging_dir
from memtrain_data.records import Passage
from tests.pipeline.readers.dump_factory import (
    HEADER,
    SITEINFO,
    dump_text,
    multistream_copy,
    page_xml,
    write_dump,
    write_multistream,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

PARAGRAPH = (
    "{name} is a town on the [[Vell River|Vell]] in the [[Marrow Hills]]. It was founded in {year} by "
    "the merchant Anna Morrow, who built the first mill there.<ref>{{{{cite book|title=Towns}}}}</ref> "
    "The town grew quickly, and by {later} it had a school, a market and a bridge of grey stone."
)


def town_text(page_id: int) -> str:
    """Real wikitext (links, refs, templates, headings) with two paragraphs per page."""
    name = f"Town{page_id}"
    first = PARAGRAPH.format(name=f"'''{name}'''", year=1700 + page_id, later=1800 + page_id)
    second = PARAGRAPH.format(name=name, year=1750 + page_id, later=1850 + page_id)
    return f"{{{{Infobox settlement|name={name}|founded={1700 + page_id}}}}}\n{first}\n\n== History ==\n{second}\n\n[[Category:Towns]]"


def town_pages(count: int, first_id: int = 1) -> list[str]:
    return [page_xml(i, f"Town{i}", town_text(i)) for i in range(first_id, first_id + count)]


class RecordedProgress:
    """A ProgressReporter that remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.messages: list[str] = []
        self.advanced = 0

    def start(self, stage: str, total: int | None = None) -> None:
        self.calls.append(("start", stage, str(total)))

    def advance(self, stage: str, amount: int = 1) -> None:
        self.advanced += amount

    def finish(self, stage: str) -> None:
        self.calls.append(("finish", stage))

    def log(self, message: str) -> None:
        self.messages.append(message)


def read_pool(result_dir: Path) -> pa.Table:
    shards = sorted(result_dir.glob("passages-*.parquet"))
    return pa.concat_tables([pq.read_table(shard) for shard in shards])


def shard_bytes(pool_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(pool_dir.iterdir())}


# --------------------------------------------------------------------------- a normal build


def test_a_dump_becomes_validated_passage_shards_with_counters_per_stage(tmp_path: Path) -> None:
    pages = [
        *town_pages(4),
        page_xml(50, "Old town", "#REDIRECT [[Town1]]", redirect="Town1"),
        page_xml(51, "Town (disambiguation)", "'''Town''' may refer to:\n* [[Town1]]\n* [[Town2]]"),
        page_xml(52, "Template:Infobox settlement", "{{{name}}}", ns=10),
    ]
    dump = write_dump(tmp_path / "testwiki.xml.bz2", dump_text(pages))
    progress = RecordedProgress()
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(dump)]), progress=progress)

    assert result.pool_dir == tmp_path / "out" / "pool"
    assert [p.name for p in result.shards] == ["passages-00000-of-00001.parquet"]
    table = read_pool(result.pool_dir)
    assert table.schema.equals(passage_arrow_schema(), check_metadata=False)
    rows = table.to_pylist()
    for row in rows:
        Passage.model_validate(row)
        assert "[[" not in row["text"] and "{{" not in row["text"] and "<ref" not in row["text"]
        assert row["source"] == "testwiki.xml.bz2"
    assert {row["page_id"] for row in rows} == {1, 2, 3, 4}
    assert [row["id"] for row in rows if row["page_id"] == 1] == ["1-0", "1-1"]

    stats = result.stats
    assert stats["tasks"] == 1 and stats["tasks_skipped"] == 0
    assert stats["read"]["pages_read"] == 7
    assert stats["read"]["articles"] == 4
    assert stats["read"]["redirects_dropped"] == 1
    assert stats["read"]["disambiguations_dropped"] == 1
    assert stats["read"]["other_namespaces_dropped"] == 1
    assert stats["write"]["passages_written"] == len(rows)
    assert stats["write"]["words_written"] == sum(row["n_words"] for row in rows)
    assert set(stats) >= {"read", "extract", "split", "write"}
    assert stats["read"]["truncated_files"] == 0 and stats["write"]["invalid_passages_dropped"] == 0  # zero, yet reported
    assert ("start", "pool", "1") in progress.calls and ("finish", "pool") in progress.calls
    assert progress.advanced == 1


def test_a_rerun_skips_finished_tasks_says_so_and_leaves_the_shards_untouched(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    write_multistream(dump, HEADER + SITEINFO, town_pages(6), pages_per_stream=2)
    config = BuildConfig(output=tmp_path / "out", dump=[str(dump)])
    first = build_passage_pool(config, pages_per_task=2)
    assert first.tasks == 3
    before = shard_bytes(first.pool_dir)
    modified = {path.name: path.stat().st_mtime_ns for path in first.pool_dir.iterdir()}

    progress = RecordedProgress()
    second = build_passage_pool(config, progress=progress, pages_per_task=2)
    assert "3 of 3 pool tasks already complete, skipped" in progress.messages
    assert second.skipped_tasks == 3 and second.stats["tasks_skipped"] == 3
    assert shard_bytes(second.pool_dir) == before
    assert {path.name: path.stat().st_mtime_ns for path in second.pool_dir.iterdir()} == modified
    # the counters still cover the whole pool, read back from the finished tasks' stats files
    assert {k: v for k, v in second.stats.items() if k not in {"tasks_skipped", "seconds"}} == {
        k: v for k, v in first.stats.items() if k not in {"tasks_skipped", "seconds"}
    }


def test_a_rerun_with_other_pool_settings_is_refused_instead_of_mixing_pools(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "w.xml", dump_text(town_pages(2)))
    build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(dump)]))
    with pytest.raises(InputError, match=r"other input or settings.*max_passage_words"):
        build_passage_pool(BuildConfig.from_settings(output=tmp_path / "out", dump=[str(dump)], max_passage_words=100))


@pytest.mark.slow
def test_the_shards_are_identical_whatever_the_number_of_workers(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    write_multistream(dump, HEADER + SITEINFO, town_pages(8), pages_per_stream=2)
    one = build_passage_pool(BuildConfig.from_settings(output=tmp_path / "one", dump=[str(dump)], workers=1), pages_per_task=2)
    two = build_passage_pool(BuildConfig.from_settings(output=tmp_path / "two", dump=[str(dump)], workers=2), pages_per_task=2)
    assert one.tasks == two.tasks == 4
    assert shard_bytes(one.pool_dir) == shard_bytes(two.pool_dir)
    assert one.stats["write"] == two.stats["write"]


# --------------------------------------------------------------------------- bad input


def test_a_missing_path_fails_before_any_work_starts(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "enwiki.xml.bz2"
    with pytest.raises(InputError, match=re.escape(f"{missing}: no such file or folder")):
        build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(missing)]))
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_a_dump_fails_before_any_work_starts(tmp_path: Path) -> None:
    notes = tmp_path / "notes.xml"
    notes.write_text("shopping list: bread, milk\n")
    with pytest.raises(InputError, match="not a MediaWiki XML dump"):
        build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(notes)]))
    assert not pool_logging_dir(tmp_path / "out").exists()


def test_a_truncated_dump_keeps_the_pages_before_the_cut_and_the_run_says_so(tmp_path: Path) -> None:
    import bz2

    data = bz2.compress(dump_text(town_pages(300)).encode("utf-8"), compresslevel=1)
    dump = tmp_path / "cut.xml.bz2"
    dump.write_bytes(data[: len(data) // 2])
    progress = RecordedProgress()
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(dump)]), progress=progress)
    assert result.stats["read"]["truncated_files"] == 1
    assert any("cut.xml.bz2" in m and "cut short" in m for m in progress.messages)
    page_ids = set(read_pool(result.pool_dir).column("page_id").to_pylist())
    assert 0 < len(page_ids) < 300
    assert page_ids == set(range(1, len(page_ids) + 1))


def test_malformed_xml_keeps_the_pages_before_the_error_and_reports_it(tmp_path: Path) -> None:
    broken = "  <page>\n    <title>Broken</title>\n    <ns>0</ns>\n    <id>9</id>\n    <revision><text>a & b</text>"
    dump = write_dump(tmp_path / "bad.xml", HEADER + SITEINFO + "".join(town_pages(3)) + broken + "</mediawiki>")
    progress = RecordedProgress()
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(dump)]), progress=progress)
    assert result.stats["read"]["xml_errors"] == 1
    assert any("malformed XML" in m for m in progress.messages)
    assert set(read_pool(result.pool_dir).column("page_id").to_pylist()) == {1, 2, 3}


def test_non_utf8_bytes_are_replaced_counted_and_reported(tmp_path: Path) -> None:
    text = dump_text([page_xml(1, "Town1", town_text(1).replace("grey stone", "grey BAD stone", 1)), *town_pages(1, 2)])
    dump = write_dump(tmp_path / "latin1.xml.bz2", text.encode("utf-8").replace(b"BAD", b"\xe9\xe8"))
    progress = RecordedProgress()
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(dump)]), progress=progress)
    assert result.stats["read"]["invalid_utf8_bytes"] == 2
    assert any("invalid UTF-8" in m for m in progress.messages)
    assert set(read_pool(result.pool_dir).column("page_id").to_pylist()) == {1, 2}


def test_a_10_mb_page_is_skipped_and_counted(tmp_path: Path) -> None:
    huge = "The river rises in the hills. " * (10_000_000 // 30 + 1)
    dump = write_dump(tmp_path / "big.xml", dump_text([*town_pages(1), page_xml(2, "Huge", huge), *town_pages(1, 3)]))
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(dump)]))
    assert result.stats["read"]["oversized_pages_dropped"] == 1
    assert set(read_pool(result.pool_dir).column("page_id").to_pylist()) == {1, 3}


# --------------------------------------------------------------------------- other inputs


def test_wikimedia_wikipedia_parquet_goes_straight_to_the_splitter(tmp_path: Path) -> None:
    text = (
        "Riverton is a town on the Vell river, founded in 1742 by the merchant Anna Morrow, who built a mill.\n\n"
        "History\n\n"
        "The town grew around the mill. By 1801 it had a school, a market and a bridge of grey stone over the river."
    )
    table = pa.table({"id": ["12"], "url": ["https://x.test/wiki/Riverton"], "title": ["Riverton"], "text": [text]})
    pq.write_table(table, tmp_path / "train-00000-of-00001.parquet")
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(tmp_path / "train-00000-of-00001.parquet")]))
    assert set(result.stats) >= {"read", "split", "write"} and "extract" not in result.stats
    rows = read_pool(result.pool_dir).to_pylist()
    assert [row["id"] for row in rows] == ["12-0", "12-1"]
    assert all("History" not in row["text"] for row in rows)
    assert rows[0]["source"] == "train-00000-of-00001.parquet"


def test_without_a_dump_the_bundled_sample_wiki_is_used(tmp_path: Path) -> None:
    pytest.importorskip("memtrain_data.resources", reason="the bundled sample wiki is not in this checkout yet")
    progress = RecordedProgress()
    result = build_passage_pool(BuildConfig(output=tmp_path / "out"), progress=progress)
    assert "pool input: the bundled sample wiki" in progress.messages
    assert result.stats["input"] == "bundled sample wiki"
    # the mini preset draws 24 episodes of 12 passages from this pool
    assert result.stats["write"]["passages_written"] >= 120
    assert result.stats["read"]["redirects_dropped"] >= 1 and result.stats["read"]["disambiguations_dropped"] >= 1


@pytest.mark.slow
def test_the_enwiki_sample_split_by_byte_ranges_gives_the_pool_of_the_whole_file(enwiki_sample: Path, tmp_path: Path) -> None:
    multistream, index = multistream_copy(enwiki_sample, tmp_path, pages_per_stream=10)
    ranged = build_passage_pool(
        BuildConfig(output=tmp_path / "ranged", dump=[str(multistream)], dump_index=str(index)), pages_per_task=30
    )
    whole = build_passage_pool(BuildConfig(output=tmp_path / "whole", dump=[str(enwiki_sample)]))
    assert ranged.tasks == 4 and whole.tasks == 1
    ranged_rows = read_pool(ranged.pool_dir).drop_columns(["source"]).to_pylist()
    whole_rows = read_pool(whole.pool_dir).drop_columns(["source"]).to_pylist()
    assert ranged_rows == whole_rows
    assert whole.stats["read"]["articles"] > 50
    assert whole.stats["write"]["words_written"] > 150_000
    text = "\n".join(row["text"] for row in whole_rows)
    for residue in ("{{", "}}", "[[", "]]", "<ref", "&lt;", "thumb|", "File:"):
        assert residue not in text, residue


# --------------------------------------------------------------------------- crash and resume

CRASH_SCRIPT = """
import sys
from pathlib import Path
from memtrain_data.build_config import BuildConfig
from memtrain_data.pool import build_passage_pool

if __name__ == "__main__":
    config = BuildConfig.from_settings(output=Path(sys.argv[1]), dump=[sys.argv[2]], workers=1)
    build_passage_pool(config, pages_per_task=int(sys.argv[3]))
"""


@pytest.mark.slow
def test_kill_9_then_rerun_finishes_only_what_was_missing_with_identical_output(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    write_multistream(dump, HEADER + SITEINFO, town_pages(240), pages_per_stream=10)
    script = tmp_path / "build_pool.py"
    script.write_text(textwrap.dedent(CRASH_SCRIPT))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    reference = build_passage_pool(BuildConfig(output=tmp_path / "reference", dump=[str(dump)]), pages_per_task=20)
    assert reference.tasks == 12

    crashed = tmp_path / "crashed"
    process = subprocess.Popen(
        [sys.executable, str(script), str(crashed), str(dump), "20"], env=env, start_new_session=True
    )
    completions = pool_logging_dir(crashed) / "completions"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if completions.is_dir() and len(list(completions.iterdir())) >= 3:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the build finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_before = len(list(completions.iterdir()))
    assert 3 <= finished_before < 12
    assert not any(p.suffix == ".parquet" and not p.name.startswith(("passages-", "aliases-")) for p in (crashed / "pool").iterdir())

    progress = RecordedProgress()
    resumed = build_passage_pool(BuildConfig(output=crashed, dump=[str(dump)]), progress=progress, pages_per_task=20)
    assert resumed.skipped_tasks == finished_before
    assert f"{finished_before} of 12 pool tasks already complete, skipped" in progress.messages
    assert shard_bytes(crashed / "pool") == shard_bytes(reference.pool_dir)  # no temporary files left either


# --------------------------------------------------------------------------- aliases and duplicates


def test_the_pool_writes_an_alias_table_of_redirects_and_anchors_and_reports_it(tmp_path: Path) -> None:
    pages = [
        *town_pages(2),
        page_xml(60, "Vell", "#REDIRECT [[Vell River]]", redirect="Vell River", timestamp="2016-03-01T00:00:00Z"),
    ]
    dump = write_dump(tmp_path / "testwiki.xml.bz2", dump_text(pages))
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(dump)]))
    table = pq.read_table(result.pool_dir / "aliases-00000-of-00001.parquet")
    assert table.column_names == ["target", "alias", "kind", "count"]
    assert table.to_pylist() == [
        {"target": "Marrow Hills", "alias": "Marrow Hills", "kind": "anchor", "count": 4},  # 2 pages x 2 paragraphs
        {"target": "Vell River", "alias": "Vell", "kind": "anchor", "count": 4},
        {"target": "Vell River", "alias": "Vell", "kind": "redirect", "count": 1},
    ]
    stats = result.stats
    assert (stats["alias_rows"], stats["redirects_seen"], stats["anchors_seen"]) == (3, 1, 8)
    assert stats["latest_revision_timestamp"] == "2024-01-02T03:04:05Z"  # the town pages' revisions


def test_a_parquet_input_has_an_empty_alias_table(tmp_path: Path) -> None:
    text = "Riverton is a town on the Vell river, founded in 1742 by the merchant Anna Morrow, who built a mill."
    pq.write_table(pa.table({"id": ["12"], "url": ["u"], "title": ["Riverton"], "text": [text]}), tmp_path / "train.parquet")
    result = build_passage_pool(BuildConfig(output=tmp_path / "out", dump=[str(tmp_path / "train.parquet")]))
    assert pq.read_table(result.pool_dir / "aliases-00000-of-00001.parquet").num_rows == 0
    assert (result.stats["alias_rows"], result.stats["latest_revision_timestamp"]) == (0, None)


def test_the_same_dump_given_twice_gives_each_page_once_and_says_so(tmp_path: Path) -> None:
    first = write_dump(tmp_path / "a.xml", dump_text(town_pages(3)))
    second = write_dump(tmp_path / "b.xml", dump_text([*town_pages(3), page_xml(9, "Town9", town_text(9)), *town_pages(1)]))
    progress = RecordedProgress()
    config = BuildConfig(output=tmp_path / "out", dump=[str(first), str(second)])
    result = build_passage_pool(config, progress=progress)
    rows = read_pool(result.pool_dir).to_pylist()
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert sorted({row["page_id"] for row in rows}) == [1, 2, 3, 9]
    assert {row["page_id"] for row in rows if row["source"] == "b.xml"} == {9}  # the first input's copy is kept
    assert result.stats["split"]["duplicate_pages_dropped"] == 1  # page 1 twice in b.xml
    assert result.stats["duplicate_pages_dropped"] == 1 + 3
    assert any("more than one input" in message for message in progress.messages)
    again = build_passage_pool(config)  # a rerun finds the shards clean and reports the same
    assert again.stats["duplicate_pages_dropped"] == 1 + 3
