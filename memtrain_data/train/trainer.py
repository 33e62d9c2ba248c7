"""`MemTrainGRPOTrainer`: TRL's `GRPOTrainer` with MemTrain's multi-conversation rollouts.

Why a subclass that overrides one method (`_generate_and_score_completions`):

- A MemTrain sample is not one sequence. An episode yields G1 trajectories of T + 1 independent
  conversations each, plus G1 recall prompts with G2 samples each, and the end-to-end advantage
  of a trajectory is shared by all its conversations. TRL's `rollout_func` returns exactly one
  sequence per (prompt × generation) with its own reward, so it cannot express this; the
  experimental `AsyncGRPOTrainer` can, but only against a vLLM server.
- Everything else stays TRL's: the sampler repeats each episode G1 (= `num_generations`) times,
  so one episode's trajectories land in one place; `compute_loss` does the clipped policy
  gradient with `epsilon`/`epsilon_high` and the KL to the reference model (`beta`), summing
  token losses ("dapo") over the normaliser this override supplies: a constant, as Dr. GRPO
  prescribes, with per-row weights folded into the advantages (`loss_aggregation`,
  `recall_weight`; the KL term stays an unweighted token sum). Accelerate, PEFT, logging,
  checkpoints and resuming are untouched. Two additions around TRL's loop: dynamic sampling
  refills dropped groups with more episodes, and a window with no trained token takes no
  optimizer step (not under DeepSpeed, whose engine steps inside backward). Generation goes through TRL's own `_generate_single_turn`, so the
  policy samples with plain transformers or with vLLM (colocate or server, weights synced each
  step) exactly as configured in `GRPOConfig`.

The override returns the same batch dict TRL builds (prompt_ids/prompt_mask left-padded,
completion_ids/completion_mask right-padded, advantages, old and reference log-probs when
needed), with one row per conversation. The memory loop, prompts and budgets come from
`memtrain_data.agent` (shared with `memtrain eval`); the reward arithmetic from
`memtrain_data.train.rewards`.
"""

from __future__ import annotations

import functools
import math
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from accelerate.utils import gather_object
from transformers import TrainerCallback
from trl import GRPOTrainer

from memtrain_data.agent.backends.base import Generation, trim_reply
from memtrain_data.agent.backends.transformers_backend import render_prompt_ids
from memtrain_data.train.rewards import final_answer_reward
from memtrain_data.train.rollout import (
    EpisodeRollout,
    RolloutSettings,
    collate_rows,
    episodes_from_generation_batch,
    has_kept_group,
    mask_truncated,
    padding_rows,
    rollout_episodes,
    rollout_metrics,
    row_loss_weights,
    training_rows,
)

# Dataset columns a rollout reads; kept even when `remove_unused_columns` is on.
EPISODE_COLUMNS = ["id", "question", "answers", "chunks", "recall_probes"]

# Per-step numbers that add up over processes (the others are rates or means and average).
_SUMMED_METRICS = frozenset(
    {
        "tokens_per_second", "training_rows", "imr_prompts", "chunks_resplit", "probes_moved", "probes_dropped",
        "groups_kept", "groups_dropped", "episodes_resampled", "truncated_masked", "trained_tokens",
    }
)  # fmt: skip


