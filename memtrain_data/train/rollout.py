"""MemTrain rollouts: G1 memory-agent trajectories per episode, one recall prompt per trajectory.

For each episode the memory agent (`memtrain_data.agent.loop`, shared with `memtrain eval`)
reads the chunks G1 times; each of the T update turns and the final turn is its own
conversation. Each trajectory i then gets one intermediate-memory-recall (IMR) prompt: its
memory m(k) after a random chunk k ≥ 2 (1-based) with a precomputed recall probe on an earlier
chunk l < k, sampled G2 times. The rewards of `memtrain_data.train.rewards` turn these into
training rows, one per conversation:

    rows per episode = G1 · (T + 1) + G1 · G2     (before dynamic sampling drops all-equal groups)

Every row of trajectory i carries the same advantage ``R^E(i) − mean_G1(R^E)`` (multi-conversation
training: the end-to-end credit goes to every turn that built the memory); recall rows carry the
advantage within their own G2 group.

Nothing here knows about the trainer: a rollout needs only a `GenerationBackend` that returns
token ids, so tests drive it with any backend, and `MemTrainGRPOTrainer` with the policy.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from memtrain_data.agent.answers import extract_boxed
from memtrain_data.agent.budgets import AgentBudgets, count_tokens
from memtrain_data.agent.loop import AgentTask, Trajectory, Turn, run_memory_agent, run_recall
from memtrain_data.agent.recall import pick_recall_probe
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.train.resplit import FittedEpisode, fit_episode
from memtrain_data.train.rewards import (
    dr_grpo_advantages,
    end_to_end_rewards,
    exact_match_rewards,
    keep_group,
    recall_rewards,
)

if TYPE_CHECKING:
    import torch

    from memtrain_data.agent.backends.base import GenerationBackend


@dataclass
class RecallGroup:
    """The G2 recall samples of one trajectory: memory m(`step`) and the probe on chunk `probe_chunk_index`."""

    step: int  # k, 1-based: the memory written after reading chunk k
    probe_chunk_index: int  # 0-based index of the probed chunk (l - 1 in 1-based counting)
    target: str
    turns: list[Turn]
    predictions: list[str | None]
    rewards: list[float]
    advantages: list[float]
    kept: bool


@dataclass
class EpisodeRollout:
    """All conversations of one episode, their rewards and advantages."""

    episode_id: str
    num_chunks: int
    answers: list[str]
    trajectories: list[Trajectory]  # G1 of them
    recall_groups: list[RecallGroup | None]  # per trajectory; None when the episode has no usable probe
    final_em: list[float]
    rewards: list[float]  # R^E per trajectory
    advantages: list[float]  # R^E(i) − group mean
    kept: bool  # the end-to-end group survives dynamic sampling
    fitted: FittedEpisode | None = None  # how the chunks were fitted to the budget (re-split counts)


@dataclass
class TrainingRow:
    """One conversation as a training row: prompt tokens, generated tokens and its advantage."""

    prompt_ids: list[int]
    completion_ids: list[int]
    advantage: float
    kind: Literal["update", "final", "recall", "padding"]
    episode_id: str = ""
    trajectory_index: int = -1
    reward: float = 0.0  # R^E of the trajectory, or R^I of the recall sample (for logs)
    messages: list[dict[str, str]] = field(default_factory=list)
    completion: str = ""
    weight: float = 1.0  # loss weight of every token of this row (see `row_loss_weights`)
    trained: bool = True  # False: the loss mask is empty (e.g. a truncated completion under mask_truncated_completions)


@dataclass
class RolloutSettings:
    """What a rollout needs besides the backend and the episodes."""

    g1: int = 8
    g2: int = 8
    recall_bonus: float = 0.5
    budgets: AgentBudgets = field(default_factory=AgentBudgets)
    templates: PromptTemplates = field(default_factory=PromptTemplates)
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None


def episodes_from_generation_batch(inputs: Sequence[Mapping[str, Any]], g1: int) -> list[Mapping[str, Any]]:
    """The distinct episodes of a TRL generation batch, where each episode appears G1 times in a row."""
    if len(inputs) % g1 != 0:
        raise ValueError(f"the generation batch has {len(inputs)} rows, not a multiple of g1={g1}")
    episodes = []
    for begin in range(0, len(inputs), g1):
        block = inputs[begin : begin + g1]
        ids = {row["id"] for row in block}
        if len(ids) != 1:
            raise ValueError(
                f"rows {begin}..{begin + g1 - 1} of the generation batch mix episodes {sorted(ids)}"
            )
        episodes.append(block[0])
    return episodes


def rollout_episodes(
    backend: GenerationBackend,
    episodes: Sequence[Mapping[str, Any]],
    settings: RolloutSettings,
    *,
    step: int = 0,
    dynamic_sampling: bool = True,
) -> list[EpisodeRollout]:
    """Run G1 trajectories and their recall prompts for every episode; score them.

    Two batched phases: the memory loop for all episodes × G1 (max(T) + 1 generate calls), then
    one recall call for all trajectories × G2. Chunks longer than the chunk budget under the
    backend's tokenizer are re-split (`memtrain_data.train.resplit`), probes carried over.
    `step` (the optimizer step) varies the choice of recall probes from step to step.
    """
    tokenizer = getattr(backend, "tokenizer", None)
    budgets = settings.budgets
    # Chunks longer than the budget (the dataset may have been chunked with another tokenizer or
    # budget) are re-split, never cut: the agent reads the whole document.
    fitted = [fit_episode(episode, tokenizer, budgets.chunk_tokens) for episode in episodes]
    tasks = [
        AgentTask(
            id=f"{position}:{episode['id']}",  # positional, so an episode drawn twice stays two tasks
            problem=str(episode["question"]),
            chunks=fit.chunks,
        )
        for position, (episode, fit) in enumerate(zip(episodes, fitted, strict=True))
    ]
    trajectories = run_memory_agent(
        backend,
        tasks,
        samples_per_task=settings.g1,
        templates=settings.templates,
        budgets=budgets,
        temperature=settings.temperature,
        top_p=settings.top_p,
        seed=settings.seed,
    )
    by_task: dict[str, list[Trajectory]] = {task.id: [] for task in tasks}
    for trajectory in trajectories:
        by_task[trajectory.task_id].append(trajectory)

    # One IMR prompt per trajectory whose episode has a probe before some step k ≥ 2.
    recall_requests: list[tuple[int, int, int, Mapping[str, Any]]] = []  # (episode, trajectory, k, probe)
    for e, (episode, task) in enumerate(zip(episodes, tasks, strict=True)):
        for i, _ in enumerate(by_task[task.id]):
            rng = random.Random(f"{settings.seed}:{step}:{episode['id']}:{e}:{i}")
            picked = pick_recall_probe(len(task.chunks), fitted[e].recall_probes, rng)
            if picked is not None:
                recall_requests.append((e, i, picked[0], picked[1]))
    recall_turns = run_recall(
        backend,
        [by_task[tasks[e].id][i].memories[k] for e, i, k, _ in recall_requests],
        [str(probe["masked_chunk"]) for *_, probe in recall_requests],
        samples=settings.g2,
        templates=settings.templates,
        budgets=budgets,
        temperature=settings.temperature,
        top_p=settings.top_p,
        seed=None if settings.seed is None else settings.seed + 7_919,
        steps=[k for _, _, k, _ in recall_requests],
    )
    groups: dict[tuple[int, int], RecallGroup] = {}
    for (e, i, k, probe), turns in zip(recall_requests, recall_turns, strict=True):
        predictions = [extract_boxed(turn.reply) for turn in turns]
        rewards = recall_rewards(predictions, str(probe["target"]))
        groups[(e, i)] = RecallGroup(
            step=k,
            probe_chunk_index=int(probe["chunk_index"]),
            target=str(probe["target"]),
            turns=turns,
            predictions=predictions,
            rewards=rewards,
            advantages=dr_grpo_advantages(rewards),
            kept=keep_group(rewards) or not dynamic_sampling,
        )

    rollouts = []
    for e, (episode, task) in enumerate(zip(episodes, tasks, strict=True)):
        group = by_task[task.id]
        answers = [str(a) for a in episode["answers"]]
        final_em = exact_match_rewards([t.answer for t in group], answers)
        recall_of = [groups.get((e, i)) for i in range(len(group))]
        rewards = end_to_end_rewards(
            final_em,
            [g.rewards if g is not None else None for g in recall_of],
            recall_bonus=settings.recall_bonus,
            g2=settings.g2,
        )
        rollouts.append(
            EpisodeRollout(
                episode_id=str(episode["id"]),
                num_chunks=len(task.chunks),
                answers=answers,
                trajectories=group,
                recall_groups=recall_of,
                final_em=final_em,
                rewards=rewards,
                advantages=dr_grpo_advantages(rewards),
                kept=keep_group(rewards) or not dynamic_sampling,
                fitted=fitted[e],
            )
        )
    return rollouts


def has_kept_group(rollout: EpisodeRollout) -> bool:
    """Whether any group of the episode (end-to-end or recall) survived dynamic sampling."""
    return rollout.kept or any(g is not None and g.kept for g in rollout.recall_groups)


def training_rows(rollouts: Sequence[EpisodeRollout]) -> list[TrainingRow]:
    """One row per conversation of every kept group: trajectory turns share their trajectory's advantage."""
    rows: list[TrainingRow] = []
    for rollout in rollouts:
        for i, trajectory in enumerate(rollout.trajectories):
            if rollout.kept:
                for turn in trajectory.turns:
                    rows.append(_row(turn, rollout.advantages[i], rollout.rewards[i], rollout.episode_id, i))
            group = rollout.recall_groups[i]
            if group is not None and group.kept:
                for turn, advantage, reward in zip(group.turns, group.advantages, group.rewards, strict=True):
                    rows.append(_row(turn, advantage, reward, rollout.episode_id, i))
    return rows


