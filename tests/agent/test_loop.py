"""The batched memory loop: one generate call per turn for the whole batch, memories within budget."""

from __future__ import annotations

import pytest

from memtrain_data.agent.answers import extract_boxed
from memtrain_data.agent.budgets import AgentBudgets, count_tokens
from memtrain_data.agent.loop import AgentTask, run_memory_agent, run_recall
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.errors import InputError

TASKS = [
    AgentTask(
        "three",
        "Which city has the tower?",
        ["Paris is in France.", "The tower is tall.", "It opened in 1889."],
    ),
    AgentTask("one", "Which year?", ["The Eiffel Tower was completed in 1889."]),
    AgentTask("two", "Which country?", ["Paris is the capital.", "France is in Europe."]),
]
SMALL = AgentBudgets(chunk_tokens=64, memory_tokens=6, response_tokens=12)


def test_generate_calls_equal_the_longest_document_plus_the_final_turn(counting_backend) -> None:
    trajectories = run_memory_agent(counting_backend, TASKS, samples_per_task=2, budgets=SMALL)

    # 3 update steps (the longest document) + 1 final turn, not turns x conversations (= 2 * (4 + 2 + 3)).
    assert len(counting_backend.calls) == 4
    # Conversations drop out when their document has no more chunks: 6 live, then 4, then 2; all 6 answer.
    assert counting_backend.calls == [6, 4, 2, 6]
    assert len(trajectories) == 6
    assert [(t.task_id, t.sample_index) for t in trajectories] == [
        ("three", 0), ("three", 1), ("one", 0), ("one", 1), ("two", 0), ("two", 1)
    ]  # fmt: skip


def test_trajectory_has_t_update_turns_then_one_final_turn(counting_backend) -> None:
    trajectories = run_memory_agent(counting_backend, TASKS, budgets=SMALL)
    by_id = {t.task_id: t for t in trajectories}
    for task in TASKS:
        trajectory = by_id[task.id]
        kinds = [turn.kind for turn in trajectory.turns]
        assert kinds == ["update"] * len(task.chunks) + ["final"]
        assert [turn.step for turn in trajectory.turns] == list(range(1, len(task.chunks) + 2))
        assert len(trajectory.memories) == len(task.chunks) + 1
        assert trajectory.answer == extract_boxed(trajectory.turns[-1].completion)
        # Each update prompt shows the chunk it reads and the previous memory.
        for step, turn in enumerate(trajectory.turns[:-1], start=1):
            content = turn.messages[0]["content"]
            assert task.chunks[step - 1] in content
            assert trajectory.memories[step - 1] in content
            assert turn.prompt_ids and turn.completion_ids is not None


def test_first_memory_is_no_previous_memory(counting_backend) -> None:
    trajectories = run_memory_agent(counting_backend, TASKS[:1], budgets=SMALL)
    assert trajectories[0].memories[0] == "No previous memory"
    first_prompt = counting_backend.conversations[0][0][0]["content"]
    assert "<memory>\nNo previous memory\n</memory>" in first_prompt


def test_memories_are_truncated_to_the_memory_budget(counting_backend) -> None:
    budgets = AgentBudgets(chunk_tokens=64, memory_tokens=5, response_tokens=20)
    # Sampling, because the greedy random model only repeats newlines.
    trajectories = run_memory_agent(counting_backend, TASKS, budgets=budgets, temperature=1.0, seed=3)
    tokenizer = counting_backend.tokenizer
    longer_than_budget = 0
    for trajectory in trajectories:
        for turn, memory in zip(trajectory.turns, trajectory.memories[1:], strict=False):
            assert count_tokens(tokenizer, memory) <= budgets.memory_tokens
            assert turn.completion.startswith(memory.strip()[:3])
            longer_than_budget += count_tokens(tokenizer, turn.completion) > budgets.memory_tokens
    # The random model rambles for all 20 tokens, so the budget really cut something.
    assert longer_than_budget > 0


def test_completions_respect_the_response_budget(counting_backend) -> None:
    trajectories = run_memory_agent(counting_backend, TASKS[:2], budgets=SMALL)
    for trajectory in trajectories:
        for turn in trajectory.turns:
            assert len(turn.completion_ids) <= SMALL.response_tokens


def test_seeded_sampling_is_reproducible(tiny_backend) -> None:
    first = run_memory_agent(tiny_backend, TASKS, samples_per_task=2, budgets=SMALL, temperature=1.0, seed=7)
    second = run_memory_agent(tiny_backend, TASKS, samples_per_task=2, budgets=SMALL, temperature=1.0, seed=7)
    assert [t.memories for t in first] == [t.memories for t in second]
    # Two samples of one task differ when sampling (rows of one call get different draws).
    assert first[0].memories[1:] != first[1].memories[1:]


def test_custom_templates_and_initial_memory_are_used(counting_backend) -> None:
    templates = PromptTemplates(initial_memory="(empty)")
    trajectories = run_memory_agent(counting_backend, TASKS[1:2], templates=templates, budgets=SMALL)
    assert trajectories[0].memories[0] == "(empty)"
    assert "(empty)" in counting_backend.conversations[0][0][0]["content"]


def test_no_tasks_makes_no_calls(counting_backend) -> None:
    assert run_memory_agent(counting_backend, [], budgets=SMALL) == []
    assert counting_backend.calls == []


def test_recall_is_one_call_for_all_pairs_and_samples(counting_backend) -> None:
    memories = ["The tower opened in 1889.", "Paris is the capital of France."]
    chunks = ["The tower opened in [TARGET].", "[TARGET] is the capital of France."]
    turns = run_recall(counting_backend, memories, chunks, samples=3, budgets=SMALL, steps=[3, 2])
    assert counting_backend.calls == [6]
    assert [len(group) for group in turns] == [3, 3]
    assert all(turn.kind == "recall" for group in turns for turn in group)
    assert [group[0].step for group in turns] == [3, 2]
    prompt = turns[1][0].messages[0]["content"]
    assert "[TARGET] is the capital of France." in prompt and "Paris is the capital of France." in prompt
    assert "predict the entity marked by [TARGET]" in prompt


def test_recall_rejects_mismatched_inputs(counting_backend) -> None:
    with pytest.raises(InputError, match="2 memories but 1 masked chunks"):
        run_recall(counting_backend, ["a", "b"], ["c"])


def test_an_answer_prefix_counts_as_part_of_the_reply(tiny_backend) -> None:
    templates = PromptTemplates(answer_prefix="\\boxed{")
    [trajectory] = run_memory_agent(tiny_backend, TASKS[1:2], templates=templates, budgets=SMALL)
    final = trajectory.turns[-1]
    assert final.messages[-1] == {"role": "assistant", "content": "\\boxed{"}
    assert final.reply == "\\boxed{" + final.completion
    assert trajectory.answer == extract_boxed(final.reply)
    # Memory turns are not prefilled: their reply is their completion.
    assert all(turn.reply == turn.completion for turn in trajectory.turns[:-1])
    [[recall]] = run_recall(tiny_backend, ["m"], ["It opened in [TARGET]."], templates=templates, budgets=SMALL)
    assert recall.reply.startswith("\\boxed{") and recall.reply == "\\boxed{" + recall.completion
