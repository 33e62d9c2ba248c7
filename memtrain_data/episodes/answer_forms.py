"""Which entity of the pivot may be the answer, and every form that names it.

`answer_candidates` turns the pivot's spaCy entities into candidate answers:

1. a span that starts or ends with a function word or punctuation is mis-cut and rejected
   (`entities.span_junk_reason`); a leading "the" is dropped ("the Netherlands" → "Netherlands");
2. the span is widened to the whole capitalised name it belongs to in the pivot
   (`entities.whole_name`: "Rand" → "Ayn Rand", "Ocean" → "Atlantic Ocean");
3. its label must be an allowed answer label, a number or date must contain a digit, and a
   name must be capitalised (`entities.answer_reason`).

`answer_forms` gathers what scores as correct (`accepted`, canonical first) and what is masked
(`masked`, a superset):

- the canonical form and, when the text or the title says "the X", also "the X" (accepted);
- through the alias table (`aliases.AliasTable`): the page the answer names, its title,
  redirects and name-like anchors (accepted and masked), and related anchors such as
  demonyms (masked only: "Canadian" gives "Canada" away but is not its name);
- other entities of the pivot with the same label that contain it ("Barack Obama" for
  "Obama"), accepted and masked;
- a person's surname ("Jefferson" for "Thomas Jefferson"), accepted and masked: the full name
  is in the document (the pivot holds it), and the masking rules never mask the surname inside
  another name ("Jefferson Davis"); for a name of three words or more, also first name and
  surname ("Lyndon Johnson" for "Lyndon B. Johnson").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from memtrain_data.episodes.aliases import AliasTable, display_title, is_word_run_of, strip_the
from memtrain_data.episodes.entities import (
    NAME_LABELS,
    Entity,
    answer_reason,
    junk_reason,
    span_junk_reason,
    whole_name,
)
from memtrain_data.episodes.masking import function_words

_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
# Name suffixes that are never a surname on their own.
_SUFFIXES = frozenset({"Jr.", "Sr.", "Jr", "Sr", "II", "III", "IV"})


@dataclass
class AnswerForms:
    """The answer's canonical form, the forms that score as correct, and the forms masked."""

    canonical: str
    label: str
    accepted: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    page_title: str | None = None


def _had_the(text: str) -> bool:
    return text.split()[:1] in (["the"], ["The"]) and len(text.split()) > 1


def bare_name(text: str) -> str:
    """An entity span as a name: no leading "the", no trailing possessive ("the Goya's" → "Goya")."""
    # spaCy keeps a possessive inside the span ("Francisco Goya's"): the name is without it.
    return _POSSESSIVE.sub("", strip_the(text))


def answer_candidates(
    pivot_text: str, entities: Sequence[Entity], answer_labels: Iterable[str], rejected: Counter[str] | None = None
) -> list[tuple[Entity, bool]]:
    """Usable answers of the pivot (whole names, the-less) and whether the text said "the X"."""
    labels = frozenset(answer_labels)
    found: list[tuple[Entity, bool]] = []
    seen: set[str] = set()
    for entity in entities:
        had_the = _had_the(entity.text)
        surface = bare_name(entity.text)
        reason = span_junk_reason(surface)
        if reason is None and entity.label in NAME_LABELS:
            surface = whole_name(pivot_text, surface)
            reason = span_junk_reason(surface) or junk_reason(surface)
        reason = reason or answer_reason(surface, entity.label, labels)
        if reason is not None:
            if rejected is not None:
                rejected[reason] += 1
            continue
        if surface.casefold() in seen:
            continue
        seen.add(surface.casefold())
        found.append((Entity(surface, entity.label), had_the))
    return found


def _add(target: list[str], form: str) -> None:
    form = " ".join(form.split())
    if form and form not in target:
        target.append(form)


def surname_of(name: str) -> str | None:
    """The last word of a person's full name, when it can stand alone ("Thomas Jefferson" → "Jefferson")."""
    words = [word for word in name.split() if word not in _SUFFIXES]
    if len(words) < 2 or "of" in words:
        # "Qovsi of Tabriz", "Catherine of Aragon": the last word is a place, not a family name.
        return None
    last = words[-1].rstrip(",")
    if len(last) < 3 or not last[0].isupper() or last.casefold() in function_words() or last.endswith("."):
        return None
    return last


def _shares_surname(surname: str, canonical: str, pivot_entities: Sequence[Entity], pivot_title: str) -> bool:
    """Whether another person of the pivot (or its page) carries the same surname."""
    names = [strip_the(other.text) for other in pivot_entities if other.label == "PERSON"] + [display_title(pivot_title)]
    return any(
        name != canonical and surname in name.split() and not is_word_run_of(name, canonical) for name in names
    )


