"""Token budgets: truncation, chunking and middle truncation with a real tokenizer."""

from __future__ import annotations

import pytest

from memtrain_data.agent.budgets import (
    AgentBudgets,
    count_tokens,
    split_into_chunks,
    truncate_middle,
    truncate_to_tokens,
)
from memtrain_data.errors import ConfigError

TEXT = "Paris is the capital of France. The Eiffel Tower was completed in 1889. " * 6


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


def test_defaults_are_the_papers_budgets() -> None:
    assert AgentBudgets() == AgentBudgets(chunk_tokens=5120, memory_tokens=1024, response_tokens=1024)


def test_budgets_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="memory_tokens must be at least 1"):
        AgentBudgets(memory_tokens=0)


def test_truncate_keeps_a_prefix_within_the_budget(tokenizer) -> None:
    cut = truncate_to_tokens(tokenizer, TEXT, 10)
    assert count_tokens(tokenizer, cut) <= 10 < count_tokens(tokenizer, TEXT)
    assert TEXT.startswith(cut)
    assert truncate_to_tokens(tokenizer, "Paris", 10) == "Paris"
    assert truncate_to_tokens(tokenizer, TEXT, 0) == ""


def test_truncate_never_exceeds_the_budget_when_cutting_inside_a_character(tokenizer) -> None:
    text = "é∑ç漢字テスト" * 5  # characters outside the tiny vocabulary: byte-level tokens
    for budget in range(1, 12):
        assert count_tokens(tokenizer, truncate_to_tokens(tokenizer, text, budget)) <= budget


def test_chunks_are_within_budget_and_cover_the_text_in_order(tokenizer) -> None:
    chunks = split_into_chunks(tokenizer, TEXT, 16)
    assert len(chunks) == -(-count_tokens(tokenizer, TEXT) // 16)
    assert "".join(chunks) == TEXT
    assert all(count_tokens(tokenizer, chunk) <= 16 for chunk in chunks)
    assert split_into_chunks(tokenizer, "", 16) == []


def test_middle_truncation_keeps_both_ends(tokenizer) -> None:
    text = "START " + "filler words here " * 40 + " END"
    cut = truncate_middle(tokenizer, text, 20)
    assert cut.startswith("START") and cut.endswith("END") and "\n...\n" in cut
    assert count_tokens(tokenizer, cut) < count_tokens(tokenizer, text)


def test_without_a_tokenizer_lengths_are_estimated_from_characters() -> None:
    assert count_tokens(None, "x" * 40) == 10
    assert truncate_to_tokens(None, "x" * 40, 5) == "x" * 20
    assert split_into_chunks(None, "abcdefgh", 1) == ["abcd", "efgh"]


def test_chunks_never_split_a_character(tokenizer) -> None:
    text = "WINNER (위너) is a South Korean boy group — formed in 2013. " * 8
    for size in (5, 7, 16):
        chunks = split_into_chunks(tokenizer, text, size)
        assert "".join(chunks) == text
        assert all(count_tokens(tokenizer, chunk) <= size for chunk in chunks)
