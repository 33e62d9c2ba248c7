"""Token budgets of the memory agent and the helpers that enforce them.

Defaults are the MemTrain paper's: an 8,192-token context split into 1,024 for the
instruction, 5,120 for the chunk, 1,024 for the memory and 1,024 for the response.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from memtrain_data import paper
from memtrain_data.errors import ConfigError

# Without a tokenizer (an API model we cannot tokenize locally) lengths are estimated from
# characters; about four characters per token holds for English BPE vocabularies.
_CHARS_PER_TOKEN = 4


@dataclass
class AgentBudgets:
    """Token budgets: one chunk of the document, the memory, and one response."""

    chunk_tokens: int = paper.CHUNK_TOKENS
    memory_tokens: int = paper.MEMORY_TOKENS
    response_tokens: int = paper.RESPONSE_TOKENS

    def __post_init__(self) -> None:
        for name in ("chunk_tokens", "memory_tokens", "response_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")


def _encode(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def count_tokens(tokenizer: Any | None, text: str) -> int:
    """Tokens of `text` without special tokens (estimated from characters when `tokenizer` is None)."""
    if tokenizer is None:
        return -(-len(text) // _CHARS_PER_TOKEN)
    return len(_encode(tokenizer, text))


def truncate_to_tokens(tokenizer: Any | None, text: str, max_tokens: int) -> str:
    """The longest prefix of `text` that is at most `max_tokens` tokens (the text itself if it fits)."""
    if max_tokens <= 0:
        return ""
    if tokenizer is None:
        return text[: max_tokens * _CHARS_PER_TOKEN]
    ids = _encode(tokenizer, text)
    if len(ids) <= max_tokens:
        return text
    # Cutting inside a multi-byte character decodes to U+FFFD, which can re-encode to more
    # tokens than it replaced: shorten until the result really fits.
    for keep in range(max_tokens, 0, -1):
        prefix = tokenizer.decode(ids[:keep], skip_special_tokens=True)
        if len(_encode(tokenizer, prefix)) <= max_tokens:
            return prefix
    return ""


def split_into_chunks(tokenizer: Any | None, text: str, chunk_tokens: int) -> list[str]:
    """Cut `text` into consecutive pieces of at most `chunk_tokens` tokens (token boundaries, in order)."""
    if chunk_tokens < 1:
        raise ConfigError(f"chunk_tokens must be at least 1, got {chunk_tokens}")
    if not text:
        return []
    if tokenizer is None:
        width = chunk_tokens * _CHARS_PER_TOKEN
        return [text[i : i + width] for i in range(0, len(text), width)]
    if getattr(tokenizer, "is_fast", False):
        # Cut the text itself at the character where every chunk_tokens-th token starts, so no
        # character is split and the chunks join back to exactly `text`.
        offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        bounds = [0]
        begin = 0
        while begin + chunk_tokens < len(offsets):
            cut = begin + chunk_tokens
            # Byte-level tokens of one character share its span: move the cut back to the
            # first token of that character so the next chunk starts on a whole character.
            while cut > begin + 1 and offsets[cut][0] < offsets[cut - 1][1]:
                cut -= 1
            bounds.append(offsets[cut][0])
            begin = cut
        bounds.append(len(text))
        return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    ids = _encode(tokenizer, text)
    return [tokenizer.decode(ids[i : i + chunk_tokens]) for i in range(0, len(ids), chunk_tokens)]


def truncate_middle(tokenizer: Any | None, text: str, max_tokens: int, marker: str = "\n...\n") -> str:
    """Keep the first and last halves of a too-long text within `max_tokens` (the long-context baseline convention)."""
    if tokenizer is None:
        width = max_tokens * _CHARS_PER_TOKEN
        if len(text) <= width:
            return text
        return text[: width // 2] + marker + text[len(text) - width // 2 :]
    ids = _encode(tokenizer, text)
    if len(ids) <= max_tokens:
        return text
    head = max_tokens // 2
    tail = max_tokens - head
    return tokenizer.decode(ids[:head]) + marker + tokenizer.decode(ids[len(ids) - tail :])