def _row(turn: Turn, advantage: float, reward: float, episode_id: str, trajectory_index: int) -> TrainingRow:
    if turn.prompt_ids is None or turn.completion_ids is None:
        raise ValueError(
            "training needs a backend that returns token ids (Generation.prompt_ids/completion_ids)"
        )
    return TrainingRow(
        prompt_ids=list(turn.prompt_ids),
        completion_ids=list(turn.completion_ids),
        advantage=float(advantage),
        kind=turn.kind,
        episode_id=episode_id,
        trajectory_index=trajectory_index,
        reward=float(reward),
        messages=turn.messages,
        completion=turn.completion,
    )


def row_loss_weights(
    rows: Sequence[TrainingRow], aggregation: str, response_tokens: int, recall_weight: float = 1.0
) -> list[float]:
    """The loss weight of every token of each row, under a loss aggregation.

    The loss is ``Σ_rows Σ_tokens weight · token_loss / (response_tokens · trajectories per step)``
    (the denominator is constant, as in Dr. GRPO), so:

    - "token_sum" (the paper's Dr. GRPO): weight 1 for trajectory turns, `recall_weight` for recall
      rows. Every generated token counts the same, so a trajectory with more chunks or a longer
      memory weighs more, and short recall answers weigh little.
    - "trajectory": the tokens of all turns of one trajectory share a total weight of
      `response_tokens` (each trajectory counts as one full-length reply, whatever its number of
      turns and tokens); each recall sample, a one-turn trajectory of its own group, shares
      `recall_weight · response_tokens`.

    Padding rows and rows with no trained token get 0.

    >>> rows = [TrainingRow([1], [5] * 30, 1.0, "update", "e", 0), TrainingRow([1], [5] * 10, 1.0, "final", "e", 0),
    ...         TrainingRow([1], [5] * 4, 1.0, "recall", "e", 0)]
    >>> row_loss_weights(rows, "token_sum", 40, recall_weight=0.5)
    [1.0, 1.0, 0.5]
    >>> row_loss_weights(rows, "trajectory", 40, recall_weight=0.5)
    [1.0, 1.0, 5.0]
    """
    if aggregation not in ("token_sum", "trajectory"):
        raise ValueError(f"unknown loss aggregation {aggregation!r}")
    trajectory_tokens: dict[tuple[str, int], int] = {}
    for row in rows:
        if row.kind in ("update", "final") and row.trained:
            key = (row.episode_id, row.trajectory_index)
            trajectory_tokens[key] = trajectory_tokens.get(key, 0) + len(row.completion_ids)
    weights = []
    for row in rows:
        if row.kind == "padding" or not row.trained or not row.completion_ids:
            weights.append(0.0)
        elif aggregation == "token_sum":
            weights.append(recall_weight if row.kind == "recall" else 1.0)
        elif row.kind == "recall":
            weights.append(recall_weight * response_tokens / len(row.completion_ids))
        else:
            weights.append(response_tokens / trajectory_tokens[(row.episode_id, row.trajectory_index)])
    return weights


