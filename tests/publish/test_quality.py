"""The quality report: the one judge's verdicts on the written files, added up per config and split."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from memtrain_data.episodes.judge import Verdict
from memtrain_data.publish.quality import episode_quality
from memtrain_data.publish.validate import validate_dataset
from tests.publish.conftest import pages_of_split

TRAIN_PAGES = pages_of_split("train", 3)


def episode_row(passages: list[str], masked: list[str], answers: list[str], **extra: Any) -> dict[str, Any]:
    """A record (as read from parquet) whose document is `masked`, made of `passages` of train pages."""
    passage_ids = [f"{page}-0" for page in TRAIN_PAGES[: len(passages)]]
    return {
        "split": "train",
        "answers": answers,
        "answer_label": "PERSON",
        "chunks": masked,
        "masked_occurrences": sum(chunk.count("[MASK]") for chunk in masked),
        "n_tokens": 100,
        "passage_ids": passage_ids,
        "related_passage_ids": passage_ids[1:2],
        "pivot_passage_id": passage_ids[0],
        "pivot_title": "Some article",
        **extra,
    }


def test_report_on_a_clean_folder_is_measured_from_the_files(built_dataset: Path) -> None:
    report = validate_dataset(built_dataset).quality["mini"]
    train = report["splits"]["train"]
    rows = [row for path in sorted(built_dataset.glob("mini/train-*.parquet")) for row in pq.read_table(path).to_pylist()]

    assert report["settings"]["pool"] == "aligned against OUT/pool"
    assert report["train_documents_with_validation_or_test_pages"] == 0
    assert train["episodes"] == train["aligned_with_pool"] == len(rows) == 6
    assert (train["partial_mask_rate"], train["visible_alias_rate"], train["over_mask_rate"]) == (0.0, 0.0, 0.0)
    assert train["cross_split_documents"] == 0
    # Every fixture document: 3 passages (pivot second), [MASK] once in the pivot and once in the last passage.
    assert train["passages_per_document"] == {"min": 3, "mean": 3.0, "max": 3}
    assert train["related_share"] == round(1 / 3, 4)
    assert train["masks_outside_pivot"] == {"min": 1, "mean": 1.0, "max": 1}
    assert train["masked_at_least_twice_share"] == 1.0
    tokens = sorted(row["n_tokens"] for row in rows)
    assert train["tokens_per_document"]["p50"] == statistics.median_low(tokens)
    assert tokens[0] <= train["tokens_per_document"]["p10"] <= train["tokens_per_document"]["p90"] <= tokens[-1]
    assert sum(train["answer_labels"].values()) == 6


def test_without_a_pool_the_record_checks_still_run_and_the_report_says_what_was_skipped(built_dataset: Path) -> None:
    for path in (built_dataset / "pool").iterdir():
        path.unlink()

    report = validate_dataset(built_dataset)

    assert report.ok
    assert report.quality["mini"]["settings"]["pool"].startswith("no pool in the folder")
    assert report.quality["mini"]["splits"]["train"]["aligned_with_pool"] == 0
    assert report.quality["mini"]["splits"]["train"]["partial_mask_rate"] is None


def test_validate_fails_on_a_partial_mask_in_the_written_files(built_dataset: Path) -> None:
    shard = built_dataset / "mini" / "train-00000-of-00002.parquet"
    table = pq.read_table(shard)
    rows = table.to_pylist()
    row = rows[0]
    answer = row["answers"][0]
    # Put a name around the masked answer in the pool: the [MASK] now hides a fragment of "Upper <answer> Valley".
    pool_path = built_dataset / "pool" / "passages-00000.parquet"
    pool = pq.read_table(pool_path)
    passages = pool.to_pylist()
    last = row["passage_ids"][-1]
    for passage in passages:
        if passage["id"] == last:
            passage["text"] = passage["text"].replace(f"Later, {answer} appears", f"Later, Upper {answer} Valley appears")
    row["chunks"][-1] = row["chunks"][-1].replace("Later, [MASK] appears", "Later, Upper [MASK] Valley appears")
    pq.write_table(pa.Table.from_pylist(passages, schema=pool.schema), pool_path)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)

    report = validate_dataset(built_dataset)

    partial = [p for p in report.problems if p.code == "partial_mask"]
    assert [(p.file, p.row, p.episode_id) for p in partial] == [("mini/train-00000-of-00002.parquet", 0, row["id"])]
    assert partial[0].reason == f"partial_mask: [MASK] replaced {answer!r}, the name goes on before it ('Upper')"
    assert report.quality["mini"]["splits"]["train"]["partial_mask_rate"] == round(1 / 6, 4)


def test_alias_table_forms_of_the_answer_page_are_counted_when_visible(tmp_path: Path) -> None:
    from memtrain_data.publish.quality import load_alias_forms

    rows = [  # contract 1: unique per (target, alias, kind), sorted
        {"target": "NASA", "alias": "NASA", "kind": "anchor", "count": 4},
        {"target": "NASA", "alias": "National Aeronautics and Space Administration", "kind": "redirect", "count": 1},
        {"target": "NASA", "alias": "United States", "kind": "anchor", "count": 1},
        {"target": "United States", "alias": "United States", "kind": "anchor", "count": 9},
    ]
    schema = pa.schema([("target", pa.string()), ("alias", pa.string()), ("kind", pa.string()), ("count", pa.int64())])
    (tmp_path / "pool").mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp_path / "pool" / "aliases-00000-of-00001.parquet")

    forms = load_alias_forms(tmp_path, ["NASA"])

    # A link anchor names the page only when most of its links go there; a redirect always does.
    assert forms == {"NASA": {"NASA", "National Aeronautics and Space Administration"}}
    passages = ["NASA flew.", "The National Aeronautics and Space Administration of the United States grew."]
    masked = ["[MASK] flew.", "The National Aeronautics and Space Administration of the United States grew."]
    row = episode_row(passages, masked, ["NASA"], answer_page_title="NASA")
    quality = episode_quality(row, Verdict(), forms)
    # Informational, not a violation: anchors are too noisy to fail a dataset on.
    assert quality.alias_table_visible == ["National Aeronautics and Space Administration"]
    assert load_alias_forms(tmp_path / "nowhere", ["NASA"]) is None
