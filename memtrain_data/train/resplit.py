"""Fitting an episode's chunks to the policy's chunk budget without losing any of the document.

A dataset is chunked with the tokenizer and budget it was built for; a run may use another
tokenizer or a smaller `chunk_tokens`. Cutting each chunk to the budget would silently drop the
rest of it, often with the [MASK]s and the recall probes' [TARGET]s. Instead, every chunk longer
than the budget is split into consecutive pieces that fit:

- cuts fall on whitespace (a sentence end when one is near), and never inside a placeholder
  ([MASK], [TARGET]), so every [MASK] of the document survives; a placeholder-free run of
  text longer than the budget is cut at a token boundary;
- a recall probe on a split chunk moves to the first piece that still holds its target (that
  piece, with the target masked, becomes its `masked_chunk`); a probe whose target does not
  survive whole in a piece, or lands on the document's last chunk, is dropped and counted;
- chunks that fit are kept as they are (a larger budget never merges chunks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from memtrain_data.agent.budgets import count_tokens
from memtrain_data.episodes.masking import count_occurrences, mask_occurrences
from memtrain_data.errors import InputError
from memtrain_data.records import MASK_TOKEN, TARGET_TOKEN

_PLACEHOLDERS = re.compile(re.escape(MASK_TOKEN) + "|" + re.escape(TARGET_TOKEN))
_SENTENCE_END = re.compile(r"[.!?]\s+")
_WHITESPACE = re.compile(r"\s+")
# Without a tokenizer (never the case for a trainer) lengths are estimated like `count_tokens` does.
_CHARS_PER_TOKEN = 4


@dataclass
class FittedEpisode:
    """An episode's chunks and recall probes under the run's chunk budget, and what changed."""

    chunks: list[str]
    recall_probes: list[dict[str, Any]]
    chunks_resplit: int = 0  # original chunks longer than the budget (each now two or more pieces)
    chunks_added: int = 0  # pieces beyond the original number of chunks
    probes_moved: int = 0  # probes re-pointed to a piece of their split chunk
    probes_dropped: int = 0  # probes whose target did not survive whole (or landed on the last chunk)
    dropped_targets: list[str] = field(default_factory=list)


def _prefix_end(tokenizer: Any | None, text: str, budget: int) -> int:
    """The character where token number `budget` of `text` starts (len(text) if it has fewer tokens)."""
    if tokenizer is None:
        return min(len(text), budget * _CHARS_PER_TOKEN)
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return offsets[budget][0] if len(offsets) > budget else len(text)


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` so the head is `text[:cut]` with cut <= limit: a sentence end, else whitespace."""
    window = text[:limit]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    # A sentence end in the second half of the window keeps pieces large and readable.
    if sentence_ends and sentence_ends[-1] > limit // 2:
        return sentence_ends[-1]
    spaces = [m.start() for m in _WHITESPACE.finditer(window) if m.start() > 0]
    if spaces:
        return spaces[-1]
    cut = limit
    for placeholder in _PLACEHOLDERS.finditer(text):
        if placeholder.start() < cut < placeholder.end():
            # Never split a placeholder: cut before it, or just after it when it opens the text.
            return placeholder.start() if placeholder.start() > 0 else placeholder.end()
    return cut


def split_chunk(tokenizer: Any | None, text: str, budget: int) -> list[str]:
    """`text` as consecutive pieces of at most `budget` tokens, cut at whitespace and never inside a placeholder.

    Raises InputError when a placeholder alone does not fit in `budget` tokens.
    """
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if count_tokens(tokenizer, rest) <= budget:
            pieces.append(rest)
            break
        limit = _prefix_end(tokenizer, rest, budget)
        while True:
            cut = _cut_point(rest, max(limit, 1))
            head = rest[:cut].rstrip()
            if head and count_tokens(tokenizer, head) <= budget:
                break
            if limit <= 1 or cut <= 1:
                raise InputError(
                    f"chunk_tokens={budget} is too small to hold '{rest[:24]}…' whole; raise --chunk-tokens"
                )
            limit = min(limit, cut) - 1  # the tokenizer merged across the cut: try a shorter head
        pieces.append(head)
        rest = rest[cut:].lstrip()
    return pieces


def fit_episode(episode: Mapping[str, Any], tokenizer: Any | None, chunk_tokens: int) -> FittedEpisode:
    """The episode's chunks split to `chunk_tokens` tokens under `tokenizer`, with its probes carried over.

    Raises InputError if a [MASK] would be lost (it cannot be with the cuts above; the check
    guards the promise that the whole document is read).
    """
    original = [str(chunk) for chunk in episode["chunks"]]
    chunks: list[str] = []
    first_piece: list[int] = []
    piece_counts: list[int] = []
    resplit = 0
    for chunk in original:
        pieces = [chunk] if count_tokens(tokenizer, chunk) <= chunk_tokens else split_chunk(tokenizer, chunk, chunk_tokens)
        resplit += len(pieces) > 1
        first_piece.append(len(chunks))
        piece_counts.append(len(pieces))
        chunks.extend(pieces)
    before = sum(chunk.count(MASK_TOKEN) for chunk in original)
    after = sum(chunk.count(MASK_TOKEN) for chunk in chunks)
    if before != after:
        raise InputError(
            f"episode {episode.get('id')}: re-splitting to {chunk_tokens} tokens would lose {before - after} "
            f"{MASK_TOKEN}; raise --chunk-tokens"
        )

    fitted = FittedEpisode(chunks=chunks, recall_probes=[], chunks_resplit=resplit)
    fitted.chunks_added = len(chunks) - len(original)
    last = len(chunks) - 1
    for probe in episode.get("recall_probes") or []:
        index = int(probe["chunk_index"])
        target = str(probe["target"])
        if index >= len(original):
            fitted.probes_dropped += 1
            fitted.dropped_targets.append(target)
            continue
        if piece_counts[index] == 1:
            if first_piece[index] < last:
                fitted.recall_probes.append({**probe, "chunk_index": first_piece[index]})
            else:
                fitted.probes_dropped += 1
                fitted.dropped_targets.append(target)
            continue
        candidates = range(first_piece[index], first_piece[index] + piece_counts[index])
        holder = next((p for p in candidates if p < last and count_occurrences(chunks[p], [target]) > 0), None)
        if holder is None:
            fitted.probes_dropped += 1
            fitted.dropped_targets.append(target)
            continue
        masked, occurrences = mask_occurrences(chunks[holder], [target], TARGET_TOKEN)
        fitted.recall_probes.append(
            {**probe, "chunk_index": holder, "masked_chunk": masked, "masked_occurrences": occurrences}
        )
        fitted.probes_moved += 1
    return fitted
