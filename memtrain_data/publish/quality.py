"""Episode quality measured from the written files, as a reviewer would read them.

Nothing here reuses the builder's masking code. For each episode the original document is
rebuilt from the passage pool (`passage_ids` → `OUT/pool/passages-*.parquet`, joined in
order), and the masked chunks are aligned against it: the text between two `[MASK]`s must
match the original, so what each `[MASK]` replaced falls out as the gap. Each masked span is
then judged on its own:

- partial mask: the span is a fragment of a longer name or word: glued to letters or digits
  (`Mid-[MASK]`, `[MASK]s`, `29,[MASK]`), next to a capitalised word that continues the name
  (`Ayn [MASK]`, `[MASK] Ocean`; a capitalised word that starts a sentence is not counted),
  or after an honorific (`Mr. [MASK]`);
- case mismatch (an over-mask): the span equals an accepted form only when case is ignored
  (`articles` masked for the book `Articles`), sentence-initial capitals aside;
- visible alias: an accepted answer, a recorded masked form or a reconstructed span is still
  visible (case-sensitive, whole words) somewhere in the chunks;
- cross-split: a passage of the document comes from a page whose split (by
  `episodes.splits.split_of_page` with the build's fractions) is not the episode's split.

Records written before `masked_forms` / `answer_page_title` existed are read with `.get()`.
Alignment needs the pool; without it (a Hub download) only the checks that read the records
alone run, and the report says so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memtrain_data.publish.layout import POOL_DIR
from memtrain_data.records import MASK_TOKEN, SPLITS

# Build settings assumed when stats.json does not record them (the BuildConfig defaults).
DEFAULT_VALIDATION_FRACTION = 0.1
DEFAULT_TEST_FRACTION = 0.1
# Episodes per config aligned against the pool (the pool texts they need are held in memory).
DEFAULT_MAX_ALIGNED = 5_000

# Words that belong to the name they precede: "St. [MASK]" hides part of "St. Louis".
_NAME_PREFIXES = {"St.", "Saint", "San", "Santa", "Fort", "Mount", "Lake", "Port", "New"}
# Titles and honorifics stand before a name without being part of it: "President [MASK]" and
# "Mr. [MASK]" read as a whole surname masked, and the answers accept the full name.
_TITLES = {
    "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Sir", "Dame", "Lord", "Lady", "President", "King", "Queen",
    "Emperor", "Empress", "Pope", "General", "Senator", "Prince", "Princess", "Governor", "Chancellor",
    "Minister", "Judge", "Captain", "Admiral", "Colonel", "Bishop", "Archbishop", "Cardinal", "Professor",
    "Duke", "Earl", "Count", "Countess", "Baron", "Baroness", "Tsar", "Sultan", "Commander", "Major",
    "Sergeant", "Marshal", "Lieutenant", "Mayor", "Ambassador", "Secretary", "Premier", "Rabbi", "Reverend",
}  # fmt: skip
# Capitalised words that do not continue a name even when they follow it.
_NOT_A_NAME_PART = {"I", "A", "An", "The", "And", "Or", "But", "In", "On", "At", "Of", "By", "To", "For", "From", "With", "As"}
# Words that often start a sentence before a name ("Later Paris grew").
_SENTENCE_OPENERS = {
    "After", "Also", "Although", "Among", "Around", "Before", "Both", "During", "Each", "Early", "Following",
    "He", "Her", "His", "However", "If", "Its", "Later", "Like", "Many", "Most", "My", "Our", "Several", "She",
    "Since", "Some", "Then", "There", "These", "They", "This", "Those", "Through", "Today", "Under", "Unlike",
    "Until", "We", "When", "Where", "While", "Why", "Within", "Without", "Yet", "You",
    "Though", "Thus", "Hence", "Because", "Meanwhile", "Nevertheless", "Instead", "Despite", "Whereas",
    "Once", "Upon", "Against", "Between", "Along", "Across", "Beyond", "Whether", "Whilst",
}  # fmt: skip
# Words a whole name never starts or ends with (a leading "the" is allowed: "the Moors").
_FUNCTION_WORDS = {"a", "an", "the", "and", "or", "nor", "but", "of", "about", "both", "either", "some", "than", "to", "with", "by", "in", "on", "at"}
_WORD_BEFORE = re.compile(r"(\S+) $")
_WORD_AFTER = re.compile(r"^ (\S+)")
_SENTENCE_END_BEFORE = re.compile(r"(^|[.!?:;]['\")\]]*\s+)$")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class QualitySettings:
    """What the checks need from the build: split fractions and the planned passages per document."""

    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    test_fraction: float = DEFAULT_TEST_FRACTION
    planned_passages: int | None = None
    fractions_recorded: bool = False

    @classmethod
    def from_stats(cls, config_stats: dict[str, Any]) -> QualitySettings:
        build = config_stats.get("build") or {}
        vf, tf = build.get("validation_fraction"), build.get("test_fraction")
        related = build.get("related_passages", config_stats.get("related_passages"))
        random = build.get("random_passages", config_stats.get("random_passages"))
        planned = 1 + related + random if isinstance(related, int) and isinstance(random, int) else None
        recorded = isinstance(vf, (int, float)) and isinstance(tf, (int, float))
        return cls(
            validation_fraction=float(vf) if recorded else DEFAULT_VALIDATION_FRACTION,
            test_fraction=float(tf) if recorded else DEFAULT_TEST_FRACTION,
            planned_passages=planned,
            fractions_recorded=recorded,
        )


@dataclass
class MaskedSpan:
    """What one [MASK] replaced: the original text, where, and the verdicts on it."""

    text: str
    passage_index: int
    partial: str | None = None
    case_mismatch: bool = False


@dataclass
class EpisodeQuality:
    """The verdicts on one episode; `spans` is None when it could not be aligned with the pool."""

    split: str
    answers: list[str]
    answer_label: str
    masked_occurrences: int
    n_tokens: int
    n_passages: int
    n_related: int
    title_answer: bool
    cross_split_pages: list[int] = field(default_factory=list)
    visible: list[str] = field(default_factory=list)
    alias_table_visible: list[str] | None = None
    spans: list[MaskedSpan] | None = None
    unaligned_reason: str | None = None

    @property
    def partial_masks(self) -> list[MaskedSpan]:
        return [span for span in self.spans or [] if span.partial]

    @property
    def case_mismatches(self) -> list[MaskedSpan]:
        return [span for span in self.spans or [] if span.case_mismatch]

    def masks_outside_pivot(self, pivot_index: int) -> int:
        return sum(1 for span in self.spans or [] if span.passage_index != pivot_index)

    def problems(self, *, answers_reported: bool = False) -> list[str]:
        """Violations that make a dataset invalid, formatted "<code>: <detail>" like the episode rules.

        A visible answer counts too (also inside a longer name: "Svante Arrhenius" shows the answer
        "Arrhenius"); `answers_reported` leaves out the answers when an `answer_leak` already names them.
        """
        found: list[str] = []
        if self.cross_split_pages:
            pages = ", ".join(map(str, self.cross_split_pages[:5])) + (" …" if len(self.cross_split_pages) > 5 else "")
            found.append(f"cross_split: a {self.split} document holds passages of {len(self.cross_split_pages)} pages of other splits (pages {pages})")
        for span in self.partial_masks[:3]:
            found.append(f"partial_mask: {MASK_TOKEN} replaced {span.text!r}, {span.partial}")
        answers = {a.casefold() for a in self.answers} if answers_reported else set()
        shown = [form for form in self.visible if form.casefold() not in answers]
        if shown:
            found.append(f"visible_alias: {', '.join(repr(v) for v in shown[:5])} masked elsewhere but still visible in the chunks")
        return found


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
# Aligning a masked document with its original


def _normalize(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def align_masks(chunks: Sequence[str], passages: Sequence[str]) -> tuple[str, list[tuple[int, int]], list[int]] | str:
    """Where each [MASK] of `chunks` sits in the original document made of `passages`.

    Whitespace is normalised on both sides (chunks and passages are joined with blank lines or
    spaces). Returns (original text, one (start, end) per [MASK], the start offset of each
    passage in the original), or the reason the texts do not align.
    """
    original = ""
    starts: list[int] = []
    for passage in passages:
        starts.append(len(original) + (1 if original else 0))
        original = f"{original} {_normalize(passage)}" if original else _normalize(passage)
    segments = _normalize(" ".join(chunks)).split(MASK_TOKEN)
    if not original.startswith(segments[0]):
        return "the text before the first [MASK] differs from the pool passages"
    position = len(segments[0])
    spans: list[tuple[int, int]] = []
    for index, segment in enumerate(segments[1:], start=1):
        last = index == len(segments) - 1
        if last:
            if not original.endswith(segment) or len(original) - len(segment) <= position:
                return "the text after the last [MASK] differs from the pool passages"
            end = len(original) - len(segment)
        else:
            # A [MASK] replaced at least one character; the shortest gap is the masked text.
            end = original.find(segment, position + 1) if segment else position + 1
            if end < 0:
                return f"the text after [MASK] number {index} is not in the pool passages"
        spans.append((position, end))
        position = end + len(segment)
    return original, spans, starts


def _is_capitalised(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return bool(letters) and letters[0].isupper()


def partial_reason(original: str, start: int, end: int) -> str | None:
    """Why the span original[start:end] is a fragment of a longer name or word, or None."""
    span = original[start:end]
    before, after = original[:start], original[end:]
    if (before and before[-1].isalnum()) or (after and after[0].isalnum()):
        left = re.search(r"\w*$", before)
        right = re.match(r"\w*", after)
        word = (left.group() if left else "") + span + (right.group() if right else "")
        return f"inside the longer word {word!r}"
    if span[:1].isdigit() or span[-1:].isdigit():
        if len(before) >= 2 and before[-1] in ",." and before[-2].isdigit():
            return "part of a longer number"
        if len(after) >= 2 and after[0] in ",." and after[1].isdigit():
            return "part of a longer number"
    if len(before) >= 2 and before[-1] == "-" and before[-2].isalpha():
        left = before[:-1].split(" ")[-1]
        if _is_capitalised(left):
            return f"joined by a hyphen to {left!r}"
    if len(after) >= 2 and after[0] == "-" and after[1].isalpha():
        right = after[1:].split(" ")[0]
        if _is_capitalised(right):
            return f"joined by a hyphen to {right!r}"
    words = span.split()
    if len(words) > 1 and (words[-1].lower() in _FUNCTION_WORDS or words[0].lower() in _FUNCTION_WORDS - {"the"}):
        edge = words[-1] if words[-1].lower() in _FUNCTION_WORDS else words[0]
        return f"a mis-cut span: it starts or ends with the function word {edge!r}"
    if span[-1:] in ",;:" or span[:1] in ",;:.":
        return "a mis-cut span: it starts or ends with punctuation"
    if not _is_capitalised(span):
        return None
    word_before = _WORD_BEFORE.search(before)
    if word_before:
        word = word_before.group(1)
        if word in _NAME_PREFIXES:
            return f"after {word!r}, which belongs to the name"
        if word in _TITLES:
            return None
        # Sentence openers never continue a name (a passage may start without the previous one ending
        # in a full stop); another capitalised word does unless it starts a sentence and the document
        # also uses it in lower case.
        if word.isalpha() and _is_capitalised(word) and word not in _NOT_A_NAME_PART and word not in _SENTENCE_OPENERS:
            starts_sentence = _SENTENCE_END_BEFORE.search(before[: word_before.start(1)]) is not None
            ordinary = re.search(r"(?<!\w)" + re.escape(word.lower()) + r"(?!\w)", original) is not None
            if not (starts_sentence and ordinary):
                return f"the name goes on before it ({word!r})"
    word_after = _WORD_AFTER.search(after)
    if word_after:
        word = word_after.group(1).rstrip(",.;:!?)]'\"")  # "[MASK] Rattlesnake, as well" continues the name
        if word.isalpha() and _is_capitalised(word) and word not in _NOT_A_NAME_PART and word not in _TITLES:
            return f"the name goes on after it ({word!r})"
    return None


def _starts_sentence(original: str, start: int) -> bool:
    return _SENTENCE_END_BEFORE.search(original[:start]) is not None


def _strip_article(form: str) -> str:
    return form[4:] if form[:4] in {"the ", "The "} else form


def visible_forms(chunks: Sequence[str], forms: Iterable[str]) -> list[str]:
    """Forms that occur in the chunks as whole words, case-sensitively."""
    text = "\n".join(chunks)
    seen: list[str] = []
    for form in sorted({_strip_article(f.strip()) for f in forms if f and f.strip()}):
        if form == MASK_TOKEN or not form:
            continue
        if re.search(r"(?<![\w])" + re.escape(form) + r"(?![\w])", text):
            seen.append(form)
    return seen


def _title_key(text: str) -> str:
    text = re.sub(r"\s*\([^)]*\)$", "", text.strip())  # "Mercury (planet)" -> "Mercury"
    return _strip_article(text).casefold()


def judge_episode(
    row: dict[str, Any], pool_texts: dict[str, str] | None, settings: QualitySettings, alias_forms: dict[str, set[str]] | None = None
) -> EpisodeQuality:
    """The verdicts on one episode record (a dict as read from parquet).

    `alias_forms` (from `load_alias_forms`) adds an informational count: forms of the answer's
    page by the alias table that stay visible (only for records with `answer_page_title`).
    """
    from memtrain_data.episodes.splits import page_id_of, split_of_page

    answers = [a for a in row.get("answers") or [] if isinstance(a, str)]
    masked_forms = [f for f in row.get("masked_forms") or [] if isinstance(f, str)]
    passage_ids = list(row.get("passage_ids") or [])
    split = str(row.get("split"))
    chunks = list(row.get("chunks") or [])
    answer_page = row.get("answer_page_title")
    pivot_title = str(row.get("pivot_title") or "")
    title_answer = bool(answers) and _title_key(answers[0]) == _title_key(pivot_title)
    if isinstance(answer_page, str) and answer_page:
        title_answer = title_answer or _title_key(answer_page) == _title_key(pivot_title)
    quality = EpisodeQuality(
        split=split,
        answers=answers,
        answer_label=str(row.get("answer_label")),
        masked_occurrences=int(row.get("masked_occurrences") or 0),
        n_tokens=int(row.get("n_tokens") or 0),
        n_passages=len(passage_ids),
        n_related=len(row.get("related_passage_ids") or []),
        title_answer=title_answer,
    )
    foreign: set[int] = set()
    for passage_id in passage_ids:
        try:
            page = page_id_of(passage_id)
        except ValueError:
            continue
        if split_of_page(page, settings.validation_fraction, settings.test_fraction) != split:
            foreign.add(page)
    quality.cross_split_pages = sorted(foreign)

    forms = set(answers) | set(masked_forms)
    if pool_texts is not None:
        missing = [pid for pid in passage_ids if pid not in pool_texts]
        if missing:
            quality.unaligned_reason = f"{len(missing)} passages not in the pool (e.g. {missing[0]})"
        else:
            aligned = align_masks(chunks, [pool_texts[pid] for pid in passage_ids])
            if isinstance(aligned, str):
                quality.unaligned_reason = aligned
            else:
                original, offsets, starts = aligned
                quality.spans = [_judge_span(original, start, end, starts, forms) for start, end in offsets]
                forms |= {span.text for span in quality.spans}
    quality.visible = visible_forms(chunks, forms)
    if alias_forms is not None and isinstance(answer_page, str) and answer_page:
        quality.alias_table_visible = visible_forms(chunks, alias_forms.get(answer_page, set()))
    return quality


def _judge_span(original: str, start: int, end: int, passage_starts: list[int], forms: set[str]) -> MaskedSpan:
    import bisect

    text = original[start:end]
    span = MaskedSpan(text=text, passage_index=max(0, bisect.bisect_right(passage_starts, start) - 1), partial=partial_reason(original, start, end))
    if forms and text not in forms:
        folded = {f.casefold() for f in forms}
        sentence_initial = _starts_sentence(original, start) and any(f[:1].lower() + f[1:] == text[:1].lower() + text[1:] for f in forms)
        span.case_mismatch = text.casefold() in folded and not sentence_initial
    return span


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
                "fractions_from": "stats.json" if self.settings.fractions_recorded else "defaults (not recorded in stats.json)",
                "planned_passages": self.settings.planned_passages,
                "pool": "aligned against OUT/pool" if self.pool_available else "no pool in the folder: partial-mask and over-mask checks skipped",
            },
            "train_documents_with_validation_or_test_pages": sum(1 for q in train if q.cross_split_pages),
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
            "cross_split_documents": sum(1 for q in episodes if q.cross_split_pages),
        }


def _distribution(values: Sequence[int]) -> dict[str, float | int | None]:
    if not values:
        return {"min": None, "mean": None, "max": None}
    return {"min": min(values), "mean": round(sum(values) / len(values), 2), "max": max(values)}


def quality_report(source: str | Path, *, max_aligned: int = DEFAULT_MAX_ALIGNED) -> dict[str, Any]:
    """The quality report of a dataset folder (or Hub id) as data: {config: summary}; see the module docstring."""
    from memtrain_data.publish.validate import validate_dataset

    return validate_dataset(source, max_aligned=max_aligned).quality
