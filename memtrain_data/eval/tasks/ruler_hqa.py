"""RULER-HotpotQA as MemAgent released it: the benchmark of MemAgent's and MemTrain's tables.

The released files are `eval_{N}.json`, N = 50, 100, 200 … 6400 documents per context (the
paper's "7K … 896K" are labels of these counts). Each is a JSON list (JSON lines are read too)
of records ``{context, input, answers, num_docs, index}``: `context` holds numbered
"Document i:" blocks, already padded and shuffled. `--data` is one such file, a folder of them,
or a Hub dataset id holding them. Contexts are used as they are; only their token count is
measured, in the evaluated model's tokenizer, to label each length.

Records that cannot be used (not an object, `context`/`input` not text, `answers` not a
non-empty list of strings, a repeated `index`) are skipped and counted; a file whose records
have several `num_docs` is scored per value, and said in one line.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from memtrain_data.agent.budgets import count_tokens, split_into_chunks
from memtrain_data.errors import ConfigError, InputError, first_line
from memtrain_data.eval.config import EvalConfig, document_count
from memtrain_data.eval.registry import register_task
from memtrain_data.eval.tasks.base import EvalExample, EvalTask, by_document_count, input_hash
from memtrain_data.progress import ProgressReporter

logger = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^eval_(\d+)\.jsonl?$")
_DOCUMENT_HEADER = re.compile(r"^Document \d+:$", re.MULTILINE)
_RAW_HOTPOTQA_KEYS = frozenset({"supporting_facts", "_id"})


@dataclass
class RulerRecord:
    """One question of a RULER-HotpotQA file."""

    index: str
    question: str
    context: str
    answers: list[str]
    num_docs: int
    source: str  # file name, for messages


def locate_ruler_files(data: str) -> list[Path]:
    """The `eval_{N}.json` files `--data` names: a file, a folder of them, or a Hub dataset id."""
    path = Path(data).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file() and _FILE_NAME.match(p.name)]
        if not files:
            raise InputError(
                f"{path}: no eval_{{N}}.json files (the layout of MemAgent's released RULER-HotpotQA)"
            )
        return sorted(files, key=lambda p: int(_FILE_NAME.match(p.name).group(1)))  # type: ignore[union-attr]
    if data.startswith((".", "/", "~")) or path.suffix in {".json", ".jsonl"} or data.count("/") != 1:
        raise InputError(
            f"ruler-hqa data not found: {data} (a file, a folder of eval_{{N}}.json, or a Hub dataset id)"
        )
    return _download(data)


def _download(repo_id: str) -> list[Path]:
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(
            repo_id, repo_type="dataset", allow_patterns=["eval_*.json", "eval_*.jsonl", "*/eval_*.json"]
        )
    except Exception as exc:  # offline, unknown repo, no access: all mean "cannot get the files"
        message = first_line(exc)
        raise InputError(f"cannot download Hub dataset '{repo_id}': {message}") from None
    files = sorted(p for p in Path(folder).rglob("eval_*.json*") if _FILE_NAME.match(p.name))
    if not files:
        raise InputError(f"Hub dataset '{repo_id}' holds no eval_{{N}}.json files")
    return sorted(files, key=lambda p: int(_FILE_NAME.match(p.name).group(1)))  # type: ignore[union-attr]


def _read_items(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    try:
        items = json.loads(text)
    except ValueError as first_error:
        try:  # JSON lines, which MemAgent's loader (datasets' json builder) also reads
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            raise InputError(
                f"{path}: neither JSON nor JSON lines ({first_line(first_error)})"
            ) from None
    if not isinstance(items, list):
        raise InputError(
            f"{path}: expected a list of records {{context, input, answers, num_docs, index}} "
            "(MemAgent's RULER-HotpotQA layout)"
        )
    return items


def read_ruler_file(path: Path, counts: Counter[str]) -> list[RulerRecord]:
    """The usable records of one file; skipped ones are counted in `counts` by reason."""
    items = _read_items(path)
    dicts = [item for item in items if isinstance(item, dict)]
    if dicts and all(set(item) >= _RAW_HOTPOTQA_KEYS for item in dicts):
        raise InputError(f"{path}: this is raw HotpotQA (supporting_facts, _id): use --task hotpotqa")
    match = _FILE_NAME.match(path.name)
    file_docs = int(match.group(1)) if match else None
    records: list[RulerRecord] = []
    for position, item in enumerate(items):
        reason = _problem(item)
        if reason:
            counts[f"skipped_{reason}"] += 1
            logger.warning("%s: record %d skipped (%s)", path, position, reason)
            continue
        num_docs = item.get("num_docs")
        if not isinstance(num_docs, int) or isinstance(num_docs, bool) or num_docs < 1:
            # Older files lack it: count the "Document i:" headers, as the label would.
            num_docs = len(_DOCUMENT_HEADER.findall(item["context"])) or file_docs or 0
            counts["num_docs_inferred"] += 1
        records.append(
            RulerRecord(
                index=str(item.get("index", position)),
                question=item["input"].strip(),
                context=item["context"].strip(),
                answers=list(item["answers"]),
                num_docs=int(num_docs),
                source=path.name,
            )
        )
    return records


def _problem(item: Any) -> str | None:
    """Why a record cannot be used, as a counter name; None when it can."""
    if not isinstance(item, dict):
        return "not_an_object"
    for name in ("context", "input"):
        if name not in item:
            return f"missing_{name}"
        if not isinstance(item[name], str) or not item[name].strip():
            return f"{name}_not_text"
    if "answers" not in item:
        return "missing_answers"
    answers = item["answers"]
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
        return "answers_not_a_list_of_strings"
    return None


@register_task("ruler-hqa")
class RulerHotpotQATask(EvalTask):
    """MemAgent's released RULER-HotpotQA: em / f1 / sub_em / accuracy per document count."""

    keyed_by_length = True
    default_protocol = "memagent"
    # The paper's length labels of the released files ("7K … 896K"): document counts.
    paper_labels: ClassVar[dict[str, int]] = {
        "7k": 50, "14k": 100, "28k": 200, "56k": 400, "112k": 800, "224k": 1600, "448k": 3200, "896k": 6400,
    }  # fmt: skip

    @classmethod
    def documents_of(cls, label: str) -> int:
        """The documents of a --lengths label: a count ('50', '50docs') or the paper's label ('7k' = 50).

        >>> [RulerHotpotQATask.documents_of(label) for label in ("100", "28k", "400docs")]
        [100, 200, 400]
        """
        text = label.strip().lower()
        if text in cls.paper_labels:
            return cls.paper_labels[text]
        count = document_count(text) or (int(text) if text.isdigit() and int(text) > 0 else None)
        if count is None:
            raise ConfigError(
                f"ruler-hqa length '{label}' is not a document count (50, 100 … 6400) "
                f"nor a paper label ({', '.join(cls.paper_labels)})"
            )
        return count

    @classmethod
    def check_length(cls, label: str) -> None:
        cls.documents_of(label)

    @classmethod
    def metrics_order(cls, keys: set[str], lengths: list[str] | None) -> list[str]:
        # Keys are the files' document counts, whatever labels --lengths used to pick them.
        return by_document_count(keys)

    @classmethod
    def length_label(cls, key: str, values: dict[str, Any]) -> str:
        return f"{key} docs · {values.get('mean_tokens', 0) / 1000:.1f}k tok"

    def __init__(self) -> None:
        super().__init__()
        self.records: list[RulerRecord] | None = None

    def validate_inputs(self, config: EvalConfig) -> None:
        if not config.data:
            raise InputError(
                "--data is required for --task ruler-hqa: an eval_{N}.json file, a folder of them "
                "(MemAgent's released RULER-HotpotQA), or a Hub dataset id holding them"
            )
        files = locate_ruler_files(config.data)
        wanted = {self.documents_of(label) for label in config.lengths} if config.lengths else None
        counts: Counter[str] = Counter()
        records: list[RulerRecord] = []
        for path in files:
            match = _FILE_NAME.match(path.name)
            if wanted is not None and match and int(match.group(1)) not in wanted:
                continue  # a file of a length not asked for is not even read
            file_records = read_ruler_file(path, counts)
            by_docs = Counter(record.num_docs for record in file_records)
            if len(by_docs) > 1:
                listing = ", ".join(f"{docs} docs: {n}" for docs, n in sorted(by_docs.items()))
                logger.warning("%s: records have %d different num_docs (%s); each is scored as its own length",
                               path.name, len(by_docs), listing)  # fmt: skip
                counts["files_with_mixed_num_docs"] += 1
            records.extend(file_records)
        if wanted is not None:
            records = [record for record in records if record.num_docs in wanted]
            missing = sorted(wanted - {record.num_docs for record in records})
            if missing:
                raise InputError(
                    f"{config.data}: no records with {', '.join(map(str, missing))} documents "
                    f"(asked for by --lengths {','.join(config.lengths or [])})"
                )
        seen: set[tuple[int, str]] = set()
        unique: list[RulerRecord] = []
        for record in records:
            if (record.num_docs, record.index) in seen:
                counts["skipped_duplicate_index"] += 1
                continue
            seen.add((record.num_docs, record.index))
            unique.append(record)
        if not unique:
            skipped = sum(n for name, n in counts.items() if name.startswith("skipped_"))
            raise InputError(f"{config.data}: no usable RULER-HotpotQA records ({skipped} skipped)")
        self.records = unique
        for name, n in counts.items():
            self.count(name, n)
        self.fingerprints = {f"{record.num_docs}/{record.index}": _record_hash(record) for record in unique}

    def load_examples(
        self, config: EvalConfig, tokenizer: Any | None, progress: ProgressReporter
    ) -> list[EvalExample]:
        if self.records is None:
            self.validate_inputs(config)
        assert self.records is not None
        skipped = {name: n for name, n in self.load_counts.items() if name.startswith("skipped_")}
        if skipped:
            progress.log(
                f"ruler-hqa: skipped {sum(skipped.values())} unusable record(s): "
                + ", ".join(f"{name.removeprefix('skipped_')} {n}" for name, n in sorted(skipped.items()))
            )
        by_docs: dict[int, list[RulerRecord]] = defaultdict(list)
        for record in self.records:
            by_docs[record.num_docs].append(record)
        wanted_ids = set(config.ids) if config.ids else None
        selected: list[RulerRecord] = []
        for docs in sorted(by_docs):
            group = [r for r in by_docs[docs] if wanted_ids is None or r.index in wanted_ids]
            selected.extend(group[: config.limit] if config.limit else group)
        if wanted_ids is not None:
            unknown = wanted_ids - {record.index for record in self.records}
            if unknown:
                raise InputError(f"--ids not in {config.data}: {', '.join(sorted(unknown)[:5])}")
        examples: list[EvalExample] = []
        stage = "contexts"
        progress.start(stage, total=len(selected))
        for record in selected:
            examples.append(
                EvalExample(
                    id=record.index,
                    length=str(record.num_docs),
                    problem=record.question,
                    context=record.context,
                    chunks=split_into_chunks(tokenizer, record.context, config.chunk_tokens or 1),
                    answers=record.answers,
                    n_tokens=count_tokens(tokenizer, record.context),
                    extra={"num_docs": record.num_docs, "file": record.source},
                    input_hash=_record_hash(record),
                )
            )
            progress.advance(stage)
        progress.finish(stage)
        return examples


def _record_hash(record: RulerRecord) -> str:
    return input_hash(record.question, record.context, record.answers)
