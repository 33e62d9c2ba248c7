"""resolve_sources: `--dump` arguments → checked input units (one task each), before any work starts."""

from __future__ import annotations

import bz2
import itertools
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from memtrain_data.errors import InputError
from memtrain_data.pipeline.readers.dump_bytes import iter_bz2_streams
from memtrain_data.pipeline.readers.hub_parquet import parse_hub_id
from memtrain_data.pipeline.readers.sources import (
    read_multistream_index,
    resolve_sources,
    sibling_index,
)
from tests.pipeline.readers.dump_factory import (
    HEADER,
    SITEINFO,
    article_pages,
    dump_text,
    multistream_copy,
    write_dump,
    write_multistream,
)


def write_parquet(path: Path, columns: dict[str, list]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def wikipedia_parquet(path: Path) -> Path:
    return write_parquet(
        path, {"id": ["1"], "url": ["https://x.test/wiki/A"], "title": ["A"], "text": ["A is a letter."]}
    )


# --------------------------------------------------------------------------- files, folders, globs


def test_a_dump_file_is_one_unit_named_after_the_file(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "simplewiki-20240101-pages-articles.xml.bz2", dump_text(article_pages(2)))
    plan = resolve_sources([str(dump)])
    assert plan.kind == "mediawiki"
    assert [(u.path, u.source, u.start) for u in plan.units] == [(str(dump), dump.name, None)]
    assert plan.notes == []


def test_a_folder_gives_its_dump_parts_in_name_order(tmp_path: Path) -> None:
    for name in ["part2.xml.bz2", "part1.xml", "part3.xml.gz"]:
        write_dump(tmp_path / name, dump_text(article_pages(1)))
    (tmp_path / "README.txt").write_text("not a dump")
    plan = resolve_sources([str(tmp_path)])
    assert [u.source for u in plan.units] == ["part1.xml", "part2.xml.bz2", "part3.xml.gz"]


def test_a_glob_gives_the_matching_files(tmp_path: Path) -> None:
    for name in ["a1.xml", "a2.xml", "b1.xml"]:
        write_dump(tmp_path / name, dump_text(article_pages(1)))
    assert [u.source for u in resolve_sources([str(tmp_path / "a*.xml")]).units] == ["a1.xml", "a2.xml"]


def test_the_number_of_units_depends_only_on_the_input(tmp_path: Path) -> None:
    for name in ["p1.xml", "p2.xml", "p3.xml"]:
        write_dump(tmp_path / name, dump_text(article_pages(1)))
    assert resolve_sources([str(tmp_path)]).units == resolve_sources([str(tmp_path / "p*.xml")]).units
    assert len(resolve_sources([str(tmp_path)]).units) == 3


# --------------------------------------------------------------------------- bad paths and files


def test_a_missing_path_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "enwiki-latest-pages-articles.xml.bz2"
    with pytest.raises(InputError, match="no such file or folder") as caught:
        resolve_sources([str(missing)])
    assert str(missing) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("spec", ["dumps/enwiki.xml.bz2", "./enwiki", "data/part1.parquet"])
def test_relative_paths_that_look_like_files_are_never_taken_for_hub_ids(spec: str) -> None:
    assert parse_hub_id(spec) is None
    with pytest.raises(InputError, match="no such file or folder"):
        resolve_sources([spec])


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xml.bz2"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        resolve_sources([str(empty)])


def test_a_compressed_file_holding_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty after decompression"):
        resolve_sources([str(write_dump(tmp_path / "nothing.xml.bz2", ""))])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.xml", "Just some notes, not XML at all.\n"),
        ("page.xml", "<!DOCTYPE html><html><body>hello</body></html>"),
        ("feed.xml.bz2", '<?xml version="1.0"?><rss><channel/></rss>'),
    ],
)
def test_a_file_that_is_not_a_dump_is_refused(tmp_path: Path, name: str, content: str) -> None:
    with pytest.raises(InputError, match="not a MediaWiki XML dump"):
        resolve_sources([str(write_dump(tmp_path / name, content))])


