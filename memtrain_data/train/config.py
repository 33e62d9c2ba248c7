"""Settings of `memtrain train`: MemTrain's own fields, plus every `trl.GRPOConfig` field.

`MemTrainConfig` holds what is specific to MemTrain (G1, G2, the recall bonus λ, the token
budgets, the dataset) and a `grpo` mapping with any `GRPOConfig` field (learning rate, beta,
epsilon, batch sizes, vLLM, DeepSpeed, report_to, …). One YAML file may mix both kinds of key.

Precedence, lowest first: `MemTrainConfig` defaults and the memtrain defaults for GRPO, the
preset, the YAML `--config` file, then flags (including passthrough `--<grpo_field> VALUE`).
Unknown keys are errors with a suggestion. Everything is checked before a model is loaded.

Presets:

- `paper`: the MemTrain paper (arXiv 2606.03197): 32 episodes per optimizer step, G1 = G2 = 8,
  λ = 0.5, lr 1e-6, 300 steps, KL β = 1e-3, budgets 1,024 instruction / 5,120 chunk /
  1,024 memory / 1,024 response. 32 episodes × G1 = 256 trajectories = per_device_train_batch_size 1
  × gradient_accumulation_steps 256 on one GPU; with N GPUs divide gradient_accumulation_steps by N.
- `cpu-smoke`: a tiny CPU run (2 episodes × G1 = 2 per step, G2 = 2, short budgets, fp32).

Batch shape: TRL's sampler hands each process per_device_train_batch_size × steps_per_generation
rows, each episode G1 times in a row; this must be a multiple of G1 (whole episodes per process).
Every trajectory expands into about T + 1 + G2 training conversations, and each of the
steps_per_generation micro-steps trains on 1/steps_per_generation of them, so
per_device_train_batch_size is what sets the memory of one forward/backward pass.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtrain_data import paper
from memtrain_data.config import config_field, config_to_dict, read_yaml_mapping
from memtrain_data.errors import ConfigError, first_line

# GRPOConfig values memtrain always starts from (before presets): one log line per step, the
# episode columns kept, and TRL's token-sum loss, whose normaliser memtrain supplies itself
# (`loss_aggregation`, see trainer.py).
GRPO_DEFAULTS: dict[str, Any] = {
    "logging_steps": 1,
    "remove_unused_columns": False,
    "loss_type": "dapo",
    "save_strategy": "steps",
    "report_to": "none",
}

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "g1": 8,
        "g2": 8,
        "recall_bonus": 0.5,
        "instruction_tokens": paper.INSTRUCTION_TOKENS,
        "chunk_tokens": paper.CHUNK_TOKENS,
        "memory_tokens": paper.MEMORY_TOKENS,
        "response_tokens": paper.RESPONSE_TOKENS,
        # GRPOConfig fields
        "learning_rate": 1e-6,
        "max_steps": 300,
        "beta": 1e-3,
        "epsilon": 0.2,
        "epsilon_high": 0.28,  # clip-higher; the paper gives separate low/high epsilons, not their values
        # One trajectory per device per micro-step, 256 micro-steps: 256 trajectories = 32 episodes × G1.
        # Each micro-step trains on that trajectory's share of rows, about T + 1 + G2 conversations.
        "per_device_train_batch_size": 1,
        "gradient_accumulation_steps": 256,
        "lr_scheduler_type": "constant",
        "temperature": 1.0,
        "bf16": True,
        "activation_checkpointing": True,
        "disable_dropout": True,
        "save_steps": 50,
    },
    "cpu-smoke": {
        "g1": 2,
        "g2": 2,
        "recall_bonus": 0.5,
        "instruction_tokens": 256,
        # The `mini` dataset preset's chunk budget under the same tokenizer (SmolLM2's), so the
        # README recipe reads whole mini chunks: nothing is re-split or dropped.
        "chunk_tokens": 512,
        "memory_tokens": 32,
        "response_tokens": 48,
        "max_episodes": 64,
        # GRPOConfig fields
        "learning_rate": 1e-5,
        "max_steps": 3,
        "beta": 1e-3,
        "epsilon": 0.2,
        "epsilon_high": 0.28,
        "per_device_train_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "lr_scheduler_type": "constant",
        "temperature": 1.0,
        "use_cpu": True,
        "bf16": False,
        "activation_checkpointing": False,
        "disable_dropout": True,
        "save_steps": 2,
    },
}

# TRL losses that divide a token sum by `num_items_in_batch`, which memtrain sets to its constant
# normaliser; the others normalise per row or per micro-batch on their own and would override
# `loss_aggregation`.
_TOKEN_SUM_LOSSES = ("dapo", "cispo")
LOSS_AGGREGATIONS = ("token_sum", "trajectory")

# GRPOConfig fields memtrain sets itself: the MemTrain field to use instead, or why.
_OWNED_GRPO_FIELDS: dict[str, str] = {
    "num_generations": "set g1 (trajectories per episode) instead of num_generations",
    "max_completion_length": "set response_tokens instead of max_completion_length",
    "scale_rewards": "advantages are always Dr. GRPO (reward minus group mean), so scale_rewards is not used",
    "reward_weights": "the MemTrain reward is fixed (EM + λ/G2 · recall EM); set recall_bonus instead",
    "multi_objective_aggregation": "the MemTrain reward is a single reward; set recall_bonus instead",
    "num_generations_eval": "memtrain's rollouts always sample g1 trajectories per episode; use `memtrain eval` to evaluate",
}


@dataclass
class MemTrainConfig:
    """Everything `memtrain train` needs.

    Data: `model`, `dataset`, `config_name`, `split`, `max_episodes`.
    MemTrain: `g1`, `g2`, `recall_bonus`, `dynamic_sampling`, `resample_tries`, `loss_aggregation`,
    `recall_weight`, `templates`, `sanity_check`.
    Budgets: `instruction_tokens`, `chunk_tokens`, `memory_tokens`, `response_tokens`.
    Adapters and runs: `lora`, `lora_r`, `lora_alpha`, `lora_dropout`, `resume`.
    TRL: `grpo`, any `trl.GRPOConfig` field (output_dir, learning_rate, beta, epsilon, …).
    """

    model: str | None = config_field(None, help="Policy to train: a local model folder or a Hub id.")
    dataset: str | None = config_field(
        None, help="memtrain dataset: a folder written by `memtrain build-dataset`, or a Hub id."
    )
    config_name: str | None = config_field(
        None, help="Dataset config (e.g. 'mini'); default: the only one in the folder."
    )
    split: str = config_field("train", help="Dataset split to train on.")
    max_episodes: int | None = config_field(
        None, help="Use at most this many episodes (the first ones); none: all."
    )
    preset: str = config_field(
        "paper", help="Settings preset: 'paper' (the MemTrain paper) or 'cpu-smoke' (a tiny CPU run)."
    )
    g1: int = config_field(
        8, help="G1: end-to-end trajectories sampled per episode (the end-to-end GRPO group)."
    )
    g2: int = config_field(
        8, help="G2: samples of each trajectory's intermediate-memory-recall prompt (the IMR group)."
    )
    recall_bonus: float = config_field(
        0.5, help="λ: the end-to-end reward is EM + (λ / G2) · (sum of the trajectory's recall rewards)."
    )
    dynamic_sampling: bool = config_field(
        True,
        help="Drop groups whose rewards are all equal (they have zero advantage), and draw more episodes "
        "until the batch has as many episodes with a kept group as it was given (see resample_tries).",
    )
    resample_tries: int = config_field(
        3,
        help="Dynamic sampling: at most this many extra rounds of random episodes per step to refill "
        "dropped groups (0: never refill). A step whose groups are all dropped takes no optimizer step.",
    )
    loss_aggregation: str = config_field(
        "token_sum",
        help="How token losses add up: 'token_sum' (Dr. GRPO, the paper: every generated token weighs the same, "
        "the sum divided by a constant, response_tokens × trajectories per step) or 'trajectory' (every "
        "trajectory weighs the same whatever its number of turns and tokens; each recall sample too).",
    )
    recall_weight: float = config_field(
        1.0, help="Weight of the recall rows' loss relative to the trajectory rows' (0: train recall only through λ)."
    )
    instruction_tokens: int = config_field(
        paper.INSTRUCTION_TOKENS, help="Token budget of the instruction text around memory and chunk."
    )
    chunk_tokens: int = config_field(
        paper.CHUNK_TOKENS,
        help="Token budget of one chunk: a longer chunk of the dataset is re-split at whitespace into pieces "
        "that fit, never cut, so no [MASK] is lost.",
    )
    memory_tokens: int = config_field(
        paper.MEMORY_TOKENS, help="Token budget of the memory (a longer reply is cut before it is reused)."
    )
    response_tokens: int = config_field(
        paper.RESPONSE_TOKENS, help="Most tokens generated per turn (GRPO's max_completion_length)."
    )
    templates: str | None = config_field(None, help="YAML/JSON file overriding the agent's prompt templates.")
    lora: bool = config_field(
        False, help="Train a LoRA adapter (needs `peft`); the final model is saved merged."
    )
    lora_r: int = config_field(16, help="LoRA rank.")
    lora_alpha: int = config_field(32, help="LoRA alpha.")
    lora_dropout: float = config_field(0.05, help="LoRA dropout.")
    resume: bool = config_field(False, help="Resume from the last checkpoint in output_dir.")
    sanity_check: bool = config_field(
        False,
        help="Train on memtrain's synthetic toy episodes (facts stated once in chunk 0; see train/toy.py) "
        "instead of a dataset: a quick check that rewards rise. max_episodes sets their number (default 64).",
    )
    grpo: dict[str, Any] = config_field(
        {}, help="trl.GRPOConfig fields (output_dir, learning_rate, beta, …)."
    )

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown preset '{self.preset}'; choose one of: {', '.join(PRESETS)}")
        for name in ("g1", "g2", "instruction_tokens", "chunk_tokens", "memory_tokens", "response_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.g1 < 2:
            raise ConfigError(
                f"g1 must be at least 2 (GRPO compares trajectories within a group), got {self.g1}"
            )
        if self.memory_tokens > self.response_tokens:
            raise ConfigError(
                f"memory_tokens ({self.memory_tokens}) exceeds response_tokens ({self.response_tokens}): the memory "
                "is the model's reply, so its budget would never bind; lower memory_tokens or raise response_tokens"
            )
        if self.loss_aggregation not in LOSS_AGGREGATIONS:
            raise ConfigError(
                f"loss_aggregation must be one of {', '.join(LOSS_AGGREGATIONS)}, got {self.loss_aggregation!r}"
            )
        for name in ("recall_weight",):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        self.recall_weight = float(self.recall_weight)
        if isinstance(self.resample_tries, bool) or not isinstance(self.resample_tries, int) or self.resample_tries < 0:
            raise ConfigError(f"resample_tries must be an integer >= 0, got {self.resample_tries!r}")
        loss_type = self.grpo.get("loss_type") or "dapo"
        if loss_type not in _TOKEN_SUM_LOSSES:
            raise ConfigError(
                f"loss_type '{loss_type}' normalises the loss its own way, which would override loss_aggregation; "
                f"use loss_type {' or '.join(_TOKEN_SUM_LOSSES)} and set loss_aggregation (token_sum or trajectory)"
            )
        if self.max_episodes is not None and self.max_episodes < 1:
            raise ConfigError(f"max_episodes must be at least 1, got {self.max_episodes}")
        if (
            not isinstance(self.recall_bonus, (int, float))
            or isinstance(self.recall_bonus, bool)
            or self.recall_bonus < 0
        ):
            raise ConfigError(f"recall_bonus must be a number >= 0, got {self.recall_bonus!r}")
        self.recall_bonus = float(self.recall_bonus)
        for key, why in _OWNED_GRPO_FIELDS.items():
            if key in self.grpo:
                raise ConfigError(f"'{key}' cannot be set for memtrain train: {why}")

    @property
    def output_dir(self) -> Path:
        return Path(self.grpo.get("output_dir") or "memtrain-output")

    @property
    def context_tokens(self) -> int:
        """The longest turn: instruction + chunk + memory + response."""
        return self.instruction_tokens + self.chunk_tokens + self.memory_tokens + self.response_tokens

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)


def memtrain_field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(MemTrainConfig) if f.name != "grpo"]


def grpo_fields() -> dict[str, dataclasses.Field[Any]]:
    """The fields of `trl.GRPOConfig` (imports trl)."""
    from trl import GRPOConfig

    return {f.name: f for f in dataclasses.fields(GRPOConfig) if f.init}


def _split_keys(
    values: dict[str, Any], where: str, grpo_names: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate MemTrain keys from GRPOConfig keys; anything else is an error with a suggestion."""
    own_names = memtrain_field_names()
    own: dict[str, Any] = {}
    grpo: dict[str, Any] = {}
    for key, value in values.items():
        if key in own_names:
            own[key] = value
        elif key in grpo_names:
            grpo[key] = value
        else:
            suggestion = difflib.get_close_matches(key, [*own_names, *grpo_names], n=1)
            hint = f" (did you mean '{suggestion[0]}'?)" if suggestion else ""
            raise ConfigError(
                f"{where}: unknown key '{key}'{hint}; keys are MemTrain settings or trl.GRPOConfig fields"
            )
    return own, grpo


