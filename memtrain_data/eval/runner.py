"""`run_evaluation`: examples → batched agent runs → predictions.jsonl → results.json (+ plot).

Reuse: every line of predictions.jsonl carries the hash of the settings that produced it
(`EvalConfig.prediction_key`). A rerun into the same folder with the same settings skips the
examples already there, so an interrupted run resumes and adding a length only runs the new
one; predictions from other settings in the folder are an error, never silently mixed.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from memtrain_data.agent.backends.base import Generation, GenerationBackend
from memtrain_data.agent.budgets import AgentBudgets
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.errors import ConfigError, InputError
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.registry import get_task
from memtrain_data.eval.tasks.base import EvalContext, EvalExample, EvalTask
from memtrain_data.progress import NullProgress, ProgressReporter

RESULTS_NAME = "results.json"
PREDICTIONS_NAME = "predictions.jsonl"
PLOT_NAME = "plot.png"
METRIC_NAMES: tuple[str, ...] = ("em", "f1", "sub_em")


@dataclass
class EvalResult:
    """What an evaluation produced and where it wrote it."""

    output: Path
    results: dict[str, Any]
    results_path: Path
    predictions_path: Path
    plot_path: Path | None = None
    examples_run: int = 0
    examples_reused: int = 0
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


class _CountingBackend:
    """Passes generate calls through and counts them (reported as generate_calls in results.json)."""

    def __init__(self, inner: GenerationBackend) -> None:
        self.inner = inner
        self.tokenizer = inner.tokenizer
        self.max_context_tokens = getattr(inner, "max_context_tokens", None)
        self.calls = 0
        self.conversations = 0

    def generate(self, conversations: list[list[dict[str, str]]], **options: Any) -> list[Generation]:
        self.calls += 1
        self.conversations += len(conversations)
        return self.inner.generate(conversations, **options)


class PredictionStore:
    """predictions.jsonl: append-only, one line per (example, sample) and recall probe."""

    def __init__(self, path: Path, settings_key: str) -> None:
        self.path = path
        self.settings_key = settings_key
        self.records: list[dict[str, Any]] = []
        if path.is_file():
            self._load()

    def _load(self) -> None:
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    # A line cut by an interrupted write; the example it belonged to is rerun.
                    continue
                if record.get("settings_key") != self.settings_key:
                    raise ConfigError(
                        f"{self.path} (line {number}) holds predictions made with other settings: "
                        "use another --output folder, or delete the file to start over"
                    )
                self.records.append(record)
        # Keep only examples whose every record made it to disk before an interruption.
        complete = {r["example_key"] for r in self.records if r.get("complete")}
        self.records = [r for r in self.records if r["example_key"] in complete]

    @property
    def done(self) -> set[str]:
        return {record["example_key"] for record in self.records}

    def append(self, records: list[dict[str, Any]]) -> None:
        # The last record of each example is marked complete, so a half-written batch is redone.
        last_index = {record["example_key"]: index for index, record in enumerate(records)}
        with self.path.open("a", encoding="utf-8") as out:
            for index, record in enumerate(records):
                record = {
                    **record,
                    "settings_key": self.settings_key,
                    "complete": last_index[record["example_key"]] == index,
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                self.records.append(record)


def build_backend(config: EvalConfig) -> GenerationBackend:
    """The backend named by `config.backend`, with the options that backend takes."""
    from memtrain_data.agent.backends import get_backend

    if not config.model:
        raise InputError(
            "--model is required: a local model folder or Hub id (the served model name for --backend openai)"
        )
    options: dict[str, Any] = {}
    if config.backend == "transformers":
        options = {"device": config.device, "dtype": config.dtype}
    elif config.backend == "openai":
        from memtrain_data.models import load_tokenizer

        options = {
            "base_url": config.base_url,
            "concurrency": config.concurrency,
            "tokenizer": load_tokenizer(config.tokenizer) if config.tokenizer else None,
            "max_context_tokens": config.max_context_tokens,
        }
    return get_backend(config.backend, config.model, **options)


def summarize(
    records: list[dict[str, Any]], order: list[str], examples: list[EvalExample]
) -> dict[str, dict[str, Any]]:
    """Mean em / f1 / sub_em per metrics key, with n = examples scored (samples are averaged)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record["length"]].append(record)
    targets = {e.length: e.extra.get("target_tokens") for e in examples}
    metrics: dict[str, dict[str, Any]] = {}
    for key in [*order, *sorted(k for k in grouped if k not in order)]:
        group = grouped.get(key)
        if not group:
            continue
        entry: dict[str, Any] = {name: sum(r[name] for r in group) / len(group) for name in METRIC_NAMES}
        entry["n"] = len({r["id"] for r in group})
        entry["samples"] = len(group)
        entry["mean_tokens"] = sum(r["n_tokens"] for r in group) / len(group)
        if targets.get(key) is not None:
            entry["target_tokens"] = targets[key]
        metrics[key] = entry
    return metrics


