"""Article text → passages, and the datatrove step that turns each page into passages.

A passage is a run of consecutive paragraphs of one section, `min_words` to `max_words` words:

* paragraphs of a section are merged, in order, until the passage reaches `target_words`
  (a paragraph that would push it past `max_words` starts the next passage instead), so a
  short section becomes one passage and a long one a few passages of about `target_words`;
  with `target_words == min_words` every paragraph of `min_words` or more is its own passage;
* a remainder shorter than `min_words` at the end of a section joins the section's previous
  passage when that stays within `max_words`, and is otherwise carried to the next section;
  at the end of the article it is dropped (counted by the step);
* a paragraph longer than `max_words` is cut at sentence ends into the fewest pieces that fit,
  of about equal length; a single sentence longer than `max_words` is cut between words. A line
  break always ends a sentence, and the pieces keep the paragraph's line breaks, so a long list
  is cut into runs of whole items, one per line, whose names never run together.

Sections come from the extractor (`SECTION_STARTS_KEY`: the index of each paragraph that
follows a heading); text without them is one section. Every step is linear in the length of
the text, so a page of one multi-megabyte paragraph is split in well under a second.
Passages of a page are numbered from 0 in reading order, so the id `{page_id}-{n}` is stable
for the same text and settings.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterable, Iterator, Sequence

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from memtrain_data.pipeline.aliases import ALIAS_ONLY_KEY, ALIASES_KEY
from memtrain_data.pipeline.extractors.wikitext import SECTION_STARTS_KEY
from memtrain_data.pipeline.time_limit import PageTimeout, time_limit

__all__ = ["PassageSplitter", "split_passages", "split_sentences"]

# A sentence ends at . ! or ? (with closing quotes or brackets) followed by whitespace and an
# uppercase letter, a digit or an opening quote/bracket.
# The lookbehind starts a match only at the first mark of a run ("...."), keeping it linear.
_SENTENCE_END = re.compile(r"(?<![.!?])[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
# Words before a period that do not end a sentence.
_ABBREVIATIONS: frozenset[str] = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "st", "mt", "ft", "jr", "sr", "gen", "col", "lt", "capt", "sgt",
    "rev", "hon", "gov", "sen", "rep", "pres", "no", "nos", "vol", "vols", "p", "pp", "ch", "fig",
    "figs", "ed", "eds", "c", "ca", "cf", "e.g", "i.e", "etc", "vs", "approx", "est", "inc", "ltd",
    "co", "corp", "bros", "dept", "univ", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "a.d", "b.c", "op", "al",
})  # fmt: skip
_LONGEST_ABBREVIATION = max(len(word) for word in _ABBREVIATIONS)
_WORD_BEFORE = re.compile(r"[^\s(]*\Z")
_Sentence = tuple[str, str]  # (separator before it: "\n" or " ", sentence)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with a light regex; never inside a word.

    Abbreviations ("Dr.", "c.", "U.S.") and initials ("J. R. Tolkien") do not end a sentence;
    a line break (between list items) always does.

    >>> split_sentences("Dr. Vell founded it in 1871. It closed in 1904.")
    ['Dr. Vell founded it in 1871.', 'It closed in 1904.']
    """
    return [sentence for _, sentence in _sentences(text)]


def _sentences(text: str) -> Iterator[_Sentence]:
    """`split_sentences`, each sentence with the separator that goes before it when joined again.

    The separator is "\\n" for the first sentence of a line and " " for the others, so a piece
    of a paragraph keeps its list items one per line instead of running their names together.
    """
    for line in text.split("\n"):
        separator = "\n"
        start = 0
        for end in _SENTENCE_END.finditer(line):
            if line[end.start()] == "." and _is_abbreviation(line, end.start()):
                continue
            sentence = line[start : end.end()].strip()
            if sentence:
                yield separator, sentence
                separator = " "
            start = end.end()
        rest = line[start:].strip()
        if rest:
            yield separator, rest


def _is_abbreviation(text: str, period: int) -> bool:
    # Only the few characters before the period are read: searching back for the word's start
    # through the whole text made splitting quadratic in the length of a paragraph.
    window = text[max(0, period - _LONGEST_ABBREVIATION - 1) : period]
    word = _WORD_BEFORE.search(window).group()  # type: ignore[union-attr]  # matches "" at worst
    if len(word) > _LONGEST_ABBREVIATION:
        return False
    if len(word) == 1 and word.isupper():  # an initial
        return True
    return word.lower() in _ABBREVIATIONS


