"""Fixtures of the agent tests: the tiny model wrapped in a backend that counts its calls."""

from __future__ import annotations

import pytest

from memtrain_data.agent.backends.transformers_backend import TransformersBackend
from tests.agent.counting import CountingBackend


@pytest.fixture
def counting_backend(tiny_backend: TransformersBackend) -> CountingBackend:
    return CountingBackend(tiny_backend)
