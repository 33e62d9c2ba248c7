"""Finding and replacing the occurrences of an entity's forms: case- and name-aware.

A form matches where it is the same word sequence, with these rules (the builder masks with
them, and `judge.py` re-checks written records with the very same matcher):

- **Case.** A form that starts with a capital letter ("Paris", "Articles") matches only as
  written or in ALL CAPS: lowercase "articles" is an ordinary word, not the book. A form that
  starts lowercase also matches with its first letter capitalised (sentence start).
- **Whole names.** A capitalised form does not match inside a longer name: "Thomas" is not
  masked in "Thomas Paine", "Kingdom" not in "United Kingdom", "Atlantic" not in
  "Mid-Atlantic". A neighbour continues a name when it is a capitalised word that is not a
  function word ("In Paris" is fine) or a title ("President Obama" is fine).
- **Numbers** match as the same token sequence, never inside a longer number: "1937" is not
  masked in "19370", "2,1937" or "1937.5".
- Whitespace inside a form matches any run of whitespace; a possessive or a hyphenated suffix
  stays outside the match ("[MASK]'s", "[MASK]-based").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Capitalised words that do not continue a name on the left of a masked form: titles and
# ranks that precede a name ("President [MASK]" is the whole name masked, not a fragment).
TITLE_WORDS: frozenset[str] = frozenset(
    {
        "President", "King", "Queen", "Emperor", "Empress", "Pope", "General", "Senator",
        "Sir", "Dame", "Lord", "Lady", "Prince", "Princess", "Governor", "Chancellor", "Minister", "Judge",
        "Captain", "Admiral", "Colonel", "Bishop", "Archbishop", "Cardinal", "Professor", "Chairman", "CEO",
        "Duke", "Earl", "Count", "Countess", "Baron", "Tsar", "Sultan", "Caliph", "Chief", "Justice",
        "Vice", "Lieutenant", "Mayor", "Representative", "Congressman", "Rabbi", "Reverend", "Father",
        "Mr.", "Mrs.", "Ms.", "Dr.", "Mr", "Mrs", "Ms", "Dr", "Commander", "Major", "Sergeant", "Marshal",
        "Brigadier", "Commodore", "Corporal", "Ambassador", "Secretary", "Premier", "Sheikh", "Imam",
        "Prof.", "Baroness", "Saint", "Chairwoman", "Speaker", "Deputy", "Pastor", "Provost",
    }
)  # fmt: skip
# A word right after a match (space or hyphen between), and one right before it.
_NEXT_WORD = re.compile(r"(?:[ \t]+|-)([^\W\d_][\w'’.-]*)")
_PREV_WORD = re.compile(r"([^\W\d_][\w'’.-]*)(?:[ \t]+|-)$")
# Abbreviations that continue a place name ("Mt. Everest"); other dotted words end a sentence.
_NAME_ABBREVIATIONS = frozenset({"Mt.", "Ft.", "St.", "Jr.", "Sr."})


@lru_cache(maxsize=1)
def function_words() -> frozenset[str]:
    """spaCy's English stopwords, case-folded ("in", "the", "about", "both", ...)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(word.casefold() for word in STOP_WORDS)


def is_numeric_form(form: str) -> bool:
    """A form that contains a digit ("1937", "May 1994", "29,455"): matched as a token sequence."""
    return any(ch.isdigit() for ch in form)


def is_capitalised(form: str) -> bool:
    return bool(form) and form[0].isupper()


def names_something(form: str) -> bool:
    """Whether any word of `form` is capitalised: "the Beatles" and "van Gogh" are names too."""
    return any(word[:1].isupper() for word in form.split())


def continues_name(word: str) -> bool:
    """Whether a neighbouring word is part of a longer capitalised name."""
    bare = word.rstrip(".'’-")
    if not bare or not bare[0].isupper():
        return False
    return not (bare.casefold() in function_words() or word in TITLE_WORDS or bare in TITLE_WORDS)


