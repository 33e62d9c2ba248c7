"""Episode quality measured from the written files, as a reviewer would read them.

Every verdict comes from the one judge (`memtrain_data.episodes.judge.judge_episode`), the
same the builder runs before writing an episode: for each episode the original document is
rebuilt from the passage pool (`passage_ids` → `OUT/pool/passages-*.parquet`) and the masked
chunks are aligned against it, so what each `[MASK]` replaced falls out as the gap. This module
reads the pool and adds the verdicts up per config and split (partial masks, case mismatches,
visible forms, cross-split documents, composition); `memtrain validate --report` prints the
result and the dataset card shows the same figures.

Records written before `masked_forms` / `answer_page_title` existed are read with `.get()`.
Alignment needs the pool; without it (a Hub download) only the rules that read the records
alone run, and the report says so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memtrain_data.episodes.judge import MaskedSpan, Verdict, visible_forms
from memtrain_data.publish.layout import POOL_DIR
from memtrain_data.records import SPLITS

# Episodes per config aligned against the pool (the pool texts they need are held in memory).
DEFAULT_MAX_ALIGNED = 5_000


@dataclass(frozen=True)
class QualitySettings:
    """What the report needs from the build: the split fractions the judge checked, the planned passages per document."""

    validation_fraction: float | None = None
    test_fraction: float | None = None
    planned_passages: int | None = None

    @classmethod
    def from_stats(cls, config_stats: dict[str, Any]) -> QualitySettings:
        from memtrain_data.episodes.judge import JudgeSettings

        build = config_stats.get("build") or {}
        related = build.get("related_passages", config_stats.get("related_passages"))
        random = build.get("random_passages", config_stats.get("random_passages"))
        planned = 1 + related + random if isinstance(related, int) and isinstance(random, int) else None
        judged = JudgeSettings.from_stats(config_stats)  # the fractions the judge itself reads
        return cls(validation_fraction=judged.validation_fraction, test_fraction=judged.test_fraction, planned_passages=planned)

    @property
    def fractions_recorded(self) -> bool:
        return self.validation_fraction is not None and self.test_fraction is not None


@dataclass
class EpisodeQuality:
    """One episode as the report counts it: facts of the record and the judge's verdict on it."""

    split: str
    answers: list[str]
    answer_label: str
    masked_occurrences: int
    n_tokens: int
    n_passages: int
    n_related: int
    title_answer: bool
    verdict: Verdict = field(default_factory=Verdict)
    alias_table_visible: list[str] | None = None
    unaligned_reason: str | None = None

    @property
    def spans(self) -> list[MaskedSpan] | None:
        return self.verdict.spans

    @property
    def visible(self) -> list[str]:
        return self.verdict.visible

    @property
    def cross_split_pages(self) -> list[int]:
        return self.verdict.cross_split_pages

    @property
    def partial_masks(self) -> list[MaskedSpan]:
        return self.verdict.partial_masks

    @property
    def case_mismatches(self) -> list[MaskedSpan]:
        return self.verdict.case_mismatches

    def masks_outside_pivot(self, pivot_index: int) -> int:
        return self.verdict.masks_outside_pivot(pivot_index)


def _title_key(text: str) -> str:
    text = re.sub(r"\s*\([^)]*\)$", "", text.strip())  # "Mercury (planet)" -> "Mercury"
    text = text[4:] if text[:4] in {"the ", "The "} else text
    return text.casefold()


