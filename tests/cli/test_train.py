"""`memtrain train`: a whole run with the tiny model, resuming, and one-line errors before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memtrain_cli.app import app
from tests.train.mini_dataset import write_mini_dataset

runner = CliRunner()

# Small enough that two steps of the tiny model take seconds on one CPU core. The random model never
# answers right, so under dynamic sampling every step would be skipped (see test_learning.py): these
# runs test the run mechanics, so they keep every group.
FAST = [
    "--preset", "cpu-smoke", "--chunk-tokens", "96", "--memory-tokens", "8", "--response-tokens", "8",
    "--no-dynamic-sampling",
]  # fmt: skip
STEP_KEYS = {
    "e2e_em", "imr_em", "reward", "advantage_mean", "advantage_std", "groups_kept_fraction",
    "memory_tokens", "turns_per_trajectory", "tokens_per_second",
}  # fmt: skip


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mini_dataset(tmp_path_factory.mktemp("train-data"))


def test_help_lists_the_contract() -> None:
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--model", "--dataset", "--config-name", "--preset", "--output-dir", "--config", "--max-steps",
                   "--use-vllm", "--lora", "--resume", "--g1", "--g2"):  # fmt: skip
        assert option in result.output, option
    assert "GRPOConfig" in result.output


@pytest.mark.slow
def test_train_two_steps_then_resume_one_more(
    tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "run"
    args = [
        "train",
        "--model",
        str(tiny_model_dir),
        "--dataset",
        str(dataset_dir),
        "--output-dir",
        str(out),
        *FAST,
    ]
    result = runner.invoke(app, [*args, "--max-steps", "2", "--save-steps", "2", "--learning-rate", "1e-4"])
    assert result.exit_code == 0, result.output
    assert "done" in result.output and "step 2/2" in result.output

    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    for record in records:
        assert set(record) >= STEP_KEYS, STEP_KEYS - set(record)
        assert 0.0 <= record["e2e_em"] <= 1.0 and 0.0 <= record["groups_kept_fraction"] <= 1.0
        assert record["turns_per_trajectory"] >= 3  # at least 2 chunks + the final turn
        assert record["learning_rate"] == pytest.approx(1e-4)  # the passthrough GRPOConfig flag took effect
    settings = json.loads((out / "memtrain_train_config.json").read_text())
    assert settings["preset"] == "cpu-smoke" and settings["grpo"]["learning_rate"] == 1e-4

    # The checkpoint and the final folder are plain Hugging Face model folders.
    assert AutoModelForCausalLM.from_pretrained(str(out / "checkpoint-2")).config.vocab_size > 0
    final = AutoModelForCausalLM.from_pretrained(str(out))
    assert AutoTokenizer.from_pretrained(str(out)).chat_template
    assert (
        final.num_parameters() == AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).num_parameters()
    )

    resumed = runner.invoke(app, [*args, "--max-steps", "3", "--save-steps", "2", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]  # continued from checkpoint-2, appended to the log

    # `memtrain eval` takes the trained folder as it is.
    evaluated = runner.invoke(
        app,
        [
            "eval",
            "--model",
            str(out),
            "--task",
            "proxy",
            "--data",
            str(dataset_dir),
            "--limit",
            "1",
            "--chunk-tokens",
            "48",
            "--memory-tokens",
            "16",
            "--response-tokens",
            "8",
            "--output",
            str(tmp_path / "eval"),
            "--no-plot",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert (tmp_path / "eval" / "results.json").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--per-device-train-batch-size", "3"], "is not a multiple of g1 (2)"),
        (["--chunk-tokens", "9000"], "max_position_embeddings"),
        (["--learnin-rate", "1e-6"], "did you mean '--learning-rate'?"),
        (["--num-generations", "4"], "set g1"),
        (["--resume"], "no checkpoint-* folder"),
        (["--loss-aggregation", "mean"], "loss_aggregation must be one of token_sum, trajectory"),
        (["--loss-type", "grpo"], "loss_type 'grpo' normalises the loss its own way"),
        (["--memory-tokens", "64"], "memory_tokens (64) exceeds response_tokens (8)"),
        (["--sanity-check"], "--sanity-check trains on memtrain's toy episodes: drop --dataset"),
    ],
)
def test_bad_settings_fail_in_one_line_before_training(
    tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "train",
            "--model",
            str(tiny_model_dir),
            "--dataset",
            str(dataset_dir),
            "--output-dir",
            str(out),
            *FAST,
            *extra,
        ],
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing was started


def test_optional_engines_name_the_extra_to_install(
    tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path
) -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    args = [
        "train",
        "--model",
        str(tiny_model_dir),
        "--dataset",
        str(dataset_dir),
        "--output-dir",
        str(tmp_path / "o"),
    ]
    result = runner.invoke(app, [*args, *FAST, "--use-vllm"])
    assert result.exit_code == 2
    assert "--use-vllm needs vllm: pip install 'memtrain[vllm]'" in result.output


def test_missing_model_path_is_refused(dataset_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["train", "--model", str(tmp_path / "no-model"), "--dataset", str(dataset_dir), *FAST]
    )
    assert result.exit_code == 2
    assert "model path does not exist" in result.output


def test_an_episode_breaking_a_rule_is_refused_before_the_model_loads(tiny_model_dir: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import episode_arrow_schema

    data = write_mini_dataset(tmp_path / "data")
    shard = data / "mini" / "train-00000-of-00001.parquet"
    records = pq.read_table(shard).to_pylist()
    records[2]["chunks"][0] = records[2]["chunks"][0].replace("[MASK]", records[2]["answers"][0])
    pq.write_table(pa.Table.from_pylist(records, schema=episode_arrow_schema()), shard)
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["train", "--model", str(tiny_model_dir), "--dataset", str(data), "--output-dir", str(out), *FAST],
    )
    assert result.exit_code == 2, result.output
    assert "episode 'train-0002' (row 2) breaks a rule: answer_leak: chunk 0" in " ".join(result.output.split())
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"schema_version": "0.9"}, "schema_version 0.9 but this memtrain reads 1.0"),
        ({"drop_columns": ("recall_probes",)}, "is not a memtrain dataset: missing column(s) recall_probes"),
    ],
)
def test_not_a_memtrain_dataset_is_refused_before_the_model_loads(
    tiny_model_dir: Path, tmp_path: Path, broken: dict[str, object], message: str
) -> None:
    data = write_mini_dataset(tmp_path / "data", **broken)  # type: ignore[arg-type]
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["train", "--model", str(tiny_model_dir), "--dataset", str(data), "--output-dir", str(out), *FAST],
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()


@pytest.mark.slow
def test_lora_run_saves_a_merged_model_and_the_adapter(
    tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("peft", reason="--lora needs peft (the memtrain[lora] extra)")
    from transformers import AutoModelForCausalLM

    out = tmp_path / "lora-run"
    result = runner.invoke(
        app,
        [
            "train",
            "--model",
            str(tiny_model_dir),
            "--dataset",
            str(dataset_dir),
            "--output-dir",
            str(out),
            *FAST,
            "--lora",
            "--max-steps",
            "1",
            "--save-steps",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "adapter" / "adapter_config.json").is_file()
    merged = AutoModelForCausalLM.from_pretrained(str(out))  # loads without peft: the adapter is merged in
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    assert merged.num_parameters() == base.num_parameters()
