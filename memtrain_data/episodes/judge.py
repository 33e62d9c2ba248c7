"""The one judge of episode records: every rule an episode must pass, in one implementation.

The builder runs `judge_episode` on every episode before writing it (and drops, counting by
the rule's code, any that fails), `memtrain validate` runs it on every written row, `train`
runs it on the rows it will train on, and the quality report adds up its verdicts. What one
caller accepts, the others accept.

A verdict is a list of violations, one string each, "<code>: <detail>"; empty means the record
passes. Some rules read the record alone; the **alignment rules** also need the document's
original passages (`originals`, in `passage_ids` order): the builder has them in hand, and
`validate` reads them from `OUT/pool`. Aligning the masked chunks with the originals recovers
what each [MASK] replaced (the text between two masks must match, so each mask's text is the
gap). The record rules always run, so the builder's verdict is never milder than another's.

Codes:
- record: `wrong_question`, `wrong_mask_token` (the fixed problem or placeholder changed),
  `mask_count` (the chunks' [MASK]s differ from `masked_occurrences`), `pivot_id` (not
  "{page_id}-{n}"), `token_count` (a chunk has more words than recorded tokens, or differs
  from a recount when a counter is given).
- budgets (when given): `too_many_chunks`, `chunk_too_long`, `doc_too_short`, `doc_too_long`.
- `answer_leak`: an accepted answer is readable in a chunk, also inside a longer name
  ("Rearden" in "Rearden Metal"), in the case variants masking uses.
- `visible_alias`: a masked form (recorded in `masked_forms`, or a masked span recovered by
  alignment) is readable elsewhere, case-sensitively as a whole word, also inside a longer
  name: a demonym is masked everywhere it occurs or not at all; or an abbreviation or full
  name of the answer stands in parentheses beside a [MASK] ("[MASK] (ARR)").
- `partial_mask`: a [MASK] covers a fragment of a longer name, word or number ("Ayn [MASK]",
  "[MASK] Ocean", "Mid-[MASK]", "[MASK]s", "29,[MASK]"), or a mis-cut span ("Swift and").
  A title or honorific before a name ("President", "Chairman", "Saint") is not part of it.
- `case_mismatch`: an ordinary lowercase word masked for a capitalised answer ("articles" for
  the book "Articles"); sentence-initial capitals aside.
- `cross_split_passage`: a passage of the document comes from a page of another split (when
  the split fractions are given).
- probes: `target_leak` (a form of the probe's target is readable in its masked chunk: the
  target inside a longer name, a person's surname, an abbreviation in parentheses;
  `probes.visible_target_forms`),
  `target_is_answer` (the target equals, contains or is contained in an answer or masked
  form), `probe_chunk` (the masked chunk is not its chunk with the target masked).
- `unaligned` (only with `require_alignment`): the chunks do not align with the originals.
- folder rules (`split_violations`): `split_leak`, one page a pivot in two splits.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from memtrain_data.episodes.answer_forms import parenthetical_names_beside
from memtrain_data.episodes.masking import (
    TITLE_WORDS,
    continues_name,
    find_occurrences,
    is_numeric_form,
    mask_occurrences,
    names_something,
)
from memtrain_data.episodes.probes import is_valid_target, visible_target_forms
from memtrain_data.episodes.splits import page_id_of, split_of_page
from memtrain_data.records import (
    MASK_TOKEN,
    RECONSTRUCTION_QUESTION,
    TARGET_TOKEN,
    MaskedReconstructionEpisode,
    RecallProbe,
)

# Words that belong to the name they precede: "St. [MASK]" hides part of "St. Louis".
_NAME_PREFIXES = frozenset({"St.", "San", "Santa", "Fort", "Mount", "Lake", "Port", "New"})
# Capitalised words that do not continue a name even beside one.
_NOT_A_NAME_PART = frozenset({"I", "A", "An", "The", "And", "Or", "But", "In", "On", "At", "Of", "By", "To", "For", "From", "With", "As"})
# Words that often start a sentence before a name ("Later Paris grew").
_SENTENCE_OPENERS = frozenset(
    {
        "After", "Also", "Although", "Among", "Around", "Before", "Both", "During", "Each", "Early", "Following",
        "He", "Her", "His", "However", "If", "Its", "Later", "Like", "Many", "Most", "My", "Our", "Several", "She",
        "Since", "Some", "Then", "There", "These", "They", "This", "Those", "Through", "Today", "Under", "Unlike",
        "Until", "We", "When", "Where", "While", "Why", "Within", "Without", "Yet", "You",
        "Though", "Thus", "Hence", "Because", "Meanwhile", "Nevertheless", "Instead", "Despite", "Whereas",
        "Once", "Upon", "Against", "Between", "Along", "Across", "Beyond", "Whether", "Whilst",
    }
)  # fmt: skip
# Words a whole name never starts or ends with (a leading "the" is allowed: "the Moors").
_FUNCTION_WORDS = frozenset({"a", "an", "the", "and", "or", "nor", "but", "of", "about", "both", "either", "some", "than", "to", "with", "by", "in", "on", "at"})
_WORD_BEFORE = re.compile(r"(\S+)[ \t]$")
_WORD_AFTER = re.compile(r"^[ \t](\S+)")
_SENTENCE_END_BEFORE = re.compile(r"(^|[.!?:;]['\")\]]*\s+|\n\s*)$")
_WHITESPACE = re.compile(r"\s+")


def violation_code(violation: str) -> str:
    """The code part of a violation string."""
    return violation.split(":", 1)[0]


@dataclass(frozen=True)
class JudgeSettings:
    """The build settings some rules compare against; a rule whose setting is None is skipped."""

    chunk_tokens: int | None = None
    max_chunks: int | None = None
    min_doc_tokens: int | None = None
    max_doc_tokens: int | None = None
    validation_fraction: float | None = None
    test_fraction: float | None = None

    @classmethod
    def from_stats(cls, config_stats: dict[str, Any]) -> JudgeSettings:
        """The settings a build recorded for one config in `stats.json` (missing ones stay None)."""
        build = config_stats.get("build") or {}

        def recorded(name: str, kinds: tuple[type, ...] = (int,)) -> Any:
            value = build.get(name, config_stats.get(name))
            return value if isinstance(value, kinds) and not isinstance(value, bool) else None

        doc_tokens = build.get("doc_tokens") or [None, None]
        fractions = (recorded("validation_fraction", (int, float)), recorded("test_fraction", (int, float)))
        return cls(
            chunk_tokens=recorded("chunk_tokens"),
            max_chunks=recorded("max_chunks"),
            min_doc_tokens=doc_tokens[0] if isinstance(doc_tokens[0], int) else recorded("min_doc_tokens"),
            max_doc_tokens=doc_tokens[1] if isinstance(doc_tokens[1], int) else recorded("max_doc_tokens"),
            validation_fraction=fractions[0] if None not in fractions else None,
            test_fraction=fractions[1] if None not in fractions else None,
        )


@dataclass
class MaskedSpan:
    """What one [MASK] replaced (recovered by alignment): the text, its passage, the verdicts on it."""

    text: str
    passage_index: int
    partial: str | None = None
    case_mismatch: bool = False


@dataclass
class Verdict:
    """The judge's word on one episode: its violations, and what the quality report counts."""

    violations: list[str] = field(default_factory=list)
    cross_split_pages: list[int] = field(default_factory=list)
    visible: list[str] = field(default_factory=list)
    spans: list[MaskedSpan] | None = None
    unaligned_reason: str | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def codes(self) -> list[str]:
        return [violation_code(v) for v in self.violations]

    @property
    def partial_masks(self) -> list[MaskedSpan]:
        return [span for span in self.spans or [] if span.partial]

    @property
    def case_mismatches(self) -> list[MaskedSpan]:
        return [span for span in self.spans or [] if span.case_mismatch]

    def masks_outside_pivot(self, pivot_index: int) -> int:
        return sum(1 for span in self.spans or [] if span.passage_index != pivot_index)


