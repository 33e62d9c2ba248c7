"""Intermediate-memory-recall probes: an entity of an earlier chunk masked as [TARGET].

For every chunk but the last, up to `probes_per_chunk` entities ỹ are chosen. NER does not
read the whole chunk: the chunk's pieces are visited in a seeded random order and NER stops
once enough usable entities are found, so a 5,120-token chunk usually costs NER on two or
three passages. A target must differ from the answer and from its aliases (no containment
either way), so a probe never reveals or re-asks the masked answer.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from memtrain_data.episodes.entities import Entity, extract_entities, related_forms
from memtrain_data.episodes.masking import mask_occurrences
from memtrain_data.records import TARGET_TOKEN, RecallProbe

if TYPE_CHECKING:
    from spacy.language import Language

# Pieces per NER batch while looking for targets in one chunk.
PROBE_NER_BATCH = 2


def is_valid_target(candidate: str, answers: Sequence[str]) -> bool:
    """A target may not equal, contain or be contained in any answer alias."""
    return not any(related_forms(candidate, answer) for answer in answers)


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def find_targets(
    nlp: Language,
    pieces: Sequence[str],
    answers: Sequence[str],
    labels: Sequence[str],
    wanted: int,
    rng: random.Random,
) -> tuple[list[Entity], int]:
    """Up to `wanted` distinct usable entities from `pieces`, and how many words NER read."""
    if wanted <= 0 or not pieces:
        return [], 0
    order = list(pieces)
    rng.shuffle(order)
    found: list[Entity] = []
    seen: set[str] = set()
    words_read = 0
    for batch in _batches(order, PROBE_NER_BATCH):
        words_read += sum(len(text.split()) for text in batch)
        for entities in extract_entities(nlp, batch, labels, batch_size=PROBE_NER_BATCH):
            shuffled = list(entities)
            rng.shuffle(shuffled)
            for entity in shuffled:
                key = entity.text.casefold()
                if key in seen or not is_valid_target(entity.text, answers):
                    continue
                if any(related_forms(entity.text, chosen.text) for chosen in found):
                    continue
                seen.add(key)
                found.append(entity)
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
) -> tuple[list[RecallProbe], int]:
    """Probes on every chunk but the last, and the words NER read to find them."""
    probes: list[RecallProbe] = []
    words_read = 0
    for chunk_index in range(len(chunks) - 1):
        targets, read = find_targets(nlp, chunk_pieces[chunk_index], answers, labels, probes_per_chunk, rng)
        words_read += read
        for target in targets:
            masked_chunk, count = mask_occurrences(chunks[chunk_index], [target.text], TARGET_TOKEN)
            if count == 0:
                continue
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
