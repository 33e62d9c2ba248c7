"""`validate_dataset`: check every row of every shard of every config of a dataset folder.

Three layers, each reported with the file, row and episode id it concerns:
1. the record model (`MaskedReconstructionEpisode`: types, required fields, counts that agree);
2. the one judge of episode rules (`memtrain_data.episodes.judge.judge_episode`), the very
   function the builder runs before writing an episode: answers and masked forms not visible,
   no partial mask or case mismatch (what each [MASK] replaced is recovered by aligning the
   chunks with the pool passages), probe targets masked, budgets, no passage of another
   split; the same pass adds up the quality report (`report.quality`, `publish.quality`);
3. folder rules that no single record can check: the shard's split matches the record's, ids
   are unique within a config, no page is a pivot in two splits, the card declares every config,
   every split the card declares has shards, and they hold the episode counts the card declares
   (shard names' `-of-NNNNN` count build tasks, some of which may write no shard of a split).

Token counts: every chunk must have at least as many tokens as whitespace-separated words
(true of the BPE and SentencePiece tokenizers memtrain uses, so a chunk grown after the build
is caught cheaply); `recount_tokens` re-counts every chunk with the record's tokenizer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memtrain_data.episodes.judge import JudgeSettings, judge_episode, split_violations
from memtrain_data.progress import NullProgress, ProgressReporter
from memtrain_data.publish.layout import README_NAME, find_configs, read_stats, resolve_dataset_folder
from memtrain_data.publish.quality import (
    DEFAULT_MAX_ALIGNED,
    QualityAccumulator,
    QualitySettings,
    episode_quality,
    load_alias_forms,
    load_pool_texts,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (file relative to the folder, row index, episode id) and why."""

    file: str
    row: int | None
    episode_id: str | None
    reason: str

    @property
    def code(self) -> str:
        """The reason's code: the text before the first colon (e.g. "answer_leak", "schema")."""
        return self.reason.split(":", 1)[0]


@dataclass
class ValidationReport:
    """What `validate_dataset` checked and what it found; `ok` only when nothing is wrong."""

    source: str
    folder: Path
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    quality: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_checked(self) -> int:
        return sum(n for splits in self.rows.values() for n in splits.values())

    @property
    def bad_rows(self) -> int:
        return len({(p.file, p.row) for p in self.problems if p.row is not None})

    def counts_by_code(self) -> dict[str, int]:
        return dict(Counter(p.code for p in self.problems).most_common())


def _schema_problems(parquet_schema: Any, relative: str) -> list[Problem]:
    from memtrain_data.features import episode_arrow_schema

    expected = episode_arrow_schema()
    problems: list[Problem] = []
    for column in expected:
        if column.name not in parquet_schema.names:
            problems.append(Problem(relative, None, None, f"schema: column {column.name!r} is missing"))
        elif not parquet_schema.field(column.name).type.equals(column.type):
            problems.append(Problem(relative, None, None, f"schema: column {column.name!r} is {parquet_schema.field(column.name).type}, expected {column.type}"))
    problems += [Problem(relative, None, None, f"schema: unexpected column {name!r}") for name in parquet_schema.names if name not in expected.names]
    return problems


def _model_reason(exc: Any) -> str:
    """The first Pydantic error as 'schema: field.path: message' (and how many more)."""
    errors = exc.errors()
    first = errors[0]
    location = ".".join(str(part) for part in first.get("loc", ())) or "record"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"schema: {location}: {first.get('msg', 'invalid')}{more}"


