"""run_evaluation: outputs, batching, reuse of finished examples, full-context baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memtrain_data.errors import ConfigError
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.runner import run_evaluation
from tests.agent.counting import CountingBackend

SMALL = {"chunk_tokens": 1024, "memory_tokens": 16, "response_tokens": 6}


def hotpot_config(hotpotqa_sample: Path, output: Path, **values) -> EvalConfig:
    settings = {
        "model": "tiny",
        "task": "hotpotqa",
        "data": str(hotpotqa_sample),
        "output": output,
        "limit": 2,
        **SMALL,
    }
    settings.update(values)
    return EvalConfig(**settings)


def read_predictions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_hotpotqa_writes_results_predictions_and_plot(hotpotqa_sample, tiny_backend, tmp_path: Path) -> None:
    backend = CountingBackend(tiny_backend)
    result = run_evaluation(hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k", "2k"]), backend=backend)

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["model"] == "tiny" and results["backend"] == "transformers"
    assert results["task"] == "hotpotqa" and results["mode"] == "memory" and results["seed"] == 0
    assert results["settings"]["lengths"] == ["1k", "2k"] and results["settings"]["memory_tokens"] == 16
    assert list(results["metrics"]) == ["1k", "2k"]
    for label, target in (("1k", 1024), ("2k", 2048)):
        entry = results["metrics"][label]
        assert entry["n"] == 2 and entry["target_tokens"] == target
        assert set(entry) >= {"em", "f1", "sub_em", "n"}
        assert all(0.0 <= entry[name] <= 1.0 for name in ("em", "f1", "sub_em"))
    # Per length one batch: 1k fits one 1024-token chunk or needs two; 2k needs two or three.
    # Either way each batch costs (most chunks + 1) calls, not one per conversation.
    assert results["timing"]["generate_calls"] == len(backend.calls)
    assert len(backend.calls) <= (2 + 1) + (3 + 1)
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.plot_path == tmp_path / "plot.png"

    predictions = read_predictions(tmp_path / "predictions.jsonl")
    assert len(predictions) == 4
    line = predictions[0]
    assert set(line) >= {"id", "length", "answer", "prediction", "turns", "em", "f1", "sub_em"}
    assert line["answer"] == "yes" and line["length"] == "1k"
    kinds = [turn["kind"] for turn in line["turns"]]
    assert kinds == ["update"] * line["n_chunks"] + ["final"]
    assert all("memory" in turn and "completion" in turn for turn in line["turns"])


def test_a_rerun_reuses_finished_examples(hotpotqa_sample, tiny_backend, tmp_path: Path) -> None:
    run_evaluation(hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k"]), backend=tiny_backend)
    first = (tmp_path / "results.json").read_text()

    again = CountingBackend(tiny_backend)
    result = run_evaluation(hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k"]), backend=again)
    assert again.calls == [] and result.examples_reused == 2 and result.examples_run == 0
    assert json.loads(first)["metrics"] == result.results["metrics"]

    # A new length runs only the new examples; the old ones are kept.
    wider = CountingBackend(tiny_backend)
    result = run_evaluation(hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k", "2k"]), backend=wider)
    assert result.examples_reused == 2 and result.examples_run == 2
    assert wider.calls and all(size == 2 for size in wider.calls)
    assert len(read_predictions(tmp_path / "predictions.jsonl")) == 4


def test_predictions_from_other_settings_are_refused(hotpotqa_sample, tiny_backend, tmp_path: Path) -> None:
    run_evaluation(hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k"], limit=1), backend=tiny_backend)
    with pytest.raises(ConfigError, match="holds predictions made with other settings"):
        run_evaluation(
            hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k"], limit=1, seed=3), backend=tiny_backend
        )


def test_an_interrupted_example_is_redone(hotpotqa_sample, tiny_backend, tmp_path: Path) -> None:
    run_evaluation(hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k"]), backend=tiny_backend)
    path = tmp_path / "predictions.jsonl"
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])  # the second line was cut mid-write
    again = CountingBackend(tiny_backend)
    result = run_evaluation(hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k"]), backend=again)
    assert result.examples_reused == 1 and result.examples_run == 1
    assert result.results["metrics"]["1k"]["n"] == 2


def test_full_context_mode_one_call_and_counted_truncation(
    hotpotqa_sample, tiny_backend, tmp_path: Path
) -> None:
    backend = CountingBackend(tiny_backend)
    config = hotpot_config(
        hotpotqa_sample, tmp_path, lengths=["2k"], mode="full-context", max_context_tokens=1500
    )
    result = run_evaluation(config, backend=backend)
    assert backend.calls == [2]
    prompt = backend.conversations[0][0][0]["content"]
    assert "<text>" in prompt and "\n...\n" in prompt  # 2k of documents cut in the middle to fit 1500
    assert len(tiny_backend.render(backend.conversations[0][0])) + SMALL["response_tokens"] <= 1500
    assert result.results["counts"]["full_context_truncated"] == 2
    predictions = read_predictions(tmp_path / "predictions.jsonl")
    assert all(p["truncated"] for p in predictions)
    assert predictions[0]["turns"][0]["kind"] == "full_context"


def test_full_context_fits_without_truncation(hotpotqa_sample, tiny_backend, tmp_path: Path) -> None:
    result = run_evaluation(
        hotpot_config(hotpotqa_sample, tmp_path, lengths=["1k"], mode="full-context"), backend=tiny_backend
    )
    assert result.results["counts"]["full_context_truncated"] == 0


def test_proxy_task_metrics_keys(proxy_dataset, tiny_backend, tmp_path: Path) -> None:
    config = EvalConfig(model="tiny", task="proxy", data=str(proxy_dataset), output=tmp_path, **SMALL)
    result = run_evaluation(config, backend=tiny_backend)
    assert list(result.results["metrics"]) == ["reconstruction", "recall"]
    for entry in result.results["metrics"].values():  # the same four metrics as the long-context tasks
        assert {"em", "f1", "sub_em", "accuracy"} <= set(entry)
    assert result.results["metrics"]["reconstruction"]["n"] == 3
    assert result.results["metrics"]["recall"]["n"] == 2
    assert result.results["counts"]["recall_without_probe"] == 1
    assert (tmp_path / "plot.png").is_file()


def test_templates_file_changes_the_prompts(hotpotqa_sample, tiny_backend, tmp_path: Path) -> None:
    templates = tmp_path / "templates.yaml"
    templates.write_text("initial_memory: Nothing read yet\n")
    backend = CountingBackend(tiny_backend)
    run_evaluation(
        hotpot_config(hotpotqa_sample, tmp_path / "out", lengths=["1k"], limit=1, templates=templates),
        backend=backend,
    )
    assert "<memory>\nNothing read yet\n</memory>" in backend.conversations[0][0][0]["content"]