def split_passages(
    text: str,
    min_words: int,
    max_words: int,
    target_words: int | Iterator[int] | None = None,
    section_starts: Iterable[int] = (),
) -> list[str]:
    """Split clean article text (paragraphs separated by blank lines) into passages.

    `target_words` is one target for every passage (default `min_words`: one passage per
    paragraph) or an iterator giving each passage its own, in order (see `passage_targets`);
    `section_starts` lists the paragraphs that open a section (passages never run across one).

    >>> split_passages("Short one.\\n\\nThe Sela river runs through Tarnvik.", min_words=3, max_words=50)
    ['Short one.\\nThe Sela river runs through Tarnvik.']
    """
    if isinstance(target_words, int) or target_words is None:
        fixed = min_words if target_words is None else target_words
        _check_bounds(min_words, fixed, max_words)
        targets: Iterator[int] = itertools.repeat(fixed)
    else:
        _check_bounds(min_words, min_words, max_words)
        targets = (min(max(target, min_words), max_words) for target in target_words)
    target = next(targets)
    starts = set(section_starts)
    passages: list[str] = []
    current: list[str] = []  # paragraphs (or pieces of one) of the passage being built
    current_words = 0
    section_first = 0  # index in `passages` of the current section's first passage

    def flush() -> None:
        nonlocal current, current_words, target
        passages.append("\n".join(current))
        current, current_words = [], 0
        target = next(targets)

    def end_section() -> None:
        nonlocal section_first
        if current_words >= min_words:
            flush()
        elif (
            current and len(passages) > section_first and _n_words(passages[-1]) + current_words <= max_words
        ):
            passages[-1] = "\n".join([passages[-1], *current])
            current.clear()
        # else: a short remainder waits for the next section
        section_first = len(passages)

    for index, paragraph in enumerate(text.split("\n\n")):
        if index in starts:
            end_section()
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        n_words = _n_words(paragraph)
        pieces = (
            [(paragraph, n_words)]
            if n_words <= max_words
            else _cut_long(paragraph, n_words, min_words, max_words)
        )
        for piece, piece_words in pieces:
            if (
                current
                and current_words >= min_words
                and (current_words >= target or current_words + piece_words > max_words)
            ):
                flush()
            current.append(piece)
            current_words += piece_words
            if current_words > max_words:  # a short remainder carried in front of a long piece
                _flush_oversized(current, passages, min_words, max_words)
                current_words = sum(_n_words(part) for part in current)
    end_section()
    return passages


def _check_bounds(min_words: int, target_words: int, max_words: int) -> None:
    if min_words < 1 or max_words < min_words or not min_words <= target_words <= max_words:
        raise ValueError(
            f"need 1 <= min_words <= target_words <= max_words, got min_words={min_words}, "
            f"target_words={target_words}, max_words={max_words}"
        )


def passage_targets(page_id: int, target_words: int, spread: float) -> Iterator[int]:
    """Word targets for the passages of one page: one per page, log-uniform in [target/spread, target*spread].

    Passages of one size make every document of N passages about N times that size (a sum of
    many equal parts hardly varies). A size per page varies the documents: the related
    passages of a pivot mostly share its pages, so a document built around a finely cut page
    is short and one around a coarsely cut page is long, spreading documents over the paper's
    24k-40k range (measured in the README). Seeded by the page id: a page is always cut the
    same way. `spread` 1 gives `target_words` to every page.
    """
    if spread <= 1:
        return itertools.repeat(target_words)
    draws = random.Random(page_id)
    return itertools.repeat(round(math.exp(draws.uniform(math.log(target_words / spread), math.log(target_words * spread)))))


def _n_words(text: str) -> int:
    return len(text.split())


def _flush_oversized(current: list[str], passages: list[str], min_words: int, max_words: int) -> None:
    """`current` went past `max_words` (a short carried remainder plus a full piece): cut it again."""
    joined = "\n".join(current)
    pieces = _cut_long(joined, _n_words(joined), min_words, max_words)
    current.clear()
    passages.extend(piece for piece, _ in pieces[:-1])
    current.append(pieces[-1][0])


def _cut_long(paragraph: str, n_words: int, min_words: int, max_words: int) -> list[tuple[str, int]]:
    """Cut at sentence ends into ceil(n/max) pieces of about n/pieces words each, with their word counts.

    A piece under `min_words` (a short sentence between two long ones) joins a neighbour when
    that stays within `max_words`, and is otherwise kept as it is. Line breaks are kept.
    """
    target = n_words / math.ceil(n_words / max_words)
    pieces: list[tuple[list[_Sentence], int]] = []
    current: list[_Sentence] = []
    current_words = 0
    for separator, sentence in _sentences(paragraph):
        words = sentence.split()
        if len(words) > max_words:  # one run-on sentence (or a list item without full stops)
            if current:
                pieces.append((current, current_words))
                current, current_words = [], 0
            for i in range(0, len(words), max_words):
                chunk = words[i : i + max_words]
                pieces.append(([(separator if i == 0 else " ", " ".join(chunk))], len(chunk)))
            continue
        if current and (current_words + len(words) > max_words or current_words >= target):
            pieces.append((current, current_words))
            current, current_words = [], 0
        current.append((separator, sentence))
        current_words += len(words)
    if current:
        pieces.append((current, current_words))
    return _join_short_pieces(pieces, min_words, max_words)


