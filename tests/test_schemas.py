"""The committed `schemas/` folder must match the Pydantic models it is generated from."""

from __future__ import annotations

import json
from pathlib import Path

from memtrain_data.records import RECORD_MODELS
from memtrain_data.schemas import render_schemas, stale_schemas, write_schemas

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"


def test_committed_schemas_match_the_models() -> None:
    stale = stale_schemas(SCHEMAS_DIR)
    assert stale == [], f"schemas/ is out of date for {stale}: run `memtrain schema --output schemas`"


def test_every_record_model_has_a_schema_file() -> None:
    assert sorted(render_schemas()) == sorted(f"{name}.schema.json" for name in RECORD_MODELS)
    assert sorted(p.name for p in SCHEMAS_DIR.glob("*.schema.json")) == sorted(render_schemas())


def test_schemas_describe_the_episode_fields() -> None:
    episode = json.loads(render_schemas()["masked_reconstruction_episode.schema.json"])
    for name in ("answers", "chunks", "chunk_n_tokens", "recall_probes", "pivot_passage_id", "builder_version"):
        assert name in episode["properties"]
    assert episode["additionalProperties"] is False


def test_a_changed_schema_file_is_reported(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert stale_schemas(tmp_path) == []
    target = tmp_path / "recall_probe.schema.json"
    target.write_text(target.read_text().replace('"target"', '"answer"'), encoding="utf-8")
    (tmp_path / "passage.schema.json").unlink()
    assert stale_schemas(tmp_path) == ["passage.schema.json", "recall_probe.schema.json"]
