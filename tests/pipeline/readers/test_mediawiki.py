"""MediaWikiReader: streaming pages out of MediaWiki XML dumps, and what it keeps and drops."""

from __future__ import annotations

import bz2
import tracemalloc
from collections.abc import Iterable
from pathlib import Path

import pytest
from datatrove.data import Document

from memtrain_data.pipeline.aliases import ALIAS_ONLY_KEY, ALIASES_KEY, LATEST_TIMESTAMP_KEY
from memtrain_data.pipeline.readers import dump_bytes
from memtrain_data.pipeline.readers import mediawiki as mediawiki_module
from memtrain_data.pipeline.readers.mediawiki import (
    MediaWikiReader,
    UnitProblems,
    is_disambiguation,
    iter_pages,
)
from memtrain_data.pipeline.readers.sources import InputUnit, resolve_sources
from tests.pipeline.readers.dump_factory import (
    FOOTER,
    HEADER,
    SITEINFO,
    article_pages,
    article_text,
    dump_text,
    multistream_copy,
    page_xml,
    split_dump,
    write_dump,
    write_multistream,
)


def whole_file(path: Path) -> InputUnit:
    return InputUnit(kind="mediawiki", path=str(path), source=path.name)


def articles_of(documents: Iterable[Document]) -> list[Document]:
    """The article documents, without the alias-only ones that carry redirects to the writer."""
    return [document for document in documents if not document.metadata.get(ALIAS_ONLY_KEY)]


def read_all(units: list[InputUnit], **kwargs: int) -> tuple[list[Document], dict[str, float]]:
    reader = MediaWikiReader(units, **kwargs)
    documents = list(reader.run())
    counters = {key: value.total for key, value in reader.stats.stats.items()}
    return documents, counters


def read_documents(units: list[InputUnit], **kwargs: int) -> tuple[list[Document], dict[str, float]]:
    documents, counters = read_all(units, **kwargs)
    return articles_of(documents), counters


# --------------------------------------------------------------------------- what is kept


def test_articles_keep_id_title_revision_timestamp_and_source(tmp_path: Path) -> None:
    dump = write_dump(
        tmp_path / "wiki.xml",
        dump_text([page_xml(7, "Riverton", "Riverton is a '''town'''.", revision_id=99, timestamp="2020-05-06T07:08:09Z")]),
    )
    documents, counters = read_documents([whole_file(dump)])
    assert len(documents) == 1
    document = documents[0]
    assert document.id == "7"
    assert document.text == "Riverton is a '''town'''."
    assert document.metadata == {
        "page_id": 7,
        "title": "Riverton",
        "revision_id": 99,
        "timestamp": "2020-05-06T07:08:09Z",
        "source": "wiki.xml",
    }
    assert counters["pages_read"] == 1 and counters["articles"] == 1


def test_redirects_disambiguations_and_other_namespaces_are_dropped_and_counted(tmp_path: Path) -> None:
    pages = [
        page_xml(1, "Kept", article_text(1)),
        page_xml(2, "Old name", "#REDIRECT [[Kept]]", redirect="Kept"),
        page_xml(3, "Legacy redirect", "#redirect [[Kept]]"),  # old dumps: no <redirect> element
        page_xml(4, "Mercury (disambiguation)", "'''Mercury''' may refer to: * [[Mercury (planet)]]"),
        page_xml(5, "Aa", "'''Aa''' may mean:\n* a river\n\n{{dab}}"),
        page_xml(6, "HMS Vale", "Ships named Vale.\n{{set index article|ship}}"),
        page_xml(7, "Template:Infobox town", "{{{name}}}", ns=10),
        page_xml(8, "Empty", ""),
        page_xml(9, "Also kept", article_text(9)),
    ]
    documents, counters = read_documents([whole_file(write_dump(tmp_path / "wiki.xml.bz2", dump_text(pages)))])
    assert [d.metadata["title"] for d in documents] == ["Kept", "Also kept"]
    assert counters["pages_read"] == 9
    assert counters["redirects_dropped"] == 2
    assert counters["disambiguations_dropped"] == 3
    assert counters["other_namespaces_dropped"] == 1
    assert counters["empty_pages_dropped"] == 1


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("Austin (disambiguation)", "Austin may refer to", True),
        ("Austin", "list\n{{disambiguation|geo}}", True),
        ("Austin", "list\n{{Disambig}}", True),
        ("Austin", "list {{hndis|Austin, John}}", True),
        ("Austin", "list {{geodis}}", True),
        ("Austin", "list {{Set index}}", True),
        ("Austin", "list {{Hospital disambiguation}}", True),
        ("Austin", "{{About|the city|other uses|Austin (disambiguation)}} Austin is a city.", False),
        ("Austin", "Austin is a city.{{disambiguation needed|date=May 2020}}", False),
        ("Austin", "Austin is the capital of Texas.", False),
    ],
)
def test_disambiguation_pages_are_recognised_by_title_or_template(title: str, text: str, expected: bool) -> None:
    assert is_disambiguation(title, text) is expected