def episode_quality(row: dict[str, Any], verdict: Verdict, alias_forms: dict[str, set[str]] | None = None) -> EpisodeQuality:
    """The report's view of one record (a dict as read from parquet) and its verdict.

    `alias_forms` (from `load_alias_forms`) adds an informational count: forms of the answer's
    page by the alias table that stay visible (only for records with `answer_page_title`).
    """
    answers = [a for a in row.get("answers") or [] if isinstance(a, str)]
    answer_page = row.get("answer_page_title")
    pivot_title = str(row.get("pivot_title") or "")
    title_answer = bool(answers) and _title_key(answers[0]) == _title_key(pivot_title)
    if isinstance(answer_page, str) and answer_page:
        title_answer = title_answer or _title_key(answer_page) == _title_key(pivot_title)
    quality = EpisodeQuality(
        split=str(row.get("split")),
        answers=answers,
        answer_label=str(row.get("answer_label")),
        masked_occurrences=int(row.get("masked_occurrences") or 0),
        n_tokens=int(row.get("n_tokens") or 0),
        n_passages=len(row.get("passage_ids") or []),
        n_related=len(row.get("related_passage_ids") or []),
        title_answer=title_answer,
        verdict=verdict,
        unaligned_reason=verdict.unaligned_reason,
    )
    if alias_forms is not None and isinstance(answer_page, str) and answer_page:
        quality.alias_table_visible = visible_forms(list(row.get("chunks") or []), alias_forms.get(answer_page, set()))
    return quality


# ---------------------------------------------------------------------------------------------
# Reading the pool


def load_pool_texts(folder: Path, passage_ids: Iterable[str]) -> dict[str, str] | None:
    """Texts of the given passages from `OUT/pool/passages-*.parquet`; None when the folder has no pool."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    shards = sorted((folder / POOL_DIR).glob("passages-*.parquet"))
    if not shards:
        return None
    wanted = pa.array(sorted(set(passage_ids)), type=pa.string())
    texts: dict[str, str] = {}
    for path in shards:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(columns=["id", "text"], batch_size=65_536):
            keep = pc.is_in(batch.column(0), value_set=wanted)
            chosen = batch.filter(keep)
            texts.update(zip(chosen.column(0).to_pylist(), chosen.column(1).to_pylist(), strict=True))
    return texts


def load_alias_forms(folder: Path, targets: Iterable[str], min_anchor_share: float = 0.5) -> dict[str, set[str]] | None:
    """Forms that name each target page by the pool's alias table (contract 1); None without a table.

    A redirect always names its target; a link anchor only when at least `min_anchor_share` of
    that anchor text's links go to the target ("United States" once linked to NASA does not).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    shards = sorted((folder / POOL_DIR).glob("aliases-*.parquet"))
    if not shards:
        return None
    table = ds.dataset([str(path) for path in shards], format="parquet")
    wanted = pa.array(sorted(set(targets)), type=pa.string())
    rows = table.to_table(columns=["target", "alias", "kind", "count"], filter=pc.field("target").isin(wanted)).to_pylist()
    aliases = pa.array(sorted({row["alias"] for row in rows}), type=pa.string())
    totals: Counter[str] = Counter()
    for row in table.to_table(columns=["alias", "kind", "count"], filter=pc.field("alias").isin(aliases) & (pc.field("kind") == "anchor")).to_pylist():
        totals[row["alias"]] += int(row["count"] or 0)
    forms: dict[str, set[str]] = {}
    for row in rows:
        share = int(row["count"] or 0) / totals[row["alias"]] if totals[row["alias"]] else 0.0
        if row["kind"] == "redirect" or share >= min_anchor_share:
            forms.setdefault(row["target"], set()).add(row["alias"])
    return forms


# ---------------------------------------------------------------------------------------------
# Per config: adding up


def _percentile(values: Sequence[int], q: float) -> int | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


