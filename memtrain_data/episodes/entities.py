"""Named entities that may be masked: spaCy NER, junk filters, and the answer rules.

NER runs with `nlp.pipe` on the pipeline from `memtrain_data.nlp.load_spacy_ner` (only
tok2vec and ner enabled). An entity is usable when its label is allowed and its text is not
junk: one character, no letter or digit (pure punctuation), a stopword ("US" would mask every
"us"), or touching a placeholder such as "[MASK]" left by an earlier masking.

An answer must also be a whole, well-cut name or a number with digits: `span_junk_reason`
(no function word or punctuation at either end), `whole_name` (widened to the capitalised name
it belongs to) and `answer_reason` (allowed label, digits for numbers, no vague common noun,
no count glued to letters, no year unless labelled DATE, no formula or code). Whether a one-word
name is an ordinary word depends on the document: `common_word_use`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from memtrain_data.build_config import ONTONOTES_LABELS
from memtrain_data.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

# Labels whose entities are names; containment between two of them means "the same thing"
# ("Barack Obama" / "Obama"). Numbers and dates are excluded: "1994" is not an alias of "May 1994".
NAME_LABELS: frozenset[str] = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW", "LANGUAGE"}
)
# spaCy batch size: 256 (en_core_web_sm's own default) runs ~1.5x faster than 32 on paragraphs.
NER_BATCH_SIZE = 256


@dataclass(frozen=True)
class Entity:
    """One entity mention's surface form and spaCy label."""

    text: str
    label: str


def validate_entity_labels(labels: Sequence[str], known: Iterable[str] = ONTONOTES_LABELS) -> list[str]:
    """`labels` upper-cased, or a one-line ConfigError naming the unknown ones and the valid ones."""
    valid = sorted(set(known))
    wanted = [label.upper() for label in labels]
    unknown = [label for label in wanted if label not in valid]
    if unknown:
        raise ConfigError(f"unknown spaCy entity label(s) {', '.join(unknown)} in entity_labels; valid labels: {', '.join(valid)}")
    if not wanted:
        raise ConfigError(f"entity_labels is empty; choose from: {', '.join(valid)}")
    return wanted


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(word.casefold() for word in STOP_WORDS)


def junk_reason(text: str) -> str | None:
    """Why `text` cannot be a masked entity, or None when it can."""
    stripped = text.strip()
    if len(stripped) <= 1:
        return "one_character"
    if not any(ch.isalnum() for ch in stripped):
        return "punctuation"
    if stripped.casefold() in _stopwords():
        return "stopword"
    if "[" in stripped or "]" in stripped:
        return "placeholder"
    return None


def extract_entities(
    nlp: Language, texts: Iterable[str], labels: Iterable[str], batch_size: int = NER_BATCH_SIZE
) -> Iterator[list[Entity]]:
    """For each text, its usable entities in order of first mention (one per case-folded form)."""
    allowed = frozenset(labels)
    for doc in nlp.pipe(texts, batch_size=batch_size):
        seen: set[str] = set()
        found: list[Entity] = []
        for span in doc.ents:
            surface = " ".join(span.text.split())
            key = surface.casefold()
            if span.label_ not in allowed or key in seen or junk_reason(surface) is not None:
                continue
            seen.add(key)
            found.append(Entity(surface, span.label_))
        yield found


# Labels whose entities are numbers or times: usable as answers only when they contain a digit
# ("1937", "May 1994", "29,455"), never vague words ("winter", "today", "second", "annually").
NUMERIC_LABELS: frozenset[str] = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
_BARE_NUMBER = re.compile(r"^[\d.,]+$")
_YEAR = re.compile(r"^1\d{3}$|^20\d{2}$")
_ERA_MARKERS = frozenset({"BC", "AD", "BCE", "CE", "B.C.", "A.D."})
# A span may end with these dotted words ("Apple Inc.", "U.S."); any other final dot is punctuation.
_DOTTED_ENDINGS = frozenset({"Inc.", "Co.", "Ltd.", "Corp.", "Jr.", "Sr.", "St.", "Bros.", "Mt."})
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.]*")
# Labels that count things: their words are numbers ("2,500", "3.5 million"), never a digit glued to letters.
_COUNT_LABELS: frozenset[str] = frozenset({"CARDINAL", "QUANTITY"})
_GLUED = re.compile(r"\d[^\W\d_]|[^\W\d_]\d")
# One token of capital letters glued to digits: a chemical formula or a code, not a name.
_CODE = re.compile(r"^(?=[A-Z\d]*[A-Z]\d)[A-Z\d]+$")


# Labels whose one-word answers must not be ordinary words of the document. A work's title is
# often an ordinary word capitalised ("Articles", "Fountain") and is read as a name all the same.
COMMON_WORD_LABELS: frozenset[str] = NAME_LABELS - {"WORK_OF_ART"}