def parse_grpo_flags(args: list[str]) -> dict[str, Any]:
    """Parse passthrough `--<grpo_field> VALUE` flags with the types of `trl.GRPOConfig`.

    Uses transformers' own `HfArgumentParser` for the conversions (booleans, choices, lists,
    JSON dicts), with every default replaced by a sentinel so only flags actually given come back.
    """
    if not args:
        return {}
    from transformers import HfArgumentParser
    from trl import GRPOConfig

    unset = object()
    parser = HfArgumentParser(GRPOConfig)
    parser.set_defaults(**{name: unset for name in grpo_fields()})
    normalized = []
    for arg in args:
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            arg = "--" + name.replace("-", "_") + eq + value
        normalized.append(arg)
    for arg in normalized:
        if arg.startswith("--"):
            name = arg[2:].partition("=")[0]
            if name not in grpo_fields():
                suggestion = difflib.get_close_matches(name, [*grpo_fields(), *memtrain_field_names()], n=1)
                hint = f" (did you mean '--{suggestion[0].replace('_', '-')}'?)" if suggestion else ""
                raise ConfigError(
                    f"unknown option '--{name}'{hint}; extra options must be trl.GRPOConfig fields"
                )
    try:
        namespace, rest = parser.parse_known_args(normalized)
    except SystemExit:
        raise ConfigError(f"cannot parse the GRPO options: {' '.join(args)}") from None
    if rest:
        raise ConfigError(f"unexpected argument(s): {' '.join(rest)} (GRPO options are '--field value')")
    return {key: value for key, value in vars(namespace).items() if value is not unset}


