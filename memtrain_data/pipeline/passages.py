"""Article text → paragraph passages, and the datatrove step that turns each page into passages.

A passage is one paragraph of `min_words` to `max_words` words:

* a paragraph shorter than `min_words` is joined (with a newline) to the next one; a short
  remainder at the end of the article joins the previous passage when that stays within
  `max_words`, and is dropped otherwise (counted by the step);
* a paragraph longer than `max_words` is cut at sentence ends into the fewest pieces that fit,
  of about equal length; a single sentence longer than `max_words` is cut between words.

Passages of a page are numbered from 0 in reading order, so the id `{page_id}-{n}` is stable
for the same text and settings.
"""

from __future__ import annotations

import math
import re

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

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


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with a light regex; never inside a word.

    Abbreviations ("Dr.", "c.", "U.S.") and initials ("J. R. Tolkien") do not end a sentence.

    >>> split_sentences("Dr. Vell founded it in 1871. It closed in 1904.")
    ['Dr. Vell founded it in 1871.', 'It closed in 1904.']
    """
    sentences: list[str] = []
    for line in text.split("\n"):  # a line break (between list items) always ends a sentence
        start = 0
        for end in _SENTENCE_END.finditer(line):
            if line[end.start()] == "." and _is_abbreviation(line, end.start()):
                continue
            sentence = line[start : end.end()].strip()
            if sentence:
                sentences.append(sentence)
            start = end.end()
        rest = line[start:].strip()
        if rest:
            sentences.append(rest)
    return sentences


def _is_abbreviation(text: str, period: int) -> bool:
    word_start = max(text.rfind(" ", 0, period), text.rfind("(", 0, period)) + 1
    word = text[word_start:period]
    if len(word) == 1 and word.isupper():  # an initial
        return True
    return word.lower() in _ABBREVIATIONS


def split_passages(text: str, min_words: int, max_words: int) -> list[str]:
    """Split clean article text (paragraphs separated by blank lines) into passages.

    >>> split_passages("Short one.\\n\\nThe Sela river runs through Tarnvik.", min_words=3, max_words=50)
    ['Short one.\\nThe Sela river runs through Tarnvik.']
    """
    if min_words < 1 or max_words < min_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got min_words={min_words}, max_words={max_words}")
    passages: list[str] = []
    pending = ""  # short paragraphs waiting to be joined to the next one
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if pending:
            paragraph = f"{pending}\n{paragraph}"
            pending = ""
        n_words = len(paragraph.split())
        if n_words < min_words:
            pending = paragraph
        elif n_words <= max_words:
            passages.append(paragraph)
        else:
            passages.extend(_cut_long(paragraph, n_words, min_words, max_words))
    if pending and passages and len(passages[-1].split()) + len(pending.split()) <= max_words:
        passages[-1] = f"{passages[-1]}\n{pending}"
    return passages


def _cut_long(paragraph: str, n_words: int, min_words: int, max_words: int) -> list[str]:
    """Cut at sentence ends into ceil(n/max) pieces of about n/pieces words each.

    A piece under `min_words` (a short sentence between two long ones) joins a neighbour when
    that stays within `max_words`, and is otherwise kept as it is.
    """
    target = n_words / math.ceil(n_words / max_words)
    pieces: list[str] = []
    current: list[str] = []
    current_words = 0
    for sentence in split_sentences(paragraph):
        words = sentence.split()
        if len(words) > max_words:  # one run-on sentence (or a list without full stops)
            if current:
                pieces.append(" ".join(current))
                current, current_words = [], 0
            pieces.extend(" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words))
            continue
        if current and (current_words + len(words) > max_words or current_words >= target):
            pieces.append(" ".join(current))
            current, current_words = [], 0
        current.append(sentence)
        current_words += len(words)
    if current:
        pieces.append(" ".join(current))
    return _join_short_pieces(pieces, min_words, max_words)


def _join_short_pieces(pieces: list[str], min_words: int, max_words: int) -> list[str]:
    joined: list[str] = []
    for piece in pieces:
        previous_words = len(joined[-1].split()) if joined else 0
        piece_words = len(piece.split())
        one_is_short = piece_words < min_words or 0 < previous_words < min_words
        if joined and one_is_short and previous_words + piece_words <= max_words:
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


class PassageSplitter(PipelineStep):
    """datatrove step: one clean article in, its passages out (`split_passages`).

    Each passage is a document with id `{page_id}-{n}` and the metadata of a
    `memtrain_data.records.Passage`: page_id, title, n_words, revision_id, timestamp, source.
    Stats: `pages_in`, `passages_out`, `pages_without_passages`, `words_dropped` (short
    remainders that could not be joined to a passage).
    """

    name = "✂️ Passages"
    type = "✂️ - SPLIT"

    def __init__(self, min_words: int = 20, max_words: int = 220) -> None:
        super().__init__()
        if min_words < 1 or max_words < min_words:
            raise ValueError(f"need 1 <= min_words <= max_words, got min_words={min_words}, max_words={max_words}")
        self.min_words = min_words
        self.max_words = max_words

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from datatrove.utils.logging import logger

        for article in data:
            self.stat_update("pages_in")
            metadata = article.metadata
            page_id = int(metadata.get("page_id", article.id))
            passages = split_passages(article.text, self.min_words, self.max_words)
            kept_words = sum(len(passage.split()) for passage in passages)
            dropped_words = len(article.text.split()) - kept_words
            if dropped_words:
                self.stat_update("words_dropped", value=dropped_words)
            if not passages:
                self.stat_update("pages_without_passages")
                logger.info(f"page {page_id} ({metadata.get('title', '')!r}): no passage of {self.min_words}+ words")
                continue
            for n, passage in enumerate(passages):
                n_words = len(passage.split())
                self.stat_update("passages_out")
                self.stat_update("passage_words", value=n_words)
                yield Document(
                    text=passage,
                    id=f"{page_id}-{n}",
                    metadata={
                        "page_id": page_id,
                        "title": metadata.get("title", ""),
                        "n_words": n_words,
                        "revision_id": metadata.get("revision_id"),
                        "timestamp": metadata.get("timestamp"),
                        "source": metadata.get("source", ""),
                    },
                )