def answer_forms(
    entity: Entity,
    had_the: bool,
    pivot_entities: Sequence[Entity],
    aliases: AliasTable | None,
    pivot_title: str = "",
) -> AnswerForms:
    """Accepted and masked forms of the answer `entity` (see the module doc)."""
    canonical = entity.text
    title_name = display_title(pivot_title) if pivot_title else ""
    title_words = title_name.split()
    if (
        entity.label in NAME_LABELS
        and len(title_words) >= 2
        and all(word[:1].isupper() for word in title_words)
        and canonical == title_words[-1]
    ):
        # "Tarkovsky" in the page "Andrei Tarkovsky", "Kilimanjaro" in "Mount Kilimanjaro": the page's whole name.
        canonical = title_name
    # A person's name part ("Rand") may resolve through an anchor to the whole name ("Ayn Rand");
    # other names only through a title or redirect: "Council of Ministers" linked from one
    # country's article does not name another country's council.
    page = (
        aliases.resolve(canonical, anchors=entity.label == "PERSON")
        if aliases is not None and entity.label in NAME_LABELS
        else None
    )
    forms = aliases.forms(page) if page is not None and aliases is not None else None
    if forms is not None and forms.names and canonical != forms.names[0] and is_word_run_of(canonical, forms.names[0]):
        # The pivot used part of the page's name ("Rand" for "Ayn Rand"): the full name is canonical.
        canonical = forms.names[0]
    result = AnswerForms(canonical, entity.label, page_title=page)
    _add(result.accepted, canonical)
    _add(result.masked, canonical)
    if entity.text != canonical:
        _add(result.accepted, entity.text)
        _add(result.masked, entity.text)
    if had_the or (page is not None and _had_the(page)):
        _add(result.accepted, f"the {canonical}")
    if entity.label not in NAME_LABELS:
        return result
    if forms is not None:
        for name in forms.names:
            _add(result.accepted, name)
            _add(result.masked, name)
        for related in forms.related:
            _add(result.masked, related)
    for other in pivot_entities:
        other_text = strip_the(other.text)
        if other.label != entity.label or other_text == canonical or not other_text[:1].isupper():
            continue
        # A longer name holding the answer ("Barack Obama" for "Obama"), or a person's surname.
        names_it = is_word_run_of(canonical, other_text) or (
            entity.label == "PERSON" and other_text == surname_of(canonical)
        )
        if names_it and span_junk_reason(other_text) is None and junk_reason(other_text) is None:
            _add(result.accepted, other_text)
            _add(result.masked, other_text)
    if entity.label == "PERSON":
        surname = surname_of(canonical)
        if surname is not None and not _shares_surname(surname, canonical, pivot_entities, pivot_title):
            _add(result.accepted, surname)
            _add(result.masked, surname)
        words = canonical.split()
        if surname is not None and len(words) >= 3 and words[-1] == surname:
            # "Lyndon B. Johnson" is also answered as "Lyndon Johnson": first name and surname score.
            _add(result.accepted, f"{words[0]} {surname}")
            _add(result.masked, f"{words[0]} {surname}")
    return result


def equals_title(forms: AnswerForms, pivot_title: str) -> bool:
    """Whether the answer is the pivot's own page (by name or through the alias table)."""
    title = display_title(pivot_title)
    if forms.page_title is not None and forms.page_title == pivot_title:
        return True
    return forms.canonical.casefold() == title.casefold() or (forms.canonical[:1].isupper() and is_word_run_of(forms.canonical, title))


# An abbreviation in parentheses: two to ten characters, a capital first, at least two capitals.
_ABBREVIATION = r"[A-Z][A-Za-z0-9&.]{1,9}"
# A capitalised name before a parenthesis, function words allowed inside ("Department of Homeland Security").
_NAME_BEFORE = r"((?:[A-Z][\w.'’&-]*[ \t]+(?:(?:of|and|for|the|on|in|de|&)[ \t]+)*)*[A-Z][\w.'’&-]*)"


def abbreviates(short: str, name: str) -> bool:
    """Whether `short` reads as an abbreviation of `name`: "ARR" of "Alaska Railroad", "CBP" of
    "U.S. Customs and Border Protection" (its letters in order, the first one a word's initial)."""
    letters = [char.casefold() for char in short if char.isalpha()]
    if len(letters) < 2 or sum(char.isupper() for char in short) < 2 or short.casefold() == name.casefold():
        return False
    words = name.split()
    for start, word in enumerate(words):
        if word[:1].casefold() != letters[0] or not word[:1].isupper():
            continue
        rest = iter(" ".join(words[start:]).casefold()[1:])
        if all(letter in rest for letter in letters[1:]):
            return True
    return False


def parenthetical_names(text: str, names: Iterable[str]) -> list[str]:
    """Abbreviations and full names that `text` gives in parentheses beside one of `names`:
    "Alaska Railroad (ARR)" gives "ARR" for "Alaska Railroad"; "U.S. Customs and Border
    Protection (CBP)" gives the full name for "CBP"."""
    found: list[str] = []
    for name in names:
        if not name.strip():
            continue
        escaped = r"[ \t]+".join(map(re.escape, name.split()))
        for match in re.finditer(rf"(?<!\w){escaped}[ \t]*\(({_ABBREVIATION})\)", text):
            if abbreviates(match.group(1), name) and match.group(1) not in found:
                found.append(match.group(1))
        for match in re.finditer(rf"{_NAME_BEFORE}[ \t]*\({escaped}\)", text):
            full = strip_the(match.group(1))
            if abbreviates(name, full) and full not in found:
                found.append(full)
    return found


def parenthetical_names_beside(masked_text: str, placeholder: str, names: Sequence[str]) -> list[str]:
    """Abbreviations or full names of `names` left readable in parentheses beside `placeholder`:
    "[MASK] (ARR)" when "Alaska Railroad" is masked, "U.S. Customs and Border Protection ([TARGET])"
    when "CBP" is the target. A written record's check of what `parenthetical_names` finds."""
    found: list[str] = []
    mark = re.escape(placeholder)
    for match in re.finditer(rf"{mark}[ \t]*\(({_ABBREVIATION})\)", masked_text):
        if any(abbreviates(match.group(1), name) for name in names) and match.group(1) not in found:
            found.append(match.group(1))
    for match in re.finditer(rf"{_NAME_BEFORE}[ \t]*\({mark}\)", masked_text):
        full = strip_the(match.group(1))
        if any(abbreviates(name, full) for name in names) and full not in found:
            found.append(full)
    return found
