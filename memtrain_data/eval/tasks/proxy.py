"""The MemTrain proxy tasks on held-out episodes: masked reconstruction and memory recall.

- reconstruction: the agent reads the masked document chunk by chunk and names the [MASK]
  entity from its final memory; exact match against every accepted answer (aliases included).
- recall: as in training, each trajectory gets one probe: a memory step k (seeded by
  (seed, episode id, sample)) and a probe on an earlier chunk l (k > l + 1 in 1-based steps,
  so the memory was rewritten after reading it); the model names the [TARGET] entity from its
  own memory m(k). Episodes with one chunk or without probes have no recall score (counted).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from memtrain_data.agent.answers import extract_boxed
from memtrain_data.agent.loop import run_recall
from memtrain_data.agent.recall import pick_recall_probe
from memtrain_data.errors import InputError, first_line
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.metrics import score_answer
from memtrain_data.eval.registry import register_task
from memtrain_data.eval.tasks.base import EvalContext, EvalExample, EvalTask, input_hash
from memtrain_data.progress import ProgressReporter

RECONSTRUCTION = "reconstruction"
RECALL = "recall"
_REQUIRED_COLUMNS = ("id", "question", "answers", "chunks", "n_tokens", "recall_probes")


def load_episode_rows(data: str, config_name: str | None, split: str) -> list[dict[str, Any]]:
    """Episodes of a memtrain dataset: a local folder (`DIR/<config>/<split>-*.parquet`) or a Hub id."""
    from datasets import load_dataset

    folder = Path(data).expanduser()
    if folder.is_dir():
        from memtrain_data.features import episode_features
        from memtrain_data.publish.layout import find_configs

        configs = find_configs(folder)
        if not configs:
            raise InputError(f"{folder}: no memtrain episodes (expected {folder}/<config>/<split>-*.parquet)")
        if config_name is None:
            if len(configs) > 1:
                raise InputError(
                    f"{folder} has several configs ({', '.join(configs)}): choose one with --config-name"
                )
            config_name = next(iter(configs))
        if config_name not in configs:
            raise InputError(f"{folder}: no config '{config_name}'; available: {', '.join(configs)}")
        if split not in configs[config_name]:
            raise InputError(
                f"{folder}/{config_name}: no '{split}' split; available: {', '.join(configs[config_name])}"
            )
        files = [str(path) for path in configs[config_name][split]]
        _check_episode_schema(folder / config_name, [Path(f) for f in files])
        try:
            dataset = load_dataset(
                "parquet", data_files={split: files}, split=split, features=episode_features()
            )
        except Exception as exc:  # a parquet file whose types are not the episode schema's
            message = first_line(exc)
            raise InputError(
                f"{folder}/{config_name}: the '{split}' files are not memtrain episodes ({message[:200]})"
            ) from None
    elif data.startswith((".", "/", "~")):
        raise InputError(f"dataset folder does not exist: {data}")
    else:
        try:
            dataset = load_dataset(data, config_name, split=split)
        except Exception as exc:  # the Hub or the cache may fail in many ways; all mean "cannot load it"
            message = first_line(exc)
            raise InputError(
                f"cannot load dataset '{data}' (config {config_name}, split {split}): {message}"
            ) from None
    missing = [column for column in _REQUIRED_COLUMNS if column not in dataset.column_names]
    if missing:
        raise InputError(f"{data} is not a memtrain episode dataset: missing column(s) {', '.join(missing)}")
    return list(dataset)


def _check_episode_schema(where: Path, files: list[Path]) -> None:
    """One line naming the missing columns when parquet files are not memtrain episodes."""
    import pyarrow.parquet as pq

    for path in files:
        try:
            names = set(pq.read_schema(path).names)
        except Exception as exc:  # not parquet at all, or unreadable
            raise InputError(
                f"{path}: not a readable parquet file ({first_line(exc)[:200]})"
            ) from None
        missing = [column for column in _REQUIRED_COLUMNS if column not in names]
        if missing:
            raise InputError(
                f"{where} is not a memtrain episode dataset: {path.name} lacks column(s) {', '.join(missing)}"
            )


def _row_hash(row: dict[str, Any]) -> str:
    return input_hash(row["question"], list(row["chunks"]), list(row["answers"]), row["recall_probes"])


@register_task("proxy")
class ProxyTask(EvalTask):
    """Held-out MemTrain episodes: reconstruction EM from the final memory and recall EM from m(k)."""

    metric_order = (RECONSTRUCTION, RECALL)

    def gold(self, example: EvalExample) -> str | list[str]:
        # Always the full list: the masked surface form first, then its aliases.
        return list(example.answers)

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] | None = None

    def validate_inputs(self, config: EvalConfig) -> None:
        if not config.data:
            raise InputError("--data is required for --task proxy: a memtrain dataset folder or Hub id")
        rows = load_episode_rows(config.data, config.config_name, config.split)
        if not rows:
            raise InputError(f"{config.data}: the '{config.split}' split has no episodes")
        self.rows = rows
        self.fingerprints = {}
        for row in rows:
            digest = _row_hash(row)
            # Both kinds of record of an episode share its key and hash.
            self.fingerprints[f"{RECONSTRUCTION}/{row['id']}"] = digest

    def load_examples(
        self, config: EvalConfig, tokenizer: Any | None, progress: ProgressReporter
    ) -> list[EvalExample]:
        if self.rows is None:
            self.validate_inputs(config)
        assert self.rows is not None
        rows = self.rows
        if config.ids:
            wanted = set(config.ids)
            unknown = wanted - {str(row["id"]) for row in rows}
            if unknown:
                raise InputError(f"--ids not in {config.data}: {', '.join(sorted(unknown)[:5])}")
            rows = [row for row in rows if str(row["id"]) in wanted]
        if config.limit:
            rows = rows[: config.limit]
        return [
            EvalExample(
                id=str(row["id"]),
                length=RECONSTRUCTION,
                problem=str(row["question"]),
                context="\n".join(row["chunks"]),
                chunks=list(row["chunks"]),
                answers=list(row["answers"]),
                n_tokens=int(row["n_tokens"]),
                extra={"recall_probes": list(row["recall_probes"] or [])},
                input_hash=_row_hash(row),
            )
            for row in rows
        ]

    def predict(self, examples: list[EvalExample], context: EvalContext) -> list[dict[str, Any]]:
        if context.config.mode == "full-context":
            # Recall needs a memory; the baseline only answers the reconstruction problem.
            context.counts["recall_not_applicable_full_context"] = context.counts.get(
                "recall_not_applicable_full_context", 0
            ) + len(examples)
            return self.predict_full_context(examples, context)
        records, trajectories = self.predict_memory(examples, context)
        config = context.config
        by_key = {example.key: example for example in examples}
        chosen: list[tuple[Any, EvalExample, int, dict[str, Any]]] = []
        for trajectory in trajectories:
            example = by_key[trajectory.task_id]
            rng = random.Random(f"{config.seed}/{example.id}/{trajectory.sample_index}/recall")
            choice = pick_recall_probe(len(example.chunks), example.extra["recall_probes"], rng)
            if choice is None:
                context.counts["recall_without_probe"] = context.counts.get("recall_without_probe", 0) + 1
                continue
            chosen.append((trajectory, example, *choice))
        recall_turns = run_recall(
            context.backend,
            [trajectory.memories[step] for trajectory, _, step, _ in chosen],
            [probe["masked_chunk"] for *_, probe in chosen],
            samples=1,
            templates=context.templates,
            budgets=context.budgets,
            temperature=config.temperature,
            top_p=config.top_p,
            seed=config.seed,
            steps=[step for _, _, step, _ in chosen],
        )
        for (trajectory, example, step, probe), (turn,) in zip(chosen, recall_turns, strict=True):
            prediction = extract_boxed(turn.reply)
            records.append(
                {
                    "id": example.id,
                    "length": RECALL,
                    "sample": trajectory.sample_index,
                    "example_key": example.key,
                    "answer": probe["target"],
                    "answers": [probe["target"]],
                    "prediction": prediction,
                    **score_answer(prediction, [probe["target"]]),
                    "n_tokens": example.n_tokens,
                    "input_hash": example.input_hash,
                    "recall_step": step,
                    "probe_chunk_index": int(probe["chunk_index"]),
                    "turns": [
                        {
                            "kind": "recall",
                            "step": step,
                            "memory": trajectory.memories[step],
                            "completion": turn.reply,
                        }
                    ],
                }
            )
        return records
