"""`memtrain train` settings: presets, YAML defaults, flag overrides, GRPOConfig passthrough, early errors."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from memtrain_data.errors import ConfigError
from memtrain_data.train.config import (
    PRESETS,
    MemTrainConfig,
    build_grpo_config,
    check_context_fits,
    parse_grpo_flags,
    resolve_train_config,
)


def cpu(**flags: object) -> MemTrainConfig:
    return resolve_train_config(None, {"preset": "cpu-smoke", "output_dir": "out", **flags})


def test_paper_preset_has_the_papers_numbers() -> None:
    config = resolve_train_config(None, {"output_dir": "out"})
    assert config.preset == "paper"
    assert (config.g1, config.g2, config.recall_bonus) == (8, 8, 0.5)
    assert (config.instruction_tokens, config.chunk_tokens, config.memory_tokens, config.response_tokens) == (
        1024,
        5120,
        1024,
        1024,
    )
    assert config.context_tokens == 8192
    grpo = config.grpo
    assert (grpo["learning_rate"], grpo["max_steps"], grpo["beta"]) == (1e-6, 300, 1e-3)
    # 32 episodes per optimizer step on one process: per-device rows × accumulation steps / G1.
    assert grpo["per_device_train_batch_size"] * grpo["gradient_accumulation_steps"] // config.g1 == 32


def test_cpu_smoke_preset_builds_a_cpu_grpo_config() -> None:
    grpo = build_grpo_config(cpu())
    assert grpo.use_cpu and not grpo.bf16
    assert grpo.num_generations == PRESETS["cpu-smoke"]["g1"]
    assert grpo.max_completion_length == PRESETS["cpu-smoke"]["response_tokens"]
    assert grpo.scale_rewards == "none"  # Dr. GRPO
    assert grpo.per_device_train_batch_size // grpo.num_generations == 2  # two episodes per step


def test_yaml_values_are_defaults_and_flags_override_them(tmp_path: Path) -> None:
    yaml_file = tmp_path / "train.yaml"
    yaml_file.write_text(
        "preset: cpu-smoke\ng2: 4\nlearning_rate: 3.0e-6\nbeta: 0.01\nreport_to: tensorboard\n"
    )
    config = resolve_train_config(yaml_file, {"g2": 6, "output_dir": str(tmp_path)}, ["--beta", "0.02"])
    assert config.preset == "cpu-smoke" and config.g2 == 6 and config.g1 == 2
    assert config.grpo["learning_rate"] == 3e-6  # from the file
    assert config.grpo["beta"] == 0.02  # the passthrough flag wins over the file
    grpo = build_grpo_config(config)
    assert grpo.report_to == ["tensorboard"] and grpo.output_dir == str(tmp_path)


def test_every_grpo_config_field_is_reachable_from_the_command_line(tmp_path: Path) -> None:
    from trl import GRPOConfig

    flags = [
        "--learning-rate", "2e-6", "--epsilon-high", "0.3", "--loss_type", "grpo", "--bf16", "false",
        "--vllm-mode", "server", "--report-to", "wandb", "--top-p=0.9", "--log-completions",
    ]  # fmt: skip
    parsed = parse_grpo_flags(flags)
    assert parsed == {
        "learning_rate": 2e-6,
        "epsilon_high": 0.3,
        "loss_type": "grpo",
        "bf16": False,
        "vllm_mode": "server",
        "report_to": "wandb",  # GRPOConfig turns it into a list
        "top_p": 0.9,
        "log_completions": True,
    }
    # And from a YAML file: every GRPOConfig field name is an accepted key.
    names = [f.name for f in dataclasses.fields(GRPOConfig) if f.init]
    owned = {
        "num_generations",
        "max_completion_length",
        "scale_rewards",
        "reward_weights",
        "multi_objective_aggregation",
        "num_generations_eval",
    }
    yaml_file = tmp_path / "all.yaml"
    yaml_file.write_text("".join(f"{name}: null\n" for name in names if name not in owned))
    config = resolve_train_config(yaml_file, {})
    assert set(config.grpo) >= set(names) - owned


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("lerning_rate: 1.0e-6\n", "unknown key 'lerning_rate' (did you mean 'learning_rate'?)"),
        ("recal_bonus: 1.0\n", "unknown key 'recal_bonus' (did you mean 'recall_bonus'?)"),
        ("num_generations: 4\n", "set g1"),
        ("max_completion_length: 64\n", "set response_tokens"),
        ("preset: fast\n", "unknown preset 'fast'"),
        ("g1: 1\n", "g1 must be at least 2"),
        ("chunk_tokens: 0\n", "chunk_tokens must be a positive integer"),
        # GRPOConfig fields the multi-conversation override would bypass are refused, named.
        ("num_generations_eval: 4\n", "'num_generations_eval' cannot be set"),
        ("loss_type: grpo\n", "loss_type 'grpo' normalises the loss its own way"),
        ("loss_type: dr_grpo\n", "use loss_type dapo or cispo and set loss_aggregation"),
        ("loss_aggregation: mean\n", "loss_aggregation must be one of token_sum, trajectory"),
        ("recall_weight: -1\n", "recall_weight must be a number >= 0"),
        ("resample_tries: -1\n", "resample_tries must be an integer >= 0"),
        ("memory_tokens: 64\nresponse_tokens: 32\n", "memory_tokens (64) exceeds response_tokens (32)"),
    ],
)
def test_bad_settings_are_one_line_config_errors(tmp_path: Path, yaml_text: str, message: str) -> None:
    yaml_file = tmp_path / "bad.yaml"
    yaml_file.write_text(yaml_text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve_train_config(yaml_file, {})


def test_unknown_passthrough_flag_gets_a_suggestion() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown option '--learnin_rate' \(did you mean '--learning-rate'\?\)"
    ):
        parse_grpo_flags(["--learnin-rate", "1e-6"])
    with pytest.raises(ConfigError, match="unexpected argument"):
        resolve_train_config(None, {}, ["stray"])


def test_batch_must_hold_whole_episodes() -> None:
    with pytest.raises(ConfigError, match=r"= 3 is not a multiple of g1 \(2\)"):
        build_grpo_config(cpu(per_device_train_batch_size=3))
    # 3 rows × 2 accumulation steps = 6 rows = 3 episodes of G1 = 2: fine.
    grpo = build_grpo_config(cpu(per_device_train_batch_size=3, gradient_accumulation_steps=2))
    assert grpo.steps_per_generation == 2


def test_budgets_that_exceed_the_model_context_are_refused() -> None:
    config = resolve_train_config(None, {"output_dir": "out"})  # paper: 8,192 tokens per turn
    check_context_fits(config, 8192, "m")
    with pytest.raises(ConfigError, match=r"need 8192 tokens per turn .* but small-model accepts 2048"):
        check_context_fits(config, 2048, "small-model")
    check_context_fits(config, None, "unknown-limit")  # no limit known: nothing to check


def test_the_paper_example_config_uses_only_known_keys() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "train-paper.yaml"
    config = resolve_train_config(example, {"output_dir": "out"})
    assert (config.g1, config.g2, config.recall_bonus, config.context_tokens) == (8, 8, 0.5, 8192)
    grpo = config.grpo
    assert grpo["use_vllm"] and grpo["vllm_mode"] == "colocate"
    gpus = 8
    episodes_per_step = (
        grpo["per_device_train_batch_size"] * grpo["gradient_accumulation_steps"] * gpus // config.g1
    )
    assert episodes_per_step == 32


def test_the_defaults_are_the_papers_loss_and_dynamic_sampling() -> None:
    config = resolve_train_config(None, {"output_dir": "out"})
    assert (config.loss_aggregation, config.recall_weight) == ("token_sum", 1.0)
    assert config.dynamic_sampling and config.resample_tries == 3
    assert config.grpo["loss_type"] == "dapo"  # TRL's token sum over the normaliser memtrain supplies
