"""Long-context HotpotQA, RULER style (the downstream benchmark of MemAgent and MemTrain).

Each question keeps its gold (supporting) paragraphs and is padded with distractor paragraphs
up to each target length: first its own distractors, then paragraphs of the other questions
and, with `--pool`, the paragraphs of another HotpotQA file (MemAgent drew its distractors from
all distinct paragraphs of the whole dev set: pass `hotpot_dev_distractor_v1.json`) or the
passages of a memtrain passage pool, drawn with a seed derived from (seed, question id, length).
The paragraphs are shuffled and written as "Document i:" blocks. A length is a token count
(measured with the evaluated model's tokenizer, never exceeded; the prompt around the documents
is not counted) or a document count ("50docs", as MemAgent's files are made).

A context the distractors cannot fill to within 10% of its target is counted as `under_length`,
said in one line, and reported (and plotted) at its measured length.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtrain_data.agent.budgets import count_tokens, split_into_chunks
from memtrain_data.errors import InputError, first_line
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.registry import register_task
from memtrain_data.eval.tasks.base import EvalExample, EvalTask, input_hash
from memtrain_data.progress import ProgressReporter

logger = logging.getLogger(__name__)

# Distractors tried in a row without one fitting before a context counts as full.
_MAX_MISSES = 200
# A context shorter than this share of its token target is `under_length`.
_UNDER_LENGTH_SHARE = 0.9


@dataclass(frozen=True)
class Paragraph:
    title: str
    text: str

    def block(self, number: int) -> str:
        return f"Document {number}:\n{self.title}\n{self.text}"


@dataclass
class HotpotQuestion:
    id: str
    question: str
    answer: str
    gold: list[Paragraph]
    distractors: list[Paragraph]


def format_documents(paragraphs: list[Paragraph]) -> str:
    """The RULER-HotpotQA context: numbered "Document i:" blocks separated by blank lines."""
    return "\n\n".join(paragraph.block(number) for number, paragraph in enumerate(paragraphs, start=1))


def read_hotpotqa(path: Path) -> tuple[list[HotpotQuestion], int]:
    """Questions of an official HotpotQA JSON file (distractor setting) and how many were skipped."""
    if not path.is_file():
        raise InputError(f"HotpotQA file not found: {path}")
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON file ({first_line(exc)})") from None
    if not isinstance(items, list):
        raise InputError(
            f"{path}: expected a JSON list of HotpotQA questions (the official dev/train format)"
        )
    first = items[0] if items else None
    if (
        isinstance(first, dict)
        and {"context", "input", "answers"} <= set(first)
        and "supporting_facts" not in first
    ):
        raise InputError(
            f"{path} is in MemAgent's RULER-HotpotQA layout (eval_{{N}}.json): use --task ruler-hqa"
        )
    questions: list[HotpotQuestion] = []
    skipped = 0
    for position, item in enumerate(items):
        try:
            gold_titles = {str(fact[0]) for fact in item["supporting_facts"]}
            paragraphs = [
                Paragraph(str(title), "".join(sentences).strip()) for title, sentences in item["context"]
            ]
            question = HotpotQuestion(
                id=str(item["_id"]),
                question=str(item["question"]),
                answer=str(item["answer"]),
                gold=[p for p in paragraphs if p.title in gold_titles],
                distractors=[p for p in paragraphs if p.title not in gold_titles and p.text],
            )
        except (KeyError, TypeError, ValueError) as exc:
            skipped += 1
            logger.warning("%s: question %d is not in HotpotQA format (%s); skipped", path, position, exc)
            continue
        if not question.gold:
            skipped += 1
            logger.warning(
                "%s: question %s has no supporting paragraph in its context; skipped", path, question.id
            )
            continue
        questions.append(question)
    if not questions:
        raise InputError(f"{path}: no usable HotpotQA questions ({skipped} skipped)")
    return questions, skipped


def read_pool_paragraphs(folder: Path) -> list[Paragraph]:
    """Passages of a memtrain passage pool (`OUT/pool/*.parquet`, or a folder of such files)."""
    import pyarrow.parquet as pq

    files = sorted((folder / "pool").glob("*.parquet")) or sorted(folder.glob("*.parquet"))
    if not files:
        raise InputError(f"--pool {folder}: no passage pool found (expected {folder}/pool/*.parquet)")
    paragraphs: list[Paragraph] = []
    for file in files:
        table = pq.read_table(file, columns=["title", "text"])
        paragraphs.extend(
            Paragraph(str(title), str(text))
            for title, text in zip(
                table.column("title").to_pylist(), table.column("text").to_pylist(), strict=True
            )
            if text
        )
    return paragraphs


class _TokenCounter:
    """Token counts of paragraph blocks, computed once per paragraph."""

    def __init__(self, tokenizer: Any | None) -> None:
        self.tokenizer = tokenizer
        self.cache: dict[Paragraph, int] = {}

    def __call__(self, paragraph: Paragraph) -> int:
        if paragraph not in self.cache:
            # A two-digit number stands for the real one; the exact total is re-measured after.
            self.cache[paragraph] = count_tokens(self.tokenizer, paragraph.block(10) + "\n\n")
        return self.cache[paragraph]


def pad_context(
    question: HotpotQuestion,
    others: list[Paragraph],
    target_tokens: int,
    tokenizer: Any | None,
    rng: random.Random,
    counter: _TokenCounter | None = None,
) -> tuple[list[Paragraph], int]:
    """Gold paragraphs plus distractors up to `target_tokens`, shuffled; returns (paragraphs, tokens).

    The gold paragraphs are always kept, even when they alone exceed the target.
    """
    counter = counter or _TokenCounter(tokenizer)
    chosen = list(question.gold)
    used = sum(counter(p) for p in chosen)
    own = list(question.distractors)
    rng.shuffle(own)
    taken = {p.title for p in question.gold} | {p.title for p in question.distractors}
    misses = 0
    # Other questions' paragraphs in random order, drawn lazily so a large pool costs little.
    order = rng.sample(range(len(others)), len(others))
    candidates = own + [others[i] for i in order if others[i].title not in taken]
    for paragraph in candidates:
        cost = counter(paragraph)
        if used + cost <= target_tokens:
            chosen.append(paragraph)
            used += cost
            misses = 0
        else:
            misses += 1
            if misses >= _MAX_MISSES:
                break
    rng.shuffle(chosen)
    gold = set(question.gold)
    tokens = count_tokens(tokenizer, format_documents(chosen))
    # Block numbers and joins can make the real count a little larger: drop distractors until it fits.
    while tokens > target_tokens:
        removable = [i for i, p in enumerate(chosen) if p not in gold]
        if not removable:
            break
        # The overshoot is a few tokens: dropping the shortest distractor loses the least.
        chosen.pop(min(removable, key=lambda i: counter(chosen[i])))
        tokens = count_tokens(tokenizer, format_documents(chosen))
    return chosen, tokens


def pad_to_documents(
    question: HotpotQuestion, others: list[Paragraph], n_documents: int, rng: random.Random
) -> list[Paragraph]:
    """Gold paragraphs plus distractors up to `n_documents` paragraphs (fewer when the pool runs out), shuffled."""
    chosen = list(question.gold)
    own = list(question.distractors)
    rng.shuffle(own)
    taken = {p.title for p in question.gold} | {p.title for p in question.distractors}
    order = rng.sample(range(len(others)), len(others))
    candidates = own + [others[i] for i in order if others[i].title not in taken]
    chosen.extend(candidates[: max(n_documents - len(chosen), 0)])
    rng.shuffle(chosen)
    return chosen


def read_distractor_pool(path: Path) -> list[Paragraph]:
    """`--pool`: every paragraph of a HotpotQA JSON file, or the passages of a memtrain pool folder."""
    if path.is_file():
        questions, _ = read_hotpotqa(path)
        return [p for q in questions for p in q.gold + q.distractors]
    if path.is_dir():
        return read_pool_paragraphs(path)
    raise InputError(f"--pool not found: {path} (a HotpotQA JSON file or a memtrain output folder)")


def _looks_like_ruler_hqa(path: Path) -> bool:
    return path.is_dir() and any(path.glob("eval_*.json"))


@register_task("hotpotqa")
class HotpotQATask(EvalTask):
    """RULER-style long-context HotpotQA: EM / F1 / substring EM per context length."""

    keyed_by_length = True
    default_protocol = "memagent"
    default_lengths = ("7k", "14k", "28k")

    def __init__(self) -> None:
        super().__init__()
        self.questions: list[HotpotQuestion] | None = None
        self.others: list[Paragraph] = []
        self.pool_digest = ""

    def validate_inputs(self, config: EvalConfig) -> None:
        if not config.data:
            raise InputError(
                "--data is required for --task hotpotqa: a HotpotQA JSON file such as hotpot_dev_distractor_v1.json"
            )
        path = Path(config.data).expanduser()
        if path.exists() and _looks_like_ruler_hqa(path):
            raise InputError(
                f"{path} is in MemAgent's RULER-HotpotQA layout (eval_{{N}}.json): use --task ruler-hqa"
            )
        questions, skipped = read_hotpotqa(path)
        if skipped:
            self.count("malformed_questions_skipped", skipped)
        seen: set[str] = set()
        others: list[Paragraph] = []
        for question in questions:
            for paragraph in question.gold + question.distractors:
                if paragraph.title not in seen:
                    seen.add(paragraph.title)
                    others.append(paragraph)
        if config.pool is not None:
            pool = read_distractor_pool(Path(config.pool).expanduser())
            added = [p for p in pool if p.title not in seen and not seen.add(p.title)]  # type: ignore[func-returns-value]
            others.extend(added)
            self.count("pool_paragraphs_added", len(added))
        self.questions = questions
        self.others = others
        # The padding of every context depends on the whole distractor pool: it enters each hash.
        self.pool_digest = input_hash([(p.title, p.text) for p in others])
        self.fingerprints = {
            f"{label}/{question.id}": self._hash(question, label, config)
            for label in config.length_targets
            for question in questions
        }

    def _hash(self, question: HotpotQuestion, label: str, config: EvalConfig) -> str:
        return input_hash(
            question.id, question.question, question.answer, [(p.title, p.text) for p in question.gold],
            [(p.title, p.text) for p in question.distractors], self.pool_digest, config.length_targets[label],
        )  # fmt: skip

    def load_examples(
        self, config: EvalConfig, tokenizer: Any | None, progress: ProgressReporter
    ) -> list[EvalExample]:
        if self.questions is None:
            self.validate_inputs(config)
        assert self.questions is not None
        skipped = self.load_counts.get("malformed_questions_skipped", 0)
        if skipped:
            progress.log(f"hotpotqa: skipped {skipped} malformed question(s) of {config.data}")
        if config.pool is not None:
            progress.log(
                f"hotpotqa: {self.load_counts.get('pool_paragraphs_added', 0):,} distractor paragraphs "
                f"added from {config.pool}; {len(self.others):,} in all"
            )
        questions = self.questions
        if config.ids:
            wanted = set(config.ids)
            unknown = wanted - {q.id for q in questions}
            if unknown:
                raise InputError(f"--ids not in {config.data}: {', '.join(sorted(unknown)[:5])}")
            questions = [q for q in questions if q.id in wanted]
        selected = questions[: config.limit] if config.limit else questions
        counter = _TokenCounter(tokenizer)
        examples: list[EvalExample] = []
        under: dict[str, int] = {}
        stage = "contexts"
        progress.start(stage, total=len(selected) * len(config.length_targets))
        for label, (kind, target) in config.length_targets.items():
            for question in selected:
                rng = random.Random(f"{config.seed}/{question.id}/{target if kind == 'tokens' else label}")
                if kind == "tokens":
                    paragraphs, tokens = pad_context(question, self.others, target, tokenizer, rng, counter)
                    short = tokens < _UNDER_LENGTH_SHARE * target
                else:
                    paragraphs = pad_to_documents(question, self.others, target, rng)
                    tokens = count_tokens(tokenizer, format_documents(paragraphs))
                    short = len(paragraphs) < target
                context = format_documents(paragraphs)
                if kind == "tokens" and tokens > target:
                    self.count(f"gold_over_length_{label}")
                if short:
                    under[label] = under.get(label, 0) + 1
                examples.append(
                    EvalExample(
                        id=question.id,
                        length=label,
                        problem=question.question,
                        context=context,
                        chunks=split_into_chunks(tokenizer, context, config.chunk_tokens or 1),
                        answers=[question.answer],
                        n_tokens=tokens,
                        extra={
                            f"target_{kind}": target,
                            "n_documents": len(paragraphs),
                            "under_length": short,
                        },
                        input_hash=self._hash(question, label, config),
                    )
                )
                progress.advance(stage)
        progress.finish(stage)
        for key, count in list(self.load_counts.items()):
            if key.startswith("gold_over_length_"):
                progress.log(
                    f"hotpotqa: {count} question(s) have gold paragraphs longer than {key.removeprefix('gold_over_length_')} "
                    "tokens; their context is the gold paragraphs alone"
                )
        if under:
            self.count("under_length", sum(under.values()))
            progress.log(
                "hotpotqa: the distractor pool cannot fill "
                + ", ".join(f"{n} context(s) at {label}" for label, n in under.items())
                + f" ({len(self.others):,} paragraphs): they are scored and plotted at their measured length "
                "(counted as under_length; pass a larger --pool, e.g. the whole HotpotQA dev set)"
            )
        return examples
