"""`MemTrainGRPOTrainer` with the tiny real model: the batch it hands to TRL's own GRPO loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memtrain_data.train.rollout import training_rows

G1, G2 = 2, 2


@pytest.fixture(scope="module")
def trainer(tiny_model_dir: Path, mini_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    from memtrain_data.agent.budgets import AgentBudgets
    from memtrain_data.train.config import build_grpo_config, resolve_train_config
    from memtrain_data.train.data import load_episodes
    from memtrain_data.train.rollout import RolloutSettings
    from memtrain_data.train.trainer import MemTrainGRPOTrainer

    config = resolve_train_config(
        None,
        {
            "preset": "cpu-smoke",
            "output_dir": str(tmp_path_factory.mktemp("trainer-out")),
            "g1": G1,
            "g2": G2,
            "chunk_tokens": 96,
            "memory_tokens": 8,
            "response_tokens": 8,
            "max_steps": 1,
        },
    )
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    return MemTrainGRPOTrainer(
        model=str(tiny_model_dir),
        args=build_grpo_config(config),
        train_dataset=load_episodes(str(mini_dataset_dir)),
        processing_class=tokenizer,
        rollout_settings=RolloutSettings(
            g2=G2, budgets=AgentBudgets(chunk_tokens=96, memory_tokens=8, response_tokens=8)
        ),
        dynamic_sampling=False,  # a random model's rewards are mostly equal; keep every row to inspect it
    )


@pytest.fixture(scope="module")
def generation_batch(trainer: Any) -> list[dict[str, Any]]:
    # What TRL's sampler yields: each episode G1 times in a row (episodes of 3 and 4 chunks).
    episodes = [trainer.train_dataset[0], trainer.train_dataset[1]]
    return [episode for episode in episodes for _ in range(G1)]


@pytest.fixture(scope="module")
def batch(trainer: Any, generation_batch: list[dict[str, Any]]) -> dict[str, Any]:
    trainer.model.train()
    return trainer._generate_and_score_completions(generation_batch)


def test_one_row_per_conversation_with_the_rollouts_advantages(
    trainer: Any, generation_batch: list[dict[str, Any]], batch: dict[str, Any]
) -> None:
    rollouts = trainer.last_rollouts
    assert [r.num_chunks for r in rollouts] == [3, 4]
    # Both episodes have a probe before some k ≥ 2, so each has G1·(T+1) + G1·G2 conversations.
    expected_rows = sum(G1 * (r.num_chunks + 1) + G1 * G2 for r in rollouts)
    assert batch["completion_ids"].shape[0] == batch["prompt_ids"].shape[0] == expected_rows
    rows = training_rows(rollouts)
    assert batch["advantages"].tolist() == pytest.approx([row.advantage for row in rows])
    for rollout in rollouts:
        assert rollout.rewards == pytest.approx(
            [
                em + 0.5 / G2 * sum(g.rewards)
                for em, g in zip(rollout.final_em, rollout.recall_groups, strict=True)
            ]
        )


def test_loss_mask_counts_only_generated_tokens(trainer: Any, batch: dict[str, Any]) -> None:
    rows = training_rows(trainer.last_rollouts)
    generated = sum(len(row.completion_ids) for row in rows)
    assert batch["completion_mask"].sum().item() == generated
    # Dr. GRPO: the token sum is divided by a constant, response_tokens × trajectories of the batch,
    # not by the number of tokens the rollouts happened to generate.
    assert batch["num_items_in_batch"].item() == 8 * G1 * 2
    assert all(len(row.completion_ids) <= 8 for row in rows)  # response budget = max_completion_length
    assert batch["prompt_mask"].sum().item() == sum(len(row.prompt_ids) for row in rows)


def test_reference_log_probs_are_computed_for_the_kl_term(trainer: Any, batch: dict[str, Any]) -> None:
    assert trainer.beta == pytest.approx(1e-3)
    assert batch["ref_per_token_logps"].shape == batch["completion_ids"].shape


def test_trl_loss_trains_on_the_batch_and_ignores_padding_rows(trainer: Any, batch: dict[str, Any]) -> None:
    import torch

    model = trainer.model
    model.train()
    trainer.current_gradient_accumulation_steps = 1  # set by TRL's training loop, which this test bypasses
    signal = dict(batch)
    # Give the rows a non-zero advantage so the policy gradient is visible.
    signal["advantages"] = torch.linspace(-1.0, 1.0, batch["advantages"].shape[0])
    model.zero_grad()
    loss = trainer.compute_loss(model, signal)
    loss.backward()
    assert torch.isfinite(loss)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())

    # Rows with an empty completion mask (the fillers added to make equal TRL slices) change nothing.
    extra = 3
    padded = dict(signal)
    pad_id = trainer._tokenizer.pad_token_id
    padded["prompt_ids"] = torch.cat(
        [signal["prompt_ids"], torch.full((extra, signal["prompt_ids"].shape[1]), pad_id)]
    )
    filler_prompt_mask = torch.zeros((extra, signal["prompt_mask"].shape[1]), dtype=torch.long)
    filler_prompt_mask[:, -1] = 1
    padded["prompt_mask"] = torch.cat([signal["prompt_mask"], filler_prompt_mask])
    padded["completion_ids"] = torch.cat(
        [signal["completion_ids"], torch.full((extra, signal["completion_ids"].shape[1]), pad_id)]
    )
    padded["completion_mask"] = torch.cat(
        [
            signal["completion_mask"],
            torch.zeros((extra, signal["completion_mask"].shape[1]), dtype=torch.long),
        ]
    )
    padded["advantages"] = torch.cat([signal["advantages"], torch.zeros(extra)])
    padded["ref_per_token_logps"] = torch.cat(
        [signal["ref_per_token_logps"], torch.zeros((extra, signal["ref_per_token_logps"].shape[1]))]
    )
    with torch.no_grad():
        assert trainer.compute_loss(model, padded).item() == pytest.approx(
            trainer.compute_loss(model, signal).item(), rel=1e-5
        )


def test_memtrain_metrics_reach_trls_logs(trainer: Any, batch: dict[str, Any]) -> None:
    logged = trainer._metrics["train"]
    for key in ("e2e_em", "imr_em", "reward", "advantage_mean", "advantage_std", "groups_kept_fraction",
                "memory_tokens", "turns_per_trajectory", "tokens_per_second"):  # fmt: skip
        assert key in logged and len(logged[key]) >= 1, key
    assert logged["turns_per_trajectory"][-1] == pytest.approx((4 + 5) / 2)  # T + 1 turns, T = 3 and 4
    assert 0 < logged["memory_tokens"][-1] <= 8 + 1


def test_completion_samples_line_up_for_trls_completion_table(trainer: Any, batch: dict[str, Any]) -> None:
    logs = trainer._logs  # what `log_completions` prints and writes as a table: columns of equal length
    columns = [logs["prompt"], logs["completion"], logs["advantages"], logs["extra"]["turn"]]
    columns += [logs["rewards"][name] for name in trainer.reward_func_names]
    assert len({len(column) for column in columns}) == 1 and len(logs["prompt"]) > 0
    assert set(logs["extra"]["turn"]) <= {"update", "final", "recall"}
