"""`memtrain eval` and `memtrain eval plot` as a user runs them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memtrain_cli.app import app
from tests.eval.proxy_data import write_mini_dataset

runner = CliRunner()
SMALL = ["--chunk-tokens", "1024", "--memory-tokens", "16", "--response-tokens", "6"]


def invoke(args: list[str]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    ("command", "usage", "options"),
    [
        (["eval"], "eval [OPTIONS] COMMAND [ARGS]", ["--model", "--task", "--protocol", "--no-plot", "--config"]),
        (["eval", "plot"], "eval plot [OPTIONS] {results}...", ["--output", "--metric"]),
    ],
)
def test_help(command: list[str], usage: str, options: list[str]) -> None:
    output = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "250"}).output
    assert usage in output
    for option in options:
        assert option in output, option


def test_eval_help_lists_the_contract_options() -> None:
    output = invoke(["eval", "--help"]).output
    for option in ("--model", "--task", "--data", "--config-name", "--split", "--lengths", "--mode", "--backend",
                   "--base-url", "--num-samples", "--limit", "--seed", "--templates", "--chunk-tokens",
                   "--memory-tokens", "--response-tokens", "--output", "--protocol", "--ids"):  # fmt: skip
        assert option in output
    words = " ".join(output.replace("│", " ").split())
    assert "Default: memagent for ruler-hqa and hotpotqa, memtrain for proxy." in words
    assert "max_position_embeddings" in words  # where the full-context limit comes from


@pytest.mark.slow
def test_ruler_hqa_on_the_shared_files_with_a_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The issue's command: both released-layout files, the transformers backend, the memagent protocol."""
    from tests.conftest import SHARED_DIR

    data = SHARED_DIR / "data/hotpotqa/ruler_hqa"
    if not (data / "eval_50.json").is_file():
        pytest.skip(f"{data} is absent")
    out = tmp_path / "ruler"
    result = invoke(["eval", "--task", "ruler-hqa", "--data", str(data), "--model", str(tiny_model_dir),
                     "--limit", "1", "--response-tokens", "4", "--memory-tokens", "8", "--output", str(out)])  # fmt: skip
    assert "50 docs" in result.output and "100 docs" in result.output
    results = json.loads((out / "results.json").read_text())
    assert list(results["metrics"]) == ["50", "100"]
    assert results["model_identity"]["weights_fingerprint"]
    assert {k: results["settings"][k] for k in ("protocol", "chunk_tokens", "temperature", "top_p", "seed")} == {
        "protocol": "memagent", "chunk_tokens": 5000, "temperature": 0.7, "top_p": 0.95, "seed": 0}  # fmt: skip
    assert all(entry["n"] == 1 and entry["n_total"] == 30 for entry in results["metrics"].values())


