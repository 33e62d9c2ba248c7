"""`get_backend`: backends by name, with clear errors for unknown or uninstalled ones."""

from __future__ import annotations

import importlib.util

import pytest

from memtrain_data.agent.backends import BACKENDS, get_backend
from memtrain_data.agent.backends.transformers_backend import TransformersBackend
from memtrain_data.errors import ConfigError, InputError, MissingDependencyError


def test_known_backends() -> None:
    assert set(BACKENDS) == {"transformers", "vllm", "openai"}


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown backend 'tgi'; choose one of: transformers, vllm, openai"):
        get_backend("tgi", "model")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_without_the_package_names_the_extra() -> None:
    with pytest.raises(MissingDependencyError, match=r"pip install 'memtrain\[vllm\]'"):
        get_backend("vllm", "HuggingFaceTB/SmolLM2-135M-Instruct")


def test_transformers_backend_from_a_local_folder(tiny_model_dir) -> None:
    backend = get_backend("transformers", str(tiny_model_dir), device="cpu")
    assert isinstance(backend, TransformersBackend)
    assert backend.tokenizer.padding_side == "left"
    assert backend.max_context_tokens == 8192


def test_transformers_backend_missing_path_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="model path does not exist"):
        get_backend("transformers", str(tmp_path / "absent"))


def test_openai_base_url_is_checked() -> None:
    with pytest.raises(InputError, match="must start with http"):
        get_backend("openai", "m", base_url="localhost:8000/v1")