def common_word_use(answer: str, texts: Iterable[str]) -> bool:
    """Whether a one-word name answer is also used as an ordinary lowercase word in `texts`.

    "Sodium" at a sentence start beside "sodium" everywhere else, "SEQUENCE" in pseudo-code beside
    "a sequence of", "Cabinet" beside "(cabinet)": the word is a common noun here, so masking
    would either leave the lowercase uses visible or hide ordinary words. A plural or singular
    ("Councillors" / "councillor") counts as the same word. Multi-word names are not affected.
    """
    words = answer.split()
    if len(words) != 1 or answer.islower() or not answer.isalpha():
        return False
    lower = answer.lower()
    stem = lower[:-1] if lower.endswith("s") and len(lower) > 3 else lower
    pattern = re.compile(rf"(?<![\w-])(?:{re.escape(lower)}|{re.escape(stem)}(?:s|es)?)(?![\w-])")
    return any(pattern.search(text) for text in texts)


def span_junk_reason(text: str) -> str | None:
    """Why a spaCy span is a mis-cut entity, or None: it must start and end inside a name.

    "Stylistically, Swift and", "North, South and", "about six or", "Both von Franz" and
    "About 1939" start or end with a function word or punctuation; a line break inside a span
    joins two paragraphs.
    """
    words = text.split()
    if not words or "\n" in text:
        return "mis_cut"
    from memtrain_data.episodes.masking import function_words

    first, last = words[0], words[-1]
    if first.casefold().strip(",;:") in function_words() or last.casefold().strip(",;:.") in function_words():
        return "function_word_edge"
    if not (first[0].isalnum()) or first.endswith((",", ";", ":")):
        return "punctuation_edge"
    if not last[-1].isalnum() and last[-1] not in ")%" and not (last.endswith(".") and (last in _DOTTED_ENDINGS or "." in last[:-1])):
        return "punctuation_edge"
    return None


def answer_reason(text: str, label: str, answer_labels: Iterable[str]) -> str | None:
    """Why an entity cannot be the answer, or None: label allowed, digits for numbers, a name otherwise."""
    if label not in frozenset(answer_labels):
        return "label_not_allowed"
    if label in NUMERIC_LABELS:
        if not any(ch.isdigit() for ch in text):
            return "vague_number_or_date"
        if label in _COUNT_LABELS and any(_GLUED.search(word) for word in text.split()):
            # "8s" (an orbital), "C2" (a carbon chain), "ITA2": code-like text, not a count.
            return "number_glued_to_letters"
        if _BARE_NUMBER.match(text) and _YEAR.match(text) and label != "DATE":
            # "In 1900, Einstein ..." tagged CARDINAL: a year is a date question only when spaCy says DATE.
            return "year_not_labelled_date"
        # A bare "20", "100", "0.5" or "29,455" turns up in other passages with other meanings and
        # nothing pins it; a year ("1937") or a number with its unit ("9 weeks", "5%") does.
        return "bare_number" if _BARE_NUMBER.match(text) and not _YEAR.match(text) else None
    if not (text[:1].isupper() or text[:1].isdigit()):
        return "common_noun"
    if label != "PRODUCT" and _CODE.match(text):
        # "CH4", "C2H6", "ITA2": a formula or an identifier, whatever label spaCy gave it.
        return "code_like"
    if len(text) <= 2 or text in _ERA_MARKERS:
        # "BC", "MS", "AD": two letters name too many things to be guessed from a document.
        return "too_short"
    return None


def whole_name(text: str, surface: str) -> str:
    """`surface` widened to the capitalised name it belongs to at its first place in `text`.

    spaCy may tag "Rand" where the text says "Ayn Rand", or "Ocean" in "Atlantic Ocean"; the
    neighbouring capitalised words (joined by a space or a hyphen) that continue the name are
    taken in, so the answer is never a fragment. Numbers and lowercase surfaces stay as they are.
    """
    from memtrain_data.episodes.masking import continues_name, occurrence_pattern

    if not surface[:1].isupper():
        return surface
    match = occurrence_pattern([surface]).search(text)
    if match is None:
        return surface
    start, end = match.start(), match.end()
    while True:
        before = re.search(r"([^\W\d_][\w'’.]*)( |-)$", text[max(0, start - 60) : start])
        if before is None or not continues_name(before.group(1)) or before.group(1).endswith("."):
            break
        # A capitalised sentence opener ("Writer Ayn Rand ...") is not taken in: spaCy left it out.
        if re.search(r"(?:^|[.!?:;\n])\s*$", text[: start - len(before.group(0))]):
            break
        start -= len(before.group(0))
    while True:
        after = re.match(r"( |-)([^\W\d_][\w'’]*)", text[end:])
        if after is None or not continues_name(after.group(2)):
            break
        end += len(after.group(0))
    return text[start:end]


def _contains_words(outer: str, inner: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(inner.casefold())}(?!\w)", outer.casefold()) is not None


def related_forms(a: str, b: str) -> bool:
    """Whether one surface form contains the other on word boundaries (or they are equal)."""
    return _contains_words(a, b) or _contains_words(b, a)