def test_hotpotqa_memory_mode(tiny_model_dir: Path, hotpotqa_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke(["eval", "--model", str(tiny_model_dir), "--task", "hotpotqa", "--data", str(hotpotqa_sample),
                     "--lengths", "2k,4k", "--limit", "2", *SMALL, "--output", str(out)])  # fmt: skip
    assert "EM" in result.output and "2k" in result.output and "4k" in result.output
    results = json.loads((out / "results.json").read_text())
    assert list(results["metrics"]) == ["2k", "4k"]
    assert all(entry["n"] == 2 for entry in results["metrics"].values())
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 4
    assert (out / "plot.png").is_file()
    # The same command again reuses everything.
    again = invoke(["eval", "--model", str(tiny_model_dir), "--task", "hotpotqa", "--data", str(hotpotqa_sample),
                    "--lengths", "2k,4k", "--limit", "2", *SMALL, "--output", str(out)])  # fmt: skip
    assert "0 example(s) run, 4 reused" in again.output


def test_hotpotqa_full_context_mode(tiny_model_dir: Path, hotpotqa_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "full"
    invoke(["eval", "--model", str(tiny_model_dir), "--task", "hotpotqa", "--data", str(hotpotqa_sample),
            "--lengths", "2k,4k", "--limit", "2", "--mode", "full-context", *SMALL, "--output", str(out)])  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == "full-context"
    assert results["counts"]["full_context_truncated"] == 0  # 4k fits the tiny model's 8192 positions
    assert results["timing"]["generate_calls"] == 2  # one prompt per example, one call per length


def test_proxy_task_on_a_dataset_folder(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = write_mini_dataset(tmp_path / "dataset")
    out = tmp_path / "proxy"
    result = invoke(["eval", "--model", str(tiny_model_dir), "--task", "proxy", "--data", str(data),
                     "--config-name", "mini", "--split", "test", "--num-samples", "2", *SMALL, "--output", str(out)])  # fmt: skip
    assert "reconstruction" in result.output and "recall" in result.output
    results = json.loads((out / "results.json").read_text())
    assert set(results["metrics"]) == {"reconstruction", "recall"}
    assert results["metrics"]["reconstruction"]["samples"] == 6


def test_plot_subcommand(tmp_path: Path) -> None:
    paths = []
    for name, em in (("a", 0.5), ("b", 0.25)):
        path = tmp_path / name / "results.json"
        path.parent.mkdir()
        path.write_text(json.dumps({"model": name, "task": "hotpotqa", "mode": "memory",
                                    "metrics": {"2k": {"em": em, "f1": em, "sub_em": em, "accuracy": em, "n": 2, "target_tokens": 2048}}}))  # fmt: skip
        paths.append(str(path))
    result = invoke(["eval", "plot", *paths, "--output", str(tmp_path / "both.png")])
    assert "wrote" in result.output
    assert (tmp_path / "both.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "squad", "--model", "x"], "unknown task 'squad'"),
        (["--task", "hotpotqa", "--data", "x.json"], "--model is required"),
        (["--model", "/nonexistent/model", "--data", "x.json"], "model path does not exist"),
        (
            ["--model", "m", "--backend", "vllm", "--task", "hotpotqa", "--data", "HOTPOT"],
            "pip install 'memtrain[vllm]'",
        ),
        (["--model", "m", "--task", "hotpotqa", "--lengths", "2kb"], "length '2kb'"),
        (
            ["--model", "m", "--task", "ruler-hqa", "--lengths", "2k"],
            "ruler-hqa length '2k' is not a document count",
        ),
        (["--model", "m", "--protocol", "memagnet"], "unknown protocol 'memagnet'"),
        (["--model", "m", "--task", "hotpotqa", "--data", "/nonexistent/h.json"], "HotpotQA file not found"),
        (["--model", "m", "--task", "ruler-hqa", "--data", "HOTPOT"], "raw HotpotQA"),
    ],
)
def test_user_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, hotpotqa_sample: Path
) -> None:
    args = [str(hotpotqa_sample) if arg == "HOTPOT" else arg for arg in args]
    result = runner.invoke(app, ["eval", *args, "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()  # a failed start leaves no empty output folder


def test_proxy_on_a_folder_of_the_wrong_schema_is_one_line(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data" / "mini").mkdir(parents=True)
    pq.write_table(
        pa.table({"id": ["a"], "text": ["not an episode"]}),
        tmp_path / "data/mini/test-00000-of-00001.parquet",
    )
    result = runner.invoke(app, ["eval", "--task", "proxy", "--model", "m", "--data", str(tmp_path / "data"),
                                 "--output", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        "is not a memtrain episode dataset" in result.output and "lacks column(s) question" in result.output
    )
    assert "internal error" not in result.output and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_smollm2_hotpotqa_end_to_end(smollm2_dir: Path, hotpotqa_sample: Path, tmp_path: Path) -> None:
    """The real instruct model through the whole loop on CPU: padding, chunks, memory, final answer."""
    out = tmp_path / "smollm2"
    started = time.perf_counter()
    invoke(["eval", "--model", str(smollm2_dir), "--task", "hotpotqa", "--data", str(hotpotqa_sample),
            "--lengths", "1k", "--limit", "1", "--chunk-tokens", "512", "--memory-tokens", "48",
            "--response-tokens", "24", "--output", str(out)])  # fmt: skip
    elapsed = time.perf_counter() - started
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["1k"]["n"] == 1
    assert results["timing"]["generate_calls"] == 3  # two 512-token chunks, then the final turn
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    for line in predictions:
        assert [t["kind"] for t in line["turns"]] == ["update"] * line["n_chunks"] + ["final"]
        # A real instruct model writes words into its memory.
        assert any(len(t["memory"].split()) >= 3 for t in line["turns"][:-1])
    print(f"SmolLM2 hotpotqa 1k: {elapsed:.1f} s for 1 example, {results['timing']}")


@pytest.mark.slow
def test_proxy_on_a_real_mini_build(tiny_model_dir: Path, tmp_path: Path) -> None:
    """`memtrain build-dataset --preset mini` output, evaluated as a user would (bundled sample wiki)."""
    from memtrain_data.build import build_dataset
    from memtrain_data.build_config import resolve_build_config

    data = tmp_path / "built"
    build_dataset(resolve_build_config(None, {"output": data, "preset": "mini", "num_episodes": 10}))
    out = tmp_path / "proxy"
    invoke(["eval", "--model", str(tiny_model_dir), "--task", "proxy", "--data", str(data), "--limit", "2",
            "--memory-tokens", "16", "--response-tokens", "6", "--output", str(out)])  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["reconstruction"]["n"] >= 1
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    reconstruction = [p for p in predictions if p["length"] == "reconstruction"]
    assert all(isinstance(p["answer"], list) and p["answer"] for p in reconstruction)
    for recall in (p for p in predictions if p["length"] == "recall"):
        assert recall["probe_chunk_index"] + 1 < recall["recall_step"]


def test_openai_backend_against_a_local_server(
    tiny_model_dir: Path, hotpotqa_sample: Path, tmp_path: Path, monkeypatch
) -> None:
    """`--backend openai --base-url`: requests go to the endpoint, the key never reaches the output."""
    from tests.agent.backends.fake_openai import serve

    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-print")
    out = tmp_path / "served"
    with serve() as (state, url):
        result = invoke(["eval", "--backend", "openai", "--base-url", url, "--model", "served-model",
                         "--tokenizer", str(tiny_model_dir), "--task", "hotpotqa", "--data", str(hotpotqa_sample),
                         "--lengths", "2k", "--limit", "2", *SMALL, "--output", str(out)])  # fmt: skip
    assert "sk-do-not-print" not in result.output
    assert "sk-do-not-print" not in (out / "results.json").read_text()
    assert {h["Authorization"] for h in state.headers} == {"Bearer sk-do-not-print"}
    results = json.loads((out / "results.json").read_text())
    n_chunks = [json.loads(line)["n_chunks"] for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(state.requests) == sum(n_chunks) + 2  # every update turn and one final turn per example
    assert results["backend"] == "openai" and results["metrics"]["2k"]["n"] == 2
