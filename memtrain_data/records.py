"""The records memtrain writes, as Pydantic v2 models.

These models are the contract between stages: the builder validates every record before
writing it, `memtrain validate` re-checks published data against them, and `memtrain schema`
exports them as JSON Schemas into `schemas/`.

Rules that need more than one field (answers never visible in a chunk, probe targets masked)
live in `memtrain_data.episodes.judge`, the one judge the builder, `validate` and `train` run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "1.0"
MASK_TOKEN = "[MASK]"
TARGET_TOKEN = "[TARGET]"
SPLITS: tuple[str, ...] = ("train", "validation", "test")
RECONSTRUCTION_QUESTION = "Based on the entire article, which entity is represented by the [MASK] placeholder?"

Split = Literal["train", "validation", "test"]


class Passage(BaseModel):
    """One paragraph-sized passage of a Wikipedia article: the unit episodes are built from."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id '{page_id}-{n}', n counting passages within the page from 0.")
    page_id: int = Field(description="Wikipedia page id of the article.")
    title: str = Field(description="Article title.")
    text: str = Field(min_length=1, description="Clean plain text of the passage.")
    n_words: int = Field(ge=1, description="Whitespace-separated words in `text`.")
    revision_id: int | None = Field(default=None, description="Revision id of the page text, when known.")
    timestamp: str | None = Field(default=None, description="Revision timestamp (ISO 8601), when known.")
    source: str = Field(description="Name of the dump file or dataset the page came from.")


class RecallProbe(BaseModel):
    """An intermediate-memory-recall probe: an entity of an earlier chunk masked as [TARGET].

    At training time the memory m(k) after some later chunk k > chunk_index is paired with
    `masked_chunk`, and the model must name `target` from the two.
    """

    model_config = ConfigDict(extra="forbid")

    chunk_index: int = Field(ge=0, description="0-based index l of the chunk c(l) the probe masks.")
    masked_chunk: str = Field(description="c(l) with every occurrence of the target replaced by [TARGET].")
    target: str = Field(min_length=1, description="The masked entity (surface form).")
    label: str = Field(description="spaCy entity label of the target (OntoNotes, e.g. GPE, DATE).")
    masked_occurrences: int = Field(ge=1, description="How many occurrences of the target were masked in the chunk.")


class MaskedReconstructionEpisode(BaseModel):
    """One MemTrain episode: a long document in chunks with one entity masked everywhere.

    The agent reads `chunks` in order, rewriting its memory, then answers `question` from the
    memory alone; `answers[0]` is the canonical answer, the rest are other forms that name it
    (alias table, pivot entities, surname); `masked_forms` lists what was actually masked.
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal["1.0"] = Field(default=SCHEMA_VERSION, description="Version of this record layout.")
    id: str = Field(description="Episode id, unique within the dataset.")
    split: Split = Field(description="train, validation or test, by a hash of the pivot's page id.")
    preset: str = Field(description="Build preset (e.g. 'mini', 'paper'); also the default config name.")
    question: str = Field(description="The fixed reconstruction problem shown in every turn.")
    mask_token: str = Field(default=MASK_TOKEN, description="Placeholder that replaces the answer entity.")
    answers: list[str] = Field(
        min_length=1, description="Every form that scores as correct, canonical first, without a leading 'the'."
    )
    answer_label: str = Field(description="spaCy entity label of the masked entity.")
    masked_forms: list[str] = Field(
        default_factory=list,
        description="Every distinct surface string replaced by [MASK] anywhere in the document, as it read in the text "
        "(answer forms, aliases, related forms such as demonyms).",
    )
    answer_page_title: str | None = Field(
        default=None, description="The Wikipedia page the answer was resolved to through the alias table, or null."
    )
    chunks: list[str] = Field(min_length=1, description="The masked document, split into chunks in reading order.")
    chunk_n_tokens: list[int] = Field(description="Token count of each chunk under `tokenizer`.")
    n_tokens: int = Field(ge=1, description="Total tokens of the document (sum of chunk_n_tokens).")
    masked_occurrences: int = Field(ge=1, description="How many occurrences of the answer were masked.")
    recall_probes: list[RecallProbe] = Field(description="Recall probes on every chunk but the last.")
    pivot_passage_id: str = Field(description="Passage the masked entity was drawn from.")
    pivot_title: str = Field(description="Title of the pivot's article.")
    passage_ids: list[str] = Field(min_length=1, description="Passages of the document, in document order.")
    related_passage_ids: list[str] = Field(description="Passages retrieved as related to the pivot.")
    source: str = Field(description="Dump file(s) or dataset the passages came from.")
    tokenizer: str = Field(description="Tokenizer that counted tokens and cut chunks.")
    seed: int = Field(description="Build seed; with the pivot id and builder version it fixes this record.")
    builder_version: str = Field(description="memtrain builder version that wrote the record.")

    @model_validator(mode="after")
    def _counts_agree(self) -> MaskedReconstructionEpisode:
        if len(self.chunk_n_tokens) != len(self.chunks):
            raise ValueError(
                f"chunk_n_tokens has {len(self.chunk_n_tokens)} entries for {len(self.chunks)} chunks"
            )
        if sum(self.chunk_n_tokens) != self.n_tokens:
            raise ValueError(f"n_tokens={self.n_tokens} but the chunks add up to {sum(self.chunk_n_tokens)}")
        last = len(self.chunks) - 1
        for probe in self.recall_probes:
            if probe.chunk_index >= last:
                raise ValueError(
                    f"recall probe on chunk {probe.chunk_index}, but probes must be on chunks before the last ({last})"
                )
        if self.pivot_passage_id not in self.passage_ids:
            raise ValueError("pivot_passage_id is not among passage_ids")
        return self


RECORD_MODELS: dict[str, type[BaseModel]] = {
    "passage": Passage,
    "recall_probe": RecallProbe,
    "masked_reconstruction_episode": MaskedReconstructionEpisode,
}