def _batches(examples: list[EvalExample], size: int) -> list[list[EvalExample]]:
    # Examples of one length together: similar chunk counts keep every generate call full.
    by_length: dict[str, list[EvalExample]] = defaultdict(list)
    for example in examples:
        by_length[example.length].append(example)
    return [group[i : i + size] for group in by_length.values() for i in range(0, len(group), size)]


def run_evaluation(
    config: EvalConfig,
    progress: ProgressReporter | None = None,
    backend: GenerationBackend | None = None,
) -> EvalResult:
    """Evaluate `config.model` on `config.task`; write results.json, predictions.jsonl and plot.png.

    `backend` lets a caller reuse a loaded model; by default one is built from the config.
    """
    progress = progress or NullProgress()
    task: EvalTask = get_task(config.task)
    templates = PromptTemplates.from_file(config.templates) if config.templates else PromptTemplates()
    budgets = AgentBudgets(config.chunk_tokens, config.memory_tokens, config.response_tokens)
    if config.output.exists() and not config.output.is_dir():
        raise InputError(f"--output {config.output} is a file, not a folder")
    config.output.mkdir(parents=True, exist_ok=True)
    settings_key = config.prediction_key()
    store = PredictionStore(config.output / PREDICTIONS_NAME, settings_key)

    started = time.perf_counter()
    inner = backend or build_backend(config)
    counting = _CountingBackend(inner)
    tokenizer = inner.tokenizer
    if tokenizer is None and config.tokenizer:
        from memtrain_data.models import load_tokenizer

        tokenizer = load_tokenizer(config.tokenizer)
    if tokenizer is None:
        progress.log(
            "no tokenizer for this backend: token lengths are estimated from characters (pass --tokenizer)"
        )
    examples = task.load_examples(config, tokenizer, progress)
    done = store.done
    todo = [example for example in examples if example.key not in done]
    reused = len(examples) - len(todo)
    if reused:
        progress.log(f"reusing {reused} finished example(s) from {store.path}")

    counts: dict[str, int] = dict(task.load_counts)
    context = EvalContext(counting, config, templates, budgets, tokenizer, counts, progress)
    stage = f"{task.name} ({config.mode})"
    progress.start(stage, total=len(todo))
    batches = _batches(todo, config.batch_size)
    for batch in batches:
        store.append(task.predict(batch, context))
        progress.advance(stage, len(batch))
    progress.finish(stage)
    elapsed = time.perf_counter() - started

    keys = {example.key for example in examples}
    current = [record for record in store.records if record["example_key"] in keys]
    order = config.lengths if task.keyed_by_length else list(task.metric_order)
    metrics = summarize(current, order, examples)
    results = {
        "model": config.model,
        "backend": config.backend,
        "task": task.name,
        "mode": config.mode,
        "seed": config.seed,
        "settings": config.to_dict(),
        "settings_key": settings_key,
        "metrics": metrics,
        "counts": {"examples": len(examples), "examples_run": len(todo), "examples_reused": reused, **counts},
        "timing": {
            "seconds": round(elapsed, 3),
            "generate_calls": counting.calls,
            "conversations": counting.conversations,
            "batches": len(batches),
            "seconds_per_example": round(elapsed / len(todo), 3) if todo else None,
        },
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    results_path = config.output / RESULTS_NAME
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_path = None
    if config.plot and metrics:
        from memtrain_data.eval.plot import plot_results

        plot_path = plot_results([results_path], config.output / PLOT_NAME)
    return EvalResult(
        output=config.output,
        results=results,
        results_path=results_path,
        predictions_path=store.path,
        plot_path=plot_path,
        examples_run=len(todo),
        examples_reused=reused,
        metrics=metrics,
    )
