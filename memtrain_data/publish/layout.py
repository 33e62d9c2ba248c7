"""The layout of a memtrain dataset folder, shared by the card, the validator and the inspector.

```
OUT/README.md  OUT/stats.json  OUT/pool/passages-*.parquet
OUT/<config>/<split>-NNNNN-of-NNNNN.parquet   episodes
OUT/<config>/figures/*.png                    card figures
OUT/.memtrain/                                working state, never published
```
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from memtrain_data.errors import InputError, first_line
from memtrain_data.records import SPLITS

README_NAME = "README.md"
STATS_NAME = "stats.json"
WORKING_STATE_DIR = ".memtrain"
POOL_DIR = "pool"
FIGURES_DIR = "figures"

# A Hub repo id: "org/name" with the characters the Hub allows.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def is_hub_id(text: str) -> bool:
    return bool(_HUB_ID.match(text))


def split_of_shard(path: Path) -> str | None:
    """`train-00000-of-00004.parquet` -> "train"; None for files that are not episode shards."""
    if path.suffix != ".parquet":
        return None
    for split in SPLITS:
        if path.name.startswith(f"{split}-"):
            return split
    return None


def find_configs(folder: Path) -> dict[str, dict[str, list[Path]]]:
    """Every config folder of `folder` with its episode shards: {config: {split: [shard, ...]}}.

    A config folder is a direct, non-hidden subfolder (other than the passage pool) holding at
    least one `<split>-*.parquet`. Configs, splits (in train/validation/test order) and shards
    are sorted so every reader sees the same order.
    """
    configs: dict[str, dict[str, list[Path]]] = {}
    if not folder.is_dir():
        return configs
    for sub in sorted(folder.iterdir()):
        if not sub.is_dir() or sub.name.startswith(".") or sub.name == POOL_DIR:
            continue
        splits: dict[str, list[Path]] = {}
        for shard in sorted(sub.glob("*.parquet")):
            split = split_of_shard(shard)
            if split is not None:
                splits.setdefault(split, []).append(shard)
        if splits:
            configs[sub.name] = {split: splits[split] for split in SPLITS if split in splits}
    return configs


def read_stats(folder: Path) -> dict[str, Any]:
    """`OUT/stats.json`, or {} when the folder has none."""
    path = folder / STATS_NAME
    if not path.is_file():
        return {}
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not readable JSON: {exc}") from None
    return stats if isinstance(stats, dict) else {}


def resolve_dataset_folder(source: str | Path) -> Path:
    """A local dataset folder for `source`: the folder itself, or a snapshot of a Hub dataset repo.

    Only what the validator and inspector read is downloaded (card, stats, episode shards):
    not the passage pool.
    """
    path = Path(source)
    if path.is_dir():
        return path
    text = str(source)
    if path.exists():
        raise InputError(f"{text} is a file; expected a dataset folder or a Hub id (ORG/NAME)")
    if not is_hub_id(text):
        raise InputError(f"{text}: no such folder, and not a Hub dataset id (ORG/NAME)")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

    patterns = [README_NAME, STATS_NAME, *(f"*/{split}-*.parquet" for split in SPLITS)]
    try:
        local = snapshot_download(text, repo_type="dataset", allow_patterns=patterns)
    except OfflineModeIsEnabled:
        raise InputError(f"{text} is not a local folder and HF_HUB_OFFLINE is set, so it cannot be downloaded") from None
    except LocalEntryNotFoundError as exc:
        raise InputError(f"{text} is not a local folder and could not be downloaded: {first_line(exc)}") from None
    except HfHubHTTPError as exc:
        raise InputError(f"{text}: the Hub refused the download: {first_line(exc)}") from None
    except OSError as exc:
        raise InputError(f"{text}: download failed: {first_line(exc)}") from None
    return Path(local)