# ---------------------------------------------------------------------------------------------
# Alignment


def normalize_space(text: str) -> str:
    """Each run of whitespace as one character: a newline where the run holds one, else a space."""
    return _WHITESPACE.sub(lambda run: "\n" if "\n" in run.group() else " ", text).strip()


def align_masks(chunks: Sequence[str], passages: Sequence[str]) -> tuple[str, list[tuple[int, int]], list[int]] | str:
    """Where each [MASK] of `chunks` sits in the original document made of `passages`.

    Passages are joined by a line break and each whitespace run counts as one space when
    comparing, while the original keeps its line breaks (one character per run, so offsets
    agree) and list items stay apart for the span rules. A chunk cut inside a long word (the
    chunker's last resort) does not align that way, so whitespace is then left out of the
    comparison altogether. Returns (original text, one (start, end) per [MASK] in it, the start
    offset of each passage), or the reason the texts do not align.
    """
    pieces: list[str] = []
    starts: list[int] = []
    offset = 0
    for passage in passages:
        starts.append(offset)  # a blank passage adds no text, so it starts where the next one does
        piece = normalize_space(passage)
        if piece:
            pieces.append(piece)
            offset += len(piece) + 1
    original = "\n".join(pieces)
    spaced = _find_spans(original.replace("\n", " "), [segment.replace("\n", " ") for segment in normalize_space(" ".join(chunks)).split(MASK_TOKEN)])
    if not isinstance(spaced, str):
        return original, spaced, starts
    # `solid[i]` is `original[kept[i]]`: the original without whitespace, and where each character stood.
    kept = [index for index, char in enumerate(original) if not char.isspace()]
    solid = "".join(original[index] for index in kept)
    spans = _find_spans(solid, [_WHITESPACE.sub("", segment) for segment in "".join(chunks).split(MASK_TOKEN)])
    if isinstance(spans, str):
        return spaced  # the reason as the ordinary comparison found it
    return original, [(kept[start], kept[end - 1] + 1) for start, end in spans], starts


