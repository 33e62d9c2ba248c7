"""MemTrain rollouts: rows per episode, shared trajectory advantages, recall groups, masks, budgets."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from memtrain_data.agent.budgets import AgentBudgets
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.train.rollout import (
    RolloutSettings,
    TrainingRow,
    collate_rows,
    episodes_from_generation_batch,
    padding_rows,
    rollout_episodes,
    rollout_metrics,
    training_rows,
)
from tests.train.mini_dataset import make_episode
from tests.train.scripted_backend import ScriptedBackend

G1, G2, BONUS = 4, 3, 0.5


def episode(index: int, num_chunks: int) -> dict[str, Any]:
    return make_episode(index, "train", num_chunks).model_dump(mode="json")


def answer_of(ep: dict[str, Any]) -> str:
    return ep["answers"][0]


def target_of(ep: dict[str, Any]) -> str:
    return ep["recall_probes"][0]["target"]


def scripted(
    tokenizer: Any, ep: dict[str, Any], *, final_right: set[int], recall_right: Any
) -> ScriptedBackend:
    """Trajectory i answers right iff i in `final_right`; recall sample j of pair p is right iff recall_right(p, j)."""
    return ScriptedBackend(
        tokenizer,
        update=lambda row, conv: f"note {row}: the section mentions a city and a year.",
        final=lambda row, conv: f"\\boxed{{{answer_of(ep)}}}" if row in final_right else "\\boxed{Rome}",
        recall=lambda row, conv: (
            f"\\boxed{{{target_of(ep)}}}" if recall_right(row // G2, row % G2) else "\\boxed{nothing}"
        ),
    )


def settings(**overrides: Any) -> RolloutSettings:
    values: dict[str, Any] = {"g1": G1, "g2": G2, "recall_bonus": BONUS, "seed": 0}
    values.update(overrides)
    return RolloutSettings(**values)


def test_rows_per_episode_are_g1_times_turns_plus_g1_times_g2(tiny_tokenizer: Any) -> None:
    long_ep, short_ep = episode(0, 4), episode(1, 2)  # T = 4 with probes; T = 2 has no probe before any k ≥ 2
    backend = scripted(tiny_tokenizer, long_ep, final_right={0}, recall_right=lambda p, j: j == 0)
    rollouts = rollout_episodes(backend, [long_ep, short_ep], settings(), dynamic_sampling=False)
    rows = training_rows(rollouts)

    per_episode = defaultdict(int)
    for row in rows:
        per_episode[row.episode_id] += 1
    assert per_episode[long_ep["id"]] == G1 * (4 + 1) + G1 * G2
    assert per_episode[short_ep["id"]] == G1 * (2 + 1)  # too short for a recall prompt: no IMR rows, no bonus
    assert rollouts[1].recall_groups == [None] * G1
    # One generate call per turn of the longest document, one final call, one recall call for everything.
    assert [kind for kind, _ in backend.calls] == ["update"] * 4 + ["final", "recall"]
    assert backend.calls[-1] == ("recall", G1 * G2)


def test_trajectory_advantage_is_its_reward_minus_group_mean_on_every_turn(tiny_tokenizer: Any) -> None:
    ep = episode(0, 4)
    # Final answers right for trajectories 0 and 1; recall sample j of trajectory i right when j < i.
    backend = scripted(tiny_tokenizer, ep, final_right={0, 1}, recall_right=lambda p, j: j < p)
    [rollout] = rollout_episodes(backend, [ep], settings(), dynamic_sampling=False)

    recall_successes = [min(i, G2) for i in range(G1)]
    expected_rewards = [(1.0 if i in {0, 1} else 0.0) + BONUS / G2 * recall_successes[i] for i in range(G1)]
    assert rollout.final_em == [1.0, 1.0, 0.0, 0.0]
    assert rollout.rewards == pytest.approx(expected_rewards)
    mean = sum(expected_rewards) / G1
    assert rollout.advantages == pytest.approx([r - mean for r in expected_rewards])

    rows = training_rows([rollout])
    for i in range(G1):
        trajectory_rows = [r for r in rows if r.trajectory_index == i and r.kind != "recall"]
        assert [r.kind for r in trajectory_rows] == ["update"] * 4 + ["final"]
        advantages = {r.advantage for r in trajectory_rows}
        assert len(advantages) == 1  # the same value on every turn of the trajectory
        assert advantages.pop() == pytest.approx(expected_rewards[i] - mean)


def test_recall_advantages_are_relative_to_their_own_group(tiny_tokenizer: Any) -> None:
    ep = episode(0, 4)
    backend = scripted(tiny_tokenizer, ep, final_right={0}, recall_right=lambda p, j: j < p)
    [rollout] = rollout_episodes(backend, [ep], settings(), dynamic_sampling=False)
    rows = training_rows([rollout])
    for i, group in enumerate(rollout.recall_groups):
        assert group is not None
        expected = [1.0 if j < i else 0.0 for j in range(G2)]
        assert group.rewards == expected
        group_mean = sum(expected) / G2
        recall_rows = [r for r in rows if r.trajectory_index == i and r.kind == "recall"]
        assert [r.advantage for r in recall_rows] == pytest.approx([x - group_mean for x in expected])
        # The probe pairs memory m(k), k ≥ 2, with a chunk read before it.
        assert group.step >= 2 and group.probe_chunk_index + 1 < group.step


def test_dynamic_sampling_drops_groups_whose_rewards_are_all_equal(tiny_tokenizer: Any) -> None:
    ep = episode(0, 4)
    # Every final answer right and every recall of trajectory 0 wrong, of trajectory 1..3 mixed or all right.
    backend = scripted(tiny_tokenizer, ep, final_right=set(range(G1)), recall_right=lambda p, j: j < p)
    [rollout] = rollout_episodes(backend, [ep], settings(recall_bonus=0.0), dynamic_sampling=True)
    assert rollout.rewards == [1.0] * G1 and not rollout.kept  # λ = 0: all end-to-end rewards equal
    kept = [g.kept for g in rollout.recall_groups if g is not None]
    assert kept == [False, True, True, False]  # 0/3 and 3/3 right are dropped, 1/3 and 2/3 kept
    rows = training_rows([rollout])
    assert {r.kind for r in rows} == {"recall"}
    assert sorted({r.trajectory_index for r in rows}) == [1, 2]
    assert len(rows) == 2 * G2

    metrics = rollout_metrics([rollout], tiny_tokenizer)
    assert metrics["groups_kept_fraction"] == pytest.approx(2 / 5)  # 1 end-to-end group + 4 recall groups
    assert metrics["e2e_em"] == 1.0
    assert metrics["imr_em"] == pytest.approx(sum(min(i, G2) for i in range(G1)) / (G1 * G2))
    assert metrics["turns_per_trajectory"] == 5.0


def test_prompts_respect_the_chunk_and_memory_budgets(tiny_tokenizer: Any) -> None:
    ep = episode(0, 4)
    long_text = " ".join(["The tower stood in Paris for many years after 1889."] * 40)
    ep["chunks"] = [long_text] * 4
    for probe in ep["recall_probes"]:
        probe["masked_chunk"] = long_text + " [TARGET]"
    budgets = AgentBudgets(chunk_tokens=40, memory_tokens=16, response_tokens=64)
    backend = ScriptedBackend(
        tiny_tokenizer,
        update=lambda row, conv: long_text,  # far longer than the memory budget
        final=lambda row, conv: "\\boxed{Paris}",
        recall=lambda row, conv: "\\boxed{1889}",
    )
    [rollout] = rollout_episodes(backend, [ep], settings(budgets=budgets), dynamic_sampling=False)

    def tokens(text: str) -> int:
        return len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"])

    def between(text: str, tag: str) -> str:
        return text.split(f"<{tag}>\n", 1)[1].split(f"\n</{tag}>", 1)[0]

    def rendered(messages: list[dict[str, str]]) -> int:
        text = tiny_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return tokens(text)

    templates = settings().templates
    # The instruction part of each kind of turn: the prompt with an empty memory and section.
    instruction = {
        "update": rendered(templates.update_messages(ep["question"], "", "")),
        "final": rendered(templates.final_messages(ep["question"], "")),
        "recall": rendered(templates.recall_messages("", "")),
    }
    turns = [t for trajectory in rollout.trajectories for t in trajectory.turns]
    turns += [t for g in rollout.recall_groups if g is not None for t in g.turns]
    for turn in turns:
        content = turn.messages[-1]["content"]
        if turn.kind in {"update", "recall"}:
            assert tokens(between(content, "section")) <= budgets.chunk_tokens + 1
        memory = between(content, "memory")
        if memory != settings().templates.initial_memory:
            assert tokens(memory) <= budgets.memory_tokens + 1
        # +2: re-tokenizing at the seams may merge differently by a token or two.
        assert (
            len(turn.prompt_ids) <= instruction[turn.kind] + budgets.chunk_tokens + budgets.memory_tokens + 2
        )
        assert len(turn.completion_ids) <= budgets.response_tokens
    for trajectory in rollout.trajectories:
        assert all(tokens(m) <= budgets.memory_tokens + 1 for m in trajectory.memories[1:])


def test_collated_masks_cover_exactly_the_generated_tokens(tiny_tokenizer: Any) -> None:
    ep = episode(2, 3)
    backend = scripted(tiny_tokenizer, ep, final_right={1}, recall_right=lambda p, j: j == 1)
    rows = training_rows(rollout_episodes(backend, [ep], settings(), dynamic_sampling=False))
    rows += padding_rows(3, tiny_tokenizer.pad_token_id)
    batch = collate_rows(rows, tiny_tokenizer.pad_token_id)

    assert batch["prompt_ids"].shape[0] == batch["completion_ids"].shape[0] == len(rows)
    for index, row in enumerate(rows):
        prompt_mask = batch["prompt_mask"][index]
        completion_mask = batch["completion_mask"][index]
        # Prompts are left-padded: the mask is 0s then 1s, and the unmasked ids are the prompt.
        assert prompt_mask.sum().item() == len(row.prompt_ids)
        assert batch["prompt_ids"][index][prompt_mask.bool()].tolist() == row.prompt_ids
        assert prompt_mask[-len(row.prompt_ids) :].all()
        # Completions are right-padded: the loss mask covers exactly the generated ids, never padding.
        assert completion_mask.sum().item() == len(row.completion_ids)
        assert batch["completion_ids"][index][completion_mask.bool()].tolist() == row.completion_ids
        assert not completion_mask[len(row.completion_ids) :].any()
        assert batch["advantages"][index].item() == pytest.approx(row.advantage)
    assert [r.kind for r in rows[-3:]] == ["padding"] * 3
    assert batch["completion_mask"][-3:].sum().item() == 0


def test_generation_batch_groups_must_hold_one_episode() -> None:
    a, b = {"id": "a"}, {"id": "b"}
    assert episodes_from_generation_batch([a, a, b, b], 2) == [a, b]
    with pytest.raises(ValueError, match="mix episodes"):
        episodes_from_generation_batch([a, b, b, b], 2)
    with pytest.raises(ValueError, match="not a multiple"):
        episodes_from_generation_batch([a, a, a], 2)


def test_rows_need_token_ids() -> None:
    from memtrain_data.agent.loop import Trajectory, Turn
    from memtrain_data.train.rollout import EpisodeRollout

    turn = Turn("final", 2, [{"role": "user", "content": "q"}], "\\boxed{x}")  # a text-only backend's turn
    rollout = EpisodeRollout("e", 1, ["x"], [Trajectory("e", 0, [turn])], [None], [1.0], [1.0], [0.0], True)
    with pytest.raises(ValueError, match="token ids"):
        training_rows([rollout])
    assert TrainingRow([1], [], 0.0, "padding").kind == "padding"


def test_with_an_answer_prefix_the_reward_reads_prefill_plus_continuation(tiny_tokenizer: Any) -> None:
    ep = episode(0, 4)
    templates = PromptTemplates(answer_prefix="\\boxed{")
    # The model writes only what follows the prefilled "\boxed{".
    backend = ScriptedBackend(
        tiny_tokenizer,
        update=lambda row, conv: "notes",
        final=lambda row, conv: f"{answer_of(ep)}}}" if row < 2 else "Rome}",
        recall=lambda row, conv: f"{target_of(ep)}}}" if row % G2 == 0 else "nothing}",
        templates=templates,
    )
    [rollout] = rollout_episodes(backend, [ep], settings(templates=templates), dynamic_sampling=False)
    assert rollout.final_em == [1.0, 1.0, 0.0, 0.0]
    assert all(group.rewards == [1.0] + [0.0] * (G2 - 1) for group in rollout.recall_groups if group)
    # Training rows hold the generated tokens only: the prefill is part of the prompt.
    for row in training_rows([rollout]):
        if row.kind in ("final", "recall"):
            assert tiny_tokenizer.decode(row.prompt_ids).endswith("\\boxed{")
            assert not tiny_tokenizer.decode(row.completion_ids, skip_special_tokens=True).startswith("\\boxed")
