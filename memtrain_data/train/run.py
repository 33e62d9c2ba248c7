"""`train_memory_agent(config)`: a whole `memtrain train` run, from settings to a saved model.

Order matters for the user: every check that needs no weights (model folder, context budget,
GRPO settings, batch shape, dataset schema, resume checkpoint, templates, LoRA dependency) runs
first, so a mistake costs a second, not a model load.
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memtrain_data.config import config_to_dict
from memtrain_data.errors import ConfigError, InputError, MissingDependencyError, first_line
from memtrain_data.train.config import MemTrainConfig, build_grpo_config, check_context_fits

METRICS_FILE = "metrics.jsonl"
SANITY_CHECK_EPISODES = 64
SETTINGS_FILE = "memtrain_train_config.json"


@dataclass
class TrainResult:
    """What a run produced."""

    output_dir: Path
    model_dir: Path  # the final model: a plain Hugging Face folder with its tokenizer
    metrics_path: Path
    global_step: int
    checkpoints: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    last_metrics: dict[str, Any] = field(default_factory=dict)
    skipped_steps: int = 0  # optimizer steps not taken: every group of the batch was dropped

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / self.global_step if self.global_step else 0.0


def model_context_length(model_folder: str) -> int | None:
    """max_position_embeddings from the model's config.json (no weights loaded)."""
    from transformers import AutoConfig

    try:
        model_config = AutoConfig.from_pretrained(model_folder)
    except (OSError, ValueError) as exc:
        message = first_line(exc)
        raise InputError(f"cannot read the model config in {model_folder}: {message}") from None
    text_config = model_config.get_text_config() if hasattr(model_config, "get_text_config") else model_config
    value = getattr(text_config, "max_position_embeddings", None)
    return int(value) if value else None


def _lora_config(config: MemTrainConfig) -> Any:
    try:
        from peft import LoraConfig
    except ImportError:
        raise MissingDependencyError(
            "--lora needs peft: pip install 'memtrain[lora]' (or pip install peft)"
        ) from None
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def prepare_run(config: MemTrainConfig) -> dict[str, Any]:
    """All checks that need no model weights; returns what `train_memory_agent` needs next."""
    from memtrain_data.agent.budgets import AgentBudgets
    from memtrain_data.agent.templates import PromptTemplates
    from memtrain_data.models import resolve_model_path
    from memtrain_data.train.data import load_episodes

    if not config.model:
        raise ConfigError("no model: pass --model PATH|ID (or 'model:' in the config file)")
    if not config.dataset and not config.sanity_check:
        raise ConfigError("no dataset: pass --dataset DIR|ID (or 'dataset:' in the config file), or --sanity-check")
    if config.dataset and config.sanity_check:
        raise ConfigError("--sanity-check trains on memtrain's toy episodes: drop --dataset")
    if config.grpo.get("use_vllm") and importlib.util.find_spec("vllm") is None:
        raise MissingDependencyError(
            "--use-vllm needs vllm: pip install 'memtrain[vllm]' (on a machine with a GPU)"
        )
    model_folder = resolve_model_path(config.model)
    check_context_fits(config, model_context_length(model_folder), config.model)
    grpo_config = build_grpo_config(config)
    if config.sanity_check:
        from memtrain_data.train.toy import toy_dataset

        episodes = toy_dataset(config.max_episodes or SANITY_CHECK_EPISODES, seed=grpo_config.seed)
    else:
        episodes = load_episodes(config.dataset, config.config_name, config.split, config.max_episodes)
    resume_from = None
    if config.resume:
        from transformers.trainer_utils import get_last_checkpoint

        if config.output_dir.is_dir():
            resume_from = get_last_checkpoint(str(config.output_dir))
        if resume_from is None:
            raise InputError(f"--resume: no checkpoint-* folder in {config.output_dir} to resume from")
    templates = PromptTemplates.from_file(Path(config.templates)) if config.templates else PromptTemplates()
    budgets = AgentBudgets(
        chunk_tokens=config.chunk_tokens,
        memory_tokens=config.memory_tokens,
        response_tokens=config.response_tokens,
    )
    return {
        "model_folder": model_folder,
        "grpo_config": grpo_config,
        "episodes": episodes,
        "resume_from": resume_from,
        "templates": templates,
        "budgets": budgets,
        "peft_config": _lora_config(config) if config.lora else None,
    }


