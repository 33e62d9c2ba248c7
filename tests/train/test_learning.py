"""Tests that fail if learning breaks: the update's sign, the loss weights, truncation masking, empty steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memtrain_data.train.rollout import TrainingRow, collate_rows, mask_truncated, row_loss_weights

G1, G2 = 2, 2
RESPONSE_TOKENS = 8


def _trainer(tiny_model_dir: Path, episodes: Any, out: Path, **kwargs: Any) -> Any:
    from transformers import AutoTokenizer

    from memtrain_data.agent.budgets import AgentBudgets
    from memtrain_data.train.config import build_grpo_config, resolve_train_config
    from memtrain_data.train.rollout import RolloutSettings
    from memtrain_data.train.trainer import MemTrainGRPOTrainer

    config = resolve_train_config(
        None,
        {
            "preset": "cpu-smoke",
            "output_dir": str(out),
            "g1": G1,
            "g2": G2,
            "chunk_tokens": 96,
            "memory_tokens": RESPONSE_TOKENS,
            "response_tokens": RESPONSE_TOKENS,
            "max_steps": 1,
            "beta": 0.0,
            "save_strategy": "no",
            "learning_rate": 1e-3,
        },
    )
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    return MemTrainGRPOTrainer(
        model=str(tiny_model_dir),
        args=build_grpo_config(config),
        train_dataset=episodes,
        processing_class=tokenizer,
        rollout_settings=RolloutSettings(
            g2=G2, budgets=AgentBudgets(chunk_tokens=96, memory_tokens=RESPONSE_TOKENS, response_tokens=RESPONSE_TOKENS)
        ),
        **kwargs,
    )


@pytest.fixture(scope="module")
def trainer(tiny_model_dir: Path, mini_dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from memtrain_data.train.data import load_episodes

    return _trainer(
        tiny_model_dir, load_episodes(str(mini_dataset_dir)), tmp_path_factory.mktemp("learn"), dynamic_sampling=False
    )


def _completion_logp(trainer: Any, batch: dict[str, Any]) -> list[float]:
    import torch

    input_ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    with torch.no_grad():
        logps, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, input_ids, attention, batch["completion_ids"].size(1)
        )
    return (logps * batch["completion_mask"]).sum(dim=1).tolist()


@pytest.mark.parametrize("advantage", [1.0, -1.0])
def test_one_optimizer_step_moves_a_completions_log_probability_with_its_advantage(
    trainer: Any, advantage: float
) -> None:
    """A positive advantage makes the completion more likely, a negative one less: a sign flip anywhere fails."""
    import torch

    tokenizer = trainer._tokenizer
    prompt = tokenizer("the keeper of the lighthouse is", add_special_tokens=False)["input_ids"]
    completion = tokenizer(" Orlan of Vesk", add_special_tokens=False)["input_ids"]
    row = TrainingRow(prompt_ids=prompt, completion_ids=completion, advantage=advantage, kind="final")
    batch = collate_rows([row], tokenizer.pad_token_id)
    batch["num_items_in_batch"] = torch.tensor(float(RESPONSE_TOKENS * G1))

    saved = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    try:
        before = _completion_logp(trainer, batch)[0]
        trainer.model.train()
        trainer.current_gradient_accumulation_steps = 1  # set by TRL's loop, which this test bypasses
        optimizer = torch.optim.AdamW(trainer.model.parameters(), lr=1e-4, weight_decay=0.0)
        optimizer.zero_grad()
        trainer.compute_loss(trainer.model, batch).backward()
        optimizer.step()
        after = _completion_logp(trainer, batch)[0]
    finally:
        trainer.model.load_state_dict(saved)
    assert (after - before) * advantage > 0, (before, after)


def _rows() -> list[TrainingRow]:
    """One episode, G1 = 2: trajectory 0 reads 2 chunks, trajectory 1 reads 2 chunks with longer replies; 2 recall samples."""

    def row(kind: str, trajectory: int, tokens: int) -> TrainingRow:
        return TrainingRow([1, 2], [7] * tokens, 0.5, kind, "ep", trajectory)  # type: ignore[arg-type]

    return [
        row("update", 0, 10), row("update", 0, 10), row("final", 0, 4),
        row("update", 1, 40), row("update", 1, 40), row("final", 1, 16),
        row("recall", 0, 2), row("recall", 0, 6),
        TrainingRow([0], [], 0.0, "padding"),
    ]  # fmt: skip


def test_token_sum_weights_every_token_alike_and_recall_rows_by_their_weight() -> None:
    weights = row_loss_weights(_rows(), "token_sum", response_tokens=24, recall_weight=0.25)
    assert weights == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.25, 0.25, 0.0]


def test_trajectory_weights_give_every_trajectory_and_recall_sample_the_same_total() -> None:
    rows = _rows()
    weights = row_loss_weights(rows, "trajectory", response_tokens=24, recall_weight=0.5)
    assert weights == pytest.approx([1.0, 1.0, 1.0, 0.25, 0.25, 0.25, 6.0, 2.0, 0.0])

    def total(kind: set[str], trajectory: int) -> float:
        return sum(
            w * len(r.completion_ids)
            for r, w in zip(rows, weights, strict=True)
            if r.kind in kind and r.trajectory_index == trajectory
        )

    # 24 tokens' worth per trajectory, whether it generated 24 tokens or 96.
    assert total({"update", "final"}, 0) == pytest.approx(24) == total({"update", "final"}, 1)
    assert [w * len(r.completion_ids) for r, w in zip(rows[6:8], weights[6:8], strict=True)] == pytest.approx([12, 12])


def test_weights_scale_the_advantages_the_loss_reads() -> None:
    rows = _rows()
    for row, weight in zip(rows, row_loss_weights(rows, "trajectory", 24, 0.5), strict=True):
        row.weight = weight
    batch = collate_rows(rows, pad_token_id=0)
    assert batch["advantages"].tolist() == pytest.approx([0.5 * w for w in (1, 1, 1, 0.25, 0.25, 0.25, 6, 2, 0)])


def test_mask_truncated_completions_empties_the_loss_mask_of_cut_replies() -> None:
    eos = 99
    rows = [
        TrainingRow([1], [5, 6, eos], 1.0, "update"),
        TrainingRow([1], [5, 6, 7], 1.0, "update"),  # hit the response budget: no stop token
        TrainingRow([1], [5, eos], -1.0, "recall"),
    ]
    assert collate_rows(rows, 0)["completion_mask"].sum().item() == 3 + 3 + 2
    assert mask_truncated(rows, [eos, 0]) == 1
    mask = collate_rows(rows, 0)["completion_mask"]
    assert mask.sum(dim=1).tolist() == [3, 0, 2]
    assert row_loss_weights(rows, "token_sum", 8) == [1.0, 0.0, 1.0]


def test_the_trainer_applies_mask_truncated_completions(trainer: Any) -> None:
    episodes = [trainer.train_dataset[0]] * G1
    trainer.model.train()
    trainer.mask_truncated_completions = False
    plain = trainer._generate_and_score_completions(episodes)
    generated = plain["completion_mask"].sum().item()
    cut = sum(1 for row in trainer.last_rows if row.completion_ids and len(row.completion_ids) == RESPONSE_TOKENS
              and row.completion_ids[-1] not in trainer.eos_token_ids)  # fmt: skip
    trainer.mask_truncated_completions = True
    try:
        masked = trainer._generate_and_score_completions(episodes)
    finally:
        trainer.mask_truncated_completions = False
    assert cut > 0  # a random model's replies run into the 8-token budget
    assert masked["completion_mask"].sum().item() < generated
    untrained = [row for row in trainer.last_rows if not row.trained]
    assert untrained and all(row.completion_ids[-1] not in trainer.eos_token_ids for row in untrained)


@pytest.mark.slow
def test_an_all_dropped_batch_takes_no_optimizer_step(
    tiny_model_dir: Path, mini_dataset_dir: Path, tmp_path: Path
) -> None:
    """The tiny random model never answers right: every group is dropped, so no step is taken or counted."""
    import torch

    from memtrain_data.train.data import load_episodes

    episodes = load_episodes(str(mini_dataset_dir), max_episodes=2)  # one generation batch
    trainer = _trainer(tiny_model_dir, episodes, tmp_path, dynamic_sampling=True, resample_tries=1)
    before = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    trainer.train()
    assert trainer.skipped_steps == 1 and trainer.state.global_step == 0
    assert all(torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())
    logged = [entry for entry in trainer.state.log_history if "skipped_step" in entry]
    assert logged and logged[-1]["skipped_step"] == 1.0 and logged[-1]["groups_kept"] == 0
    assert logged[-1]["episodes_resampled"] == 2 and logged[-1]["groups_dropped"] > 0
