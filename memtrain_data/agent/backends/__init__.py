"""Generation backends behind one interface, chosen by name (`--backend`).

>>> sorted(BACKENDS)
['openai', 'transformers', 'vllm']
"""

from __future__ import annotations

import importlib
from typing import Any

from memtrain_data.agent.backends.base import Generation, GenerationBackend
from memtrain_data.errors import ConfigError

# name -> (module, class): modules are imported only when chosen, so a missing optional
# package (vllm) only matters to whoever asks for it.
BACKENDS: dict[str, tuple[str, str]] = {
    "transformers": ("memtrain_data.agent.backends.transformers_backend", "TransformersBackend"),
    "vllm": ("memtrain_data.agent.backends.vllm_backend", "VLLMBackend"),
    "openai": ("memtrain_data.agent.backends.openai_backend", "OpenAIBackend"),
}


def get_backend(name: str, model: str, **options: Any) -> GenerationBackend:
    """Build the backend `name` for `model` (Hub id, local folder, or served model name).

    Raises `ConfigError` for an unknown name and `MissingDependencyError` (naming the extra to
    install) when the backend's package is absent.
    """
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend '{name}'; choose one of: {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[name]
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class.from_pretrained(model, **options)


__all__ = ["BACKENDS", "Generation", "GenerationBackend", "get_backend"]
