"""Fixtures of the agent tests: the tiny model wrapped in a backend that counts its calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memtrain_data.agent.backends.transformers_backend import TransformersBackend
from tests.agent.counting import CountingBackend


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


@pytest.fixture
def counting_backend(tiny_backend: TransformersBackend) -> CountingBackend:
    return CountingBackend(tiny_backend)
