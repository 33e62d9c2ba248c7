"""Fixtures of the eval tests: the tiny model as a backend, a small proxy dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memtrain_data.agent.backends.transformers_backend import TransformersBackend
from tests.eval.proxy_data import write_mini_dataset


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    # On a shared 2-core machine, two OpenMP threads spin against other processes and run
    # the tiny model several times slower than one.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_dir: Path) -> TransformersBackend:
    return TransformersBackend.from_pretrained(str(tiny_model_dir), device="cpu")


@pytest.fixture(scope="session")
def proxy_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mini_dataset(tmp_path_factory.mktemp("proxy-dataset"))