def mask_truncated(rows: Sequence[TrainingRow], stop_token_ids: Sequence[int]) -> int:
    """Mark rows whose completion did not end in a stop token (cut by the response budget) as not trained.

    What TRL's `mask_truncated_completions` does to its own rows; returns how many were masked.
    """
    stops = set(stop_token_ids)
    masked = 0
    for row in rows:
        if row.kind != "padding" and row.completion_ids and row.completion_ids[-1] not in stops:
            row.trained = False
            masked += 1
    return masked


def padding_rows(count: int, pad_token_id: int) -> list[TrainingRow]:
    """Rows that train nothing (an empty completion): they fill a batch to a fixed number of rows.

    TRL splits a generation batch into `steps_per_generation` equal slices and drops a remainder;
    the number of MemTrain rows varies per step, so it is topped up with these instead.
    """
    return [
        TrainingRow(prompt_ids=[pad_token_id], completion_ids=[], advantage=0.0, kind="padding")
        for _ in range(count)
    ]


def collate_rows(
    rows: Sequence[TrainingRow], pad_token_id: int, pad_to_multiple_of: int | None = None
) -> dict[str, torch.Tensor]:
    """The tensors TRL's GRPO loss reads: prompts left-padded, completions right-padded.

    `completion_mask` is 1 exactly on generated tokens of trained rows (never on prompt or
    padding), and `advantages` holds one value per row: its advantage times its loss weight
    (a positive per-row factor scales that row's clipped policy-gradient term exactly).
    """
    import torch
    from trl.trainer.utils import pad

    prompts = [torch.tensor(row.prompt_ids, dtype=torch.long) for row in rows]
    # An empty completion still needs one (masked) position so every row has the same shape.
    completions = [torch.tensor(row.completion_ids or [pad_token_id], dtype=torch.long) for row in rows]
    completion_masks = [
        torch.full((len(row.completion_ids),), int(row.trained), dtype=torch.long)
        if row.completion_ids
        else torch.zeros(1, dtype=torch.long)
        for row in rows
    ]
    return {
        "prompt_ids": pad(
            prompts, padding_value=pad_token_id, padding_side="left", pad_to_multiple_of=pad_to_multiple_of
        ),
        "prompt_mask": pad(
            [torch.ones_like(p) for p in prompts],
            padding_value=0,
            padding_side="left",
            pad_to_multiple_of=pad_to_multiple_of,
        ),
        "completion_ids": pad(
            completions,
            padding_value=pad_token_id,
            padding_side="right",
            pad_to_multiple_of=pad_to_multiple_of,
        ),
        "completion_mask": pad(
            completion_masks, padding_value=0, padding_side="right", pad_to_multiple_of=pad_to_multiple_of
        ),
        "advantages": torch.tensor([row.advantage * row.weight for row in rows], dtype=torch.float32),
    }


