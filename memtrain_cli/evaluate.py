"""`memtrain eval` (being built: see issue 5)."""

from __future__ import annotations

from memtrain_cli._common import new_app
from memtrain_data.errors import MemtrainError

eval_app = new_app(help="Evaluate a memory agent.")


@eval_app.command("run")
def run() -> None:
    """Evaluate a checkpoint."""
    raise MemtrainError("eval is not available yet")
