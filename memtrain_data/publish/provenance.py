"""How a config was built and what its text is: the dump's date, page revision times, the
equivalent command, tool and model versions, and the Wikipedia text license for that date."""

from __future__ import annotations

import re
import shlex
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data import BUILDER_VERSION, __version__
from memtrain_data.publish.layout import POOL_DIR, find_configs
from memtrain_data.publish.statistics import distinct_values

if TYPE_CHECKING:
    from memtrain_data.build_config import BuildConfig

_DUMP_DATE = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")


def dump_date_from_name(name: str) -> str | None:
    """`enwiki-20240601-pages-articles.xml.bz2` -> "2024-06-01"; None when the name has no date."""
    for match in _DUMP_DATE.finditer(Path(name).name):
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
        except ValueError:
            continue
    return None


def page_timestamp_range(folder: Path) -> tuple[str, str] | None:
    """Oldest and newest page revision timestamps in the passage pool, when it records them."""
    import pyarrow.parquet as pq

    stamps: list[str] = []
    for path in sorted((folder / POOL_DIR).glob("*.parquet")):
        parquet = pq.ParquetFile(path)
        if "timestamp" not in parquet.schema_arrow.names:
            continue
        stamps += [s for s in parquet.read(columns=["timestamp"]).column("timestamp").to_pylist() if s]
    return (min(stamps), max(stamps)) if stamps else None


def _equivalent_command(config: BuildConfig) -> str:
    """A CLI command that reproduces `config`, for builds started from Python."""
    from memtrain_data.build_config import PRESETS, BuildConfig

    defaults = {**{name: f.default for name, f in BuildConfig.__dataclass_fields__.items()}, **PRESETS[config.preset]}
    args = ["memtrain", "build-dataset", "--output", str(config.output), "--preset", config.preset]
    for dump in config.dump:
        args += ["--dump", dump]
    for name in ("config_name", "seed", "num_episodes", "tokenizer", "spacy_model", "retriever", "probes_per_chunk", "pool_size"):
        value = getattr(config, name)
        if name == "config_name" and value == config.preset:
            continue
        if value != defaults.get(name):
            args += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(args)


def describe_build(config: BuildConfig, episode_stats: dict[str, Any], command: str | None) -> dict[str, Any]:
    """Provenance of one config: command, versions, dump and its date, seed, preset, models."""
    shards = find_configs(config.output).get(str(config.config_name), {})
    all_shards = [path for paths in shards.values() for path in paths]
    dumps = [Path(d).name for d in config.dump] or distinct_values(all_shards, "source")
    dump_dates = sorted({d for d in (dump_date_from_name(name) for name in dumps) if d})
    stamps = page_timestamp_range(config.output)
    tokenizers = distinct_values(all_shards, "tokenizer") or [config.tokenizer]
    spacy_model, spacy_version = split_model_version(str(episode_stats.get("spacy_model") or config.spacy_model))
    spacy_version = episode_stats.get("spacy_version") or episode_stats.get("spacy_model_version") or spacy_version
    if spacy_version is None:
        spacy_version = _installed_version(spacy_model)
    return {
        "command": command or _equivalent_command(config),
        "memtrain_version": __version__,
        "builder_version": BUILDER_VERSION,
        "dump": dumps if config.dump else [f"{d} (bundled sample)" for d in dumps] or ["bundled sample wiki"],
        "dump_date": dump_dates[0] if len(dump_dates) == 1 else ", ".join(dump_dates) or None,
        "page_timestamps": list(stamps) if stamps else None,
        "seed": config.seed,
        "preset": config.preset,
        "tokenizer": ", ".join(tokenizers),
        "spacy_model": spacy_model,
        "spacy_version": spacy_version,
        "spacy_library_version": _installed_version("spacy"),
        "retriever": config.retriever if config.retriever == "bm25" else f"dense ({config.dense_model})",
        "related_passages": config.related_passages,
        "random_passages": config.random_passages,
        "chunk_tokens": config.chunk_tokens,
        "max_chunks": config.max_chunks,
        "doc_tokens": [config.min_doc_tokens, config.max_doc_tokens],
        "probes_per_chunk": config.probes_per_chunk,
        "entity_labels": list(config.entity_labels),
        "validation_fraction": config.validation_fraction,
        "test_fraction": config.test_fraction,
    }


_MODEL_VERSION = re.compile(r"^(?P<name>.+?)-(?P<version>\d+\.\d+(?:\.\d+)?\S*)$")


def split_model_version(text: str) -> tuple[str, str | None]:
    """ "en_core_web_sm-3.8.0" -> ("en_core_web_sm", "3.8.0"); a name without a version -> (name, None)."""
    match = _MODEL_VERSION.match(text)
    return (match.group("name"), match.group("version")) if match else (text, None)


def _installed_version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


# Wikipedia's text license moved from CC BY-SA 3.0 (with the GFDL) to CC BY-SA 4.0 in June 2023.
LICENSE_SWITCH_MONTH = "2023-06"


def text_date(stats: dict[str, Any]) -> tuple[str | None, str]:
    """The newest date of the Wikipedia text in the folder, and where it comes from.

    In order: the newest revision timestamp the pool stage saw (`pool.latest_revision_timestamp`),
    the dump dates in the dump file names, the newest revision timestamp in the passage pool.
    """
    newest = (stats.get("pool") or {}).get("latest_revision_timestamp")
    if isinstance(newest, str) and newest[:4].isdigit():
        return newest[:10], "newest page revision in the input"
    builds = [entry.get("build") or {} for entry in (stats.get("configs") or {}).values()]
    dump_dates = [d for build in builds for d in str(build.get("dump_date") or "").split(", ") if d]
    if dump_dates:
        return max(dump_dates), "dump date in the file name"
    stamps = [build["page_timestamps"][1] for build in builds if build.get("page_timestamps")]
    if stamps:
        return max(stamps)[:10], "newest page revision in the passage pool"
    return None, "no revision timestamps in the input and no date in the dump's name"


def license_for(date: str | None) -> str:
    """The Hub license id of Wikipedia text dated `date` (YYYY-MM-DD), or "unknown"."""
    if not date:
        return "unknown"
    return "cc-by-sa-3.0" if date[:7] < LICENSE_SWITCH_MONTH else "cc-by-sa-4.0"
