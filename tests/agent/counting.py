"""A backend wrapper that counts generate calls (tests check the loop's batching with it)."""

from __future__ import annotations

from typing import Any

from memtrain_data.agent.backends.base import Generation


class CountingBackend:
    """Wraps a real backend and records every generate call (how many conversations each had)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.tokenizer = inner.tokenizer
        self.calls: list[int] = []
        self.conversations: list[list[list[dict[str, str]]]] = []

    def generate(self, conversations: list[list[dict[str, str]]], **options: Any) -> list[Generation]:
        self.calls.append(len(conversations))
        self.conversations.append(conversations)
        return self.inner.generate(conversations, **options)
