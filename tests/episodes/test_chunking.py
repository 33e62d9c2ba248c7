from typing import Any

import pytest

from memtrain_data.episodes.chunking import PASSAGE_JOIN, chunk_document, count_tokens, split_into_pieces
from tests.episodes.pool_helpers import PAGES

PASSAGES = [text for paragraphs in PAGES.values() for text in paragraphs]


def test_chunks_fit_the_budget_and_counts_are_exact(tokenizer: Any) -> None:
    chunking = chunk_document(tokenizer, PASSAGES, 200)
    assert len(chunking.chunks) > 3
    assert all(n <= 200 for n in chunking.n_tokens)
    assert chunking.n_tokens == count_tokens(tokenizer, chunking.chunks)
    assert chunking.total_tokens == sum(chunking.n_tokens)


def test_short_passages_are_never_cut(tokenizer: Any) -> None:
    chunking = chunk_document(tokenizer, PASSAGES, 200)
    rebuilt = [p for chunk in chunking.chunks for p in chunk.split(PASSAGE_JOIN)]
    assert rebuilt == PASSAGES


def test_chunks_are_filled_greedily(tokenizer: Any) -> None:
    chunking = chunk_document(tokenizer, PASSAGES, 200)
    for index in range(len(chunking.chunks) - 1):
        next_first = chunking.pieces[index + 1][0]
        joined = chunking.chunks[index] + PASSAGE_JOIN + next_first
        assert count_tokens(tokenizer, [joined])[0] > 200


def test_long_passage_breaks_at_sentence_ends(tokenizer: Any) -> None:
    long_passage = " ".join(PAGES["Lyon"] + PAGES["Danube"])
    chunking = chunk_document(tokenizer, [long_passage], 60)
    assert len(chunking.chunks) > 1
    assert all(n <= 60 for n in chunking.n_tokens)
    assert all(chunk.rstrip().endswith((".", "!", "?")) for chunk in chunking.chunks)
    assert " ".join(chunking.chunks).split() == long_passage.split()


def test_sentence_longer_than_the_budget_breaks_between_words(tokenizer: Any) -> None:
    words = [f"river{i}" for i in range(120)]
    sentence = " ".join(words)
    chunking = chunk_document(tokenizer, [sentence], 25)
    assert all(n <= 25 for n in chunking.n_tokens)
    assert " ".join(chunking.chunks).split() == words  # every word intact, in order


@pytest.mark.parametrize("budget", [1, 7])
def test_tiny_budgets_still_terminate_and_fit(tokenizer: Any, budget: int) -> None:
    chunking = chunk_document(tokenizer, PAGES["Istanbul"][:1], budget)
    assert all(n <= max(budget, 1) or len(chunk.split()) == 1 for n, chunk in zip(chunking.n_tokens, chunking.chunks, strict=True))
    assert "".join(chunking.chunks).replace(" ", "") == PAGES["Istanbul"][0].replace(" ", "")


def test_pieces_mark_passage_starts(tokenizer: Any) -> None:
    pieces = split_into_pieces(tokenizer, [" ".join(PAGES["Lyon"]), PAGES["Toyota"][0]], 40)
    starts = [piece.starts_passage for piece in pieces]
    assert starts[0] is True and starts[-1] is True
    assert starts.count(True) == 2