def resolve_train_config(
    yaml_path: Path | None = None,
    flags: dict[str, Any] | None = None,
    extra_args: list[str] | None = None,
) -> MemTrainConfig:
    """Merge defaults < preset < YAML < flags (named flags and passthrough GRPO flags) into a MemTrainConfig.

    `flags` may hold MemTrain fields and GRPOConfig fields; `None` values mean "not given".
    """
    grpo_names = grpo_fields()
    given_flags = {k: v for k, v in (flags or {}).items() if v is not None}
    file_values = read_yaml_mapping(yaml_path) if yaml_path is not None else {}
    file_own, file_grpo = _split_keys(file_values, str(yaml_path), grpo_names)
    flag_own, flag_grpo = _split_keys(given_flags, "command line", grpo_names)
    extra_grpo = parse_grpo_flags(list(extra_args or []))
    for key in extra_grpo:
        if key in flag_grpo:
            raise ConfigError(f"'--{key.replace('_', '-')}' is given twice")

    preset = flag_own.get("preset") or file_own.get("preset") or "paper"
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset '{preset}'; choose one of: {', '.join(PRESETS)}")
    preset_own, preset_grpo = _split_keys(PRESETS[preset], f"preset {preset}", grpo_names)

    own = {**preset_own, **file_own, **flag_own, "preset": preset}
    grpo = {**GRPO_DEFAULTS, **preset_grpo, **file_grpo, **flag_grpo, **extra_grpo}
    try:
        return MemTrainConfig(**own, grpo=grpo)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None


