"""The one interface every generation backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from memtrain_data.agent.templates import reply_prefill


@dataclass
class Generation:
    """One completion, with token ids when the backend can give them (training needs them)."""

    text: str
    prompt_ids: list[int] | None = None  # the rendered prompt (chat template applied)
    completion_ids: list[int] | None = None  # generated tokens, eos included when produced


def trim_reply(text: str, conversation: list[dict[str, str]]) -> str:
    """A generated text without surrounding whitespace; a prefilled reply keeps its leading space ("is" + " Ostra")."""
    return text.rstrip() if reply_prefill(conversation) else text.strip()


@runtime_checkable
class GenerationBackend(Protocol):
    """Generates one reply for each of many chat conversations in a single call.

    Implementations batch internally (micro-batches, concurrent requests); callers never loop
    over conversations themselves. `seed`, when given, makes sampling reproducible; rows of
    one call still get different samples.
    """

    tokenizer: Any | None  # HF tokenizer when the backend has one (for budgets and lengths)

    def generate(
        self,
        conversations: list[list[dict[str, str]]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> list[Generation]:
        """One `Generation` per conversation, in order."""
        ...


def max_context_tokens(backend: Any) -> int | None:
    """The longest prompt + completion the backend's model accepts, when known."""
    value = getattr(backend, "max_context_tokens", None)
    return int(value) if value else None
