"""`run_evaluation`: examples → batched agent runs → predictions.jsonl → results.json (+ plot).

Reuse never serves a stale answer. Every line of predictions.jsonl carries two hashes:
`settings_key` (every setting that decides predictions, the protocol's prompts and the model's
identity: path plus weights fingerprint, or Hub revision; see `EvalConfig.prediction_key`) and
`input_hash` (the example's question, context and gold). A rerun into the same folder skips
an example only when both match; an edited example is re-run and its old line dropped, and
predictions from other settings or another model are an error, never silently mixed.

results.json covers every example of the data (at the lengths read) that has a current
prediction, so a `--limit`/`--ids` run adds to the full results instead of replacing them;
lengths not read in this run keep their entries from the previous results.json.

Order of work: settings, then the data (read and checked), then the model; the output folder
is created only when there is something to write, and removed again if a run fails before
writing anything into a folder it created.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from memtrain_data.agent.backends.base import Generation, GenerationBackend
from memtrain_data.agent.backends.identity import model_identity
from memtrain_data.agent.budgets import AgentBudgets
from memtrain_data.agent.protocols import get_protocol, protocol_templates
from memtrain_data.atomic import atomic_path, atomic_write_text
from memtrain_data.errors import ConfigError, InputError
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.metrics import METRIC_NAMES
from memtrain_data.eval.registry import get_task
from memtrain_data.eval.tasks.base import EvalContext, EvalExample, EvalTask
from memtrain_data.progress import NullProgress, ProgressReporter

RESULTS_NAME = "results.json"
PREDICTIONS_NAME = "predictions.jsonl"
PLOT_NAME = "plot.png"
# Which column matches which published table (also printed under the CLI's results table).
METRIC_NOTE = (
    "accuracy = the metric of MemAgent's and MemTrain's RULER-HotpotQA tables (two-way substring "
    "match); em/f1 = HotpotQA's; sub_em = one-way (gold inside the prediction)"
)


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
                        f"{self.path} (line {number}) holds predictions made with other settings, protocol "
                        "or model (weights changed?): use another --output folder, or delete the file to start over"
                    )
                self.records.append(record)
        # Keep only examples whose every record made it to disk before an interruption.
        complete = {r["example_key"] for r in self.records if r.get("complete")}
        self.records = [r for r in self.records if r["example_key"] in complete]

    def current(self, fingerprints: dict[str, str]) -> list[dict[str, Any]]:
        """Records of examples in the data whose input hash is still the data's."""
        return [r for r in self.records if fingerprints.get(r["example_key"]) == r.get("input_hash")]

    def stale_keys(self, fingerprints: dict[str, str]) -> set[str]:
        """Examples whose recorded input or gold differs from the data's now (edited since)."""
        return {
            r["example_key"]
            for r in self.records
            if r["example_key"] in fingerprints and fingerprints[r["example_key"]] != r.get("input_hash")
        }

    def drop(self, keys: set[str]) -> None:
        """Rewrite the file without the records of `keys` (atomically: a crash keeps the old file)."""
        if not keys:
            return
        self.records = [r for r in self.records if r["example_key"] not in keys]
        with atomic_path(self.path) as temporary, temporary.open("w", encoding="utf-8") as out:
            for record in self.records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def append(self, records: list[dict[str, Any]]) -> None:
        # The last record of each example is marked complete, so a half-written batch is redone.
        last_index = {record["example_key"]: index for index, record in enumerate(records)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            for index, record in enumerate(records):
                record = {
                    **record,
                    "settings_key": self.settings_key,
                    "complete": last_index[record["example_key"]] == index,
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                self.records.append(record)


def check_model(config: EvalConfig) -> None:
    """Fail on a missing --model or a model/tokenizer path that does not exist, before anything loads."""
    if not config.model:
        raise InputError(
            "--model is required: a local model folder or Hub id (the served model name for --backend openai)"
        )
    if _missing_path(config.model) and config.backend != "openai":
        raise InputError(f"model path does not exist: {config.model}")
    if config.tokenizer and _missing_path(config.tokenizer):
        raise InputError(f"tokenizer path does not exist: {config.tokenizer}")


def _missing_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) and not Path(name).expanduser().exists()


def build_backend(config: EvalConfig) -> GenerationBackend:
    """The backend named by `config.backend`, with the options that backend takes."""
    from memtrain_data.agent.backends import get_backend

    check_model(config)
    options: dict[str, Any] = {}
    if config.backend == "transformers":
        options = {"device": config.device, "dtype": config.dtype}
    elif config.backend == "openai":
        from memtrain_data.models import load_tokenizer

        options = {
            "base_url": config.base_url,
            "concurrency": config.concurrency,
            "max_retries": config.request_retries,
            "tokenizer": load_tokenizer(config.tokenizer) if config.tokenizer else None,
            "max_context_tokens": config.max_context_tokens,
        }
    return get_backend(config.backend, config.model, **options)


def summarize(
    records: list[dict[str, Any]], order: list[str], examples: list[EvalExample], totals: dict[str, int]
) -> dict[str, dict[str, Any]]:
    """Mean em / f1 / sub_em / accuracy per metrics key; n = examples scored (samples are averaged).

    `totals` is the number of examples the data holds per key: `complete` says whether all were scored.
    """
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record["length"]].append(record)
    described: dict[str, dict[str, Any]] = {}
    for example in examples:
        entry = described.setdefault(example.length, {"under_length": 0})
        for name in ("target_tokens", "target_documents", "num_docs"):
            if name in example.extra:
                entry[name] = example.extra[name]
        entry["under_length"] += bool(example.extra.get("under_length"))
    metrics: dict[str, dict[str, Any]] = {}
    for key in [*order, *sorted(k for k in grouped if k not in order)]:
        group = grouped.get(key)
        if not group:
            continue
        entry: dict[str, Any] = {name: sum(r[name] for r in group) / len(group) for name in METRIC_NAMES}
        entry["n"] = len({r["id"] for r in group})
        entry["samples"] = len(group)
        # Scored 0 here; MemAgent's script leaves an empty final reply out of the average instead.
        entry["no_prediction"] = sum(1 for r in group if not r.get("prediction"))
        entry["mean_tokens"] = sum(r["n_tokens"] for r in group) / len(group)
        if key in totals:
            entry["n_total"] = totals[key]
            entry["complete"] = entry["n"] >= totals[key]
        extra = described.get(key, {})
        entry.update({k: v for k, v in extra.items() if k != "under_length" or v})
        metrics[key] = entry
    return metrics


