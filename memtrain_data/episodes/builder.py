"""One masked-reconstruction episode from one pivot passage.

Steps, all driven by one RNG seeded from (seed, pivot passage id, BUILDER_VERSION):

1. the answer y: a random usable entity of the pivot; its aliases are the other entities of
   the pivot that contain it or that it contains (same name label);
2. the document: the pivot, its top-`related_passages` retrieved passages, and
   `random_passages` random ones (never the pivot or a related one), shuffled. When the
   retriever finds fewer related passages, random ones make up the count. When the passages
   are too short to reach `min_doc_tokens` (the paper's 150 passages make 24k-40k tokens;
   short Wikipedia paragraphs may not), more random passages are added until they do: the
   paper fixes both numbers, and the token range is what the agent's budgets rely on;
3. masking: every occurrence of every answer, in every passage, becomes [MASK];
4. chunking with the real tokenizer; documents outside the token range or over `max_chunks`
   are dropped with their reason;
5. recall probes on every chunk but the last;
6. the record is validated (Pydantic) and checked against `rules.episode_violations`; a
   record that breaks a rule is dropped and counted under the rule's code, never written.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from memtrain_data import BUILDER_VERSION
from memtrain_data.episodes.chunking import chunk_document, count_tokens
from memtrain_data.episodes.entities import Entity, find_aliases
from memtrain_data.episodes.masking import mask_occurrences
from memtrain_data.episodes.probes import make_recall_probes
from memtrain_data.episodes.rules import episode_violations, violation_code
from memtrain_data.records import MASK_TOKEN, RECONSTRUCTION_QUESTION, MaskedReconstructionEpisode

if TYPE_CHECKING:
    from spacy.language import Language
    from transformers import PreTrainedTokenizerBase

    from memtrain_data.build_config import BuildConfig
    from memtrain_data.episodes.passages import PassageView
    from memtrain_data.episodes.retrieval import PassageRetriever

# Top-up aims a little above min_doc_tokens: masking and joins shift the final count slightly.
TOP_UP_MARGIN = 1.01
# Passages added per top-up round (their tokens are counted in one batch).
TOP_UP_BATCH = 8


def episode_seed(seed: int, pivot_passage_id: str) -> int:
    """The integer seed of one episode (sha256; stable across processes and Python versions)."""
    digest = hashlib.sha256(f"{seed}\x1f{pivot_passage_id}\x1f{BUILDER_VERSION}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def episode_id(config_name: str, seed: int, pivot_passage_id: str) -> str:
    """A readable id, unique within a dataset: config, pivot, and a short hash of the seed."""
    digest = hashlib.sha256(f"{config_name}\x1f{seed}\x1f{pivot_passage_id}\x1f{BUILDER_VERSION}".encode()).hexdigest()
    return f"{config_name}-{pivot_passage_id}-{digest[:8]}"


@dataclass
class EpisodeContext:
    """What building episodes needs besides the pivot; loaded once per worker process."""

    config: BuildConfig
    labels: list[str]
    passages: PassageView
    retriever: PassageRetriever
    tokenizer: PreTrainedTokenizerBase
    nlp: Language


@dataclass
class EpisodeOutcome:
    """An episode, or the reason no episode came from this pivot; plus work counters."""

    episode: MaskedReconstructionEpisode | None
    drop_reason: str | None = None
    probe_ner_words: int = 0
    top_up_passages: int = 0
    detail: str = ""


def _draw_random_rows(rng: random.Random, pool_rows: int, excluded: set[int], count: int) -> list[int]:
    drawn: list[int] = []
    # Rejection sampling: cheap for pools far larger than one document, which the caller ensures.
    while len(drawn) < count:
        row = rng.randrange(pool_rows)
        if row not in excluded:
            excluded.add(row)
            drawn.append(row)
    return drawn


def build_episode(
    context: EpisodeContext,
    pivot_row: int,
    pivot: dict[str, Any],
    pivot_entities: Sequence[Entity],
    split: str,
) -> EpisodeOutcome:
    """Build the episode pivoted on `pivot` (row `pivot_row` of the pool view), or say why not."""
    config = context.config
    pivot_id = str(pivot["id"])
    rng = random.Random(episode_seed(config.seed, pivot_id))
    if not pivot_entities:
        return EpisodeOutcome(None, "no_usable_entity")
    answer = rng.choice(list(pivot_entities))
    answers = [answer.text, *find_aliases(answer, pivot_entities)]

    pool_rows = len(context.passages)
    related = context.retriever.related(pivot_row, str(pivot["text"]), config.related_passages)
    excluded = {pivot_row, *related}
    random_count = config.random_passages + (config.related_passages - len(related))
    if pool_rows - len(excluded) < random_count:
        return EpisodeOutcome(None, "pool_too_small")
    rows = [pivot_row, *related, *_draw_random_rows(rng, pool_rows, excluded, random_count)]
    passages = context.passages.rows(rows)

    # Token counts of the unmasked passages: they drive the top-up, and are reused for every
    # passage that masking leaves unchanged.
    passage_tokens = count_tokens(context.tokenizer, [str(p["text"]) for p in passages])
    top_up = 0
    while (
        config.top_up_to_min_tokens
        and sum(passage_tokens) < config.min_doc_tokens * TOP_UP_MARGIN
        and pool_rows - len(excluded) > 0
    ):
        extra_rows = _draw_random_rows(rng, pool_rows, excluded, min(TOP_UP_BATCH, pool_rows - len(excluded)))
        extra = context.passages.rows(extra_rows)
        passage_tokens.extend(count_tokens(context.tokenizer, [str(p["text"]) for p in extra]))
        rows.extend(extra_rows)
        passages.extend(extra)
        top_up += len(extra_rows)

    order = list(range(len(passages)))
    rng.shuffle(order)
    document = [passages[i] for i in order]
    masked_texts: list[str] = []
    document_tokens: list[int] = []
    changed: list[int] = []
    masked_total = 0
    for position, index in enumerate(order):
        passage = passages[index]
        masked, count = mask_occurrences(str(passage["text"]), answers, MASK_TOKEN)
        masked_texts.append(masked)
        document_tokens.append(passage_tokens[index])
        masked_total += count
        if count:
            changed.append(position)
        elif passage["id"] == pivot_id:
            return EpisodeOutcome(None, "answer_not_in_pivot", top_up_passages=top_up)
    for position, n_tokens in zip(changed, count_tokens(context.tokenizer, [masked_texts[i] for i in changed]), strict=True):
        document_tokens[position] = n_tokens

    chunking = chunk_document(context.tokenizer, masked_texts, config.chunk_tokens, document_tokens)
    if len(chunking.chunks) > config.max_chunks:
        return EpisodeOutcome(None, "too_many_chunks", top_up_passages=top_up)
    if chunking.total_tokens < config.min_doc_tokens:
        return EpisodeOutcome(None, "doc_too_short", top_up_passages=top_up)
    if chunking.total_tokens > config.max_doc_tokens:
        return EpisodeOutcome(None, "doc_too_long", top_up_passages=top_up)

    probes, ner_words = make_recall_probes(
        context.nlp, chunking.chunks, chunking.pieces, answers, context.labels, config.probes_per_chunk, rng
    )
    sources = sorted({str(p["source"]) for p in document})
    try:
        episode = MaskedReconstructionEpisode(
            id=episode_id(str(config.config_name), config.seed, pivot_id),
            split=split,  # type: ignore[arg-type]
            preset=config.preset,
            question=RECONSTRUCTION_QUESTION,
            mask_token=MASK_TOKEN,
            answers=answers,
            answer_label=answer.label,
            chunks=chunking.chunks,
            chunk_n_tokens=chunking.n_tokens,
            n_tokens=chunking.total_tokens,
            masked_occurrences=masked_total,
            recall_probes=probes,
            pivot_passage_id=pivot_id,
            pivot_title=str(pivot["title"]),
            passage_ids=[str(p["id"]) for p in document],
            related_passage_ids=[str(p["id"]) for p in passages[1 : 1 + len(related)]],
            source=", ".join(sources),
            tokenizer=config.tokenizer,
            seed=config.seed,
            builder_version=BUILDER_VERSION,
        )
    except ValidationError as exc:
        return EpisodeOutcome(None, "invalid_record", ner_words, top_up, detail=str(exc.errors()[0]["msg"]))
    violations = episode_violations(
        episode,
        chunk_tokens=config.chunk_tokens,
        max_chunks=config.max_chunks,
        min_doc_tokens=config.min_doc_tokens,
        max_doc_tokens=config.max_doc_tokens,
    )
    if violations:
        return EpisodeOutcome(None, violation_code(violations[0]), ner_words, top_up, detail=violations[0])
    return EpisodeOutcome(episode, None, ner_words, top_up)