def test_namespace_comes_from_the_title_when_a_page_has_no_ns_element(tmp_path: Path) -> None:
    pages = [page_xml(1, "Category:Towns", "[[Category:Places]]", ns=None), page_xml(2, "Town", article_text(2), ns=None)]
    documents, counters = read_documents([whole_file(write_dump(tmp_path / "wiki.xml", dump_text(pages)))])
    assert [d.metadata["title"] for d in documents] == ["Town"]
    assert counters["other_namespaces_dropped"] == 1


def test_full_history_pages_give_their_last_revision(tmp_path: Path) -> None:
    page = (
        "  <page>\n    <title>Town</title>\n    <ns>0</ns>\n    <id>5</id>\n"
        "    <revision><id>1</id><timestamp>2001-01-01T00:00:00Z</timestamp><text>old text</text></revision>\n"
        "    <revision><id>2</id><timestamp>2002-02-02T00:00:00Z</timestamp><text>new text</text></revision>\n"
        "  </page>\n"
    )
    documents, _ = read_documents([whole_file(write_dump(tmp_path / "wiki.xml", dump_text([page])))])
    assert documents[0].text == "new text"
    assert documents[0].metadata["revision_id"] == 2


@pytest.mark.parametrize("name", ["wiki.xml", "wiki.xml.bz2", "wiki.xml.gz"])
def test_plain_bz2_and_gzip_dumps_read_the_same(tmp_path: Path, name: str) -> None:
    dump = write_dump(tmp_path / name, dump_text(article_pages(5)))
    documents, _ = read_documents([whole_file(dump)])
    assert [d.id for d in documents] == ["1", "2", "3", "4", "5"]
    assert documents[2].text == article_text(3)


def test_a_task_reads_only_its_share_of_the_units(tmp_path: Path) -> None:
    units = [
        whole_file(write_dump(tmp_path / f"part{n}.xml", dump_text(article_pages(2, first_id=10 * n)))) for n in range(1, 4)
    ]
    reader = MediaWikiReader(units)
    assert [d.id for d in articles_of(reader.run(rank=1, world_size=3))] == ["20", "21"]
    assert [d.metadata["source"] for d in articles_of(reader.run(rank=0, world_size=2))] == ["part1.xml"] * 2 + ["part3.xml"] * 2


# --------------------------------------------------------------------------- damaged input