def _totals(task: EvalTask) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for key in task.fingerprints:
        totals[key.split("/", 1)[0]] += 1  # keys are "length/id"
    return dict(totals)


def _previous_metrics(path: Path, settings_key: str, keep_out: set[str]) -> dict[str, dict[str, Any]]:
    """Entries of an earlier results.json (same settings) for lengths this run did not read."""
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(previous, dict) or previous.get("settings_key") != settings_key:
        return {}
    metrics = previous.get("metrics")
    if not isinstance(metrics, dict):
        return {}
    return {k: v for k, v in metrics.items() if k not in keep_out and isinstance(v, dict)}


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
    protocol = get_protocol(str(config.protocol))
    templates = protocol_templates(protocol.name, config.templates)
    budgets = AgentBudgets(config.chunk_tokens, config.memory_tokens, config.response_tokens)  # type: ignore[arg-type]
    if config.output.exists() and not config.output.is_dir():
        raise InputError(f"--output {config.output} is a file, not a folder")
    if backend is None:
        check_model(config)
    task.validate_inputs(config)  # the data is read and checked before any model loads

    identity = model_identity(config.model or "", config.backend, config.base_url)
    if config.tokenizer:
        identity["tokenizer"] = model_identity(config.tokenizer, "transformers")
    templates_text = json.dumps(templates.__dict__, sort_keys=True)
    settings_key = config.prediction_key(identity, templates_text)
    store = PredictionStore(config.output / PREDICTIONS_NAME, settings_key)
    created = not config.output.exists()

    started = time.perf_counter()
    try:
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
        stale = store.stale_keys(task.fingerprints)
        if stale:
            selected = len(stale & {example.key for example in examples})
            progress.log(
                f"{len(stale)} example(s) changed in the data since their predictions were made "
                f"(question, context or gold): old predictions dropped, {selected} re-run now"
            )
            store.drop(stale)
        done = {r["example_key"] for r in store.current(task.fingerprints)}
        todo = [example for example in examples if example.key not in done]
        reused = len(examples) - len(todo)
        if reused:
            progress.log(f"reusing {reused} finished example(s) from {store.path}")

        counts: dict[str, int] = dict(task.load_counts)
        if stale:
            counts["stale_predictions_rerun"] = len(stale)
        context = EvalContext(counting, config, templates, budgets, tokenizer, counts, progress)
        stage = f"{task.name} ({config.mode})"
        progress.start(stage, total=len(todo))
        batches = _batches(todo, config.batch_size)
        for batch in batches:
            store.append(task.predict(batch, context))
            progress.advance(stage, len(batch))
        progress.finish(stage)
    except BaseException:
        # A run that fails before writing anything leaves no empty folder behind.
        if created and config.output.is_dir() and not any(config.output.iterdir()):
            shutil.rmtree(config.output, ignore_errors=True)
        raise
    elapsed = time.perf_counter() - started

    current = store.current(task.fingerprints)
    keys = {record["length"] for record in current}
    metrics = summarize(current, task.metrics_order(keys, config.lengths), examples, _totals(task))
    read_now = {key.split("/", 1)[0] for key in task.fingerprints}
    for key, entry in _previous_metrics(
        config.output / RESULTS_NAME, settings_key, read_now | set(metrics)
    ).items():
        metrics[key] = {**entry, "from_previous_run": True}
    if task.keyed_by_length and all(key.isdigit() for key in metrics):
        metrics = {key: metrics[key] for key in sorted(metrics, key=int)}
    results = {
        "model": config.model,
        "model_identity": identity,
        "backend": config.backend,
        "task": task.name,
        "mode": config.mode,
        "protocol": protocol.name,
        "protocol_source": protocol.source,
        "seed": config.seed,
        "settings": config.to_dict(),
        "templates": templates.__dict__,
        "settings_key": settings_key,
        "metric_note": METRIC_NOTE,
        "keyed_by_length": task.keyed_by_length,
        "metrics": metrics,
        "counts": {
            "examples": len(examples),
            "examples_in_data": len(task.fingerprints),
            "examples_run": len(todo),
            "examples_reused": reused,
            **counts,
        },
        "timing": {
            "seconds": round(elapsed, 3),
            "generate_calls": counting.calls,
            "conversations": counting.conversations,
            "batches": len(batches),
            "seconds_per_example": round(elapsed / len(todo), 3) if todo else None,
        },
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    config.output.mkdir(parents=True, exist_ok=True)
    results_path = config.output / RESULTS_NAME
    atomic_write_text(results_path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
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