def validate_dataset(
    source: str | Path,
    *,
    progress: ProgressReporter | None = None,
    batch_size: int = 256,
    recount_tokens: bool = False,
    max_aligned: int = DEFAULT_MAX_ALIGNED,
) -> ValidationReport:
    """Validate a dataset folder, or a Hub dataset id (downloaded with `snapshot_download`).

    `recount_tokens` re-counts every chunk with its record's tokenizer (exact, slower); without
    it each chunk is checked against a lower bound (its word count). The first `max_aligned`
    episodes of each split are aligned with the pool for the mask checks (their passages are
    held in memory); the report says how many were.
    """
    import pyarrow.parquet as pq

    progress = progress or NullProgress()
    folder = resolve_dataset_folder(source)
    report = ValidationReport(source=str(source), folder=folder)
    configs = find_configs(folder)
    if not configs:
        report.problems.append(Problem("", None, None, f"layout: no episode shards (<config>/<split>-*.parquet) in {folder}"))
        return report
    stats = read_stats(folder)
    card_problems, declared_counts = _card_problems(folder, configs)
    report.problems += card_problems
    counter = _TokenCounter() if recount_tokens else None

    total_shards = sum(len(paths) for splits in configs.values() for paths in splits.values())
    progress.start("validate", total=total_shards)
    for config_name, splits in configs.items():
        checker = _config_checker(folder, splits, stats.get("configs", {}).get(config_name, {}), max_aligned, counter)
        report.rows[config_name] = {}
        for split, paths in splits.items():
            report.rows[config_name][split] = 0
            for path in paths:
                relative = path.relative_to(folder).as_posix()
                try:
                    parquet = pq.ParquetFile(path)
                except Exception as exc:  # pyarrow raises several types for unreadable files
                    report.problems.append(Problem(relative, None, None, f"unreadable: {exc}"))
                    progress.advance("validate")
                    continue
                report.problems += _schema_problems(parquet.schema_arrow, relative)
                row_index = 0
                for batch in parquet.iter_batches(batch_size=batch_size):
                    for row in batch.to_pylist():
                        report.problems += checker.check(row, split, relative, row_index)
                        row_index += 1
                report.rows[config_name][split] += row_index
                progress.advance("validate")
        report.problems += checker.split_problems(config_name)
        report.quality[config_name] = checker.quality_summary()
        for split, declared in declared_counts.get(config_name, {}).items():
            found = report.rows[config_name].get(split, 0)
            if declared != found:
                report.problems.append(Problem(README_NAME, None, None, f"card: config {config_name!r} split {split!r} declares {declared:,} episodes, the shards hold {found:,}"))
    progress.finish("validate")
    return report


def _sample_needs(splits: dict[str, list[Path]], max_aligned: int) -> tuple[set[str], set[str]]:
    """Passage ids and answer pages (when recorded) of the first `max_aligned` episodes of each split."""
    import pyarrow.parquet as pq

    ids: set[str] = set()
    pages: set[str] = set()
    for paths in splits.values():
        left = max_aligned
        for path in paths:
            if left <= 0:
                break
            try:
                parquet = pq.ParquetFile(path)
                columns = ["passage_ids"] + (["answer_page_title"] if "answer_page_title" in parquet.schema_arrow.names else [])
                table = parquet.read(columns=columns).slice(0, left)
            except Exception:  # unreadable or without the column: reported by the row checks
                continue
            for passage_ids in table.column("passage_ids").to_pylist():
                ids.update(p for p in passage_ids or [] if isinstance(p, str))
            if "answer_page_title" in columns:
                pages.update(p for p in table.column("answer_page_title").to_pylist() if isinstance(p, str) and p)
            left -= table.num_rows
    return ids, pages


class _TokenCounter:
    """Token counts with each record's own tokenizer, loaded once per tokenizer name."""

    def __init__(self) -> None:
        self._counters: dict[str, Callable[[str], int] | str] = {}

    def for_tokenizer(self, name: str) -> Callable[[str], int] | str:
        """A counting function, or the one-line reason the tokenizer cannot be loaded."""
        if name not in self._counters:
            from memtrain_data.errors import MemtrainError
            from memtrain_data.models import load_tokenizer

            try:
                tokenizer = load_tokenizer(name)
            except MemtrainError as exc:
                self._counters[name] = str(exc)
            else:
                self._counters[name] = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
        return self._counters[name]