@dataclass
class QualityAccumulator:
    """Adds up episode verdicts for one config, split by split."""

    settings: QualitySettings
    pool_available: bool
    max_aligned: int = DEFAULT_MAX_ALIGNED
    episodes: dict[str, list[EpisodeQuality]] = field(default_factory=dict)
    pivot_index: dict[str, list[int]] = field(default_factory=dict)

    def add(self, quality: EpisodeQuality, pivot_index: int) -> None:
        self.episodes.setdefault(quality.split, []).append(quality)
        self.pivot_index.setdefault(quality.split, []).append(pivot_index)

    def summary(self) -> dict[str, Any]:
        """The report for this config: settings used, then one block per split."""
        splits = {split: self._split_summary(split) for split in SPLITS if split in self.episodes}
        train = self.episodes.get("train", [])
        return {
            "settings": {
                "validation_fraction": self.settings.validation_fraction,
                "test_fraction": self.settings.test_fraction,
                "fractions_from": "stats.json" if self.settings.fractions_recorded else "not recorded in stats.json: cross-split passages not checked",
                "planned_passages": self.settings.planned_passages,
                "pool": "aligned against OUT/pool" if self.pool_available else "no pool in the folder: partial-mask and over-mask checks skipped",
            },
            "train_documents_with_validation_or_test_pages": sum(1 for q in train if q.cross_split_pages) if self.settings.fractions_recorded else None,
            "splits": splits,
        }

    def _split_summary(self, split: str) -> dict[str, Any]:
        episodes = self.episodes[split]
        n = len(episodes)
        aligned = [(q, p) for q, p in zip(episodes, self.pivot_index[split], strict=True) if q.spans is not None]
        unaligned = Counter(q.unaligned_reason.split(" (")[0] for q in episodes if q.unaligned_reason)
        spans = [span for q, _ in aligned for span in q.spans or []]
        outside = [q.masks_outside_pivot(p) for q, p in aligned]
        masks = [q.masked_occurrences for q in episodes]
        n_passages = [q.n_passages for q in episodes]
        planned = self.settings.planned_passages
        labels = Counter(q.answer_label for q in episodes)
        with_page = [q for q in episodes if q.alias_table_visible is not None]
        return {
            "episodes": n,
            "aligned_with_pool": len(aligned),
            "unaligned": dict(unaligned),
            "partial_mask_rate": _rate(sum(1 for q, _ in aligned if q.partial_masks), len(aligned)),
            "partial_masks": sum(1 for span in spans if span.partial),
            "partial_mask_examples": [f"{span.text!r}: {span.partial}" for span in spans if span.partial][:5],
            "visible_alias_rate": _rate(sum(1 for q in episodes if q.visible), n),
            "visible_alias_examples": sorted({form for q in episodes for form in q.visible})[:5],
            "alias_table_visible_rate": _rate(sum(1 for q in with_page if q.alias_table_visible), len(with_page)),
            "alias_table_visible_examples": sorted({form for q in with_page for form in q.alias_table_visible or []})[:5],
            "over_mask_rate": _rate(sum(1 for q, _ in aligned if q.case_mismatches), len(aligned)),
            "over_mask_examples": sorted({span.text for span in spans if span.case_mismatch})[:5],
            "title_answer_share": _rate(sum(1 for q in episodes if q.title_answer), n),
            "answer_labels": dict(labels.most_common()),
            "masked_occurrences": _distribution(masks),
            "masked_at_least_twice_share": _rate(sum(1 for m in masks if m >= 2), n),
            "masks_outside_pivot": _distribution(outside),
            "masked_outside_pivot_share": _rate(sum(1 for o in outside if o > 0), len(outside)),
            "top_up_share": _rate(sum(1 for p in n_passages if p > planned), n) if planned else None,
            "tokens_per_document": {"p10": _percentile([q.n_tokens for q in episodes], 10), "p50": _percentile([q.n_tokens for q in episodes], 50), "p90": _percentile([q.n_tokens for q in episodes], 90)},
            "passages_per_document": _distribution(n_passages),
            "related_share": round(sum(q.n_related / q.n_passages for q in episodes if q.n_passages) / n, 4) if n else None,
            "cross_split_documents": sum(1 for q in episodes if q.cross_split_pages) if self.settings.fractions_recorded else None,
        }


def _distribution(values: Sequence[int]) -> dict[str, float | int | None]:
    if not values:
        return {"min": None, "mean": None, "max": None}
    return {"min": min(values), "mean": round(sum(values) / len(values), 2), "max": max(values)}
