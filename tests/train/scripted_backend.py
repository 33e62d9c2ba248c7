"""A `GenerationBackend` whose replies follow a script, for pinning rewards and advantages exactly.

Prompts are rendered by a real tokenizer's chat template and replies are real token ids ending
in eos, like a model's; only the choice of words is scripted, so a test decides which answers
are right and checks the arithmetic that follows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memtrain_data.agent.backends.base import Generation, trim_reply
from memtrain_data.agent.backends.transformers_backend import render_prompt_ids
from memtrain_data.agent.templates import PromptTemplates

# (row index within the generate call, conversation) -> reply text
Script = Callable[[int, list[dict[str, str]]], str]


class ScriptedBackend:
    def __init__(
        self,
        tokenizer: Any,
        *,
        update: Script,
        final: Script,
        recall: Script,
        templates: PromptTemplates | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.scripts = {"update": update, "final": final, "recall": recall}
        templates = templates or PromptTemplates()
        # Each template's fixed opening tells which kind of turn a conversation is.
        self.openings = {kind: getattr(templates, kind).split("{")[0] for kind in self.scripts}
        self.calls: list[tuple[str, int]] = []  # (kind, number of conversations) per generate call

    def kind_of(self, conversation: list[dict[str, str]]) -> str:
        content = conversation[0]["content"]  # the user turn (an answer_prefix adds an assistant one)
        return next(kind for kind, opening in self.openings.items() if content.startswith(opening))

    def generate(
        self,
        conversations: list[list[dict[str, str]]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> list[Generation]:
        kinds = {self.kind_of(c) for c in conversations}
        assert len(kinds) == 1, f"one generate call mixed turn kinds {kinds}"
        kind = kinds.pop()
        self.calls.append((kind, len(conversations)))
        generations = []
        for row, conversation in enumerate(conversations):
            text = self.scripts[kind](row, conversation)
            prompt_ids = render_prompt_ids(self.tokenizer, conversation)
            completion_ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])[
                : max_new_tokens - 1
            ]
            completion_ids.append(self.tokenizer.eos_token_id)
            generations.append(
                Generation(
                    text=trim_reply(self.tokenizer.decode(completion_ids, skip_special_tokens=True), conversation),
                    prompt_ids=prompt_ids,
                    completion_ids=completion_ids,
                )
            )
        return generations