@dataclass
class _ConfigChecker:
    """Checks the rows of one config one by one, remembering what the folder rules need."""

    settings: JudgeSettings
    counter: _TokenCounter | None = None
    quality: QualityAccumulator | None = None
    pool_texts: dict[str, str] | None = None
    alias_forms: dict[str, set[str]] | None = None
    aligned: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    pivots: list[tuple[str, str]] = field(default_factory=list)
    pivot_rows: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)

    def check(self, row: dict[str, Any], split: str, file: str, row_index: int) -> list[Problem]:
        """Problems of one row: id unique, split matches the shard, record model, episode rules."""
        from pydantic import ValidationError

        from memtrain_data.episodes.splits import page_id_of
        from memtrain_data.records import MaskedReconstructionEpisode

        problems: list[Problem] = []
        episode_id = row.get("id") if isinstance(row.get("id"), str) else None
        if episode_id is not None:
            if episode_id in self.first_seen:
                other_file, other_row = self.first_seen[episode_id]
                problems.append(Problem(file, row_index, episode_id, f"duplicate_id: also {other_file} row {other_row}"))
            else:
                self.first_seen[episode_id] = (file, row_index)
        if row.get("split") != split:
            problems.append(Problem(file, row_index, episode_id, f"wrong_split: record says {row.get('split')!r}, shard is {split!r}"))
        # Every row counts towards the aligned sample, as `_sample_needs` counted it.
        within_sample = self.aligned[split] < (self.quality.max_aligned if self.quality is not None else 0)
        self.aligned[split] += 1
        try:
            episode = MaskedReconstructionEpisode.model_validate(row)
        except ValidationError as exc:
            return [*problems, Problem(file, row_index, episode_id, _model_reason(exc))]
        count_tokens = self.counter.for_tokenizer(episode.tokenizer) if self.counter is not None else None
        if isinstance(count_tokens, str):
            problems.append(Problem(file, row_index, episode_id, f"token_count: cannot recount: {count_tokens}"))
            count_tokens = None
        originals = None
        missing: list[str] = []
        if within_sample and self.pool_texts is not None:
            missing = [pid for pid in episode.passage_ids if pid not in self.pool_texts]
            if not missing:
                originals = [self.pool_texts[pid] for pid in episode.passage_ids]
        verdict = judge_episode(episode, self.settings, originals=originals, count_tokens=count_tokens)
        problems += [Problem(file, row_index, episode_id, violation) for violation in verdict.violations]
        try:
            page_id_of(episode.pivot_passage_id)
        except ValueError:
            pass  # the judge's `pivot_id` rule reported it
        else:
            self.pivots.append((split, episode.pivot_passage_id))
            self.pivot_rows.setdefault(episode.pivot_passage_id, []).append((file, row_index, episode.id))
        if self.quality is not None:
            quality = episode_quality(row, verdict, self.alias_forms)
            if self.pool_texts is not None and not within_sample:
                quality.unaligned_reason = "beyond the aligned sample (max_aligned)"
            elif missing:
                quality.unaligned_reason = f"{len(missing)} passages not in the pool (e.g. {missing[0]})"
            self.quality.add(quality, episode.passage_ids.index(episode.pivot_passage_id))
        return problems

    def quality_summary(self) -> dict[str, Any]:
        return self.quality.summary() if self.quality is not None else {}

    def split_problems(self, config_name: str) -> list[Problem]:
        return _split_problems(config_name, self.pivots, self.pivot_rows)


def _split_problems(config_name: str, pivots: list[tuple[str, str]], pivot_rows: dict[str, list[tuple[str, int, str]]]) -> list[Problem]:
    """Pages that are pivots in two splits, reported on every row that pivots on such a page."""
    from memtrain_data.episodes.splits import page_id_of

    problems: list[Problem] = []
    for violation in split_violations(pivots):
        # "split_leak: page 123 is a pivot in test, train": name the rows involved.
        page = violation.split("page ", 1)[1].split(" ", 1)[0]
        rows = [(file, row, eid) for pid, entries in pivot_rows.items() if str(page_id_of(pid)) == page for file, row, eid in entries]
        if not rows:
            problems.append(Problem(config_name, None, None, violation))
        problems += [Problem(file, row, eid, violation) for file, row, eid in rows]
    return problems


