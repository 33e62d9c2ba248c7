"""split_passages, split_sentences and PassageSplitter: paragraph passages with stable ids."""

from __future__ import annotations

import itertools
import signal
import time

import pytest
from datatrove.data import Document

from memtrain_data.pipeline.passages import PassageSplitter, passage_targets, split_passages, split_sentences
from memtrain_data.records import Passage


def words(n: int, word: str = "river") -> str:
    return " ".join([word] * n)


def sentence(n: int, word: str = "river") -> str:
    """A sentence of exactly n words."""
    return "The " + " ".join([word] * (n - 1)) + "."


# --------------------------------------------------------------------------- sentences


def test_sentences_end_at_full_stops_question_and_exclamation_marks() -> None:
    text = 'Tarnvik is a port. Is it old? Yes! It was chartered in 1604. "The harbour is deep." (It still is.) 2 ships came.'
    assert split_sentences(text) == [
        "Tarnvik is a port.",
        "Is it old?",
        "Yes!",
        "It was chartered in 1604.",
        '"The harbour is deep."',
        "(It still is.)",
        "2 ships came.",
    ]


def test_abbreviations_initials_and_decimals_do_not_end_a_sentence() -> None:
    text = "Dr. Vell moved to the U.S. in c. 1870 with J. R. Lanner. The river is 2.5 km wide, e.g. at Holmbury."
    assert split_sentences(text) == [
        "Dr. Vell moved to the U.S. in c. 1870 with J. R. Lanner.",
        "The river is 2.5 km wide, e.g. at Holmbury.",
    ]


def test_a_line_break_ends_a_sentence() -> None:
    assert split_sentences("Products:\nIron spans\nBoilers") == ["Products:", "Iron spans", "Boilers"]


# --------------------------------------------------------------------------- passages


def test_paragraphs_within_bounds_are_passages_as_they_are() -> None:
    first, second = sentence(30), sentence(50, "lake")
    assert split_passages(f"{first}\n\n{second}", min_words=20, max_words=100) == [first, second]


def test_short_paragraphs_are_joined_to_the_next_one() -> None:
    short_a, short_b, long = sentence(5, "a"), sentence(8, "b"), sentence(30, "c")
    assert split_passages(f"{short_a}\n\n{short_b}\n\n{long}", min_words=20, max_words=100) == [
        f"{short_a}\n{short_b}\n{long}"
    ]


def test_a_short_last_paragraph_joins_the_previous_passage_when_it_fits() -> None:
    body, tail = sentence(40), sentence(5, "end")
    assert split_passages(f"{body}\n\n{tail}", min_words=20, max_words=100) == [f"{body}\n{tail}"]


def test_a_short_last_paragraph_that_does_not_fit_is_dropped() -> None:
    body, tail = sentence(98), sentence(5, "end")
    assert split_passages(f"{body}\n\n{tail}", min_words=20, max_words=100) == [body]


def test_an_article_shorter_than_min_words_has_no_passage() -> None:
    assert split_passages("Tarnvik is a town.\n\nOn the Sela.", min_words=20, max_words=100) == []
    assert split_passages("", min_words=20, max_words=100) == []


def test_long_paragraphs_are_cut_at_sentence_ends_into_even_pieces() -> None:
    sentences = [sentence(20, f"w{i}") for i in range(12)]  # 240 words
    passages = split_passages(" ".join(sentences), min_words=20, max_words=100)
    assert [len(p.split()) for p in passages] == [80, 80, 80]
    assert passages == [" ".join(sentences[0:4]), " ".join(sentences[4:8]), " ".join(sentences[8:12])]


def test_a_sentence_longer_than_max_words_is_cut_between_words() -> None:
    run_on = " ".join(f"word{i}" for i in range(250))
    passages = split_passages(run_on, min_words=20, max_words=100)
    assert [len(p.split()) for p in passages] == [100, 100, 50]
    assert " ".join(passages).split() == run_on.split()  # no word cut, none lost, order kept


def test_a_short_sentence_cut_off_a_long_paragraph_joins_a_neighbour_that_has_room() -> None:
    first, second, short = sentence(30, "a"), sentence(75, "b"), sentence(5, "c")
    # 110 words: two pieces of about 55 wanted; packing gives 30 | 75 | 5, and the 5 joins the 75.
    assert split_passages(f"{first} {second} {short}", min_words=20, max_words=100) == [first, f"{second} {short}"]


def test_pieces_of_a_long_list_keep_one_item_per_line() -> None:
    items = [f"Son{i} of Place{i}" for i in range(60)]  # 180 words and not one full stop
    passages = split_passages("Sons of Hippolytus:\n" + "\n".join(items), min_words=20, max_words=100)
    assert len(passages) == 2
    assert "\n".join(passages).split("\n") == ["Sons of Hippolytus:", *items]


def test_a_short_list_item_joined_to_a_neighbour_keeps_its_line() -> None:
    first, second = sentence(30, "a"), sentence(75, "b")
    # 108 words: packing gives 30 | 75 | 3, and the last item joins the 75 on a line of its own.
    passages = split_passages(f"{first}\n{second}\nHippolytus of Sicyon", min_words=20, max_words=100)
    assert passages == [first, f"{second}\nHippolytus of Sicyon"]


