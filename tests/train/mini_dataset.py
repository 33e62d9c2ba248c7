"""Writes a small but valid memtrain dataset folder for the training tests.

Every record is a real `MaskedReconstructionEpisode` (validated by Pydantic) stored with the
published Arrow schema, in the layout `memtrain build-dataset` writes:
``DIR/<config>/<split>-00000-of-00001.parquet``. Chunks are a sentence or two so the tiny model
reads them fast.
"""

from __future__ import annotations

from pathlib import Path

from memtrain_data.records import (
    MASK_TOKEN,
    RECONSTRUCTION_QUESTION,
    TARGET_TOKEN,
    MaskedReconstructionEpisode,
    RecallProbe,
)

_FACTS = [
    ("Paris", "GPE", "is the capital of France and sits on the Seine."),
    ("1889", "DATE", "is the year the Eiffel Tower was completed for the World's Fair."),
    ("Gustave Eiffel", "PERSON", "led the company that designed and built the tower."),
    ("Lyon", "GPE", "is a city where the river Rhone meets the Saone."),
]
_FILLER = [
    "The memory agent reads the document chunk by chunk and rewrites its memory.",
    "Visitors climbed the stairs to the second floor before the lifts opened.",
    "The river carried barges of stone and timber through the old city.",
    "Engineers measured the iron beams twice before they were riveted.",
]


def make_episode(
    index: int, split: str, num_chunks: int, *, preset: str = "mini"
) -> MaskedReconstructionEpisode:
    """Episode `index`: the answer entity masked in chunk 0, filler and probe entities in later chunks."""
    answer, label, fact = _FACTS[index % len(_FACTS)]
    other, other_label, other_fact = _FACTS[(index + 1) % len(_FACTS)]
    chunks = [f"{MASK_TOKEN} {fact} {_FILLER[index % len(_FILLER)]}"]
    for c in range(1, num_chunks):
        chunks.append(f"{other} {other_fact} {_FILLER[(index + c) % len(_FILLER)]}")
    probes = [
        RecallProbe(
            chunk_index=c,
            masked_chunk=chunks[c].replace(other, TARGET_TOKEN),
            target=other,
            label=other_label,
            masked_occurrences=1,
        )
        for c in range(1, num_chunks - 1)
    ]
    passage_ids = [f"{100 + index}-{c}" for c in range(num_chunks)]
    chunk_tokens = [len(chunk.split()) for chunk in chunks]
    return MaskedReconstructionEpisode(
        id=f"{split}-{index:04d}",
        split=split,  # type: ignore[arg-type]
        preset=preset,
        question=RECONSTRUCTION_QUESTION,
        answers=[answer],
        answer_label=label,
        chunks=chunks,
        chunk_n_tokens=chunk_tokens,
        n_tokens=sum(chunk_tokens),
        masked_occurrences=1,
        recall_probes=probes,
        pivot_passage_id=passage_ids[0],
        pivot_title=answer,
        passage_ids=passage_ids,
        related_passage_ids=passage_ids[1:],
        source="tests",
        tokenizer="whitespace",
        seed=0,
        builder_version="test",
    )


def write_mini_dataset(
    root: Path,
    *,
    config_name: str = "mini",
    train_episodes: int = 6,
    chunk_counts: tuple[int, ...] = (3, 4, 2),
    schema_version: str | None = None,
    drop_columns: tuple[str, ...] = (),
) -> Path:
    """Write train/validation/test splits under `root/config_name`; return `root`.

    `schema_version` and `drop_columns` write deliberately broken datasets for the error tests.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import episode_arrow_schema

    folder = root / config_name
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {"train": train_episodes, "validation": 2, "test": 2}
    for split, count in sizes.items():
        records = [
            make_episode(i, split, chunk_counts[i % len(chunk_counts)]).model_dump(mode="json")
            for i in range(count)
        ]
        if schema_version is not None:
            for record in records:
                record["schema_version"] = schema_version
        schema = episode_arrow_schema()
        for column in drop_columns:
            schema = schema.remove(schema.get_field_index(column))
            for record in records:
                record.pop(column)
        table = pa.Table.from_pylist(records, schema=schema)
        pq.write_table(table, folder / f"{split}-00000-of-00001.parquet")
    return root
