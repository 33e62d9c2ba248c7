"""The MemTrain reward and advantage arithmetic (paper §3–4), pinned on small hand-checked cases."""

from __future__ import annotations

import pytest

from memtrain_data.train.rewards import (
    dr_grpo_advantages,
    end_to_end_rewards,
    exact_match_rewards,
    final_answer_reward,
    keep_group,
    recall_rewards,
)


def test_recall_reward_is_exact_match_after_answer_normalization() -> None:
    # SQuAD normalization: case, punctuation and articles do not matter; a missing box scores 0.
    assert recall_rewards(["the Eiffel Tower.", "eiffel tower", "Eiffel", None], "Eiffel Tower") == [
        1.0,
        1.0,
        0.0,
        0.0,
    ]


def test_final_em_accepts_any_listed_answer() -> None:
    assert exact_match_rewards(["Gustave Eiffel", "Eiffel", "Paris"], ["Gustave Eiffel", "Eiffel"]) == [
        1.0,
        1.0,
        0.0,
    ]


def test_end_to_end_reward_adds_lambda_over_g2_times_the_recall_successes() -> None:
    g2, bonus = 4, 0.5
    rewards = end_to_end_rewards(
        [1.0, 0.0, 1.0],
        [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]],
        recall_bonus=bonus,
        g2=g2,
    )
    assert rewards == pytest.approx([1.0 + bonus / g2 * 2, 0.0 + bonus / g2 * 4, 1.0])


def test_recall_bonus_is_at_most_lambda_and_zero_without_a_probe() -> None:
    rewards = end_to_end_rewards([0.0, 1.0], [[1.0] * 8, None], recall_bonus=0.5, g2=8)
    assert rewards == pytest.approx([0.5, 1.0])  # all 8 recalls right give exactly λ; no probe gives no bonus
    assert end_to_end_rewards([0.0], [[]], recall_bonus=0.5, g2=8) == [0.0]


def test_lambda_zero_is_plain_exact_match() -> None:
    assert end_to_end_rewards([1.0, 0.0], [[1.0, 1.0], [1.0, 0.0]], recall_bonus=0.0, g2=2) == [1.0, 0.0]


def test_end_to_end_rewards_reject_mismatched_lists() -> None:
    with pytest.raises(ValueError, match="2 final rewards but 1"):
        end_to_end_rewards([1.0, 0.0], [[1.0]], g2=1)


def test_dr_grpo_advantage_is_reward_minus_group_mean_without_std_scaling() -> None:
    rewards = [3.0, 1.0, 1.0, 1.0]
    advantages = dr_grpo_advantages(rewards)
    mean = sum(rewards) / 4
    assert advantages == pytest.approx([r - mean for r in rewards])
    # Standard GRPO would divide by the std (≈0.866 here) and give 1.73 for the first; Dr. GRPO does not.
    assert advantages[0] == pytest.approx(1.5)
    assert sum(advantages) == pytest.approx(0.0)


def test_dynamic_sampling_keeps_only_groups_with_different_rewards() -> None:
    assert keep_group([0.0, 1.0])
    assert keep_group([0.25, 0.25, 0.5])
    assert not keep_group([1.0, 1.0, 1.0])
    assert not keep_group([0.0, 0.0])
    assert not keep_group([0.1 + 0.2, 0.3])  # equal up to float rounding counts as equal
    assert not keep_group([1.0])  # a single sample has nothing to compare against


def test_final_answer_reward_is_a_trl_reward_function() -> None:
    completions = [
        [{"role": "assistant", "content": "I recall \\boxed{Paris}."}],
        [{"role": "assistant", "content": "Paris"}],
    ]
    assert final_answer_reward(completions, answers=[["Paris"], ["Paris"]]) == [1.0, 0.0]
    assert final_answer_reward(["\\boxed{1889}"], answers=[["1889"]], prompts=["ignored"]) == [1.0]