def test_a_truncated_bz2_keeps_the_pages_before_the_cut_and_says_so(tmp_path: Path) -> None:
    full = bz2.compress(dump_text(article_pages(400)).encode("utf-8"), compresslevel=1)  # 100 kB blocks
    dump = tmp_path / "cut.xml.bz2"
    dump.write_bytes(full[: len(full) * 2 // 3])
    problems = UnitProblems()
    pages = list(iter_pages(whole_file(dump), problems))
    assert problems.truncated
    assert 0 < len(pages) < 400
    assert [p.page_id for p in pages] == list(range(1, len(pages) + 1))  # every page up to the cut, in order
    documents, counters = read_documents([whole_file(dump)])
    assert counters["truncated_files"] == 1
    assert len(documents) == len(pages)


def test_malformed_xml_keeps_the_pages_before_the_error_and_counts_it(tmp_path: Path) -> None:
    pages = article_pages(3)
    broken = "  <page>\n    <title>Broken</title>\n    <ns>0</ns>\n    <id>4</id>\n    <revision><text>a < b</text>"
    dump = write_dump(tmp_path / "bad.xml", HEADER + SITEINFO + "".join(pages) + broken + "".join(article_pages(2, 5)) + FOOTER)
    problems = UnitProblems()
    assert [p.page_id for p in iter_pages(whole_file(dump), problems)] == [1, 2, 3]
    assert problems.xml_error is not None and problems.last_page_id == 3
    documents, counters = read_documents([whole_file(dump)])
    assert len(documents) == 3 and counters["xml_errors"] == 1


def test_invalid_utf8_bytes_are_replaced_and_counted(tmp_path: Path) -> None:
    text = dump_text([page_xml(1, "Caf\u00e9", "Caf\u00e9 text MARK here."), page_xml(2, "Next", article_text(2))])
    data = text.encode("utf-8").replace(b"MARK", b"\xff\xfe\xc3")
    dump = write_dump(tmp_path / "latin.xml.bz2", data)
    documents, counters = read_documents([whole_file(dump)])
    assert [d.id for d in documents] == ["1", "2"]
    assert documents[0].metadata["title"] == "Caf\u00e9"
    assert "\ufffd" in documents[0].text and "MARK" not in documents[0].text
    assert counters["invalid_utf8_bytes"] == 3
    assert counters["articles_with_replaced_bytes"] == 1


def test_a_page_without_an_id_is_counted_not_silently_lost(tmp_path: Path) -> None:
    no_id = "  <page>\n    <title>Nameless</title>\n    <ns>0</ns>\n    <revision><text>Text.</text></revision>\n  </page>\n"
    dump = write_dump(tmp_path / "w.xml", dump_text([no_id, *article_pages(1)]))
    documents, counters = read_documents([whole_file(dump)])
    assert [d.id for d in documents] == ["1"]
    assert counters["pages_without_id_dropped"] == 1


def test_a_10_mb_page_is_skipped_and_counted_while_the_others_are_kept(tmp_path: Path) -> None:
    huge = "Lorem ipsum dolor sit amet. " * (10_000_000 // 28 + 1)
    pages = [page_xml(1, "Small", article_text(1)), page_xml(2, "Huge", huge), page_xml(3, "After", article_text(3))]
    dump = write_dump(tmp_path / "big.xml", dump_text(pages))
    documents, counters = read_documents([whole_file(dump)], max_page_bytes=4_000_000)
    assert [d.id for d in documents] == ["1", "3"]
    assert counters["oversized_pages_dropped"] == 1


def test_multibyte_text_is_measured_in_bytes_not_characters(tmp_path: Path) -> None:
    text = "\u4e2d" * 1_000  # 1,000 characters, 3,000 UTF-8 bytes
    dump = write_dump(tmp_path / "cjk.xml", dump_text([page_xml(1, "Wide", text)]))
    assert read_documents([whole_file(dump)], max_page_bytes=2_999)[1]["oversized_pages_dropped"] == 1
    assert len(read_documents([whole_file(dump)], max_page_bytes=3_000)[0]) == 1


# --------------------------------------------------------------------------- multistream byte ranges


def test_byte_ranges_of_a_multistream_dump_yield_exactly_the_pages_of_the_whole_file(tmp_path: Path) -> None:
    pages = [*article_pages(23), page_xml(90, "Gone", "#REDIRECT [[Article 1]]", redirect="Article 1")]
    dump = tmp_path / "testwiki-multistream.xml.bz2"
    write_multistream(dump, HEADER + SITEINFO, pages, pages_per_stream=3)
    whole = [(p.page_id, p.title, p.text, p.is_redirect) for p in iter_pages(whole_file(dump))]
    ranges = resolve_sources([str(dump)], pages_per_task=6).units
    assert len(ranges) == 4
    by_range = [(p.page_id, p.title, p.text, p.is_redirect) for unit in ranges for p in iter_pages(unit)]
    assert by_range == whole
    assert len(whole) == 24


def test_the_real_enwiki_sample_reads_the_same_whole_and_in_byte_ranges(enwiki_sample: Path, tmp_path: Path) -> None:
    multistream, index = multistream_copy(enwiki_sample, tmp_path, pages_per_stream=10)
    plan = resolve_sources([str(multistream)], str(index), pages_per_task=20)
    assert len(plan.units) > 1
    whole, _ = read_documents([whole_file(enwiki_sample)])
    ranged, counters = read_documents(plan.units)
    assert [(d.id, d.text, d.metadata["title"], d.metadata["revision_id"]) for d in ranged] == [
        (d.id, d.text, d.metadata["title"], d.metadata["revision_id"]) for d in whole
    ]
    _, pages, _ = split_dump(enwiki_sample)
    assert counters["pages_read"] == len(pages) == 120
    assert counters["articles"] == len(whole) > 50


# --------------------------------------------------------------------------- memory


def _peak_bytes(dump: Path) -> int:
    tracemalloc.start()
    try:
        for _ in iter_pages(whole_file(dump)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_when_the_dump_is_ten_times_larger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Peak memory is bounded by the read block, whatever the number of pages; a small block
    # shows it on small dumps.
    monkeypatch.setattr(dump_bytes, "READ_BLOCK", 1 << 15)
    small_text, large_text = dump_text(article_pages(500)), dump_text(article_pages(5_000))
    assert len(large_text) > 9 * len(small_text)
    small = write_dump(tmp_path / "small.xml.bz2", small_text)
    large = write_dump(tmp_path / "large.xml.bz2", large_text)
    assert _peak_bytes(large) < 1.5 * _peak_bytes(small)  # linear growth would be 10x


# --------------------------------------------------------------------------- redirects as aliases


def test_redirects_are_dropped_as_pages_but_carried_on_as_alias_rows(tmp_path: Path) -> None:
    pages = [
        page_xml(1, "United States", article_text(1), timestamp="2016-01-05T00:00:00Z"),
        page_xml(
            2,
            "USA",
            "#REDIRECT [[United States]]",
            redirect="United States",
            timestamp="2016-03-01T00:00:00Z",
        ),
        page_xml(
            3,
            "Ayn rand",
            "#redirect [[ayn_Rand#Early life]] {{R from other capitalisation}}",
            timestamp="2016-02-01T00:00:00Z",
        ),  # no <redirect> element
        page_xml(
            4,
            "WP:USA",
            "#REDIRECT [[United States]]",
            ns=4,
            redirect="United States",
            timestamp="2016-01-01T00:00:00Z",
        ),  # not an article's alias
        page_xml(
            5,
            "Moon pictures",
            "#REDIRECT [[Commons:Moon]]",
            redirect="Commons:Moon",
            timestamp="2016-01-01T00:00:00Z",
        ),  # not an article
        page_xml(
            6, "Talk:USA", "chat", ns=1, timestamp="2016-06-30T00:00:00Z"
        ),  # dropped, yet its timestamp counts
    ]
    documents, counters = read_all([whole_file(write_dump(tmp_path / "wiki.xml", dump_text(pages)))])
    assert [d.id for d in articles_of(documents)] == ["1"]
    carried = [d for d in documents if d.metadata.get(ALIAS_ONLY_KEY)]
    assert len(carried) == 1 and carried[0].text == ""
    assert carried[0].metadata[ALIASES_KEY] == [
        ("United States", "USA", "redirect"),
        ("Ayn Rand", "Ayn rand", "redirect"),
    ]
    assert carried[0].metadata[LATEST_TIMESTAMP_KEY] == "2016-06-30T00:00:00Z"  # the dropped talk page's
    assert counters["redirects_dropped"] == 3 and counters["redirects_seen"] == 2


def test_many_redirects_travel_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mediawiki_module, "REDIRECT_BATCH", 2)
    pages = [page_xml(n, f"Alias {n}", "#REDIRECT [[Target]]", redirect="Target") for n in range(1, 6)]
    documents, _ = read_all([whole_file(write_dump(tmp_path / "wiki.xml", dump_text(pages)))])
    assert [len(d.metadata[ALIASES_KEY]) for d in documents] == [2, 2, 1]