def _find_spans(text: str, segments: list[str]) -> list[tuple[int, int]] | str:
    """The (start, end) in `text` of each gap between the `segments` (the texts around the masks)."""
    if len(segments) == 1:
        return [] if text == segments[0] else "the chunks differ from the original passages"
    if not text.startswith(segments[0]):
        return "the text before the first [MASK] differs from the original passages"
    position = len(segments[0])
    spans: list[tuple[int, int]] = []
    for index, segment in enumerate(segments[1:], start=1):
        if index == len(segments) - 1:
            if not text.endswith(segment) or len(text) - len(segment) <= position:
                return "the text after the last [MASK] differs from the original passages"
            end = len(text) - len(segment)
        else:
            # A [MASK] replaced at least one character; the shortest gap is the masked text.
            end = text.find(segment, position + 1) if segment else position + 1
            if end < 0:
                return f"the text after [MASK] number {index} is not in the original passages"
        spans.append((position, end))
        position = end + len(segment)
    return spans


# ---------------------------------------------------------------------------------------------
# One masked span


def _is_capitalised(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return bool(letters) and letters[0].isupper()


def _starts_sentence(text: str, start: int) -> bool:
    return _SENTENCE_END_BEFORE.search(text[:start]) is not None


def partial_reason(text: str, start: int, end: int, *, capitalised: bool | None = None) -> str | None:
    """Why text[start:end] covers a fragment of a longer name, word or number, or None.

    `text[start:end]` is either the original span (alignment known) or the [MASK] itself in the
    masked document (record only): then `capitalised` says whether the masked thing is a
    capitalised name, and the checks that read the span's own letters are skipped.
    """
    known = capitalised is None
    span = text[start:end]
    before, after = text[:start], text[end:]
    if (before and before[-1].isalnum()) or (after and after[0].isalnum()):
        left = re.search(r"\w*$", before)
        right = re.match(r"\w*", after)
        word = (left.group() if left else "") + span + (right.group() if right else "")
        return f"inside the longer word {word!r}"
    if (known and (span[:1].isdigit() or span[-1:].isdigit())) or (not known and capitalised is False):
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
    if known:
        words = span.split()
        if len(words) > 1 and (words[-1].lower() in _FUNCTION_WORDS or words[0].lower() in _FUNCTION_WORDS - {"the"}):
            edge = words[-1] if words[-1].lower() in _FUNCTION_WORDS else words[0]
            return f"a mis-cut span: it starts or ends with the function word {edge!r}"
        if span[-1:] in ",;:" or span[:1] in ",;:.":
            return "a mis-cut span: it starts or ends with punctuation"
    if not (names_something(span) if known else capitalised):
        return None
    word_before = _WORD_BEFORE.search(before)
    if word_before:
        word = word_before.group(1)
        if word in _NAME_PREFIXES:
            return f"after {word!r}, which belongs to the name"
        # A sentence opener or a function word never continues a name (a passage may start
        # without the previous one ending in a full stop); another capitalised word does unless
        # it starts a sentence and the document also uses it in lower case.
        if word.isalpha() and continues_name(word) and word not in _NOT_A_NAME_PART and word not in _SENTENCE_OPENERS:
            starts_sentence = _starts_sentence(before, word_before.start(1))
            ordinary = re.search(r"(?<!\w)" + re.escape(word.lower()) + r"(?!\w)", text) is not None
            if not (starts_sentence and ordinary):
                return f"the name goes on before it ({word!r})"
    word_after = _WORD_AFTER.search(after)
    if word_after:
        word = word_after.group(1).rstrip(",.;:!?)]'\"")  # "[MASK] Rattlesnake, as well" continues the name
        if word.isalpha() and _is_capitalised(word) and word not in _NOT_A_NAME_PART and word not in TITLE_WORDS:
            return f"the name goes on after it ({word!r})"
    return None


def _strip_article(form: str) -> str:
    return form[4:] if form[:4] in {"the ", "The "} else form


def visible_forms(chunks: Sequence[str], forms: Iterable[str]) -> list[str]:
    """Forms readable in the chunks, case-sensitively as whole words (also inside longer names)."""
    text = "\n".join(chunks)
    seen: list[str] = []
    for form in sorted({_strip_article(normalize_space(f)) for f in forms if f and f.strip()}):
        if not form or form == MASK_TOKEN:
            continue
        # Numbers stay whole as masking keeps them: "1937" is not readable in "2,1937" or "1937.5".
        edges = (r"(?<!\w)(?<!\d[.,])", r"(?![.,]\d)(?!\w)") if is_numeric_form(form) else (r"(?<!\w)", r"(?!\w)")
        if re.search(edges[0] + r"\s+".join(map(re.escape, form.split())) + edges[1], text):
            seen.append(form)
    return seen


def case_mismatches(masked: Iterable[str], answers: Sequence[str]) -> list[str]:
    """Masked strings that are lowercase where an answer with the same letters is capitalised."""
    capitalised = {answer.casefold() for answer in answers if answer[:1].isupper()}
    return [form for form in masked if form[:1].islower() and form.casefold() in capitalised]


def cross_split_pages(passage_ids: Sequence[str], split: str, validation_fraction: float, test_fraction: float) -> list[int]:
    """Pages of the document's passages that belong to another split than `split`."""
    foreign: set[int] = set()
    for passage_id in passage_ids:
        try:
            page = page_id_of(passage_id)
        except ValueError:
            continue  # reported by the `pivot_id` rule or the record model
        if split_of_page(page, validation_fraction, test_fraction) != split:
            foreign.add(page)
    return sorted(foreign)


# ---------------------------------------------------------------------------------------------
# The judge


def probe_violations(probe: RecallProbe, chunk: str, avoid: Sequence[str]) -> list[str]:
    """Rules for one recall probe against the chunk it masks; `avoid` holds the answers and masked forms."""
    problems: list[str] = []
    where = f"probe on chunk {probe.chunk_index} (target {probe.target!r})"
    shown = visible_target_forms(probe.masked_chunk, probe.target, probe.label)
    if shown:
        problems.append(f"target_leak: {where} still shows {', '.join(repr(form) for form in shown)}")
    if not is_valid_target(probe.target, avoid):
        problems.append(f"target_is_answer: {where} overlaps the answers {list(avoid)}")
    expected, count = mask_occurrences(chunk, [probe.target], TARGET_TOKEN)
    if expected != probe.masked_chunk or count != probe.masked_occurrences:
        problems.append(f"probe_chunk: {where} is not chunk {probe.chunk_index} with its target masked")
    return problems


def _structure_rules(episode: MaskedReconstructionEpisode) -> list[str]:
    problems: list[str] = []
    masks = sum(chunk.count(MASK_TOKEN) for chunk in episode.chunks)
    if masks != episode.masked_occurrences:
        problems.append(f"mask_count: {masks} {MASK_TOKEN} in the chunks, masked_occurrences={episode.masked_occurrences}")
    if episode.question != RECONSTRUCTION_QUESTION:
        problems.append(f"wrong_question: {episode.question!r}")
    if episode.mask_token != MASK_TOKEN:
        problems.append(f"wrong_mask_token: {episode.mask_token!r}")
    try:
        page_id_of(episode.pivot_passage_id)
    except ValueError:
        problems.append(f"pivot_id: {episode.pivot_passage_id!r} is not '{{page_id}}-{{n}}'")
    return problems


def _budget_rules(episode: MaskedReconstructionEpisode, settings: JudgeSettings, count_tokens: Callable[[str], int] | None) -> list[str]:
    problems: list[str] = []
    if settings.max_chunks is not None and len(episode.chunks) > settings.max_chunks:
        problems.append(f"too_many_chunks: {len(episode.chunks)} chunks, at most {settings.max_chunks}")
    if settings.chunk_tokens is not None:
        for index, n_tokens in enumerate(episode.chunk_n_tokens):
            if n_tokens > settings.chunk_tokens:
                problems.append(f"chunk_too_long: chunk {index} has {n_tokens} tokens, budget {settings.chunk_tokens}")
    if settings.min_doc_tokens is not None and episode.n_tokens < settings.min_doc_tokens:
        problems.append(f"doc_too_short: {episode.n_tokens} tokens, at least {settings.min_doc_tokens}")
    if settings.max_doc_tokens is not None and episode.n_tokens > settings.max_doc_tokens:
        problems.append(f"doc_too_long: {episode.n_tokens} tokens, at most {settings.max_doc_tokens}")
    for index, (chunk, recorded) in enumerate(zip(episode.chunks, episode.chunk_n_tokens, strict=True)):
        if count_tokens is not None:
            actual = count_tokens(chunk)
            if actual != recorded:
                problems.append(f"token_count: chunk {index} has {actual} tokens, recorded {recorded}")
        elif len(chunk.split()) > recorded:
            # Every whitespace-separated word is at least one token for the tokenizers memtrain uses.
            problems.append(f"token_count: chunk {index} has {len(chunk.split()):,} words, so at least as many tokens, but records {recorded:,}")
    return problems


def _record_partial_masks(episode: MaskedReconstructionEpisode) -> list[tuple[int, str]]:
    """(mask number, violation) for each [MASK] that looks partial from the masked chunks alone."""
    forms = episode.masked_forms or episode.answers
    if all(is_numeric_form(form) for form in forms):
        capitalised = False  # a year after its month ("June [MASK]") is a whole token
    else:
        capitalised = any(names_something(form) and not is_numeric_form(form) for form in forms)
    found: list[tuple[int, str]] = []
    number = 0
    for index, chunk in enumerate(episode.chunks):
        for match in re.finditer(re.escape(MASK_TOKEN), chunk):
            reason = partial_reason(chunk, match.start(), match.end(), capitalised=capitalised)
            if reason is not None:
                found.append((number, f"partial_mask: chunk {index}: {MASK_TOKEN} {reason}"))
            number += 1
    return found


def judge_episode(
    episode: MaskedReconstructionEpisode,
    settings: JudgeSettings | None = None,
    *,
    originals: Sequence[str] | None = None,
    count_tokens: Callable[[str], int] | None = None,
    require_alignment: bool = False,
) -> Verdict:
    """Every rule `episode` breaks (see the module doc); `originals` adds the alignment rules.

    A document that does not align with `originals` is reported in `unaligned_reason` (a record
    edited after the build, or a pool rebuilt since); `require_alignment` makes it a violation,
    `unaligned`, as the builder wants: it masked those very passages itself.
    """
    settings = settings or JudgeSettings()
    verdict = Verdict()
    problems: list[str] = []
    answers = list(episode.answers)
    masked_forms = list(episode.masked_forms)
    leaked: set[str] = set()
    for index, chunk in enumerate(episode.chunks):
        shown_answers = sorted({chunk[a:b] for a, b in find_occurrences(chunk, answers, whole_names=False)})
        if shown_answers:
            problems.append(f"answer_leak: chunk {index} shows an answer ({', '.join(shown_answers)}) of {answers}")
            leaked.update(shown_answers)
    # After the leaks: an answer written over its [MASK] also breaks the count, and the leak is the cause.
    problems += _structure_rules(episode)
    for index, chunk in enumerate(episode.chunks):
        beside = parenthetical_names_beside(chunk, MASK_TOKEN, answers)
        if beside:
            problems.append(f"visible_alias: chunk {index} names [MASK] in parentheses ({', '.join(beside)})")
    forms = set(answers) | set(masked_forms)
    partial = dict(_record_partial_masks(episode))
    if originals is not None:
        aligned = align_masks(episode.chunks, originals)
        if isinstance(aligned, str):
            verdict.unaligned_reason = aligned
            if require_alignment:
                problems.append(f"unaligned: cannot tell what each {MASK_TOKEN} replaced: {aligned}")
        else:
            original, offsets, starts = aligned
            verdict.spans = [_judge_span(original, start, end, starts, forms) for start, end in offsets]
            forms |= {span.text for span in verdict.spans}
            # What a mask replaced says more than its neighbours, so its verdict replaces theirs for that
            # mask; a record-only verdict is never cleared, which keeps the builder at least as strict
            # as a check without the pool (train, a Hub download).
            for number, span in enumerate(verdict.spans):
                if span.partial:
                    partial[number] = f"partial_mask: {MASK_TOKEN} replaced {span.text!r}, {span.partial}"
    problems += [partial[number] for number in sorted(partial)][:3]
    verdict.visible = visible_forms(episode.chunks, forms)
    folded_answers = {answer.casefold() for answer in answers}
    shown = [form for form in verdict.visible if not (leaked and form.casefold() in folded_answers)]
    if shown:
        problems.append(f"visible_alias: {', '.join(repr(v) for v in shown[:5])} masked elsewhere but still visible in the chunks")
    mismatched = case_mismatches(masked_forms, answers) + [span.text for span in verdict.case_mismatches if span.text not in masked_forms]
    if mismatched:
        problems.append(f"case_mismatch: lowercase {mismatched} masked for {answers}")
    if settings.validation_fraction is not None and settings.test_fraction is not None:
        verdict.cross_split_pages = cross_split_pages(episode.passage_ids, episode.split, settings.validation_fraction, settings.test_fraction)
        if verdict.cross_split_pages:
            pages = ", ".join(map(str, verdict.cross_split_pages[:5])) + (" …" if len(verdict.cross_split_pages) > 5 else "")
            problems.append(f"cross_split_passage: a {episode.split} document holds passages of {len(verdict.cross_split_pages)} page(s) of other splits (pages {pages})")
    avoid = [*answers, *(form for form in masked_forms if form not in answers)]
    for probe in episode.recall_probes:
        if probe.chunk_index < len(episode.chunks):
            problems += probe_violations(probe, episode.chunks[probe.chunk_index], avoid)
        else:
            problems.append(f"probe_chunk: probe on chunk {probe.chunk_index} but the episode has {len(episode.chunks)} chunks")
    verdict.violations = problems + _budget_rules(episode, settings, count_tokens)
    return verdict


def _judge_span(original: str, start: int, end: int, passage_starts: list[int], forms: set[str]) -> MaskedSpan:
    text = original[start:end]
    span = MaskedSpan(text=text, passage_index=max(0, bisect.bisect_right(passage_starts, start) - 1), partial=partial_reason(original, start, end))
    if forms and text not in forms and text[:1].islower():
        # A capitalised span is a sentence-initial form or a name; a lowercase one for a capitalised form is an ordinary word.
        span.case_mismatch = text.casefold() in {f.casefold() for f in forms}
    return span


def split_violations(pivots: Iterable[tuple[str, str]]) -> list[str]:
    """Pages that are pivots in more than one split; `pivots` holds (split, pivot_passage_id) pairs."""
    splits_of_page: dict[int, set[str]] = {}
    for split, passage_id in pivots:
        splits_of_page.setdefault(page_id_of(passage_id), set()).add(split)
    return [
        f"split_leak: page {page} is a pivot in {', '.join(sorted(splits))}"
        for page, splits in sorted(splits_of_page.items())
        if len(splits) > 1
    ]

