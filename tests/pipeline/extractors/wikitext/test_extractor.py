"""WikitextExtractor: the datatrove step, and skip-and-count on bad pages."""

from __future__ import annotations

import signal
import time

import pytest
from datatrove.data import Document

from memtrain_data.pipeline.extractors.wikitext import (
    CleanPage,
    WikitextExtractor,
    clean_page,
)
from memtrain_data.pipeline.extractors.wikitext import extractor as extractor_module

needs_alarm = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="SIGALRM timers are POSIX-only")

# --------------------------------------------------------------------------- the datatrove step


def page(page_id: int, wikitext: object, title: str = "Tarnvik") -> Document:
    return Document(
        text=wikitext,  # type: ignore[arg-type]
        id=str(page_id),
        metadata={"page_id": page_id, "title": title, "revision_id": 9, "timestamp": "2024-01-01T00:00:00Z", "source": "t.xml"},
    )


def run_extractor(documents: list[Document], **kwargs: float) -> tuple[list[Document], dict[str, float]]:
    extractor = WikitextExtractor(**kwargs)  # type: ignore[arg-type]
    kept = list(extractor.run(iter(documents)))
    counters = {key: value.total for key, value in extractor.stats.stats.items()}
    return kept, counters


def test_extractor_replaces_text_and_keeps_id_and_metadata() -> None:
    kept, counters = run_extractor([page(7, "'''Tarnvik''' is a [[town]].<ref>x</ref>")])
    assert [(d.id, d.text) for d in kept] == [("7", "Tarnvik is a town.")]
    assert kept[0].metadata == {
        "page_id": 7, "title": "Tarnvik", "revision_id": 9, "timestamp": "2024-01-01T00:00:00Z", "source": "t.xml",
        "aliases": [("Town", "town", "anchor")], "section_starts": [],
    }  # fmt: skip
    assert counters["pages_in"] == 1 and counters["pages_cleaned"] == 1


SLOW_MARKER = "<<this page never finishes cleaning>>"


def clean_or_spin(wikitext: str, title: str = "") -> CleanPage:
    """`clean_page`, except that the marker page spins in Python until a signal interrupts it.

    The step's skip-and-count logic is tested with a page that is slow by construction; the
    time_limit tests (tests/pipeline/test_time_limit.py) show that the real parser is interrupted too.
    """
    if wikitext == SLOW_MARKER:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pass
        raise AssertionError("the time limit never interrupted the page")
    return clean_page(wikitext, title)


@needs_alarm
def test_extractor_skips_counts_and_logs_a_page_that_times_out(
    log_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extractor_module, "clean_page", clean_or_spin)
    kept, counters = run_extractor([page(1, "Good page one."), page(2, SLOW_MARKER), page(3, "Good page three.")], timeout_s=0.3)
    assert [d.id for d in kept] == ["1", "3"]
    assert counters["skipped_timeout"] == 1 and counters["pages_cleaned"] == 2
    assert any("page 2" in line and "timeout" in line for line in log_lines)


def test_extractor_skips_counts_and_logs_an_oversize_page(log_lines: list[str]) -> None:
    big = "The Sela is long. " * 600_000  # about 10.8 MB
    kept, counters = run_extractor([page(1, big), page(2, "Good page.")], max_page_bytes=10_000_000)
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_too_large"] == 1
    assert any("page 1" in line and "max_page_bytes" in line for line in log_lines)


def test_extractor_counts_bytes_not_characters_against_the_size_limit() -> None:
    kept, counters = run_extractor([page(1, "é" * 600), page(2, "e" * 600)], max_page_bytes=1000)
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_too_large"] == 1


def test_extractor_skips_counts_and_logs_a_page_the_parser_raises_on(log_lines: list[str]) -> None:
    # A reader bug that hands over bytes instead of text: cleaning raises TypeError on it.
    kept, counters = run_extractor([page(1, b"'''Tarnvik''' in bytes"), page(2, "Good page.")])
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_parse_error"] == 1
    assert any("page 1" in line and "TypeError" in line for line in log_lines)


def test_extractor_counts_pages_left_empty(log_lines: list[str]) -> None:
    kept, counters = run_extractor([page(1, "{{Infobox person|name=X}}[[Category:People]]"), page(2, "Good page.")])
    assert [d.id for d in kept] == ["2"]
    assert counters["skipped_empty"] == 1
    assert any("page 1" in line and "no prose" in line for line in log_lines)
