"""`memtrain train` (being built: see issue 6)."""

from __future__ import annotations

from memtrain_data.errors import MemtrainError


def train() -> None:
    """Train a memory agent with MemTrain's joint GRPO."""
    raise MemtrainError("train is not available yet")
