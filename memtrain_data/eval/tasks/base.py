"""What every evaluation task provides: examples, and predictions scored per example.

A task turns its data into `EvalExample`s (a problem, a document already cut into chunks, and
the gold answers), and `predict` runs a batch of them through the memory agent (or, in
full-context mode, one prompt each) and returns one JSON-ready record per example and sample.
Tasks that need more (the proxy task's recall probes) extend `predict`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from memtrain_data.agent.backends.base import GenerationBackend, max_context_tokens
from memtrain_data.agent.budgets import AgentBudgets, count_tokens, truncate_middle
from memtrain_data.agent.loop import AgentTask, Trajectory, run_memory_agent
from memtrain_data.agent.templates import PromptTemplates
from memtrain_data.eval.config import EvalConfig, document_count, parse_length
from memtrain_data.eval.metrics import score_answer
from memtrain_data.progress import ProgressReporter

# Room kept free for the chat template's own tokens around a full-context prompt.
_CHAT_TEMPLATE_MARGIN = 32


@dataclass
class EvalExample:
    """One problem over one document, at one length (hotpotqa) or of one kind (proxy)."""

    id: str
    length: str  # the metrics key it is scored under, e.g. "2k" or "reconstruction"
    problem: str
    context: str  # the whole document (full-context mode)
    chunks: list[str]  # the document cut to the chunk budget (memory mode)
    answers: list[str]
    n_tokens: int
    extra: dict[str, Any] = field(default_factory=dict)
    input_hash: str = ""  # hash of what decides the prediction and its score (see `input_hash`)

    @property
    def key(self) -> str:
        """Identifies the example across reruns (predictions.jsonl reuse)."""
        return f"{self.length}/{self.id}"


def input_hash(*parts: Any) -> str:
    """A short sha256 of an example's inputs and gold (JSON of `parts`): a prediction is reused
    only while this is unchanged, so an edited question, context or gold answer is re-run."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class EvalContext:
    """What `predict` needs besides the examples."""

    backend: GenerationBackend
    config: EvalConfig
    templates: PromptTemplates
    budgets: AgentBudgets
    tokenizer: Any | None
    counts: dict[str, int]  # counted skips/truncations, reported in results.json
    progress: ProgressReporter


def turn_records(trajectory: Trajectory) -> list[dict[str, Any]]:
    """Every turn of a trajectory for predictions.jsonl: the memory it wrote (update) or read (final)."""
    records: list[dict[str, Any]] = []
    for turn in trajectory.turns:
        memory = trajectory.memories[turn.step] if turn.kind == "update" else trajectory.memories[-1]
        records.append({"kind": turn.kind, "step": turn.step, "memory": memory, "completion": turn.reply})
    return records


def by_document_count(keys: set[str]) -> list[str]:
    """Metrics keys that are counts ('50', '100') in numeric order, any others after them by name."""
    return sorted(keys, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))


