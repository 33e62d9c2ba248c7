"""`memtrain validate`, `memtrain inspect`, `memtrain push` (being built: see issue 4)."""

from __future__ import annotations

from memtrain_data.errors import MemtrainError


def validate() -> None:
    """Check every record of a memtrain dataset against its model and rules."""
    raise MemtrainError("validate is not available yet")


def inspect() -> None:
    """Render one episode in the terminal."""
    raise MemtrainError("inspect is not available yet")


def push() -> None:
    """Upload a built dataset folder to the Hugging Face Hub."""
    raise MemtrainError("push is not available yet")
