"""A plain (single-stream) `.bz2` dump is cut into ranges of its decompressed text, one task each.

Each range owns the pages whose `<page>` tag starts inside it, so however the text is cut,
the ranges together hold every page exactly once, in file order.
"""

from __future__ import annotations

import bz2
import json
from pathlib import Path

import pytest

from memtrain_data.pipeline.readers.mediawiki import UnitProblems, WikiPage, iter_pages
from memtrain_data.pipeline.readers.sources import PLAIN_BYTES_PER_PAGE, InputUnit, resolve_sources
from tests.pipeline.readers.dump_factory import article_pages, dump_text, write_dump


def read_all(units: list[InputUnit]) -> list[WikiPage]:
    pages: list[WikiPage] = []
    for unit in units:
        problems = UnitProblems()
        pages.extend(iter_pages(unit, problems))
        assert problems == UnitProblems(last_page_id=problems.last_page_id), unit.describe()
    return pages


@pytest.mark.parametrize("pages_per_task", [60, 200])
def test_ranges_of_the_real_sample_hold_exactly_the_pages_of_the_whole_file(
    enwiki_sample: Path, pages_per_task: int
) -> None:
    whole = resolve_sources([str(enwiki_sample)])
    split = resolve_sources([str(enwiki_sample)], pages_per_task=pages_per_task)
    assert len(whole.units) == 1 and not whole.units[0].is_byte_range
    assert len(split.units) > 1
    assert all(unit.end - unit.start <= pages_per_task * PLAIN_BYTES_PER_PAGE for unit in split.units)
    assert "plain bz2" in split.notes[0] and f"{len(split.units)} range(s)" in split.notes[0]
    expected = read_all(whole.units)
    assert len(expected) == 120  # 60 articles + 60 redirects
    assert read_all(split.units) == expected


def test_a_range_without_a_page_start_is_empty_and_its_page_goes_to_the_range_it_starts_in(tmp_path: Path) -> None:
    # one long page and ranges far smaller than it: most ranges start and end inside that page
    pages = article_pages(3, first_id=1)
    long_page = pages[1].replace("</text>", " words" * 2_000 + "</text>")
    dump = write_dump(tmp_path / "w.xml.bz2", dump_text([pages[0], long_page, pages[2]]))
    plan = resolve_sources([str(dump)], pages_per_task=1)
    assert len(plan.units) > 3
    per_range = [[page.page_id for page in read_all([unit])] for unit in plan.units]
    assert [page_id for pages in per_range for page_id in pages] == [1, 2, 3]
    assert per_range.count([]) >= len(plan.units) - 3


def test_the_number_of_ranges_depends_only_on_the_input(enwiki_sample: Path) -> None:
    first = resolve_sources([str(enwiki_sample)], pages_per_task=60).units
    again = resolve_sources([str(enwiki_sample)], pages_per_task=60).units
    assert first == again


def test_a_cut_bz2_is_read_sequentially_as_one_task_with_a_note(tmp_path: Path) -> None:
    # 100 kB bz2 blocks, so the cut leaves whole blocks before it
    data = bz2.compress(dump_text(article_pages(400)).encode(), compresslevel=1)
    cut = tmp_path / "cut.xml.bz2"
    cut.write_bytes(data[: len(data) * 2 // 3])
    plan = resolve_sources([str(cut)], pages_per_task=1)
    assert len(plan.units) == 1 and not plan.units[0].is_byte_range
    assert any("no bz2 block index" in note and "read sequentially as one task" in note for note in plan.notes)
    problems = UnitProblems()
    pages = list(iter_pages(plan.units[0], problems))
    assert problems.truncated and 0 < len(pages) < 400


def test_a_gzip_dump_is_one_task_and_the_note_says_why(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "w.xml.gz", dump_text(article_pages(50)))
    plan = resolve_sources([str(dump)], pages_per_task=1)
    assert len(plan.units) == 1
    assert any("gzip" in note and "one task" in note for note in plan.notes)


def test_the_block_index_is_cached_and_reused_while_the_dump_is_unchanged(
    tmp_path: Path, enwiki_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import indexed_bzip2

    cache = tmp_path / "cache"
    dump = tmp_path / "sample.xml.bz2"
    dump.write_bytes(enwiki_sample.read_bytes())
    built = resolve_sources([str(dump)], pages_per_task=60, index_cache=cache)
    assert len(list(cache.glob("*.json"))) == 1

    def no_decompression(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached block index should have been used")

    monkeypatch.setattr(indexed_bzip2, "open", no_decompression)
    assert resolve_sources([str(dump)], pages_per_task=60, index_cache=cache).units == built.units
    monkeypatch.undo()

    # A changed dump (other size or mtime) gets its index built again, never a stale one.
    dump.write_bytes(write_dump(tmp_path / "small.xml.bz2", dump_text(article_pages(3, first_id=1))).read_bytes())
    rebuilt = resolve_sources([str(dump)], pages_per_task=60, index_cache=cache)
    assert rebuilt.units != built.units and [page.page_id for page in read_all(rebuilt.units)] == [1, 2, 3]


def test_a_damaged_cache_file_is_ignored_and_rewritten(tmp_path: Path, enwiki_sample: Path) -> None:
    cache = tmp_path / "cache"
    first = resolve_sources([str(enwiki_sample)], pages_per_task=60, index_cache=cache)
    (saved,) = cache.glob("*.json")
    saved.write_text("{not json", encoding="utf-8")
    assert resolve_sources([str(enwiki_sample)], pages_per_task=60, index_cache=cache).units == first.units
    assert saved.read_text(encoding="utf-8").startswith("{")
    assert json.loads(saved.read_text(encoding="utf-8"))["size"] == enwiki_sample.stat().st_size
