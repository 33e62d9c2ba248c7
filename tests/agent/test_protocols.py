"""Protocols: MemAgent's prompts exactly as its evaluation renders them, and each protocol's budgets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from memtrain_data.agent.protocols import PROTOCOLS, get_protocol, protocol_templates
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.errors import ConfigError

# sha256 of each template rendered with every field set to "x", computed from the strings in
# MemAgent's taskutils/memory_eval/utils/{recurrent_boxed,boxed}.py (commit 76b7a65) rendered the
# way MemAgent renders them (str.format for update/final, str.replace for the baseline).
MEMAGENT_RENDERED_SHA256 = {
    "update": "a7c5733914388c71d4c9390e6f4b27c00a3f404db3b1d2b0be283479c4217b7a",
    "final": "98833335435f5f6f60ce9116aa0a07aee62daeda32d83d48608cab8f26a4b372",
    "full_context": "5f28d482d86fde36199f7f976ffb32e016b37f33a795ad5125dc065c78540fbd",
}


def rendered(template: str) -> str:
    return template.format(**{name: "x" for name in ("problem", "memory", "chunk", "context")})


def test_memagent_templates_render_byte_for_byte_as_memagents() -> None:
    templates = get_protocol("memagent").templates()
    for name, digest in MEMAGENT_RENDERED_SHA256.items():
        assert hashlib.sha256(rendered(getattr(templates, name)).encode()).hexdigest() == digest, name
    assert templates.initial_memory == "No previous memory"
    assert "<problem> \nx\n</problem>" in rendered(templates.update)
    assert rendered(templates.final).endswith("Your answer:\n")
    assert "put the answer in \\boxed{}." in rendered(templates.final)
    # MemAgent's baseline prompt is not str.format-ed, so it literally shows \boxed{{}}.
    assert rendered(templates.full_context).endswith("Put the answer in \\boxed{{}}.")
    # The recall turn is memtrain's (MemAgent has none).
    assert templates.recall == PromptTemplates().recall


def test_protocol_budgets() -> None:
    memagent, memtrain = PROTOCOLS["memagent"], PROTOCOLS["memtrain"]
    assert (memagent.chunk_tokens, memagent.memory_tokens, memagent.response_tokens) == (5000, 1024, 1024)
    assert (memagent.temperature, memagent.top_p) == (0.7, 0.95)
    assert (memtrain.chunk_tokens, memtrain.memory_tokens, memtrain.response_tokens) == (5120, 1024, 1024)
    assert (memtrain.temperature, memtrain.top_p) == (0.0, 1.0)
    assert memtrain.templates() == PromptTemplates()


def test_a_templates_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("initial_memory: Nothing yet\n")
    templates = protocol_templates("memagent", path)
    assert templates.initial_memory == "Nothing yet"
    assert templates.update == get_protocol("memagent").templates().update


def test_unknown_protocol() -> None:
    with pytest.raises(ConfigError, match="unknown protocol 'memagnet'; choose one of: memagent, memtrain"):
        get_protocol("memagnet")