def build_grpo_config(config: MemTrainConfig) -> Any:
    """The `trl.GRPOConfig` of a run, with the fields memtrain derives (G1, response budget, …).

    Also checks that every process holds whole episodes: each process generates for
    per_device_train_batch_size × steps_per_generation rows, and each episode needs G1 of them.
    """
    from trl import GRPOConfig

    values = dict(config.grpo)
    values["output_dir"] = str(config.output_dir)
    values["num_generations"] = config.g1
    values["max_completion_length"] = config.response_tokens
    values["scale_rewards"] = "none"  # informational: MemTrainGRPOTrainer computes Dr. GRPO advantages itself
    if values.get("use_vllm"):
        values.setdefault("vllm_max_model_length", config.context_tokens)
        if values.get("vllm_importance_sampling_correction"):
            raise ConfigError(
                "vllm_importance_sampling_correction is not supported by memtrain's multi-conversation rollouts; "
                "leave it off (the default with --use-vllm)"
            )
        values["vllm_importance_sampling_correction"] = False
    if values.get("generation_batch_size") is None:
        # Checked before GRPOConfig (whose own check only looks at the global batch) for a clearer message.
        rows = values.get("per_device_train_batch_size") or 8
        steps = values.get("steps_per_generation") or values.get("gradient_accumulation_steps") or 1
        _check_whole_episodes(rows, steps, config.g1)
    try:
        grpo_config = GRPOConfig(**values)
    except (TypeError, ValueError) as exc:
        message = first_line(exc)
        if "bf16" in message:
            message += " (on a CPU-only machine use --preset cpu-smoke, or --use-cpu true --bf16 false)"
        raise ConfigError(f"invalid GRPO settings: {message}") from None
    _check_whole_episodes(
        grpo_config.per_device_train_batch_size, grpo_config.steps_per_generation, config.g1
    )
    return grpo_config


def _check_whole_episodes(per_device_rows: int, steps_per_generation: int, g1: int) -> None:
    rows_per_process = per_device_rows * steps_per_generation
    if rows_per_process % g1 != 0:
        raise ConfigError(
            f"per_device_train_batch_size ({per_device_rows}) × steps_per_generation ({steps_per_generation}) "
            f"= {rows_per_process} is not a multiple of g1 ({g1}): each process must hold whole episodes "
            "of g1 trajectories"
        )


def check_context_fits(config: MemTrainConfig, max_context: int | None, model: str) -> None:
    """Refuse budgets that need a longer context than the model has (before any weight is loaded)."""
    if max_context is not None and config.context_tokens > max_context:
        raise ConfigError(
            f"the budgets need {config.context_tokens} tokens per turn (instruction {config.instruction_tokens} + "
            f"chunk {config.chunk_tokens} + memory {config.memory_tokens} + response {config.response_tokens}) "
            f"but {model} accepts {max_context} (max_position_embeddings); lower the budgets or pick another preset"
        )
