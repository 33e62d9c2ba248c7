"""What a model *is*, for caches: its path plus a fingerprint of its weights, or its Hub revision.

A fingerprint is cheap (no weight is read): for a local folder, the name, size and modification
time of every weight file and the sha256 of the small files that change what the model does
(config, generation config, tokenizer, chat template, weight index). For a Hub id, the commit
of the cached snapshot when there is one. Served models (`--backend openai`) are known only by
their name and endpoint; that is said in the identity.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack")
_SMALL_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "vocab.json",
    "merges.txt",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)


def folder_fingerprint(folder: Path) -> str:
    """sha256 over the weight files' (name, size, mtime) and the small files' contents."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        if path.name in _SMALL_FILES:
            digest.update(f"{relative}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
        elif path.name.endswith(_WEIGHT_SUFFIXES):
            stat = path.stat()
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _hub_revision(repo_id: str) -> str | None:
    """The commit of the locally cached snapshot of a Hub model, or None when none is cached."""
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached, not a valid id, or no huggingface_hub: the revision is unknown
        return None
    return Path(path).name


def model_identity(model: str, backend: str, base_url: str | None = None) -> dict[str, Any]:
    """A JSON-ready description of the model that identifies its weights as far as can be known here."""
    if backend == "openai":
        return {"served_model": model, "base_url": base_url, "weights": "unknown (served)"}
    path = Path(model).expanduser()
    if path.is_dir():
        return {"path": str(path.resolve()), "weights_fingerprint": folder_fingerprint(path)}
    if path.is_file():  # a single weights file (e.g. GGUF)
        stat = path.stat()
        return {"path": str(path.resolve()), "weights_fingerprint": f"{stat.st_size}-{stat.st_mtime_ns}"}
    return {"hub_id": model, "revision": _hub_revision(model)}


__all__ = ["folder_fingerprint", "model_identity"]
