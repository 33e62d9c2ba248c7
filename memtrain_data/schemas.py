"""JSON Schemas of the records, generated from the Pydantic models in `records.py`."""

from __future__ import annotations

import json
from pathlib import Path

from memtrain_data.records import RECORD_MODELS, SCHEMA_VERSION


def render_schemas() -> dict[str, str]:
    """File name → JSON text, one schema per record model."""
    rendered: dict[str, str] = {}
    for name, model in RECORD_MODELS.items():
        schema = model.model_json_schema()
        schema["$id"] = f"https://memtrain.dev/schemas/{SCHEMA_VERSION}/{name}.schema.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        rendered[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in render_schemas().items():
        path = directory / file_name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path) -> list[str]:
    """Schema files in `directory` that are missing or differ from the models."""
    return [
        name
        for name, text in render_schemas().items()
        if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text
    ]
