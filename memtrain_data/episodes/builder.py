"""One masked-reconstruction episode from one pivot passage.

Steps, all driven by one RNG seeded from (seed, pivot passage id, BUILDER_VERSION):

1. the document: the pivot, its top-`related_passages` retrieved passages, and
   `random_passages` random ones (never the pivot or a related one), shuffled. Every passage
   comes from pages of the episode's own split (retrieval gets the split's row mask, random
   draws pick among the split's rows), so no validation or test page is read in training.
   When the retriever finds fewer related passages, random ones make up the count. When the
   passages are too short to reach `min_doc_tokens`, more random passages are added until they
   do (top-up; counted);
2. the answer y: the pivot's candidate answers (`answer_forms.answer_candidates`: whole names,
   allowed labels, no vague or mis-cut spans) in a seeded random order; the first whose forms
   mask the pivot and meet the evidence rule (`answer_evidence`; for a number or date only
   the pivot's own page counts outside the pivot) wins. A one-word name that the document also
   uses as a lowercase word is a common noun and skipped. An answer equal to the
   pivot's page title is allowed only for a seeded share `title_answer_share` of pivots; one
   whose accepted forms stay readable inside another name of the document is passed over;
3. masking: every occurrence of every masked form (`answer_forms.answer_forms`), in every
   passage, becomes [MASK] under the case- and name-aware rules of `masking.py`;
4. chunking with the real tokenizer; documents outside the token range or over `max_chunks`
   are dropped with their reason;
5. recall probes on every chunk but the last;
6. the record is validated (Pydantic) and judged by `judge.judge_episode` (with the original passages, so the alignment rules run too: the very judge of `memtrain validate`); a
   record that breaks a rule is dropped and counted under the rule's code, never written.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from memtrain_data import BUILDER_VERSION
from memtrain_data.episodes.aliases import names_several_pages
from memtrain_data.episodes.answer_forms import (
    AnswerForms,
    answer_candidates,
    answer_forms,
    equals_title,
    parenthetical_names,
)
from memtrain_data.episodes.chunking import chunk_document, count_tokens
from memtrain_data.episodes.entities import (
    COMMON_WORD_LABELS,
    NAME_LABELS,
    NUMERIC_LABELS,
    Entity,
    common_word_use,
)
from memtrain_data.episodes.judge import JudgeSettings, judge_episode, violation_code, visible_forms
from memtrain_data.episodes.masking import contains_any, mask_occurrences_with_forms
from memtrain_data.episodes.probes import make_recall_probes
from memtrain_data.episodes.splits import page_id_of, unit_hash
from memtrain_data.records import MASK_TOKEN, RECONSTRUCTION_QUESTION, MaskedReconstructionEpisode

if TYPE_CHECKING:
    import numpy as np
    from spacy.language import Language
    from transformers import PreTrainedTokenizerBase

    from memtrain_data.build_config import EpisodeSettings
    from memtrain_data.episodes.aliases import AliasTable
    from memtrain_data.episodes.job import DatasetIdentity
    from memtrain_data.episodes.passages import PassageView
    from memtrain_data.episodes.retrieval import PassageRetriever

# Top-up aims a little above min_doc_tokens: masking and joins shift the final count slightly.
TOP_UP_MARGIN = 1.01
# Passages added per top-up round (their tokens are counted in one batch).
TOP_UP_BATCH = 8
# Candidate answers tried per pivot before it is dropped (each try masks the whole document).
MAX_ANSWER_TRIES = 8


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
    """What building episodes needs besides the pivot; loaded once per worker process.

    `split_rows[split]` holds the pool rows of that split's pages (sorted); `split_masks`
    caches the same as a boolean row mask for the retriever. Without them (tests of a single
    split), every row is allowed. `settings` and `dataset` are all an episode reads of the build.
    """

    settings: EpisodeSettings
    dataset: DatasetIdentity
    labels: list[str]
    passages: PassageView
    retriever: PassageRetriever
    tokenizer: PreTrainedTokenizerBase
    nlp: Language
    aliases: AliasTable | None = None
    split_rows: dict[str, np.ndarray] | None = None
    split_masks: dict[str, np.ndarray] = field(default_factory=dict)

    def rows_of(self, split: str) -> Any:
        """The pool rows a document of `split` may use (a range when splits are not separated)."""
        if self.split_rows is None:
            return range(len(self.passages))
        return self.split_rows[split]

    def mask_of(self, split: str) -> np.ndarray | None:
        if self.split_rows is None:
            return None
        if split not in self.split_masks:
            import numpy as np

            mask = np.zeros(len(self.passages), dtype=bool)
            mask[np.asarray(self.split_rows[split])] = True
            self.split_masks[split] = mask
        return self.split_masks[split]


@dataclass
class EpisodeOutcome:
    """An episode, or the reason no episode came from this pivot; plus work counters."""

    episode: MaskedReconstructionEpisode | None
    drop_reason: str | None = None
    probe_ner_words: int = 0
    top_up_passages: int = 0
    detail: str = ""
    # Why candidate answers of this pivot were passed over (label, vague, mis-cut, evidence, ...).
    rejected_answers: Counter[str] = field(default_factory=Counter)
    # Why entities were passed over as recall-probe targets (a form still readable, ...).
    rejected_targets: Counter[str] = field(default_factory=Counter)
    title_answer: bool = False
    masked_in_pivot: int = 0
    masked_outside_pivot: int = 0


def _draw_random_rows(rng: random.Random, allowed_rows: Any, excluded: set[int], count: int) -> list[int]:
    drawn: list[int] = []
    # Rejection sampling among the split's rows: the caller checks there are enough left.
    while len(drawn) < count:
        row = int(allowed_rows[rng.randrange(len(allowed_rows))])
        if row not in excluded:
            excluded.add(row)
            drawn.append(row)
    return drawn


def evidence_ok(rule: str, min_occurrences: int, in_pivot: int, outside_pivot: int) -> bool:
    """Whether a masked answer has enough evidence in the document (see `answer_evidence`)."""
    enough = in_pivot + outside_pivot >= min_occurrences
    if rule == "occurrences":
        return enough
    if rule == "outside_pivot":
        return outside_pivot >= 1
    if rule == "occurrences_or_outside_pivot":
        return enough or outside_pivot >= 1
    return True


@dataclass
class _Masked:
    texts: list[str]
    changed: list[int]
    total: int
    in_pivot: int
    forms: list[str]
    # Masked occurrences per document position.
    counts: list[int] = field(default_factory=list)


def _mask_document(document: list[dict[str, Any]], forms: AnswerForms, pivot_id: str) -> _Masked:
    texts: list[str] = []
    changed: list[int] = []
    total = in_pivot = 0
    masked_forms: list[str] = []
    counts: list[int] = []
    for position, passage in enumerate(document):
        masked, count, seen = mask_occurrences_with_forms(str(passage["text"]), forms.masked, MASK_TOKEN)
        texts.append(masked)
        counts.append(count)
        total += count
        if count:
            changed.append(position)
            masked_forms.extend(form for form in seen if form not in masked_forms)
        if passage["id"] == pivot_id:
            in_pivot = count
    return _Masked(texts, changed, total, in_pivot, masked_forms, counts)


def _mask_consistently(document: list[dict[str, Any]], forms: AnswerForms, pivot_id: str) -> tuple[AnswerForms, _Masked]:
    """Mask the document; a related form (a demonym) still readable somewhere is masked nowhere.

    Masking never cuts a longer name, so "Angolan" stays readable in "Angolan Civil War" while
    the lone "Angolan" would be masked: masked in one place and readable in another tells a
    reader what [MASK] hides. Such a form is left visible everywhere instead (it is not the
    answer's name); an accepted form in that position passes the answer over instead.
    """
    masked = _mask_document(document, forms, pivot_id)
    for _ in range(len(forms.masked)):
        related = [form for form in masked.forms if form not in forms.accepted]
        shown = {form.casefold() for form in visible_forms(masked.texts, related)}
        if not shown:
            break
        kept = [form for form in forms.masked if form in forms.accepted or form.casefold() not in shown]
        if kept == forms.masked:
            break  # what stays visible is not one of the forms to mask (an ALL CAPS reading, say)
        forms = replace(forms, masked=kept)
        masked = _mask_document(document, forms, pivot_id)
    return forms, masked


def same_page_outside_pivot(counts: Sequence[int], passage_ids: Sequence[str], pivot_id: str) -> int:
    """Masked occurrences (`counts`, per passage) outside the pivot in other passages of its own page.

    A number or date such as "1984" or "the 20th century" recurs by chance in passages about
    other things, and the retriever ranks such passages as related because they share the
    number; those occurrences are masked (the answer must not stay visible) but say nothing
    about the pivot's fact, so only the pivot's own page counts as evidence for a number.
    """
    pivot_page = page_id_of(pivot_id)
    return sum(
        count
        for count, passage_id in zip(counts, passage_ids, strict=True)
        if count and passage_id != pivot_id and page_id_of(passage_id) == pivot_page
    )


def build_episode(
    context: EpisodeContext,
    pivot_row: int,
    pivot: dict[str, Any],
    pivot_entities: Sequence[Entity],
    split: str,
) -> EpisodeOutcome:
    """Build the episode pivoted on `pivot` (row `pivot_row` of the pool view), or say why not."""
    settings, dataset = context.settings, context.dataset
    documents, answer_rules = settings.documents, settings.answers
    pivot_id = str(pivot["id"])
    rng = random.Random(episode_seed(dataset.seed, pivot_id))
    rejected: Counter[str] = Counter()
    candidates = answer_candidates(str(pivot["text"]), pivot_entities, answer_rules.answer_labels, rejected)
    if not candidates:
        return EpisodeOutcome(None, "no_usable_entity", rejected_answers=rejected)
    rng.shuffle(candidates)
    allow_title = unit_hash("memtrain-title-answer", dataset.seed, pivot_id) < answer_rules.title_answer_share

    allowed_rows = context.rows_of(split)
    related = context.retriever.related(pivot_row, str(pivot["text"]), documents.related_passages, allowed=context.mask_of(split))
    excluded = {pivot_row, *related}
    random_count = documents.random_passages + (documents.related_passages - len(related))
    if len(allowed_rows) - len(excluded) < random_count:
        return EpisodeOutcome(None, "pool_too_small", rejected_answers=rejected)
    rows = [pivot_row, *related, *_draw_random_rows(rng, allowed_rows, excluded, random_count)]
    passages = context.passages.rows(rows)

    # Token counts of the unmasked passages: they drive the top-up, and are reused for every
    # passage that masking leaves unchanged.
    passage_tokens = count_tokens(context.tokenizer, [str(p["text"]) for p in passages])
    top_up = 0
    while (
        settings.top_up_to_min_tokens
        and sum(passage_tokens) < documents.min_doc_tokens * TOP_UP_MARGIN
        and len(allowed_rows) - len(excluded) > 0
    ):
        extra_rows = _draw_random_rows(rng, allowed_rows, excluded, min(TOP_UP_BATCH, len(allowed_rows) - len(excluded)))
        extra = context.passages.rows(extra_rows)
        passage_tokens.extend(count_tokens(context.tokenizer, [str(p["text"]) for p in extra]))
        rows.extend(extra_rows)
        passages.extend(extra)
        top_up += len(extra_rows)

    order = list(range(len(passages)))
    rng.shuffle(order)
    document = [passages[i] for i in order]

    chosen: tuple[AnswerForms, _Masked] | None = None
    raw_texts = [str(p["text"]) for p in document]
    joined_text = "\n".join(raw_texts)
    tries = 0
    for entity, had_the in candidates:
        if tries == MAX_ANSWER_TRIES:
            break
        if entity.label in COMMON_WORD_LABELS and common_word_use(entity.text, raw_texts):
            # Cheap to test, so it does not use up a try (see `entities.common_word_use`).
            rejected["common_word_in_document"] += 1
            continue
        tries += 1
        forms = answer_forms(entity, had_the, pivot_entities, context.aliases, str(pivot["title"]))
        if equals_title(forms, str(pivot["title"])) and not allow_title:
            rejected["title_answer_capped"] += 1
            continue
        if context.aliases is not None and entity.label in NAME_LABELS and any(
            names_several_pages(context.aliases, surface) for surface in {entity.text, forms.canonical}
        ):
            # Links give the same string to two different pages ("Hippolytus" the son of Theseus and
            # the bishop of Rome): one [MASK] would stand for two entities.
            rejected["ambiguous_name"] += 1
            continue
        # "Alaska Railroad (ARR)": the abbreviation the document gives names the answer too.
        beside = [form for form in parenthetical_names(joined_text, forms.accepted) if form not in forms.masked]
        if beside:
            forms = replace(forms, accepted=[*forms.accepted, *beside], masked=[*forms.masked, *beside])
        forms, masked = _mask_consistently(document, forms, pivot_id)
        if masked.in_pivot == 0:
            rejected["not_masked_in_pivot"] += 1
            continue
        if any(contains_any(text, forms.accepted, whole_names=False) for text in masked.texts):
            # The answer stays readable inside another name ("Rearden Metal", "Svante Arrhenius"):
            # masking it there would cut that name, leaving it would give the answer away.
            rejected["answer_inside_other_name"] += 1
            continue
        if not evidence_ok(answer_rules.answer_evidence, answer_rules.answer_min_occurrences, masked.in_pivot, masked.total - masked.in_pivot):
            rejected["too_little_evidence"] += 1
            continue
        if entity.label in NUMERIC_LABELS and not evidence_ok(
            answer_rules.answer_evidence,
            answer_rules.answer_min_occurrences,
            masked.in_pivot,
            same_page_outside_pivot(masked.counts, [str(p["id"]) for p in document], pivot_id),
        ):
            rejected["number_evidence_only_by_chance"] += 1
            continue
        chosen = (forms, masked)
        break
    if chosen is None:
        reason = "no_answerable_entity"
        return EpisodeOutcome(None, reason, top_up_passages=top_up, rejected_answers=rejected, detail=", ".join(sorted(rejected)))
    forms, masked = chosen
    masked_texts = masked.texts
    document_tokens = [passage_tokens[index] for index in order]
    for position, n_tokens in zip(masked.changed, count_tokens(context.tokenizer, [masked_texts[i] for i in masked.changed]), strict=True):
        document_tokens[position] = n_tokens

    outcome_extra = {
        "rejected_answers": rejected,
        "title_answer": equals_title(forms, str(pivot["title"])),
        "masked_in_pivot": masked.in_pivot,
        "masked_outside_pivot": masked.total - masked.in_pivot,
    }
    chunking = chunk_document(context.tokenizer, masked_texts, documents.chunk_tokens, document_tokens)
    if len(chunking.chunks) > documents.max_chunks:
        return EpisodeOutcome(None, "too_many_chunks", top_up_passages=top_up, **outcome_extra)
    if chunking.total_tokens < documents.min_doc_tokens:
        return EpisodeOutcome(None, "doc_too_short", top_up_passages=top_up, **outcome_extra)
    if chunking.total_tokens > documents.max_doc_tokens:
        return EpisodeOutcome(None, "doc_too_long", top_up_passages=top_up, **outcome_extra)

    answers = forms.accepted
    probe_avoid = [*answers, *masked.forms]
    rejected_targets: Counter[str] = Counter()
    probes, ner_words = make_recall_probes(
        context.nlp, chunking.chunks, chunking.pieces, probe_avoid, context.labels, settings.probes_per_chunk, rng,
        aliases=context.aliases, rejected=rejected_targets,
    )  # fmt: skip
    outcome_extra["rejected_targets"] = rejected_targets
    sources = sorted({str(p["source"]) for p in document})
    try:
        episode = MaskedReconstructionEpisode(
            id=episode_id(dataset.config_name, dataset.seed, pivot_id),
            split=split,  # type: ignore[arg-type]
            preset=dataset.preset,
            question=RECONSTRUCTION_QUESTION,
            mask_token=MASK_TOKEN,
            answers=answers,
            answer_label=forms.label,
            masked_forms=masked.forms,
            answer_page_title=forms.page_title,
            chunks=chunking.chunks,
            chunk_n_tokens=chunking.n_tokens,
            n_tokens=chunking.total_tokens,
            masked_occurrences=masked.total,
            recall_probes=probes,
            pivot_passage_id=pivot_id,
            pivot_title=str(pivot["title"]),
            passage_ids=[str(p["id"]) for p in document],
            related_passage_ids=[str(p["id"]) for p in passages[1 : 1 + len(related)]],
            source=", ".join(sources),
            tokenizer=settings.tokenizer,
            seed=dataset.seed,
            builder_version=BUILDER_VERSION,
        )
    except ValidationError as exc:
        return EpisodeOutcome(None, "invalid_record", ner_words, top_up, detail=str(exc.errors()[0]["msg"]), **outcome_extra)
    judge_settings = JudgeSettings(
        chunk_tokens=documents.chunk_tokens,
        max_chunks=documents.max_chunks,
        min_doc_tokens=documents.min_doc_tokens,
        max_doc_tokens=documents.max_doc_tokens,
        validation_fraction=settings.validation_fraction if context.split_rows is not None else None,
        test_fraction=settings.test_fraction if context.split_rows is not None else None,
    )
    # The same judge as `memtrain validate`, with the original passages in hand for the alignment rules.
    verdict = judge_episode(episode, judge_settings, originals=raw_texts, require_alignment=True)
    if verdict.violations:
        return EpisodeOutcome(None, violation_code(verdict.violations[0]), ner_words, top_up, detail=verdict.violations[0], **outcome_extra)
    return EpisodeOutcome(episode, None, ner_words, top_up, **outcome_extra)
