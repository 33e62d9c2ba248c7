"""The prompts of the memory agent (MemAgent / MemTrain protocol), kept in one place.

Three kinds of turn, each an independent single-message conversation rendered later through
the model's own chat template:

- update: read one section of the document and rewrite the memory (the reply *is* the new memory);
- final: answer the problem from the memory alone, inside ``\\boxed{}``;
- recall: name the entity hidden as ``[TARGET]`` in an earlier section, from the memory.

A fourth, ``full_context``, is the no-memory baseline of `memtrain eval --mode full-context`.
Every template can be overridden from a YAML or JSON file with the same keys.

``answer_prefix`` (empty by default) starts the assistant's reply to every answering turn (final,
recall, full context) with a fixed text, such as ``\\boxed{``: the model continues it, and the
answer is read from prefix plus continuation. A small model that states the right name but never
writes the box format then still earns the exact-match reward; memory turns are never prefilled.

The format examples show \\boxed{...}, never a real-looking answer: small models copy an
example such as a year or a city into their replies, and the copy can even score.
"""

from __future__ import annotations

import dataclasses
import json
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtrain_data.errors import ConfigError, first_line

DEFAULT_UPDATE = """You are reading a long document one section at a time to solve a problem, and you keep a memory of what matters.
Read the new section, then rewrite the memory so that it keeps every detail that could help solve the problem: names, numbers, dates, places and how they relate. Keep what is still relevant from the previous memory, add what is new, and drop nothing you might need later.

<problem>
{problem}
</problem>

<memory>
{memory}
</memory>

<section>
{chunk}
</section>

Updated memory:"""

DEFAULT_FINAL = """You have read a long document section by section and kept the memory below. Solve the problem using only this memory.

<problem>
{problem}
</problem>

<memory>
{memory}
</memory>

Give a short answer (an entity, a number, a name or yes/no) and put it inside \\boxed{{}}, for example \\boxed{{...}} with your answer in place of the dots.
Answer:"""

DEFAULT_RECALL = """Based on the memory, predict the entity marked by [TARGET] in the section below. The memory was written while reading the whole document, including this section before the entity was hidden.

<memory>
{memory}
</memory>

<section>
{masked_chunk}
</section>

Put only the entity inside \\boxed{{}}, for example \\boxed{{...}} with the entity in place of the dots.
Answer:"""

DEFAULT_FULL_CONTEXT = """Read the document below and solve the problem.

<document>
{context}
</document>

<problem>
{problem}
</problem>

Give a short answer (an entity, a number, a name or yes/no) and put it inside \\boxed{{}}, for example \\boxed{{...}} with your answer in place of the dots.
Answer:"""

INITIAL_MEMORY = "No previous memory"

# The fields each template must use; a template that forgets one would silently hide input.
_REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    "update": frozenset({"problem", "memory", "chunk"}),
    "final": frozenset({"problem", "memory"}),
    "recall": frozenset({"memory", "masked_chunk"}),
    "full_context": frozenset({"problem", "context"}),
}


def _format_fields(template: str, where: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(
            f"{where}: not a valid format string ({exc}); write literal braces as {{{{ and }}}}"
        ) from None


@dataclass
class PromptTemplates:
    """Prompt templates of the memory agent; `str.format` fields are listed per template.

    update: ``{problem} {memory} {chunk}``. final: ``{problem} {memory}``.
    recall: ``{memory} {masked_chunk}``. full_context: ``{problem} {context}``.
    initial_memory: the memory m(0) shown in the first update turn.
    answer_prefix: text the reply to a final, recall or full-context turn starts with (a prefill);
    not a format string.
    """

    update: str = DEFAULT_UPDATE
    final: str = DEFAULT_FINAL
    recall: str = DEFAULT_RECALL
    initial_memory: str = INITIAL_MEMORY
    full_context: str = DEFAULT_FULL_CONTEXT
    answer_prefix: str = ""

    def __post_init__(self) -> None:
        for name, required in _REQUIRED_FIELDS.items():
            template = getattr(self, name)
            used = _format_fields(template, f"template '{name}'")
            missing = required - used
            unknown = used - required
            if missing:
                raise ConfigError(f"template '{name}' must use {{{', '.join(sorted(missing))}}}")
            if unknown:
                raise ConfigError(
                    f"template '{name}' uses unknown field(s) {{{', '.join(sorted(unknown))}}}; "
                    f"allowed: {', '.join(sorted(required))}"
                )

    @classmethod
    def from_file(cls, path: Path) -> PromptTemplates:
        """Read overrides from a YAML (.yaml/.yml) or JSON file; keys not given keep their defaults."""
        values = cls.read_overrides(path)
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    @classmethod
    def read_overrides(cls, path: Path) -> dict[str, str]:
        """The templates a YAML/JSON file sets, checked for known names and string values."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"templates file not found: {path}")
        text = path.read_text(encoding="utf-8")
        values: Any
        try:
            if path.suffix.lower() == ".json":
                values = json.loads(text)
            else:
                import yaml

                values = yaml.safe_load(text)
        except Exception as exc:  # json.JSONDecodeError or yaml.YAMLError: both mean a malformed file
            raise ConfigError(f"{path}: cannot parse templates ({first_line(exc)})") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: expected a mapping of template names to strings")
        known = [f.name for f in dataclasses.fields(cls)]
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{path}: unknown template '{key}'; known: {', '.join(known)}")
            if not isinstance(value, str):
                raise ConfigError(f"{path}: template '{key}' must be a string")
        return dict(values)

    def update_messages(self, problem: str, memory: str, chunk: str) -> list[dict[str, str]]:
        """The memory-update turn: problem, previous memory and the next section."""
        return [{"role": "user", "content": self.update.format(problem=problem, memory=memory, chunk=chunk)}]

    def final_messages(self, problem: str, memory: str) -> list[dict[str, str]]:
        """The final turn: answer from the memory alone."""
        return self._answering(self.final.format(problem=problem, memory=memory))

    def recall_messages(self, memory: str, masked_chunk: str) -> list[dict[str, str]]:
        """The intermediate-memory-recall turn: name the [TARGET] entity of an earlier section."""
        return self._answering(self.recall.format(memory=memory, masked_chunk=masked_chunk))

    def full_context_messages(self, problem: str, context: str) -> list[dict[str, str]]:
        """The no-memory baseline: the whole document and the problem in one prompt."""
        return self._answering(self.full_context.format(problem=problem, context=context))

    def _answering(self, content: str) -> list[dict[str, str]]:
        # A prefill is an unfinished assistant message that backends continue (see `reply_prefill`).
        messages = [{"role": "user", "content": content}]
        if self.answer_prefix:
            messages.append({"role": "assistant", "content": self.answer_prefix})
        return messages


def reply_prefill(messages: list[dict[str, str]]) -> str:
    """The start of the reply a conversation prefills: the content of a final assistant message, else "".

    The full reply is this prefill followed by what the model generated.

    >>> reply_prefill([{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "\\\\boxed{"}])
    '\\\\boxed{'
    >>> reply_prefill([{"role": "user", "content": "Who?"}])
    ''
    """
    if messages and messages[-1].get("role") == "assistant":
        return str(messages[-1].get("content", ""))
    return ""
