"""Cutting a document into chunks that fit a token budget, counted with the real tokenizer.

A document is a list of passages. Chunks are filled greedily with whole passages; a passage
longer than the budget is cut at sentence ends, and a sentence longer than the budget at the
last whitespace that fits, so no chunk ever ends inside a word. Passages are joined with a
blank line. Every chunk's count is taken on its final text, so `chunk_n_tokens` is exact even
where the tokenizer merges across a join.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PASSAGE_JOIN = "\n\n"
SENTENCE_JOIN = " "
# A sentence ends at . ! or ? followed by space and something that can start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[A-Z0-9])")


def count_tokens(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list[int]:
    """Tokens of each text, without special tokens (batched)."""
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


@dataclass
class Piece:
    """A passage, or part of one, that is never cut further."""

    text: str
    n_tokens: int
    starts_passage: bool


@dataclass
class Chunking:
    """Chunks in reading order, their exact token counts, and the pieces each is made of."""

    chunks: list[str] = field(default_factory=list)
    n_tokens: list[int] = field(default_factory=list)
    pieces: list[list[str]] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return sum(self.n_tokens)


def _cut_at_words(tokenizer: PreTrainedTokenizerBase, text: str, budget: int) -> list[str]:
    """Split `text` at whitespace into parts of at most `budget` tokens each."""
    parts: list[str] = []
    rest = text
    while rest:
        encoding = tokenizer(rest, add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoding["offset_mapping"]
        if len(offsets) <= budget:
            parts.append(rest)
            break
        limit = offsets[budget][0]
        cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            # One "word" longer than the budget (e.g. a URL): cut at a token boundary instead.
            cut = limit
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    return parts


def split_into_pieces(
    tokenizer: PreTrainedTokenizerBase, passages: Sequence[str], budget: int, passage_tokens: Sequence[int] | None = None
) -> list[Piece]:
    """Passages as pieces of at most `budget` tokens: whole passages, else sentences, else word runs.

    `passage_tokens`, when the caller already counted the passages, saves tokenizing them again.
    """
    counts = count_tokens(tokenizer, passages) if passage_tokens is None else list(passage_tokens)
    pieces: list[Piece] = []
    for text, n_tokens in zip(passages, counts, strict=True):
        if n_tokens <= budget:
            pieces.append(Piece(text, n_tokens, True))
            continue
        sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
        parts: list[str] = []
        for sentence, sentence_tokens in zip(sentences, count_tokens(tokenizer, sentences), strict=True):
            parts.extend([sentence] if sentence_tokens <= budget else _cut_at_words(tokenizer, sentence, budget))
        # Re-join consecutive sentences while they fit, so the pieces stay as large as allowed.
        merged: list[str] = []
        for part in parts:
            candidate = f"{merged[-1]}{SENTENCE_JOIN}{part}" if merged else part
            if merged and count_tokens(tokenizer, [candidate])[0] <= budget:
                merged[-1] = candidate
            else:
                merged.append(part)
        for index, (part, part_tokens) in enumerate(zip(merged, count_tokens(tokenizer, merged), strict=True)):
            pieces.append(Piece(part, part_tokens, index == 0))
    return pieces


def _join(pieces: Sequence[Piece]) -> str:
    text = ""
    for index, piece in enumerate(pieces):
        if index:
            text += PASSAGE_JOIN if piece.starts_passage else SENTENCE_JOIN
        text += piece.text
    return text


def chunk_document(
    tokenizer: PreTrainedTokenizerBase,
    passages: Sequence[str],
    chunk_tokens: int,
    passage_tokens: Sequence[int] | None = None,
) -> Chunking:
    """Pack `passages` (in order) into chunks of at most `chunk_tokens` tokens.

    `passage_tokens` are the passages' own counts when known; chunk counts are always exact.
    """
    pieces = split_into_pieces(tokenizer, passages, chunk_tokens, passage_tokens)
    join_tokens = max(count_tokens(tokenizer, [PASSAGE_JOIN])[0], 1)
    result = Chunking()
    start = 0
    while start < len(pieces):
        # Greedy estimate from piece counts, then shrink until the exact count of the text fits.
        end, estimate = start, 0
        while end < len(pieces):
            extra = pieces[end].n_tokens + (join_tokens if end > start else 0)
            if end > start and estimate + extra > chunk_tokens:
                break
            estimate += extra
            end += 1
        while True:
            text = _join(pieces[start:end])
            exact = count_tokens(tokenizer, [text])[0]
            if exact <= chunk_tokens or end - start == 1:
                break
            end -= 1
        result.chunks.append(text)
        result.n_tokens.append(exact)
        result.pieces.append([piece.text for piece in pieces[start:end]])
        start = end
    return result
