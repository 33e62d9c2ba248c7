"""wikimedia/wikipedia parquet input: checking a local parquet file's layout, and resolving a Hub
id (`owner/name[:config]`, `hf://datasets/…`) into parquet units pinned to one revision.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from memtrain_data.errors import InputError
from memtrain_data.pipeline.readers.input_unit import _DUMP_SUFFIXES, InputUnit

PARQUET_COLUMNS = ("id", "title", "text")


def check_parquet(path: Path) -> None:
    """Raise `InputError` unless `path` is a parquet file in the wikimedia/wikipedia layout."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: not a readable parquet file ({exc})") from None
    missing = [name for name in PARQUET_COLUMNS if name not in schema.names]
    if missing:
        raise InputError(
            f"{path}: parquet without column(s) {', '.join(missing)}; expected the wikimedia/wikipedia "
            f"layout (id, url, title, text), found: {', '.join(schema.names)}"
        )
    wrong = [
        f"{name} is {schema.field(name).type}"
        for name in PARQUET_COLUMNS
        if not _parquet_type_fits(name, schema.field(name).type)
    ]
    if wrong:
        raise InputError(
            f"{path}: parquet column types do not fit the wikimedia/wikipedia layout ({', '.join(wrong)}); "
            "expected title and text as strings and id as a string or integer"
        )


def _parquet_type_fits(column: str, arrow_type: object) -> bool:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type):
        return True
    return column == "id" and pa.types.is_integer(arrow_type)


_HUB_ID = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)(?::(?P<config>[\w.-]+))?$")
_HUB_URL = re.compile(r"^hf://datasets/(?P<repo>[\w.-]+/[\w.-]+)(?:/(?P<config>[\w.-]+))?/?$")


def parse_hub_id(spec: str) -> tuple[str, str | None] | None:
    """(repo, config) for `owner/name`, `owner/name:config` or `hf://datasets/owner/name[/config]`.

    A spec that looks like a file path (starts with `.`, `/`, `~`, or ends like a dump file) is
    never taken for a Hub id, so a mistyped path is reported as missing.
    """
    if spec.startswith((".", "/", "~")) or spec.lower().endswith((*_DUMP_SUFFIXES, ".gz", ".txt")):
        return None
    match = _HUB_URL.match(spec) or _HUB_ID.match(spec)
    if not match:
        return None
    return match.group("repo"), match.group("config")


def _hub_offline() -> bool:
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "")
    return bool(constants.HF_HUB_OFFLINE) or flag.strip().lower() in {"1", "true", "yes", "on"}


def resolve_hub_parquet(spec: str, repo: str, config: str | None) -> list[InputUnit]:
    """Parquet files of a Hub dataset (one config folder), pinned to the commit seen now.

    Tasks download their file with `hf_hub_download` (cached), so every task reads the same
    revision. Offline, a copy already in the local cache is used instead.
    """
    pattern = f"{config}/*.parquet" if config else "*.parquet"
    if _hub_offline():
        from huggingface_hub import snapshot_download

        try:
            folder = snapshot_download(
                repo, repo_type="dataset", allow_patterns=[pattern], local_files_only=True
            )
        except Exception:
            raise InputError(
                f"--dump {spec}: no such file or folder, and the Hub dataset {repo} cannot be looked up: the Hub is "
                "offline (HF_HUB_OFFLINE=1) and it is not in the local cache; unset HF_HUB_OFFLINE, or download "
                "its parquet files and pass their folder"
            ) from None
        files = sorted(Path(folder).glob(pattern))
        if not files:
            raise InputError(f"{spec}: no parquet files for '{pattern}' in the local cache of {repo}")
        return [
            InputUnit(kind="parquet", path=str(path), source=f"{repo}/{path.relative_to(folder)}")
            for path in files
        ]

    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        info = HfApi().dataset_info(repo)
    except RepositoryNotFoundError:
        raise InputError(
            f"{spec}: no such dataset on the Hugging Face Hub (and no such local path)"
        ) from None
    except (HfHubHTTPError, OSError) as exc:
        raise InputError(f"{spec}: cannot reach the Hugging Face Hub ({exc})") from None
    names = sorted(s.rfilename for s in info.siblings or [] if s.rfilename.endswith(".parquet"))
    chosen = [name for name in names if config is None or name.startswith(f"{config}/")]
    if not chosen:
        configs = sorted({name.split("/")[0] for name in names if "/" in name})
        hint = f"; configs include: {', '.join(configs[:8])}" if configs else ""
        raise InputError(
            f"{spec}: no parquet files{f' for config {config}' if config else ''} in {repo}{hint}"
        )
    if config is None and len({name.split("/")[0] for name in chosen}) > 1:
        raise InputError(
            f"{spec}: {repo} has several configs; name one, e.g. {repo}:{chosen[0].split('/')[0]}"
        )
    return [
        InputUnit(kind="parquet", path=name, source=f"{repo}/{name}", hub_repo=repo, hub_revision=info.sha)
        for name in chosen
    ]