class PolicyBackend:
    """A `GenerationBackend` that samples from the trainer's current policy through TRL's generation path.

    Prompts are rendered with the tokenizer's chat template (as `TransformersBackend` does, so
    training and evaluation see the same tokens); sampling settings and the completion length
    cap are the trainer's (`temperature`, `top_p`, `max_completion_length`).
    """

    def __init__(self, trainer: GRPOTrainer) -> None:
        self.trainer = trainer
        self.tokenizer = trainer._tokenizer
        self.calls = 0
        self.generated_tokens = 0

    def render(self, conversation: list[dict[str, str]]) -> list[int]:
        return render_prompt_ids(self.tokenizer, conversation, self.trainer.chat_template_kwargs)

    def generate(
        self,
        conversations: list[list[dict[str, str]]],
        *,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> list[Generation]:
        """One sampled reply per conversation, in one batched call of the trainer's generator."""
        self.calls += 1
        if not conversations:
            return []
        prompt_ids = [self.render(conversation) for conversation in conversations]
        completion_ids, _ = self.trainer._generate_single_turn(prompt_ids, None, {}, 1)
        completion_ids = [list(ids)[:max_new_tokens] for ids in completion_ids]
        self.generated_tokens += sum(len(ids) for ids in completion_ids)
        texts = self.tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
        return [
            Generation(text=trim_reply(text, conversation), prompt_ids=prompt, completion_ids=completion)
            for text, conversation, prompt, completion in zip(
                texts, conversations, prompt_ids, completion_ids, strict=True
            )
        ]


class MemTrainGRPOTrainer(GRPOTrainer):
    """GRPO over MemTrain episodes: G1 memory trajectories + G1·G2 recall samples per episode.

    `args.num_generations` is G1. `rollout_settings` carries G2, λ, budgets, templates;
    `dynamic_sampling` drops groups whose rewards are all equal.
    """

    def __init__(
        self,
        *args: Any,
        rollout_settings: RolloutSettings,
        dynamic_sampling: bool = True,
        resample_tries: int = 3,
        loss_aggregation: str = "token_sum",
        recall_weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        # TRL requires a reward source; the rollout scores episodes itself (see `rollout_episodes`).
        kwargs.setdefault("reward_funcs", [final_answer_reward])
        super().__init__(*args, **kwargs)
        if self.loss_type not in ("dapo", "cispo"):
            raise ValueError(
                f"loss_type '{self.loss_type}' ignores the normaliser memtrain supplies; use 'dapo' or 'cispo'"
            )
        self.rollout_settings = rollout_settings
        self.rollout_settings.g1 = self.num_generations
        self.rollout_settings.temperature = self.temperature
        self.rollout_settings.top_p = self.top_p
        self.rollout_settings.seed = self.args.seed
        self.dynamic_sampling = dynamic_sampling
        self.resample_tries = resample_tries
        self.loss_aggregation = loss_aggregation
        self.recall_weight = recall_weight
        self.last_rollouts: list[Any] = []  # the latest step's rollouts, for inspection and tests
        self.last_rows: list[Any] = []  # the latest step's training rows (weights, masks), likewise
        self.skipped_steps = 0  # optimizer steps not taken because no row had a trained token
        self._window_loss_tokens = 0  # trained tokens seen since the last optimizer step (this process)
        self._skip_pending = False  # the optimizer step just skipped still has to be uncounted
        self._guarded_optimizer: Any = None
        self.add_callback(_SkippedStepCallback(self))

    def _set_signature_columns_if_needed(self) -> None:
        if self._signature_columns is None:
            self._signature_columns = list(EPISODE_COLUMNS)

    def _generate_and_score_completions(self, inputs: Sequence[dict[str, Any]]) -> dict[str, Any]:
        device = self.accelerator.device
        mode = "train" if self.model.training else "eval"
        episodes = episodes_from_generation_batch(inputs, self.num_generations)

        backend = PolicyBackend(self)
        started = time.perf_counter()
        rollouts, sampling = self._rollout_with_dynamic_sampling(backend, episodes, resample=mode == "train")
        self._match_generate_calls(backend)
        rollout_seconds = time.perf_counter() - started
        self.last_rollouts = rollouts

        rows = training_rows(rollouts)
        truncated = 0
        if self.mask_truncated_completions:
            truncated = mask_truncated(rows, [*self.eos_token_ids, self._tokenizer.pad_token_id])
        for row, weight in zip(
            rows,
            row_loss_weights(rows, self.loss_aggregation, self.max_completion_length, self.recall_weight),
            strict=True,
        ):
            row.weight = weight
        self.last_rows = rows
        real_rows = len(rows)
        # TRL slices the batch into `steps_per_generation` equal parts and drops any remainder; the row
        # count varies per step (T differs per episode, dynamic sampling drops groups), so top it up with
        # rows whose completion mask is empty: they add nothing to the token sum. An all-dropped step
        # still runs forward/backward (which keeps distributed processes in step), but its optimizer
        # step is skipped (see `_guard_optimizer_step`).
        slices = self.args.steps_per_generation if mode == "train" else 1
        target_rows = max(slices, math.ceil(real_rows / slices) * slices)
        rows += padding_rows(target_rows - real_rows, self._tokenizer.pad_token_id)

        batch = {
            k: v.to(device)
            for k, v in collate_rows(rows, self._tokenizer.pad_token_id, self.pad_to_multiple_of).items()
        }
        prompt_completion_ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        attention_mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        logits_to_keep = batch["completion_ids"].size(1)
        # The no-grad passes (old and reference log-probs) run as many rows at once as one training
        # micro-step does, which is known to fit in memory with gradients.
        micro_batch = target_rows // slices

        with torch.no_grad():
            old_per_token_logps = None
            generate_every = self.args.steps_per_generation * self.num_iterations
            # As in TRL: when generation and optimisation steps are misaligned the samples come from an
            # older policy, so the importance ratio needs their log-probs under it.
            if self.args.gradient_accumulation_steps % generate_every != 0:
                old_per_token_logps, _, _ = self._get_per_token_logps_and_entropies(
                    self.model, prompt_completion_ids, attention_mask, logits_to_keep, batch_size=micro_batch
                )
            ref_per_token_logps = None
            if self.beta != 0.0:
                ref_per_token_logps = self._reference_logps(
                    prompt_completion_ids, attention_mask, logits_to_keep, micro_batch
                )

        # The loss normaliser: a constant, response_tokens × trajectories in the generation batch (all
        # processes), as Dr. GRPO prescribes; TRL's token-sum losses divide by it (per micro-step and process).
        normaliser = self.max_completion_length * len(inputs) * self.accelerator.num_processes
        num_items_in_batch = torch.tensor(float(normaliser), device=device)
        sampling["truncated_masked"] = float(truncated)
        sampling["trained_tokens"] = float(batch["completion_mask"].sum().item())
        self._log_rollout(rollouts, rows[:real_rows], backend, rollout_seconds, mode, sampling)

        output: dict[str, Any] = {**batch, "num_items_in_batch": num_items_in_batch}
        if old_per_token_logps is not None:
            output["old_per_token_logps"] = old_per_token_logps
        if ref_per_token_logps is not None:
            output["ref_per_token_logps"] = ref_per_token_logps
        return output

    def _rollout_with_dynamic_sampling(
        self, backend: PolicyBackend, episodes: list[Mapping[str, Any]], *, resample: bool
    ) -> tuple[list[EpisodeRollout], dict[str, float]]:
        """Roll out `episodes`; under dynamic sampling, refill dropped episodes with random ones (DAPO).

        An episode counts when at least one of its groups (the end-to-end group or a recall group)
        survives. While fewer episodes count than the batch holds, up to `resample_tries` extra
        rounds draw that many more episodes at random from the training set. Rollouts whose groups
        were all dropped train nothing, but their EMs stay in the step's numbers.
        """
        rollouts = rollout_episodes(
            backend,
            episodes,
            self.rollout_settings,
            step=self.state.global_step,
            dynamic_sampling=self.dynamic_sampling,
        )
        wanted = len(episodes)
        rounds = 0
        resampled = 0
        while (
            resample
            and self.dynamic_sampling
            and rounds < self.resample_tries
            and sum(has_kept_group(r) for r in rollouts) < wanted
        ):
            rounds += 1
            missing = wanted - sum(has_kept_group(r) for r in rollouts)
            rng = random.Random(
                f"{self.args.seed}:{self.state.global_step}:{rounds}:{self.accelerator.process_index}"
            )
            dataset = self.train_dataset
            picks = [rng.randrange(len(dataset)) for _ in range(missing)]
            extra = [dataset[index] for index in picks]
            resampled += len(extra)
            settings = self.rollout_settings
            more = rollout_episodes(
                backend,
                extra,
                settings,
                step=self.state.global_step * 1_000 + rounds,  # other recall probes than the first round's
                dynamic_sampling=self.dynamic_sampling,
            )
            rollouts.extend(more)
        groups = [r.kept for r in rollouts] + [
            g.kept for r in rollouts for g in r.recall_groups if g is not None
        ]
        sampling = {
            "groups_kept": float(sum(groups)),
            "groups_dropped": float(len(groups) - sum(groups)),
            "episodes_resampled": float(resampled),
            "resample_rounds": float(rounds),
        }
        return rollouts, sampling

    def training_step(
        self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
    ) -> torch.Tensor:
        self._guard_optimizer_step()
        if self._skip_pending:
            self._uncount_skipped_step()
        return super().training_step(model, inputs, num_items_in_batch)

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> torch.Tensor:
        if model.training:  # the micro-batch TRL prepared: count what it trains, for `_guard_optimizer_step`
            self._window_loss_tokens += int(inputs["completion_mask"].sum().item())
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    def _guard_optimizer_step(self) -> None:
        """Wrap the (accelerate-prepared) optimizer so a window with no trained token takes no step.

        AdamW moves weights even with zero gradients (momentum, weight decay), so an all-dropped
        batch must not reach `optimizer.step()`. The decision is taken over all processes; the
        step is reported as skipped (accelerate's flag), so the learning-rate schedule does not
        advance either, and `_SkippedStepCallback` keeps it out of `max_steps`.
        """
        optimizer = self.optimizer
        if optimizer is None or optimizer is self._guarded_optimizer or self.is_deepspeed_enabled:
            return  # DeepSpeed's engine steps inside backward: there is no step call to hold back
        original_step = optimizer.step

        @functools.wraps(original_step)  # keeps the marks torch's LR scheduler put on the method
        def step(closure: Any = None) -> Any:
            tokens = torch.tensor([float(self._window_loss_tokens)], device=self.accelerator.device)
            self._window_loss_tokens = 0
            if self.accelerator.gather(tokens).sum().item() == 0:
                self.skipped_steps += 1
                self._skip_pending = True
                self._metrics["train"]["skipped_step"].append(1.0)
                if hasattr(optimizer, "_is_overflow"):
                    optimizer._is_overflow = True  # accelerate's "step was skipped": no scheduler step
                return None
            self._metrics["train"]["skipped_step"].append(0.0)
            if hasattr(optimizer, "_is_overflow"):
                optimizer._is_overflow = False
            return original_step(closure)

        optimizer.step = step
        self._guarded_optimizer = optimizer

    def _uncount_skipped_step(self) -> None:
        """Take the skipped step back out of `global_step` (after it was logged with its own number)."""
        self._skip_pending = False
        self.state.global_step -= 1
        if getattr(self, "_globalstep_last_logged", 0) > self.state.global_step:
            self._globalstep_last_logged = self.state.global_step

    def _reference_logps(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, logits_to_keep: int, micro_batch: int
    ) -> torch.Tensor:
        if self.ref_model is not None:
            logps, _, _ = self._get_per_token_logps_and_entropies(
                self.ref_model, input_ids, attention_mask, logits_to_keep, batch_size=micro_batch
            )
            return logps
        # LoRA: the reference is the base model, reached by disabling the adapter (as TRL does).
        from trl.trainer.utils import use_adapter

        model = self.accelerator.unwrap_model(self.model)
        with use_adapter(model, adapter_name="ref" if "ref" in model.peft_config else None):
            logps, _, _ = self._get_per_token_logps_and_entropies(
                self.model, input_ids, attention_mask, logits_to_keep, batch_size=micro_batch
            )
        return logps

    def _match_generate_calls(self, backend: PolicyBackend) -> None:
        """Make every process call the generator equally often.

        Generation can be collective (vLLM gathers prompts across processes, DeepSpeed ZeRO-3
        gathers weights), but the number of memory-loop turns depends on each process's episodes.
        Processes with fewer turns make tiny extra calls whose output is discarded.
        """
        if self.accelerator.num_processes == 1:
            return
        counts = self.accelerator.gather(torch.tensor([backend.calls], device=self.accelerator.device))
        for _ in range(int(counts.max().item()) - backend.calls):
            backend.generate([[{"role": "user", "content": "."}]], max_new_tokens=1)

    def _log_rollout(
        self,
        rollouts: list[Any],
        rows: list[Any],
        backend: PolicyBackend,
        rollout_seconds: float,
        mode: str,
        sampling: dict[str, float],
    ) -> None:
        """Put the MemTrain numbers into TRL's metrics, so they reach the logs and every `report_to` target."""
        device = self.accelerator.device
        values = {**rollout_metrics(rollouts, self._tokenizer), **sampling}
        advantages = [row.advantage for row in rows]
        values["advantage_mean"] = sum(advantages) / len(advantages) if advantages else 0.0
        values["advantage_std"] = (
            math.sqrt(sum((a - values["advantage_mean"]) ** 2 for a in advantages) / len(advantages))
            if advantages
            else 0.0
        )
        values["training_rows"] = float(len(rows))
        values["tokens_per_second"] = (
            backend.generated_tokens / rollout_seconds if rollout_seconds > 0 else 0.0
        )
        names = sorted(values)
        local = torch.tensor([values[name] for name in names], dtype=torch.float64, device=device)
        gathered = self.accelerator.gather(local.unsqueeze(0)).view(-1, len(names))
        for column, name in enumerate(names):
            column_values = gathered[:, column]
            # Throughput and row counts add up over processes; rates and means average.
            total = name in _SUMMED_METRICS
            self._metrics[mode][name].append(float(column_values.sum() if total else column_values.mean()))

        prompt_tokens = sum(len(row.prompt_ids) for row in rows)
        completion_tokens = sum(len(row.completion_ids) for row in rows)
        seen = (
            self.accelerator.gather(torch.tensor([prompt_tokens + completion_tokens], device=device))
            .sum()
            .item()
        )
        if mode == "train":
            self.state.num_input_tokens_seen += seen
        self._metrics[mode]["num_tokens"] = [self.state.num_input_tokens_seen]
        lengths = [len(row.completion_ids) for row in rows] or [0]
        self._metrics[mode]["completions/mean_length"].append(sum(lengths) / len(lengths))

        # TRL's completion samples (`log_completions`): one entry per training row, its reward in the
        # reward column (R^E for trajectory turns, R^I for recall samples) and the turn kind as an extra.
        self._logs["prompt"].extend(gather_object([row.messages for row in rows]))
        self._logs["completion"].extend(
            gather_object([[{"role": "assistant", "content": row.completion}] for row in rows])
        )
        rewards = gather_object([row.reward for row in rows])
        for name in self.reward_func_names:
            self._logs["rewards"][name].extend(rewards)
        self._logs["advantages"].extend(gather_object([row.advantage for row in rows]))
        self._logs["extra"]["turn"].extend(gather_object([row.kind for row in rows]))


class _SkippedStepCallback(TrainerCallback):
    """Keeps a skipped optimizer step (no trained token) out of `max_steps` and out of checkpoints.

    Runs after transformers' flow callback, which has already counted the step: the run goes on
    unless the steps really taken reach `max_steps`, and no checkpoint is written for it. The
    step's log line is still written (with `skipped_step` 1); the trainer takes the step back out
    of `global_step` before the next one.
    """

    def __init__(self, trainer: MemTrainGRPOTrainer) -> None:
        self.trainer = trainer

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.trainer._skip_pending:
            control.should_save = False
            control.should_evaluate = False
            if 0 < state.max_steps == state.global_step:
                control.should_training_stop = False  # only the skipped step reached max_steps: go on
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.trainer._skip_pending:
            self.trainer._uncount_skipped_step()
        return control