class EvalTask:
    """Base class of registered tasks; subclasses implement `load_examples`."""

    name: ClassVar[str] = ""
    # Whether metrics keys are context lengths (so results are plotted against tokens).
    keyed_by_length: ClassVar[bool] = False
    # Order of the metrics keys in results.json when they are not lengths.
    metric_order: ClassVar[tuple[str, ...]] = ()
    # The agent protocol (`agent.protocols`) the task follows unless --protocol says otherwise.
    default_protocol: ClassVar[str] = "memtrain"
    # The lengths run when --lengths is not given; None runs every length the data holds.
    default_lengths: ClassVar[tuple[str, ...] | None] = None

    @classmethod
    def check_length(cls, label: str) -> None:
        """Refuse a --lengths label this task cannot read (ConfigError), before any data loads."""
        if document_count(label) is None:  # a token length otherwise: '7k', '2048'
            parse_length(label)

    @classmethod
    def metrics_order(cls, keys: set[str], lengths: list[str] | None) -> list[str]:
        """The order of the metrics keys in results.json: `metric_order`, or the lengths asked for."""
        if not cls.keyed_by_length:
            return list(cls.metric_order)
        return list(lengths) if lengths else by_document_count(keys)

    @classmethod
    def length_label(cls, key: str, values: dict[str, Any]) -> str:
        """How a metrics key is shown in the CLI's table (`values` are its metrics)."""
        return key

    def __init__(self) -> None:
        # Counted skips and oddities of `load_examples`, reported in results.json.
        self.load_counts: dict[str, int] = {}
        # example key -> input hash of *every* example of the data at the chosen lengths, not
        # only those --limit/--ids select: results.json reports all that are done and current.
        self.fingerprints: dict[str, str] = {}

    def validate_inputs(self, config: EvalConfig) -> None:
        """Read and check the data before any model loads (bad input fails in a second, not after)."""

    def count(self, name: str, amount: int = 1) -> None:
        self.load_counts[name] = self.load_counts.get(name, 0) + amount

    def load_examples(
        self, config: EvalConfig, tokenizer: Any | None, progress: ProgressReporter
    ) -> list[EvalExample]:
        raise NotImplementedError

    def gold(self, example: EvalExample) -> str | list[str]:
        """The gold answer as written to predictions.jsonl (a string when there is one)."""
        return example.answers[0] if len(example.answers) == 1 else example.answers

    def record(
        self,
        example: EvalExample,
        sample: int,
        prediction: str | None,
        turns: list[dict[str, Any]],
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "id": example.id,
            "length": example.length,
            "sample": sample,
            "example_key": example.key,
            "answer": self.gold(example),
            "answers": list(example.answers),
            "prediction": prediction,
            **score_answer(prediction, example.answers),
            "n_tokens": example.n_tokens,
            "input_hash": example.input_hash,
            **extra,
            "turns": turns,
        }

    def predict(self, examples: list[EvalExample], context: EvalContext) -> list[dict[str, Any]]:
        """Predictions of one batch: the memory agent, or one prompt per example in full-context mode."""
        if context.config.mode == "full-context":
            return self.predict_full_context(examples, context)
        return self.predict_memory(examples, context)[0]

    def predict_memory(
        self, examples: list[EvalExample], context: EvalContext
    ) -> tuple[list[dict[str, Any]], list[Trajectory]]:
        config = context.config
        trajectories = run_memory_agent(
            context.backend,
            [AgentTask(example.key, example.problem, example.chunks) for example in examples],
            samples_per_task=config.num_samples,
            templates=context.templates,
            budgets=context.budgets,
            temperature=config.temperature,
            top_p=config.top_p,
            seed=config.seed,
        )
        by_key = {example.key: example for example in examples}
        records = [
            self.record(
                by_key[trajectory.task_id],
                trajectory.sample_index,
                trajectory.answer,
                turn_records(trajectory),
                n_chunks=len(by_key[trajectory.task_id].chunks),
            )
            for trajectory in trajectories
        ]
        return records, trajectories

    def predict_full_context(self, examples: list[EvalExample], context: EvalContext) -> list[dict[str, Any]]:
        """The baseline: the whole document in one prompt, middle-truncated when it does not fit (counted)."""
        config = context.config
        limit = config.max_context_tokens or max_context_tokens(context.backend)
        conversations: list[list[dict[str, str]]] = []
        truncated: list[bool] = []
        for example in examples:
            document = example.context
            cut = False
            if limit is not None:
                frame = count_tokens(
                    context.tokenizer,
                    context.templates.full_context.format(problem=example.problem, context="")
                    + context.templates.answer_prefix,
                )
                room = limit - config.response_tokens - frame - _CHAT_TEMPLATE_MARGIN
                if count_tokens(context.tokenizer, document) > room:
                    document = truncate_middle(context.tokenizer, document, max(room, 0))
                    cut = True
            truncated.append(cut)
            conversations.extend(
                [context.templates.full_context_messages(example.problem, document)] * config.num_samples
            )
        context.counts["full_context_truncated"] = context.counts.get("full_context_truncated", 0) + sum(
            truncated
        )
        if any(truncated):
            context.progress.log(
                f"full-context: {sum(truncated)} of {len(examples)} contexts exceed the model's {limit} tokens "
                "and were cut in the middle (counted as full_context_truncated)"
            )
        generations = context.backend.generate(
            conversations,
            max_new_tokens=config.response_tokens,
            temperature=config.temperature,
            top_p=config.top_p,
            seed=config.seed,
        )
        from memtrain_data.agent.answers import extract_boxed
        from memtrain_data.agent.templates import reply_prefill

        records: list[dict[str, Any]] = []
        for index, example in enumerate(examples):
            for sample in range(config.num_samples):
                row = index * config.num_samples + sample
                reply = reply_prefill(conversations[row]) + generations[row].text
                prediction = extract_boxed(reply)
                turns = [{"kind": "full_context", "step": 1, "memory": None, "completion": reply}]
                records.append(self.record(example, sample, prediction, turns, truncated=truncated[index]))
        return records
