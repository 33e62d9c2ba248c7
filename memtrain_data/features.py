"""Storage types of the records: explicit `datasets.Features` (and the matching Arrow schemas).

Parquet shards are written with exactly these schemas, and the dataset card declares the same
features, so `load_dataset(DIR, CONFIG)` and the Hub viewer agree on every column, nested
recall probes included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    from datasets import Features


def passage_features() -> Features:
    from datasets import Features, Value

    return Features(
        {
            "id": Value("string"),
            "page_id": Value("int64"),
            "title": Value("string"),
            "text": Value("string"),
            "n_words": Value("int32"),
            "revision_id": Value("int64"),
            "timestamp": Value("string"),
            "source": Value("string"),
        }
    )


def episode_features() -> Features:
    from datasets import Features, List, Value

    probe = {
        "chunk_index": Value("int32"),
        "masked_chunk": Value("string"),
        "target": Value("string"),
        "label": Value("string"),
        "masked_occurrences": Value("int32"),
    }
    return Features(
        {
            "schema_version": Value("string"),
            "id": Value("string"),
            "split": Value("string"),
            "preset": Value("string"),
            "question": Value("string"),
            "mask_token": Value("string"),
            "answers": List(Value("string")),
            "answer_label": Value("string"),
            "masked_forms": List(Value("string")),
            "answer_page_title": Value("string"),
            "chunks": List(Value("string")),
            "chunk_n_tokens": List(Value("int32")),
            "n_tokens": Value("int32"),
            "masked_occurrences": Value("int32"),
            "recall_probes": List(probe),
            "pivot_passage_id": Value("string"),
            "pivot_title": Value("string"),
            "passage_ids": List(Value("string")),
            "related_passage_ids": List(Value("string")),
            "source": Value("string"),
            "tokenizer": Value("string"),
            "seed": Value("int64"),
            "builder_version": Value("string"),
        }
    )


# The pool's columns as (name, Arrow type name). Pool workers build the schema from this with
# pyarrow alone: importing `datasets` costs about a second in every worker process.
_PASSAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "string"),
    ("page_id", "int64"),
    ("title", "string"),
    ("text", "string"),
    ("n_words", "int32"),
    ("revision_id", "int64"),
    ("timestamp", "string"),
    ("source", "string"),
)


def passage_arrow_schema() -> pa.Schema:
    """The same schema as `passage_features().arrow_schema` (a test checks), without `datasets`."""
    import json

    import pyarrow as pa

    features = {name: {"dtype": dtype, "_type": "Value"} for name, dtype in _PASSAGE_COLUMNS}
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema([(name, pa.type_for_alias(dtype)) for name, dtype in _PASSAGE_COLUMNS], metadata=metadata)


def episode_arrow_schema() -> pa.Schema:
    return episode_features().arrow_schema