def _variants(form: str) -> list[str]:
    """The case variants a form matches as (see the module doc)."""
    variants = [form]
    if is_capitalised(form):
        if form.upper() != form:
            variants.append(form.upper())
    elif form[:1].isalpha():
        variants.append(form[0].upper() + form[1:])
    return variants


def _alternative(surface: str) -> str:
    return r"\s+".join(re.escape(word) for word in surface.split())


@lru_cache(maxsize=4096)
def _compiled(surfaces: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "Barack Obama" is taken whole before "Obama" could match inside it.
    variants = {variant for surface in surfaces for variant in _variants(" ".join(surface.split()))}
    ordered = sorted(variants, key=lambda s: (-len(s), s))
    body = "|".join(_alternative(s) for s in ordered)
    # No word character on either side; no "digit + . or ," before or after (numbers stay whole).
    return re.compile(rf"(?<!\w)(?<!\d[.,])(?:{body})(?![.,]\d)(?!\w)")


def _embedded_in_name(text: str, start: int, end: int) -> bool:
    """Whether the match text[start:end] is a fragment of a longer capitalised name."""
    matched = text[start:end]
    if not names_something(matched):
        return False
    after = _NEXT_WORD.match(text, end)
    if after and continues_name(after.group(1)):
        return True
    before = _PREV_WORD.search(text[max(0, start - 60) : start])
    if before and continues_name(before.group(1)):
        # "Mt." ends with a dot but is a name part; a sentence-final word ("Paris.") is not.
        return not before.group(1).endswith(".") or before.group(1) in _NAME_ABBREVIATIONS
    return False


def find_occurrences(text: str, surfaces: Iterable[str], whole_names: bool = True) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of any of `surfaces` in `text` under the rules above.

    With `whole_names=False` an occurrence inside a longer name counts too ("Rearden" in
    "Rearden Metal"): the leak test for the accepted answers, which must not be readable at all.
    """
    cleaned = tuple(sorted({" ".join(s.split()) for s in surfaces if s.strip()}))
    if not cleaned:
        return []
    spans: list[tuple[int, int]] = []
    for match in _compiled(cleaned).finditer(text):
        if not whole_names or not _embedded_in_name(text, match.start(), match.end()):
            spans.append((match.start(), match.end()))
    return spans


def occurrence_pattern(surfaces: Iterable[str]) -> re.Pattern[str]:
    """The raw regex of `surfaces` (case variants and number boundaries, no whole-name check)."""
    cleaned = tuple(sorted({" ".join(s.split()) for s in surfaces if s.strip()}))
    if not cleaned:
        raise ValueError("occurrence_pattern needs at least one non-blank string")
    return _compiled(cleaned)


def mask_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    """`text` with each (start, end) span replaced by `placeholder`."""
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append(placeholder)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def mask_occurrences_with_forms(text: str, surfaces: Iterable[str], placeholder: str) -> tuple[str, int, list[str]]:
    """`text` masked, the count, and the distinct surface strings replaced (as they read)."""
    spans = find_occurrences(text, surfaces)
    forms: list[str] = []
    for start, end in spans:
        form = text[start:end]
        if form not in forms:
            forms.append(form)
    return mask_spans(text, spans, placeholder), len(spans), forms


def mask_occurrences(text: str, surfaces: Iterable[str], placeholder: str) -> tuple[str, int]:
    """`text` with every occurrence of any of `surfaces` replaced by `placeholder`, and the count."""
    masked, count, _ = mask_occurrences_with_forms(text, surfaces, placeholder)
    return masked, count


def count_occurrences(text: str, surfaces: Iterable[str]) -> int:
    """How many times any of `surfaces` occurs in `text` (same matching as masking)."""
    return len(find_occurrences(text, surfaces))


def contains_any(text: str, surfaces: Iterable[str], whole_names: bool = True) -> bool:
    """Whether any of `surfaces` still occurs in `text`: the leakage test (see `find_occurrences`)."""
    return bool(find_occurrences(text, surfaces, whole_names))
