"""Built-in evaluation tasks; importing this package registers them."""

from __future__ import annotations

from memtrain_data.eval.tasks import hotpotqa, proxy, ruler_hqa

__all__ = ["hotpotqa", "proxy", "ruler_hqa"]
