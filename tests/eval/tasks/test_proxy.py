"""The proxy task: reconstruction from the final memory, recall from the agent's own m(k)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memtrain_data.agent.budgets import AgentBudgets
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.errors import InputError
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.tasks.base import EvalContext
from memtrain_data.eval.tasks.proxy import ProxyTask, load_episode_rows
from memtrain_data.progress import NullProgress
from tests.agent.counting import CountingBackend
from tests.eval.proxy_data import write_mini_dataset


def test_loads_a_local_dataset_folder(proxy_dataset: Path) -> None:
    rows = load_episode_rows(str(proxy_dataset), None, "test")
    assert [row["id"] for row in rows] == ["test-0", "test-1", "test-2"]
    assert rows[0]["answers"] == ["Paris", "City of Light"]
    assert rows[0]["recall_probes"][0]["target"] == "1889"
    assert [row["id"] for row in load_episode_rows(str(proxy_dataset), "mini", "validation")] == [
        "validation-0", "validation-1", "validation-2"
    ]  # fmt: skip


def test_folder_errors_are_clear(proxy_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no config 'paper'; available: mini"):
        load_episode_rows(str(proxy_dataset), "paper", "test")
    with pytest.raises(InputError, match="no memtrain episodes"):
        load_episode_rows(str(tmp_path), None, "test")
    with pytest.raises(InputError, match="dataset folder does not exist"):
        load_episode_rows(str(tmp_path / "absent"), None, "test")
    two = write_mini_dataset(write_mini_dataset(tmp_path / "two", "a"), "b")
    with pytest.raises(InputError, match=r"several configs \(a, b\): choose one with --config-name"):
        load_episode_rows(str(two), None, "test")


def test_predict_scores_reconstruction_and_recall_in_few_calls(proxy_dataset: Path, tiny_backend) -> None:
    config = EvalConfig(
        model="tiny",
        task="proxy",
        data=str(proxy_dataset),
        num_samples=2,
        response_tokens=6,
        memory_tokens=16,
    )
    task = ProxyTask()
    examples = task.load_examples(config, tiny_backend.tokenizer, NullProgress())
    backend = CountingBackend(tiny_backend)
    counts: dict[str, int] = {}
    context = EvalContext(
        backend, config, PromptTemplates(), AgentBudgets(64, 16, 6), backend.tokenizer, counts, NullProgress()
    )
    records = task.predict(examples, context)

    # 3 update steps (longest episode) + 1 final + 1 recall call for every trajectory at once.
    assert backend.calls == [6, 4, 2, 6, 4]
    reconstruction = [r for r in records if r["length"] == "reconstruction"]
    recall = [r for r in records if r["length"] == "recall"]
    assert len(reconstruction) == 6  # 3 episodes x 2 samples
    assert reconstruction[0]["answer"] == ["Paris", "City of Light"]
    # test-2 has one chunk and no probes: no recall, counted.
    assert len(recall) == 4 and counts["recall_without_probe"] == 2
    for record in recall:
        assert record["answer"] in {"1889", "Seine", "8,849 metres"}
        assert record["probe_chunk_index"] + 1 < record["recall_step"]
        assert record["turns"][0]["kind"] == "recall"
        trajectory_memory = next(
            r for r in reconstruction if r["id"] == record["id"] and r["sample"] == record["sample"]
        )["turns"][record["recall_step"] - 1]["memory"]
        assert record["turns"][0]["memory"] == trajectory_memory  # the model's own m(k)


def test_full_context_mode_has_no_recall(proxy_dataset: Path, tiny_backend) -> None:
    config = EvalConfig(
        model="tiny", task="proxy", data=str(proxy_dataset), mode="full-context", response_tokens=4
    )
    task = ProxyTask()
    examples = task.load_examples(config, tiny_backend.tokenizer, NullProgress())
    counts: dict[str, int] = {}
    backend = CountingBackend(tiny_backend)
    context = EvalContext(
        backend, config, PromptTemplates(), AgentBudgets(64, 16, 4), backend.tokenizer, counts, NullProgress()
    )
    records = task.predict(examples, context)
    assert backend.calls == [3]
    assert {r["length"] for r in records} == {"reconstruction"}
    assert counts["recall_not_applicable_full_context"] == 3
    assert "[MASK] is a short story." in backend.conversations[0][2][0]["content"]
