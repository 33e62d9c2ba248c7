"""The MemTrain rewards and advantages, as plain functions of plain lists.

Paper (arXiv 2606.03197) §3–4, with the intermediate-memory-recall (IMR) task nested in the
end-to-end reward:

- IMR reward of recall sample j of trajectory i: ``R^I(i, j) = EM(boxed answer, probe target)``.
- End-to-end reward of trajectory i: ``R^E(i) = EM(final answer, answers) + (λ / G2) · Σ_j R^I(i, j)``.
- Dr. GRPO advantages: reward minus the group mean, with no division by the standard deviation.
  The end-to-end group is the G1 trajectories of one episode; each IMR group is the G2 recall
  samples of one trajectory.
- Dynamic sampling: a group whose rewards are all equal teaches nothing (all advantages are 0)
  and is dropped.

Kept free of torch and of the trainer so the tests pin the arithmetic directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Rewards are sums of 0/1 matches and multiples of λ/G2: equal up to float rounding means equal.
_EQUAL_TOLERANCE = 1e-9


def exact_match_rewards(predictions: Sequence[str | None], answers: str | Sequence[str]) -> list[float]:
    """Exact match (after the official SQuAD/HotpotQA answer normalization) of each prediction.

    A missing prediction (no ``\\boxed{}``) scores 0.

    >>> exact_match_rewards(["The Eiffel Tower", None, "1889"], ["Eiffel Tower"])
    [1.0, 0.0, 0.0]
    """
    from memtrain_data.eval.metrics import exact_match

    gold = [answers] if isinstance(answers, str) else list(answers)
    return [
        float(exact_match(prediction, gold)) if prediction is not None else 0.0 for prediction in predictions
    ]


def recall_rewards(predictions: Sequence[str | None], target: str) -> list[float]:
    """IMR rewards ``R^I(i, j)`` of the G2 recall samples of one trajectory: EM against the probe target.

    >>> recall_rewards(["1889", "1890", None], "1889")
    [1.0, 0.0, 0.0]
    """
    return exact_match_rewards(predictions, [target])


def end_to_end_rewards(
    final_em: Sequence[float],
    recall: Sequence[Sequence[float] | None],
    *,
    recall_bonus: float = 0.5,
    g2: int,
) -> list[float]:
    """End-to-end rewards ``R^E(i) = EM_i + (λ / G2) · Σ_j R^I(i, j)`` of the G1 trajectories of an episode.

    `recall[i]` holds trajectory i's G2 recall rewards, or None (or empty) when the episode is
    too short for a recall probe: that trajectory gets no bonus.

    >>> end_to_end_rewards([1.0, 0.0], [[1.0, 1.0, 0.0, 0.0], None], recall_bonus=0.5, g2=4)
    [1.25, 0.0]
    """
    if len(final_em) != len(recall):
        raise ValueError(f"{len(final_em)} final rewards but {len(recall)} recall reward lists")
    if g2 < 1:
        raise ValueError(f"g2 must be at least 1, got {g2}")
    rewards = []
    for em, recall_i in zip(final_em, recall, strict=True):
        bonus = recall_bonus / g2 * sum(recall_i) if recall_i else 0.0
        rewards.append(float(em) + bonus)
    return rewards


def dr_grpo_advantages(rewards: Sequence[float]) -> list[float]:
    """Dr. GRPO advantages of one group: each reward minus the group mean (no std division).

    >>> dr_grpo_advantages([1.0, 0.0, 0.0, 1.0])
    [0.5, -0.5, -0.5, 0.5]
    """
    if not rewards:
        return []
    mean = sum(rewards) / len(rewards)
    return [float(r) - mean for r in rewards]


def keep_group(rewards: Sequence[float]) -> bool:
    """Dynamic sampling: keep a group only if its rewards are not all equal (else every advantage is 0).

    >>> keep_group([1.0, 1.0]), keep_group([1.0, 0.0])
    (False, True)
    """
    if len(rewards) < 2:
        return False
    return max(rewards) - min(rewards) > _EQUAL_TOLERANCE


def final_answer_reward(
    completions: Sequence[Any], answers: Sequence[Sequence[str]], **kwargs: Any
) -> list[float]:
    """TRL-style reward function: exact match of each completion's ``\\boxed{}`` answer with the episode's answers.

    `MemTrainGRPOTrainer` scores whole rollouts itself (`end_to_end_rewards`); this function is
    the single-turn part of that reward, registered with TRL as the run's reward source, and
    usable on its own with a stock `GRPOTrainer`.

    >>> final_answer_reward(["so \\\\boxed{Paris}", "\\\\boxed{Lyon}"], answers=[["Paris"], ["Paris"]])
    [1.0, 0.0]
    """
    from memtrain_data.agent.answers import extract_boxed

    rewards = []
    for completion, gold in zip(completions, answers, strict=True):
        # Conversational completions are [{"role": "assistant", "content": ...}].
        text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
        rewards.extend(exact_match_rewards([extract_boxed(text)], gold))
    return rewards
