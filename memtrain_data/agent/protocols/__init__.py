"""Named evaluation protocols: the prompts, budgets and decoding a published number was made with.

- ``memagent``: MemAgent's RULER-HotpotQA evaluation, which the MemTrain paper's table follows
  (its prompts verbatim from `memagent.yaml`, chunks of 5,000 tokens, 1,024-token replies that
  become the memory, sampling at temperature 0.7 / top-p 0.95).
- ``memtrain``: the MemTrain paper's training budgets (8,192-token context: 5,120 chunk, 1,024
  memory, 1,024 response) with memtrain's own prompts (`agent/templates.py`), decoded greedily.

>>> sorted(PROTOCOLS)
['memagent', 'memtrain']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from memtrain_data import paper
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.errors import ConfigError

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class AgentProtocol:
    """Everything besides the model that decides an agent's answers."""

    name: str
    chunk_tokens: int
    memory_tokens: int
    response_tokens: int
    temperature: float
    top_p: float
    templates_file: str | None  # a YAML file next to this module; None: memtrain's own templates
    source: str

    def templates(self) -> PromptTemplates:
        """The protocol's prompt templates (templates a file does not name keep memtrain's)."""
        if self.templates_file is None:
            return PromptTemplates()
        return PromptTemplates.from_file(_HERE / self.templates_file)

    def settings(self) -> dict[str, int | float]:
        """The budgets and decoding settings a config takes from the protocol unless set explicitly."""
        return {
            "chunk_tokens": self.chunk_tokens,
            "memory_tokens": self.memory_tokens,
            "response_tokens": self.response_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
        }


PROTOCOLS: dict[str, AgentProtocol] = {
    "memagent": AgentProtocol(
        name="memagent",
        chunk_tokens=5000,
        memory_tokens=1024,
        response_tokens=1024,
        temperature=0.7,
        top_p=0.95,
        templates_file="memagent.yaml",
        source="MemAgent taskutils/memory_eval (recurrent_boxed, RECURRENT_CHUNK_SIZE=5000, RECURRENT_MAX_NEW=1024)",
    ),
    "memtrain": AgentProtocol(
        name="memtrain",
        chunk_tokens=paper.CHUNK_TOKENS,
        memory_tokens=paper.MEMORY_TOKENS,
        response_tokens=paper.RESPONSE_TOKENS,
        temperature=0.0,
        top_p=1.0,
        templates_file=None,
        source="MemTrain paper training budgets (8,192 = 1,024 instruction + 5,120 chunk + 1,024 memory + 1,024 response)",
    ),
}


def get_protocol(name: str) -> AgentProtocol:
    """The protocol called `name`; ConfigError listing the known ones otherwise."""
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol '{name}'; choose one of: {', '.join(sorted(PROTOCOLS))}")
    return PROTOCOLS[name]


def protocol_templates(name: str, overrides: Path | None = None) -> PromptTemplates:
    """A protocol's templates, with the templates a `--templates` file names replaced."""
    templates = get_protocol(name).templates()
    if overrides is None:
        return templates
    changed = PromptTemplates.read_overrides(overrides)
    try:
        return dataclasses.replace(templates, **changed)
    except ConfigError as exc:
        raise ConfigError(f"{overrides}: {exc}") from None


__all__ = ["PROTOCOLS", "AgentProtocol", "get_protocol", "protocol_templates"]
