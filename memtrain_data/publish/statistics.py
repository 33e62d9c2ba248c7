"""Statistics of the episode shards actually written: per split counts, lengths and composition,
for `stats.json` and the card (never what the builder meant to write)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memtrain_data.errors import InputError


@dataclass
class _SplitAccumulator:
    """Per-split values gathered while reading shards, reduced to plain numbers at the end."""

    n_tokens: list[int] = field(default_factory=list)
    n_chunks: list[int] = field(default_factory=list)
    masked_occurrences: list[int] = field(default_factory=list)
    n_probes: list[int] = field(default_factory=list)
    n_passages: list[int] = field(default_factory=list)
    related_shares: list[float] = field(default_factory=list)
    answer_labels: Counter[str] = field(default_factory=Counter)
    probe_labels: Counter[str] = field(default_factory=Counter)
    shards: int = 0
    parquet_bytes: int = 0
    arrow_bytes: int = 0


def _summary(values: list[int]) -> dict[str, float | int]:
    if not values:
        return {"min": 0, "mean": 0.0, "max": 0, "total": 0}
    return {"min": min(values), "mean": round(sum(values) / len(values), 2), "max": max(values), "total": sum(values)}


def _percentiles(values: list[int]) -> dict[str, int | None]:
    """p10 / p50 / p90 by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return {"p10": None, "p50": None, "p90": None}
    return {f"p{q}": ordered[max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5))) - 1] for q in (10, 50, 90)}


def compute_split_statistics(
    shards: dict[str, list[Path]],
    *,
    planned_passages: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Statistics per split, read from the shards (only the small columns are loaded).

    Returns {split: {episodes, shards, parquet_bytes, arrow_bytes, tokens_per_episode,
    chunks_per_episode, masked_occurrences, probes_per_episode, passages_per_episode (each
    min/mean/max/total), tokens_percentiles (p10/p50/p90), related_share, top_up_share (share of
    documents with more passages than `planned_passages`), answer_labels, probe_labels}}. Rule
    verdicts (cross-split passages, partial masks, ...) are the quality report's, not computed here.
    """
    import pyarrow.parquet as pq

    columns = ["n_tokens", "chunk_n_tokens", "masked_occurrences", "answer_label", "recall_probes.list.element.label", "passage_ids", "related_passage_ids"]
    result: dict[str, dict[str, Any]] = {}
    for split, paths in shards.items():
        acc = _SplitAccumulator()
        for path in paths:
            try:
                parquet = pq.ParquetFile(path)
                table = parquet.read(columns=columns)
            except Exception as exc:  # pyarrow raises several types for unreadable files
                raise InputError(f"{path} is not a readable episode shard: {exc}") from None
            acc.shards += 1
            acc.parquet_bytes += path.stat().st_size
            acc.arrow_bytes += sum(parquet.metadata.row_group(i).total_byte_size for i in range(parquet.metadata.num_row_groups))
            acc.n_tokens += table.column("n_tokens").to_pylist()
            acc.n_chunks += [len(counts or []) for counts in table.column("chunk_n_tokens").to_pylist()]
            acc.masked_occurrences += table.column("masked_occurrences").to_pylist()
            acc.answer_labels.update(table.column("answer_label").to_pylist())
            for probes in table.column("recall_probes").to_pylist():
                probes = probes or []
                acc.n_probes.append(len(probes))
                acc.probe_labels.update(probe["label"] for probe in probes)
            for passage_ids, related in zip(table.column("passage_ids").to_pylist(), table.column("related_passage_ids").to_pylist(), strict=True):
                passage_ids = passage_ids or []
                acc.n_passages.append(len(passage_ids))
                acc.related_shares.append(len(related or []) / len(passage_ids) if passage_ids else 0.0)
        result[split] = {
            "episodes": len(acc.n_tokens),
            "shards": acc.shards,
            "parquet_bytes": acc.parquet_bytes,
            "arrow_bytes": acc.arrow_bytes,
            "tokens_per_episode": _summary(acc.n_tokens),
            "chunks_per_episode": _summary(acc.n_chunks),
            "masked_occurrences": _summary(acc.masked_occurrences),
            "probes_per_episode": _summary(acc.n_probes),
            "passages_per_episode": _summary(acc.n_passages),
            "tokens_percentiles": _percentiles(acc.n_tokens),
            "related_share": round(sum(acc.related_shares) / len(acc.related_shares), 4) if acc.related_shares else None,
            "top_up_share": round(sum(1 for n in acc.n_passages if n > planned_passages) / len(acc.n_passages), 4) if planned_passages and acc.n_passages else None,
            "answer_labels": dict(sorted(acc.answer_labels.items(), key=lambda item: (-item[1], item[0]))),
            "probe_labels": dict(sorted(acc.probe_labels.items(), key=lambda item: (-item[1], item[0]))),
        }
    return result


def episode_lengths(shards: dict[str, list[Path]]) -> dict[str, list[int]]:
    import pyarrow.parquet as pq

    return {split: [n for path in paths for n in pq.ParquetFile(path).read(columns=["n_tokens"]).column("n_tokens").to_pylist()] for split, paths in shards.items()}


def distinct_values(paths: list[Path], column: str) -> list[str]:
    import pyarrow.parquet as pq

    values: set[str] = set()
    for path in paths:
        values.update(str(v) for v in pq.ParquetFile(path).read(columns=[column]).column(column).to_pylist() if v is not None)
    return sorted(values)