def train_memory_agent(config: MemTrainConfig, console: Any | None = None) -> TrainResult:
    """Train `config.model` with MemTrain's joint GRPO on `config.dataset`; save the model to output_dir.

    Checkpoints go to ``output_dir/checkpoint-N`` (TRL's save; `config.resume` continues from the
    last one); per-step numbers to ``output_dir/metrics.jsonl``; the final model (LoRA merged)
    with its tokenizer to ``output_dir``, loadable by `memtrain eval --model output_dir`.
    """
    prepared = prepare_run(config)
    from transformers import AutoTokenizer

    from memtrain_data.train.callbacks import MetricsFileCallback, RichStepCallback
    from memtrain_data.train.rollout import RolloutSettings
    from memtrain_data.train.trainer import MemTrainGRPOTrainer

    output_dir = config.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / SETTINGS_FILE).write_text(
        json.dumps(_settings_record(config), indent=2, default=str) + "\n"
    )
    metrics_path = output_dir / METRICS_FILE
    if prepared["resume_from"] is None and metrics_path.exists():
        metrics_path.unlink()  # a fresh run starts a fresh log; a resumed one appends

    tokenizer = AutoTokenizer.from_pretrained(prepared["model_folder"])
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    callbacks: list[Any] = [MetricsFileCallback(metrics_path)]
    if console is not None:
        callbacks.append(RichStepCallback(console))

    trainer = MemTrainGRPOTrainer(
        model=prepared["model_folder"],
        args=prepared["grpo_config"],
        train_dataset=prepared["episodes"],
        processing_class=tokenizer,
        peft_config=prepared["peft_config"],
        callbacks=callbacks,
        rollout_settings=RolloutSettings(
            g1=config.g1,
            g2=config.g2,
            recall_bonus=config.recall_bonus,
            budgets=prepared["budgets"],
            templates=prepared["templates"],
        ),
        dynamic_sampling=config.dynamic_sampling,
        resample_tries=config.resample_tries,
        loss_aggregation=config.loss_aggregation,
        recall_weight=config.recall_weight,
    )
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=prepared["resume_from"])
    seconds = time.perf_counter() - started

    _save_final_model(trainer, tokenizer, output_dir)
    checkpoints = sorted(output_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return TrainResult(
        output_dir=output_dir,
        model_dir=output_dir,
        metrics_path=metrics_path,
        global_step=trainer.state.global_step,
        checkpoints=checkpoints,
        seconds=seconds,
        last_metrics=_last_record(metrics_path),
        skipped_steps=trainer.skipped_steps,
    )


def _save_final_model(trainer: Any, tokenizer: Any, output_dir: Path) -> None:
    """Save a plain HF model folder: LoRA adapters are merged so any tool can load the result."""
    from accelerate.utils import is_peft_model

    trainer.accelerator.wait_for_everyone()
    model = trainer.accelerator.unwrap_model(trainer.model)
    if is_peft_model(model):
        if trainer.accelerator.is_main_process:
            model.save_pretrained(output_dir / "adapter")
            merged = model.merge_and_unload()
            merged.save_pretrained(output_dir)
            tokenizer.save_pretrained(output_dir)
    else:
        trainer.save_model(str(output_dir))  # handles DeepSpeed/FSDP gathering and saves the tokenizer
    trainer.accelerator.wait_for_everyone()


def _settings_record(config: MemTrainConfig) -> dict[str, Any]:
    record = config_to_dict(config)
    record["grpo"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in config.grpo.items()}
    return record


def _last_record(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {}