def test_binary_garbage_with_a_bz2_name_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "broken.xml.bz2"
    garbage.write_bytes(b"BZh9" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match="cannot be decompressed"):
        resolve_sources([str(garbage)])


def test_a_dump_without_siteinfo_is_read_with_a_warning(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "nosite.xml", dump_text(article_pages(2), siteinfo=False))
    plan = resolve_sources([str(dump)])
    assert len(plan.units) == 1
    assert len(plan.notes) == 1 and "no <siteinfo>" in plan.notes[0]


def test_a_file_of_bare_pages_is_refused_as_a_piece_of_a_multistream_dump(tmp_path: Path) -> None:
    bare = write_dump(tmp_path / "piece.xml.bz2", "".join(article_pages(3)))
    with pytest.raises(InputError, match="multistream"):
        resolve_sources([str(bare)])


def test_an_empty_folder_or_a_glob_without_matches_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no dump files"):
        resolve_sources([str(tmp_path / "empty")])
    with pytest.raises(InputError, match="matches no files"):
        resolve_sources([str(tmp_path / "*.xml.bz2")])


def test_no_input_at_all_is_refused() -> None:
    with pytest.raises(InputError, match="no input"):
        resolve_sources([])


# --------------------------------------------------------------------------- multistream


def test_a_multistream_index_lists_each_stream_with_its_page_count(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    index = write_multistream(dump, HEADER + SITEINFO, article_pages(7), pages_per_stream=3)
    streams = read_multistream_index(index)
    assert [pages for _, pages in streams] == [3, 3, 1]
    data = dump.read_bytes()
    assert all(data[offset : offset + 3] == b"BZh" for offset, _ in streams)


def test_one_multistream_file_becomes_many_contiguous_byte_ranges(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    write_multistream(dump, HEADER + SITEINFO, article_pages(20), pages_per_stream=2)
    plan = resolve_sources([str(dump)], pages_per_task=4)  # index found next to the dump by name
    units = plan.units
    assert len(units) == 5
    assert units[0].start == 0 and units[-1].end == dump.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(units))  # no gap, no overlap
    assert any("multistream index" in note for note in plan.notes)


def test_the_index_is_found_next_to_the_dump_by_wikimedias_names(tmp_path: Path) -> None:
    whole = tmp_path / "enwiki-20240101-pages-articles-multistream.xml.bz2"
    part = tmp_path / "enwiki-20240101-pages-articles-multistream1.xml-p1p41242.bz2"
    for dump in (whole, part):
        write_multistream(dump, HEADER + SITEINFO, article_pages(2))
    assert sibling_index(whole).name == "enwiki-20240101-pages-articles-multistream-index.txt.bz2"
    assert sibling_index(part).name == "enwiki-20240101-pages-articles-multistream-index1.txt-p1p41242.bz2"


def test_a_folder_of_multistream_parts_pairs_each_part_with_its_index(tmp_path: Path) -> None:
    for n in (1, 2):
        write_multistream(
            tmp_path / f"w-multistream{n}.xml-p{n}.bz2", HEADER + SITEINFO, article_pages(6, first_id=10 * n), pages_per_stream=2
        )
    plan = resolve_sources([str(tmp_path)], pages_per_task=2)
    assert {u.source for u in plan.units} == {"w-multistream1.xml-p1.bz2", "w-multistream2.xml-p2.bz2"}
    assert len(plan.units) == 6  # three ranges per part; the index files are not read as dumps


def test_an_explicit_index_and_the_enwiki_sample_give_more_than_one_task(enwiki_sample: Path, tmp_path: Path) -> None:
    dump, index = multistream_copy(enwiki_sample, tmp_path, pages_per_stream=10)
    renamed = index.rename(tmp_path / "elsewhere-index.txt.bz2")
    plan = resolve_sources([str(dump)], str(renamed), pages_per_task=30)
    assert len(plan.units) == 4  # 120 pages in streams of 10, 30 per task


def test_an_index_that_does_not_match_the_dump_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    index = write_multistream(dump, HEADER + SITEINFO, article_pages(9), pages_per_stream=3)
    index.write_bytes(bz2.compress(b"0:1:A\n17:2:B\n17:3:C\n25:4:D\n"))
    with pytest.raises(InputError, match="wrong index"):
        resolve_sources([str(dump)], str(index), pages_per_task=1)


def test_a_malformed_index_line_is_refused_with_its_line_number(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    index = write_multistream(dump, HEADER + SITEINFO, article_pages(3))
    index.write_bytes(bz2.compress(b"600:1:A\nnot an index line\n"))
    with pytest.raises(InputError, match=r":2: not a multistream index line"):
        resolve_sources([str(dump)])


def test_an_index_passed_as_a_dump_or_one_index_for_two_dumps_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    index = write_multistream(dump, HEADER + SITEINFO, article_pages(3))
    with pytest.raises(InputError, match="--dump-index"):
        resolve_sources([str(index)])
    other = write_dump(tmp_path / "other.xml", dump_text(article_pages(1)))
    with pytest.raises(InputError, match="one index but 2 dump files"):
        resolve_sources([str(dump), str(other)], str(index))
    with pytest.raises(InputError, match="no such file"):
        resolve_sources([str(dump)], str(tmp_path / "missing-index.txt.bz2"))


def test_a_cut_multistream_file_reports_the_cut_after_the_streams_before_it(tmp_path: Path) -> None:
    dump = tmp_path / "w-multistream.xml.bz2"
    write_multistream(dump, HEADER + SITEINFO, article_pages(6), pages_per_stream=2)
    data = dump.read_bytes()
    dump.write_bytes(data[:-30])
    chunks: list[bytes] = []
    with pytest.raises(Exception, match="ends inside a bz2 stream"):
        for chunk in iter_bz2_streams(dump):
            chunks.append(chunk)
    assert b"Article 6" in b"".join(chunks)  # the last page stream was whole; only the footer was cut


# --------------------------------------------------------------------------- parquet and the Hub


def test_parquet_in_the_wikimedia_wikipedia_layout_is_one_unit_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "20231101.simple"
    folder.mkdir()
    for n in (0, 1):
        wikipedia_parquet(folder / f"train-0000{n}-of-00002.parquet")
    plan = resolve_sources([str(folder)])
    assert plan.kind == "parquet"
    assert [u.source for u in plan.units] == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]


def test_parquet_without_the_text_columns_is_refused(tmp_path: Path) -> None:
    other = write_parquet(tmp_path / "other.parquet", {"question": ["q"], "answer": ["a"]})
    with pytest.raises(InputError, match=r"without column\(s\) id, title, text"):
        resolve_sources([str(other)])


def test_a_damaged_parquet_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + b"\0" * 64)
    with pytest.raises(InputError, match="not a readable parquet file"):
        resolve_sources([str(broken)])


def test_dumps_and_parquet_cannot_be_mixed(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "w.xml", dump_text(article_pages(1)))
    table = wikipedia_parquet(tmp_path / "w.parquet")
    with pytest.raises(InputError, match="mixing"):
        resolve_sources([str(dump), str(table)])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("wikimedia/wikipedia:20231101.simple", ("wikimedia/wikipedia", "20231101.simple")),
        ("hf://datasets/wikimedia/wikipedia/20231101.en", ("wikimedia/wikipedia", "20231101.en")),
        ("someone/wiki-parquet", ("someone/wiki-parquet", None)),
        ("just-a-name", None),
        ("/abs/path/wiki", None),
    ],
)
def test_hub_ids_are_recognised(spec: str, expected: tuple[str, str | None] | None) -> None:
    assert parse_hub_id(spec) == expected


def test_a_hub_id_offline_and_not_cached_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(InputError, match="offline") as caught:
        resolve_sources(["wikimedia/wikipedia:20231101.simple"])
    assert "wikimedia/wikipedia" in str(caught.value) and "\n" not in str(caught.value)
