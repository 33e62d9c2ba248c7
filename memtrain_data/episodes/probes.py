"""Intermediate-memory-recall probes: an entity of an earlier chunk masked as [TARGET].

For every chunk but the last, up to `probes_per_chunk` entities ỹ are chosen. NER does not
read the whole chunk: the chunk's pieces are visited in a seeded random order and NER stops
once enough usable entities are found, so a 5,120-token chunk usually costs NER on two or
three passages.

A target is treated like the answer (`answer_forms`): the span loses a leading "the" and a
possessive, a name's span must be well cut (`entities.span_junk_reason`) and is widened to the
whole capitalised name in its piece (`entities.whole_name`: "Daoud Khan" → "Mohammed Daoud
Khan") when NER found that whole name too. It must differ from the answer and its aliases (no containment either way), so a probe
never reveals or re-asks the masked answer.

Only the target itself is masked (`masked_chunk` is exactly `mask_occurrences(chunk, [target],
TARGET_TOKEN)`, which validators re-derive), so a target is chosen only when nothing in its
masked chunk still names it (`visible_target_forms`):

- the target inside a longer name, which the whole-name-aware masking leaves alone ("Daoud
  Khan" in "Mohammed Daoud Khan");
- for a person, the surname and the shorter names ending with it, and first name plus surname
  ("Khan", "Daoud Khan" for "Mohammed Daoud Khan"), each as a whole name;
- with an alias table, the names of the page the target resolves to (title, redirects,
  name-like anchors; `aliases.AliasTable.forms`), each as a whole name;
- an abbreviation or full name in parentheses beside it ("[TARGET] (AAA)").

A whole-name match is used for the other forms because a form inside a longer name names
something else ("Khan" in "Khan Academy"); the target itself counts anywhere, since a longer
name that holds it spells it out.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from memtrain_data.episodes.answer_forms import bare_name, parenthetical_names_beside, surname_of
from memtrain_data.episodes.chunking import PASSAGE_JOIN
from memtrain_data.episodes.entities import (
    NAME_LABELS,
    Entity,
    answer_reason,
    extract_entities,
    junk_reason,
    related_forms,
    span_junk_reason,
    whole_name,
)
from memtrain_data.episodes.masking import contains_any, mask_occurrences
from memtrain_data.records import TARGET_TOKEN, RecallProbe

if TYPE_CHECKING:
    from spacy.language import Language

    from memtrain_data.episodes.aliases import AliasTable

# Pieces per NER batch while looking for targets in one chunk.
PROBE_NER_BATCH = 2


def is_valid_target(candidate: str, answers: Sequence[str]) -> bool:
    """A target may not equal, contain or be contained in any answer alias."""
    return not any(related_forms(candidate, answer) for answer in answers)


def person_name_parts(name: str) -> list[str]:
    """Shorter forms a person's full name is also read as: the runs ending with the surname, and
    first name plus surname ("Mohammed Daoud Khan" → "Daoud Khan", "Khan", "Mohammed Khan")."""
    surname = surname_of(name)
    if surname is None:
        return []
    words = name.split()
    end = max(index for index, word in enumerate(words) if word.rstrip(",") == surname)
    parts = [" ".join([*words[start:end], surname]) for start in range(1, end + 1)]
    if end >= 2:
        parts.append(f"{words[0]} {surname}")
    return list(dict.fromkeys(parts))


def visible_target_forms(masked_chunk: str, target: str, label: str, aliases: AliasTable | None = None) -> list[str]:
    """The forms naming `target` that are still readable in `masked_chunk`; empty when none is.

    `masked_chunk` is the chunk with `target` masked (a written probe's `masked_chunk`); the
    forms are those of the module doc: the target inside a longer name, a person's surname
    forms, and the alias table's names of the target's page (needs `aliases`).
    """
    visible: list[str] = []
    if contains_any(masked_chunk, [target], whole_names=False):
        visible.append(target)
    others: list[str] = person_name_parts(target) if label == "PERSON" else []
    if aliases is not None and label in NAME_LABELS:
        # As for the answer: a person's name part may resolve through an anchor, other names
        # only through a title or redirect.
        page = aliases.resolve(target, anchors=label == "PERSON")
        if page is not None:
            others.extend(aliases.forms(page).names)
    for form in dict.fromkeys(others):
        if form != target and form not in visible and contains_any(masked_chunk, [form]):
            visible.append(form)
    visible += [form for form in parenthetical_names_beside(masked_chunk, TARGET_TOKEN, [target]) if form not in visible]
    return visible


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _target_surface(entity: Entity, piece: str, piece_names: set[str], labels: Sequence[str]) -> tuple[str, str | None]:
    """The entity as a target (bare, a name widened in `piece`), or why it cannot be one.

    A widened name must itself be an entity of the piece (`piece_names`, case-folded): "Daoud
    Khan" becomes "Mohammed Daoud Khan", but "Afghan" in "Afghan Prime Minister" does not
    become "Afghan Prime". The answer's rules then apply (`entities.answer_reason`): a number
    needs a digit and is not bare ("second", "at least one", "15"), a name is capitalised
    ("congress"), no formula or code ("9s", "C5H12").
    """
    surface = bare_name(entity.text)
    reason = span_junk_reason(surface)
    if reason is None and entity.label in NAME_LABELS:
        widened = whole_name(piece, surface)
        if widened != surface and widened.casefold() not in piece_names:
            return widened, "part_of_a_longer_name"
        surface = widened
        reason = span_junk_reason(surface)
    return surface, reason or junk_reason(surface) or answer_reason(surface, entity.label, labels)


def find_targets(
    nlp: Language,
    pieces: Sequence[str],
    answers: Sequence[str],
    labels: Sequence[str],
    wanted: int,
    rng: random.Random,
    *,
    chunk: str | None = None,
    aliases: AliasTable | None = None,
    rejected: Counter[str] | None = None,
) -> tuple[list[Entity], int]:
    """Up to `wanted` distinct usable targets from `pieces`, and how many words NER read.

    `chunk` is the text the targets are masked in (default: the pieces joined by a blank line);
    a target must occur there and leave no form visible once masked (`visible_target_forms`,
    with `aliases`). Why entities were passed over is counted in `rejected`.
    """
    if wanted <= 0 or not pieces:
        return [], 0
    text = PASSAGE_JOIN.join(pieces) if chunk is None else chunk
    order = list(pieces)
    rng.shuffle(order)
    found: list[Entity] = []
    seen: set[str] = set()
    words_read = 0

    def passed_over(reason: str) -> None:
        if rejected is not None:
            rejected[reason] += 1

    for batch in _batches(order, PROBE_NER_BATCH):
        words_read += sum(len(piece.split()) for piece in batch)
        for piece, entities in zip(batch, extract_entities(nlp, batch, labels, batch_size=PROBE_NER_BATCH), strict=True):
            piece_names = {bare_name(entity.text).casefold() for entity in entities}
            shuffled = list(entities)
            rng.shuffle(shuffled)
            for entity in shuffled:
                surface, reason = _target_surface(entity, piece, piece_names, labels)
                # Every verdict below holds for the whole chunk: a surface is judged once.
                key = surface.casefold()
                if key in seen:
                    continue
                seen.add(key)
                if reason is None and not is_valid_target(surface, answers):
                    reason = "overlaps_answer"
                if reason is None and any(related_forms(surface, chosen.text) for chosen in found):
                    reason = "overlaps_other_target"
                if reason is None:
                    masked, count = mask_occurrences(text, [surface], TARGET_TOKEN)
                    if count == 0:
                        reason = "not_in_chunk"
                    elif visible_target_forms(masked, surface, entity.label, aliases):
                        reason = "target_still_named"
                if reason is not None:
                    passed_over(reason)
                    continue
                found.append(Entity(surface, entity.label))
        if len(found) >= wanted:
            break
    return found[:wanted], words_read


def make_recall_probes(
    nlp: Language,
    chunks: Sequence[str],
    chunk_pieces: Sequence[Sequence[str]],
    answers: Sequence[str],
    labels: Sequence[str],
    probes_per_chunk: int,
    rng: random.Random,
    *,
    aliases: AliasTable | None = None,
    rejected: Counter[str] | None = None,
) -> tuple[list[RecallProbe], int]:
    """Probes on every chunk but the last, and the words NER read to find them.

    `aliases` adds the target page's names to what must not stay readable; `rejected` counts
    why entities were passed over as targets (see `find_targets`).
    """
    probes: list[RecallProbe] = []
    words_read = 0
    for chunk_index in range(len(chunks) - 1):
        chunk = chunks[chunk_index]
        targets, read = find_targets(
            nlp, chunk_pieces[chunk_index], answers, labels, probes_per_chunk, rng,
            chunk=chunk, aliases=aliases, rejected=rejected,
        )  # fmt: skip
        words_read += read
        for target in targets:
            masked_chunk, count = mask_occurrences(chunk, [target.text], TARGET_TOKEN)
            probes.append(
                RecallProbe(
                    chunk_index=chunk_index,
                    masked_chunk=masked_chunk,
                    target=target.text,
                    label=target.label,
                    masked_occurrences=count,
                )
            )
    return probes, words_read