def test_a_list_item_cut_between_words_keeps_the_line_break_after_it() -> None:
    run_on = " ".join(f"word{i}" for i in range(150))
    passages = split_passages(f"{sentence(10, 'a')}\n{run_on}\nClarus", min_words=5, max_words=100, target_words=5)
    assert passages == [sentence(10, "a"), " ".join(run_on.split()[:100]), " ".join(run_on.split()[100:]) + "\nClarus"]


def test_a_piece_joins_sentences_of_a_line_with_a_space_and_lines_with_a_line_break() -> None:
    s = [sentence(20, f"w{i}") for i in range(7)]
    text = f"{s[0]} {s[1]}\n{s[2]} {s[3]} {s[4]} {s[5]} {s[6]}"  # 140 words: two pieces of about 70
    assert split_passages(text, min_words=20, max_words=100) == [f"{s[0]} {s[1]}\n{s[2]} {s[3]}", f"{s[4]} {s[5]} {s[6]}"]


def test_every_word_is_kept_in_order_when_nothing_is_dropped() -> None:
    text = "\n\n".join([sentence(7, "a"), " ".join(sentence(15, f"b{i}") for i in range(20)), sentence(60, "c")])
    passages = split_passages(text, min_words=20, max_words=120)
    assert " ".join(passages).split() == text.split()
    assert all(20 <= len(p.split()) <= 120 for p in passages)


def test_bad_bounds_are_rejected() -> None:
    with pytest.raises(ValueError, match="min_words"):
        split_passages("x", min_words=0, max_words=10)
    with pytest.raises(ValueError, match="min_words"):
        PassageSplitter(min_words=50, max_words=10)


# --------------------------------------------------------------------------- the datatrove step


def article(page_id: int, text: str, title: str = "Tarnvik") -> Document:
    return Document(
        text=text,
        id=str(page_id),
        metadata={"page_id": page_id, "title": title, "revision_id": 5000, "timestamp": "2024-01-01T00:00:00Z", "source": "sample-wiki.xml"},
    )


def test_splitter_yields_passage_records_with_stable_ids() -> None:
    text = "\n\n".join([sentence(30, "a"), sentence(40, "b"), sentence(25, "c")])
    splitter = PassageSplitter(min_words=20, max_words=100)
    passages = list(splitter.run(iter([article(101, text), article(108, sentence(22, "d"), title="Holmbury")])))
    assert [p.id for p in passages] == ["101-0", "101-1", "101-2", "108-0"]
    records = [Passage(id=p.id, text=p.text, **p.metadata) for p in passages]  # the pool's record contract
    assert records[1] == Passage(
        id="101-1", page_id=101, title="Tarnvik", text=sentence(40, "b"), n_words=40,
        revision_id=5000, timestamp="2024-01-01T00:00:00Z", source="sample-wiki.xml",
    )  # fmt: skip
    again = list(PassageSplitter(min_words=20, max_words=100).run(iter([article(101, text)])))
    assert [(p.id, p.text) for p in again] == [(p.id, p.text) for p in passages[:3]]


def test_splitter_counts_passages_dropped_words_and_pages_without_passages(log_lines: list[str]) -> None:
    splitter = PassageSplitter(min_words=20, max_words=100)
    documents = [article(1, f"{sentence(98)}\n\n{sentence(5)}"), article(2, "Too short.")]
    passages = list(splitter.run(iter(documents)))
    counters = {key: value.total for key, value in splitter.stats.stats.items()}
    assert [p.id for p in passages] == ["1-0"]
    assert counters["pages_in"] == 2
    assert counters["passages_out"] == 1
    assert counters["words_dropped"] == 5 + 2
    assert counters["pages_without_passages"] == 1
    assert any("page 2" in line for line in log_lines)


# --------------------------------------------------------------------------- hostile sizes and time


def test_a_multi_megabyte_paragraph_is_split_in_linear_time() -> None:
    one_mb = "The river flows north past the old mill and the town. " * 18_000
    started = time.perf_counter()
    small = split_passages(one_mb, min_words=20, max_words=220)
    small_seconds = time.perf_counter() - started
    started = time.perf_counter()
    large = split_passages(one_mb * 4, min_words=20, max_words=220)
    large_seconds = time.perf_counter() - started
    assert sum(len(p.split()) for p in large) == 4 * sum(len(p.split()) for p in small) == 4 * len(one_mb.split())
    # 4x the text takes about 4x the time; quadratic splitting took 16x (7.6 s for 4 MB)
    assert large_seconds < 5 and large_seconds < 10 * max(small_seconds, 0.05)


