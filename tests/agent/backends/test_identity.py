"""model_identity: a cheap fingerprint that changes whenever the weights or the config do."""

from __future__ import annotations

import os
from pathlib import Path

from memtrain_data.agent.backends.identity import folder_fingerprint, model_identity


def make_model(folder: Path) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "model.safetensors").write_bytes(b"\0" * 64)
    (folder / "README.md").write_text("notes")
    return folder


def test_the_fingerprint_follows_weights_and_config_not_other_files(tmp_path: Path) -> None:
    model = make_model(tmp_path / "m")
    first = folder_fingerprint(model)
    assert model_identity(str(model), "transformers") == {
        "path": str(model.resolve()),
        "weights_fingerprint": first,
    }
    (model / "README.md").write_text("other notes")
    assert folder_fingerprint(model) == first
    (model / "config.json").write_text('{"hidden_size": 16}')
    second = folder_fingerprint(model)
    assert second != first
    weights = model / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # rewritten in place
    assert folder_fingerprint(model) != second


def test_hub_ids_and_served_models(tmp_path: Path) -> None:
    # Not in the local Hub cache (tests run offline): the revision is unknown, and said so.
    assert model_identity("nobody/not-cached-model", "transformers") == {
        "hub_id": "nobody/not-cached-model",
        "revision": None,
    }
    served = model_identity("served-name", "openai", "http://127.0.0.1:8000/v1")
    assert served["served_model"] == "served-name" and served["base_url"] == "http://127.0.0.1:8000/v1"