def _card_problems(folder: Path, configs: dict[str, dict[str, list[Path]]]) -> tuple[list[Problem], dict[str, dict[str, int]]]:
    """The README's YAML header must declare every config folder, and each declared config and split must have shards.

    Also returns the episode counts the header declares ({config: {split: num_examples}}), to compare with the rows read.
    """
    readme = folder / README_NAME
    if not readme.is_file():
        return [Problem(README_NAME, None, None, "card: README.md is missing, so the Hub and load_dataset cannot see the configs")], {}
    from huggingface_hub import DatasetCard

    try:
        data = DatasetCard.load(readme).data
    except Exception as exc:  # a broken YAML header surfaces as several exception types
        return [Problem(README_NAME, None, None, f"card: the YAML header cannot be read: {exc}")], {}
    declared = {entry.get("config_name"): entry for entry in (data.get("configs") or []) if isinstance(entry, dict)}
    problems = [Problem(README_NAME, None, None, f"card: config {name!r} has shards but is not declared in the YAML header") for name in configs if name not in declared]
    problems += [Problem(README_NAME, None, None, f"card: config {name!r} is declared but has no shards") for name in declared if name not in configs]
    for name, entry in declared.items():
        if name not in configs:
            continue
        data_files = [item for item in entry.get("data_files") or [] if isinstance(item, dict)]
        declared_splits = {item.get("split") for item in data_files}
        for split in configs[name]:
            if split not in declared_splits:
                problems.append(Problem(README_NAME, None, None, f"card: split {split!r} of config {name!r} is not in its data_files"))
        for item in data_files:
            if item.get("split") not in configs[name]:
                problems.append(Problem(README_NAME, None, None, f"card: split {item.get('split')!r} of config {name!r} is declared ({item.get('path')}) but no shard of it exists"))
    infos = data.get("dataset_info") or []
    counts: dict[str, dict[str, int]] = {}
    for info in [infos] if isinstance(infos, dict) else infos:
        if isinstance(info, dict):
            name = info.get("config_name") or "default"
            counts[name] = {s["name"]: s["num_examples"] for s in info.get("splits") or [] if isinstance(s, dict) and isinstance(s.get("num_examples"), int)}
    return problems, counts


def config_quality(folder: Path, config_name: str, *, max_aligned: int = DEFAULT_MAX_ALIGNED) -> dict[str, Any]:
    """The quality report of one config of a local folder, as `validate --report` computes it (for the card)."""
    import pyarrow.parquet as pq

    splits = find_configs(folder).get(config_name) or {}
    checker = _config_checker(folder, splits, read_stats(folder).get("configs", {}).get(config_name, {}), max_aligned)
    for split, paths in splits.items():
        for path in paths:
            relative = path.relative_to(folder).as_posix()
            row_index = 0
            for batch in pq.ParquetFile(path).iter_batches():
                for row in batch.to_pylist():
                    checker.check(row, split, relative, row_index)
                    row_index += 1
    return checker.quality_summary()


def _config_checker(
    folder: Path, splits: dict[str, list[Path]], config_stats: dict[str, Any], max_aligned: int, counter: _TokenCounter | None = None
) -> _ConfigChecker:
    """A checker for one config: the judge's settings from stats.json, the pool passages of the aligned sample."""
    passage_ids, answer_pages = _sample_needs(splits, max_aligned)
    pool_texts = load_pool_texts(folder, passage_ids)
    quality = QualityAccumulator(settings=QualitySettings.from_stats(config_stats), pool_available=pool_texts is not None, max_aligned=max_aligned)
    return _ConfigChecker(
        settings=JudgeSettings.from_stats(config_stats),
        counter=counter,
        quality=quality,
        pool_texts=pool_texts,
        alias_forms=load_alias_forms(folder, answer_pages) if answer_pages else None,
    )
