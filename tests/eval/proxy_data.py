"""A small memtrain dataset folder written like the builder writes it (for proxy-task tests)."""

from __future__ import annotations

from pathlib import Path

from memtrain_data.records import (
    MASK_TOKEN,
    RECONSTRUCTION_QUESTION,
    MaskedReconstructionEpisode,
    RecallProbe,
)

_CHUNKS = [
    ["The Eiffel Tower stands in [MASK]. It was completed in 1889 by Gustave Eiffel's company.",
     "Visitors climb the tower every day. The city of [MASK] lies on the Seine.",
     "Engineers repainted the tower in 2019. Lyon is another French city."],
    ["Mount Everest is the highest mountain above sea level, at 8,849 metres.",
     "Tenzing Norgay and Edmund Hillary reached the summit of [MASK] in 1953."],
    ["[MASK] is a short story."],
]  # fmt: skip
_ANSWERS = [["Paris", "City of Light"], ["Mount Everest", "Everest"], ["Gone"]]
_PROBES = [
    [RecallProbe(chunk_index=0, masked_chunk="The Eiffel Tower stands in [MASK]. It was completed in [TARGET] by Gustave Eiffel's company.", target="1889", label="DATE", masked_occurrences=1),
     RecallProbe(chunk_index=1, masked_chunk="Visitors climb the tower every day. The city of [MASK] lies on the [TARGET].", target="Seine", label="LOC", masked_occurrences=1)],
    [RecallProbe(chunk_index=0, masked_chunk="Mount Everest is the highest mountain above sea level, at [TARGET].", target="8,849 metres", label="QUANTITY", masked_occurrences=1)],
    [],
]  # fmt: skip


def episodes(split: str = "test") -> list[MaskedReconstructionEpisode]:
    records = []
    for index, (chunks, answers, probes) in enumerate(zip(_CHUNKS, _ANSWERS, _PROBES, strict=True)):
        counts = [len(chunk.split()) for chunk in chunks]
        records.append(
            MaskedReconstructionEpisode(
                id=f"{split}-{index}",
                split=split,
                preset="mini",
                question=RECONSTRUCTION_QUESTION,
                mask_token=MASK_TOKEN,
                answers=answers,
                answer_label="GPE",
                chunks=chunks,
                chunk_n_tokens=counts,
                n_tokens=sum(counts),
                masked_occurrences=max(1, sum(chunk.count(MASK_TOKEN) for chunk in chunks)),
                recall_probes=probes,
                pivot_passage_id=f"{index}-0",
                pivot_title=answers[0],
                passage_ids=[f"{index}-0", f"{index}-1"],
                related_passage_ids=[f"{index}-1"],
                source="test",
                tokenizer="tiny",
                seed=0,
                builder_version="test",
            )
        )
    return records


def write_mini_dataset(folder: Path, config_name: str = "mini") -> Path:
    """`folder/<config>/{train,validation,test}-00000-of-00001.parquet`, validated records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import episode_arrow_schema

    schema = episode_arrow_schema()
    (folder / config_name).mkdir(parents=True, exist_ok=True)
    for split in ("train", "validation", "test"):
        rows = [episode.model_dump() for episode in episodes(split)]
        table = pa.Table.from_pylist(rows, schema=schema)
        pq.write_table(table, folder / config_name / f"{split}-00000-of-00001.parquet")
    return folder