def _join_short_pieces(
    pieces: Sequence[tuple[list[_Sentence], int]], min_words: int, max_words: int
) -> list[tuple[str, int]]:
    """Join pieces under `min_words` to the previous piece when both fit; linear (lists, not strings, grow)."""
    joined: list[tuple[list[_Sentence], int]] = []
    for sentences, piece_words in pieces:
        previous_words = joined[-1][1] if joined else 0
        one_is_short = piece_words < min_words or 0 < previous_words < min_words
        if joined and one_is_short and previous_words + piece_words <= max_words:
            joined[-1][0].extend(sentences)
            joined[-1] = (joined[-1][0], previous_words + piece_words)
        else:
            joined.append((list(sentences), piece_words))
    # each sentence after its separator; the piece's first separator is dropped
    return [("".join(itertools.chain.from_iterable(sentences))[1:], n_words) for sentences, n_words in joined]


class PassageSplitter(PipelineStep):
    """datatrove step: one clean article in, its passages out (`split_passages`).

    Each passage is a document with id `{page_id}-{n}` and the metadata of a
    `memtrain_data.records.Passage`: page_id, title, n_words, revision_id, timestamp, source;
    the page's alias rows ride on its first passage. Alias-only documents pass through.
    A page id seen before in the task (the same dump given twice, a parquet with repeated ids)
    is skipped whole: the first copy is kept. Splitting runs under the page time limit
    (`timeout_s`). Each page's passage target varies by `target_spread` around `target_words`
    (see `passage_targets`). Stats: `pages_in`, `passages_out`, `passage_words`, `pages_without_passages`,
    `words_dropped` (short remainders that could not be joined to a passage),
    `duplicate_pages_dropped`, `skipped_timeout`.
    """

    name = "✂️ Passages"
    type = "✂️ - SPLIT"
    counters: tuple[str, ...] = ("duplicate_pages_dropped", "skipped_timeout")
    """Counters reported even when zero, so every stats.json has the same keys."""

    def __init__(
        self,
        min_words: int = 20,
        max_words: int = 220,
        target_words: int | None = None,
        timeout_s: float = 0.0,
        target_spread: float = 1.0,
    ) -> None:
        super().__init__()
        target = min_words if target_words is None else target_words
        _check_bounds(min_words, target, max_words)
        if target_spread < 1:
            raise ValueError(f"target_spread must be at least 1, got {target_spread}")
        self.min_words = min_words
        self.max_words = max_words
        self.target_words = target
        self.target_spread = target_spread
        self.timeout_s = timeout_s

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from datatrove.utils.logging import logger

        seen_pages: set[int] = set()
        for article in data:
            metadata = article.metadata
            if metadata.get(ALIAS_ONLY_KEY):
                yield article
                continue
            self.stat_update("pages_in")
            page_id = int(metadata.get("page_id", article.id))
            page = f"page {page_id} ({metadata.get('title', '')!r})"
            if page_id in seen_pages:
                self.stat_update("duplicate_pages_dropped")
                logger.warning(
                    f"{page} from {metadata.get('source', '?')}: page id seen before in this task; the first copy is kept"
                )
                continue
            seen_pages.add(page_id)
            aliases = metadata.get(ALIASES_KEY)
            try:
                with time_limit(self.timeout_s):
                    passages = split_passages(
                        article.text,
                        self.min_words,
                        self.max_words,
                        passage_targets(page_id, self.target_words, self.target_spread),
                        metadata.get(SECTION_STARTS_KEY, ()),
                    )
            except PageTimeout as timeout:
                self.stat_update("skipped_timeout")
                logger.warning(
                    f"skipped {page}: splitting into passages {timeout} (timeout_s={self.timeout_s:g})"
                )
                continue
            kept_words = sum(_n_words(passage) for passage in passages)
            dropped_words = _n_words(article.text) - kept_words
            if dropped_words:
                self.stat_update("words_dropped", value=dropped_words)
            if not passages:
                self.stat_update("pages_without_passages")
                logger.info(f"{page}: no passage of {self.min_words}+ words")
                if aliases:
                    yield Document(
                        text="",
                        id=f"aliases:{page_id}",
                        metadata={ALIAS_ONLY_KEY: True, ALIASES_KEY: aliases},
                    )
                continue
            for n, passage in enumerate(passages):
                n_words = _n_words(passage)
                self.stat_update("passages_out")
                self.stat_update("passage_words", value=n_words)
                passage_metadata = {
                    "page_id": page_id,
                    "title": metadata.get("title", ""),
                    "n_words": n_words,
                    "revision_id": metadata.get("revision_id"),
                    "timestamp": metadata.get("timestamp"),
                    "source": metadata.get("source", ""),
                }
                if n == 0 and aliases:
                    passage_metadata[ALIASES_KEY] = aliases
                yield Document(text=passage, id=f"{page_id}-{n}", metadata=passage_metadata)
