"""Prompt templates: the MemAgent protocol by default, overridable from YAML or JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memtrain_data.agent.templates import PromptTemplates, reply_prefill
from memtrain_data.errors import ConfigError


def test_update_turn_has_problem_memory_section_and_updated_memory_cue() -> None:
    messages = PromptTemplates().update_messages(
        "Who built it?", "No previous memory", "Gustave Eiffel built it."
    )
    assert len(messages) == 1 and messages[0]["role"] == "user"
    content = messages[0]["content"]
    assert "<problem>\nWho built it?\n</problem>" in content
    assert "<memory>\nNo previous memory\n</memory>" in content
    assert "<section>\nGustave Eiffel built it.\n</section>" in content
    assert content.rstrip().endswith("Updated memory:")
    assert content.index("<problem>") < content.index("<memory>") < content.index("<section>")


def test_final_turn_asks_for_a_boxed_answer_from_memory_only() -> None:
    content = PromptTemplates().final_messages("Who built it?", "Eiffel built the tower.")[0]["content"]
    assert "Eiffel built the tower." in content and "Who built it?" in content
    assert "\\boxed{" in content and "<section>" not in content


def test_recall_turn_names_the_target_placeholder() -> None:
    content = PromptTemplates().recall_messages("memory text", "It opened in [TARGET].")[0]["content"]
    assert "Based on the memory, predict the entity marked by [TARGET]" in content
    assert "<memory>\nmemory text\n</memory>" in content
    assert "<section>\nIt opened in [TARGET].\n</section>" in content
    assert "\\boxed{" in content


def test_braces_in_inputs_are_not_format_fields() -> None:
    content = PromptTemplates().update_messages("{problem}", "{x}", "a } b {")[0]["content"]
    assert "a } b {" in content and "{x}" in content


def test_from_yaml_file_overrides_some_templates(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text('final: "Q: {problem}\\nM: {memory}\\nA:"\ninitial_memory: Nothing yet\n')
    templates = PromptTemplates.from_file(path)
    assert templates.final_messages("q", "m")[0]["content"] == "Q: q\nM: m\nA:"
    assert templates.initial_memory == "Nothing yet"
    assert templates.update == PromptTemplates().update


def test_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "templates.json"
    path.write_text(json.dumps({"recall": "{memory} / {masked_chunk}"}))
    assert PromptTemplates.from_file(path).recall_messages("m", "c")[0]["content"] == "m / c"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("final: 'no fields'\n", r"template 'final' must use \{memory, problem\}"),
        ("update: '{problem} {memory} {chunk} {extra}'\n", r"unknown field\(s\) \{extra\}"),
        ("udpate: 'x'\n", "unknown template 'udpate'"),
        ("final: 3\n", "template 'final' must be a string"),
        ("- a list\n", "expected a mapping"),
        ("final: [unclosed\n", "cannot parse templates"),
    ],
)
def test_bad_template_files_give_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        PromptTemplates.from_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="templates file not found"):
        PromptTemplates.from_file(tmp_path / "absent.yaml")


def test_an_answer_prefix_prefills_every_answering_turn_and_no_memory_turn() -> None:
    templates = PromptTemplates(answer_prefix="\\boxed{")
    prefill = {"role": "assistant", "content": "\\boxed{"}
    assert templates.final_messages("q", "m")[-1] == prefill
    assert templates.recall_messages("m", "It opened in [TARGET].")[-1] == prefill
    assert templates.full_context_messages("q", "doc")[-1] == prefill
    # The memory is the whole reply to an update turn: never prefilled.
    assert [m["role"] for m in templates.update_messages("q", "m", "c")] == ["user"]
    assert reply_prefill(templates.final_messages("q", "m")) == "\\boxed{"
    assert reply_prefill(PromptTemplates().final_messages("q", "m")) == ""


def test_an_answer_prefix_comes_from_a_templates_file_as_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text("answer_prefix: '\\boxed{'\n")
    # Not a format string: a lone brace is kept as written.
    assert PromptTemplates.from_file(path).answer_prefix == "\\boxed{"
