"""The format examples in memtrain's prompts are not answers a small policy could copy and score with."""

from __future__ import annotations

import re

from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.eval.metrics import normalize_answer


def test_every_boxed_example_normalizes_to_nothing() -> None:
    templates = PromptTemplates()
    for name in ("final", "recall", "full_context"):
        text = getattr(templates, name).replace("{{", "{").replace("}}", "}")
        examples = re.findall(r"\\boxed\{([^}]*)\}", text)
        assert examples, name
        # "\boxed{...}" shows the format; after SQuAD normalization it matches no answer at all.
        assert all(normalize_answer(example) == "" for example in examples), (name, examples)
