"""Loading the episodes `memtrain train` learns from, and checking they are memtrain episodes.

A dataset is a folder written by `memtrain build-dataset` (``DIR/<config>/<split>-*.parquet``)
or a Hub id with the same layout. The check (required columns, `schema_version`) runs before
any model is loaded, so a wrong path fails in a second with one clear line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.errors import InputError, first_line
from memtrain_data.records import SCHEMA_VERSION

if TYPE_CHECKING:
    from datasets import Dataset

# The columns a rollout reads, plus the version stamp.
REQUIRED_COLUMNS: tuple[str, ...] = ("schema_version", "id", "question", "answers", "chunks", "recall_probes")
_PROBE_FIELDS: tuple[str, ...] = ("chunk_index", "masked_chunk", "target")


def _local_data_files(folder: Path, config_name: str | None, split: str) -> tuple[str, list[str]]:
    """The config name and parquet files of `split` in a local dataset folder."""
    configs = sorted(
        p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.parquet")) and p.name != "pool"
    )
    if config_name is None:
        if len(configs) != 1:
            found = ", ".join(configs) if configs else "none"
            raise InputError(f"{folder}: pass --config-name (episode configs found: {found})")
        config_name = configs[0]
    config_dir = folder / config_name
    if not config_dir.is_dir():
        found = ", ".join(configs) if configs else "none"
        raise InputError(f"{folder}: no config '{config_name}' (episode configs found: {found})")
    files = sorted(str(p) for p in config_dir.glob(f"{split}-*.parquet"))
    if not files:
        raise InputError(f"{config_dir}: no '{split}' split (expected {split}-*.parquet files)")
    return config_name, files


def load_episodes(
    dataset: str, config_name: str | None = None, split: str = "train", max_episodes: int | None = None
) -> Dataset:
    """The episodes of `split`, checked to be memtrain episodes of this schema version.

    Raises InputError for a missing path, a missing config or split, missing columns or a
    different `schema_version`.
    """
    from datasets import load_dataset

    path = Path(dataset).expanduser()
    try:
        if path.is_dir():
            config_name, files = _local_data_files(path, config_name, split)
            episodes = load_dataset("parquet", data_files={split: files}, split=split)
        elif dataset.startswith((".", "/", "~")) or path.exists():
            raise InputError(f"dataset folder does not exist: {dataset}")
        else:
            episodes = load_dataset(dataset, config_name, split=split)
    except InputError:
        raise
    except Exception as exc:
        message = first_line(exc)
        raise InputError(
            f"cannot load dataset '{dataset}' (config {config_name}, split {split}): {message}"
        ) from None

    check_episode_columns(episodes, dataset)
    if max_episodes is not None and len(episodes) > max_episodes:
        episodes = episodes.select(range(max_episodes))
    check_episode_records(episodes, dataset)
    return episodes


def check_episode_records(episodes: Dataset, name: str) -> None:
    """Refuse, with the first violation in one line, episodes that `memtrain validate` would reject.

    The same checks on the rows that will be trained on: the published column types, the record
    model (`MaskedReconstructionEpisode`), unique ids, and the one judge of episode rules that the
    builder and the validator run (`episodes.judge.judge_episode`: no answer or masked form
    visible, no partial mask, [MASK] counts, probes masked, …), on the records alone: the pool's
    passages are not at hand. Budgets are not checked here: the trainer re-splits chunks to its
    own budget.
    """
    from pydantic import ValidationError

    from memtrain_data.episodes.judge import judge_episode
    from memtrain_data.features import episode_arrow_schema
    from memtrain_data.records import MaskedReconstructionEpisode

    schema = episodes.data.schema
    for column in episode_arrow_schema():
        if column.name in schema.names and not schema.field(column.name).type.equals(column.type):
            raise InputError(
                f"{name}: column {column.name!r} is {schema.field(column.name).type}, expected {column.type}; "
                "not a dataset memtrain wrote (run `memtrain validate`)"
            )
    seen: set[str] = set()
    for index, row in enumerate(episodes):
        where = f"{name}: episode {row.get('id')!r} (row {index})"
        try:
            episode = MaskedReconstructionEpisode.model_validate(row, strict=True)
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(part) for part in first.get("loc", ())) or "record"
            raise InputError(
                f"{where} is invalid: {location}: {first.get('msg', 'invalid')} (run `memtrain validate` for all problems)"
            ) from None
        if episode.id in seen:
            raise InputError(f"{where}: duplicate id (run `memtrain validate` for all problems)")
        seen.add(episode.id)
        violations = judge_episode(episode).violations
        if violations:
            raise InputError(f"{where} breaks a rule: {violations[0]} (run `memtrain validate` for all problems)")


def check_episode_columns(episodes: Dataset, name: str) -> None:
    """Refuse anything that is not a non-empty set of memtrain episodes of the current schema."""
    missing = [c for c in REQUIRED_COLUMNS if c not in episodes.column_names]
    if missing:
        raise InputError(
            f"{name} is not a memtrain dataset: missing column(s) {', '.join(missing)} "
            "(expected MaskedReconstructionEpisode records; see `memtrain schema`)"
        )
    if len(episodes) == 0:
        raise InputError(f"{name}: the split has no episodes")
    versions = sorted({str(v) for v in episodes.unique("schema_version")})
    if versions != [SCHEMA_VERSION]:
        raise InputError(
            f"{name}: schema_version {', '.join(versions)} but this memtrain reads {SCHEMA_VERSION}; "
            "rebuild the dataset with this version of memtrain"
        )
    probe_feature = episodes.features["recall_probes"]
    probe_fields = getattr(getattr(probe_feature, "feature", None), "keys", lambda: [])()
    missing_probe = [f for f in _PROBE_FIELDS if f not in probe_fields]
    if missing_probe:
        raise InputError(f"{name} is not a memtrain dataset: recall_probes lack {', '.join(missing_probe)}")