def rollout_metrics(rollouts: Sequence[EpisodeRollout], tokenizer: Any | None) -> dict[str, float]:
    """Per-step numbers for the logs: EMs, rewards, kept groups, memory length, turns per trajectory."""
    final_em = [em for r in rollouts for em in r.final_em]
    rewards = [x for r in rollouts for x in r.rewards]
    recall = [x for r in rollouts for g in r.recall_groups if g is not None for x in g.rewards]
    groups = [r.kept for r in rollouts] + [g.kept for r in rollouts for g in r.recall_groups if g is not None]
    memories = [m for r in rollouts for t in r.trajectories for m in t.memories[1:]]
    turns = [len(t.turns) for r in rollouts for t in r.trajectories]
    return {
        "e2e_em": _mean(final_em),
        "imr_em": _mean(recall),
        "reward": _mean(rewards),
        "groups_kept_fraction": _mean([float(k) for k in groups]),
        "memory_tokens": _mean([float(count_tokens(tokenizer, m)) for m in memories]),
        "turns_per_trajectory": _mean([float(t) for t in turns]),
        "imr_prompts": float(sum(g is not None for r in rollouts for g in r.recall_groups)),
        # Fitting the dataset's chunks to the chunk budget: all 0 when the dataset was built for it.
        "chunks_resplit": float(sum(r.fitted.chunks_resplit for r in rollouts if r.fitted)),
        "probes_moved": float(sum(r.fitted.probes_moved for r in rollouts if r.fitted)),
        "probes_dropped": float(sum(r.fitted.probes_dropped for r in rollouts if r.fitted)),
    }


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