def test_a_text_without_spaces_is_split_fast() -> None:
    started = time.perf_counter()
    passages = split_passages("a." * 1_000_000, min_words=1, max_words=220)
    assert passages == ["a." * 1_000_000] and time.perf_counter() - started < 2


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="the page time limit interrupts with SIGALRM (POSIX)")
def test_splitting_is_covered_by_the_page_time_limit(log_lines: list[str]) -> None:
    huge = article(3, "The river flows north past the old mill and the town. " * 400_000)
    splitter = PassageSplitter(min_words=20, max_words=100, timeout_s=0.05)
    passages = list(splitter.run(iter([article(1, sentence(30)), huge, article(2, sentence(40))])))
    assert [p.id for p in passages] == ["1-0", "2-0"]
    assert splitter.stats["skipped_timeout"].total == 1
    assert any("page 3" in line and "timeout_s=0.05" in line for line in log_lines)


def test_a_page_id_seen_before_in_the_task_is_skipped_and_counted(log_lines: list[str]) -> None:
    splitter = PassageSplitter(min_words=20, max_words=100)
    documents = [article(1, sentence(30, "first")), article(2, sentence(30)), article(1, sentence(30, "second"))]
    passages = list(splitter.run(iter(documents)))
    assert [(p.id, p.text) for p in passages] == [("1-0", sentence(30, "first")), ("2-0", sentence(30))]
    assert splitter.stats["duplicate_pages_dropped"].total == 1
    assert any("page 1" in line and "seen before" in line for line in log_lines)


# --------------------------------------------------------------------------- merging paragraphs


def test_paragraphs_of_a_section_are_merged_up_to_the_target() -> None:
    paragraphs = [sentence(40, "a"), sentence(50, "b"), sentence(30, "c"), sentence(60, "d"), sentence(45, "e")]
    passages = split_passages("\n\n".join(paragraphs), min_words=20, max_words=200, target_words=80)
    assert passages == ["\n".join(paragraphs[0:2]), "\n".join(paragraphs[2:4]), paragraphs[4]]


def test_merging_never_crosses_a_section_start_or_max_words() -> None:
    paragraphs = [sentence(40, "a"), sentence(30, "b"), sentence(150, "c"), sentence(60, "d")]
    text = "\n\n".join(paragraphs)
    # a new section opens at paragraph 1: "a" stays alone; "b" + "c" would pass max_words
    assert split_passages(text, min_words=20, max_words=170, target_words=100, section_starts=[1]) == [
        paragraphs[0], paragraphs[1], paragraphs[2], paragraphs[3],
    ]  # fmt: skip
    assert split_passages(text, min_words=20, max_words=250, target_words=100) == [
        "\n".join(paragraphs[0:3]), paragraphs[3],
    ]  # fmt: skip


def test_a_short_section_end_joins_its_section_or_the_next_one() -> None:
    a, short, b = sentence(60, "a"), sentence(8, "s"), sentence(50, "b")
    text = "\n\n".join([a, short, b])
    assert split_passages(text, min_words=20, max_words=200, target_words=50, section_starts=[2]) == [f"{a}\n{short}", b]
    # 60 + 8 is over max_words: the short end of the first section opens the next one
    assert split_passages(text, min_words=20, max_words=66, target_words=50, section_starts=[2]) == [a, f"{short}\n{b}"]


def test_the_step_merges_by_the_sections_the_extractor_found() -> None:
    document = article(5, "\n\n".join([sentence(30, "a"), sentence(30, "b"), sentence(30, "c")]))
    document.metadata["section_starts"] = [2]
    passages = list(PassageSplitter(min_words=20, max_words=200, target_words=100).run(iter([document])))
    assert [p.text for p in passages] == [f"{sentence(30, 'a')}\n{sentence(30, 'b')}", sentence(30, "c")]
    assert [p.metadata["n_words"] for p in passages] == [60, 30]


def test_each_page_gets_its_own_passage_size_the_same_on_every_run() -> None:
    sizes = {page_id: next(passage_targets(page_id, 200, 5.0)) for page_id in range(1, 400)}
    assert sizes == {page_id: next(passage_targets(page_id, 200, 5.0)) for page_id in range(1, 400)}
    assert all(40 <= size <= 1000 for size in sizes.values())
    assert min(sizes.values()) < 60 and max(sizes.values()) > 700  # log-uniform over the whole range
    assert len(set(itertools.islice(passage_targets(7, 200, 5.0), 10))) == 1  # one size for all of a page's passages
    assert next(passage_targets(7, 200, 1.0)) == 200


def test_the_step_cuts_pages_at_their_own_size() -> None:
    text = "\n\n".join(sentence(50, f"w{i}") for i in range(16))  # 800 words in paragraphs of 50
    documents = [article(page_id, text) for page_id in range(1, 30)]
    passages = list(PassageSplitter(min_words=20, max_words=800, target_words=200, target_spread=5.0).run(iter(documents)))
    mean_words = {}
    for page_id in range(1, 30):
        sizes = [p.metadata["n_words"] for p in passages if p.metadata["page_id"] == page_id]
        assert sum(sizes) == 800
        mean_words[page_id] = sum(sizes) / len(sizes)
    assert min(mean_words.values()) <= 100 and max(mean_words.values()) >= 400
