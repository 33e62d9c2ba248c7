"""`validate_dataset`: record model + shared episode rules + folder rules, row by row."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from memtrain_data.errors import InputError
from memtrain_data.publish.validate import validate_dataset
from tests.publish.conftest import leave_answer_visible


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    table = pq.read_table(path)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)


def test_a_fresh_folder_is_clean(built_dataset: Path) -> None:
    report = validate_dataset(built_dataset)
    assert report.ok, report.problems
    assert report.rows == {"mini": {"train": 6, "validation": 2, "test": 2}}
    assert report.rows_checked == 10


def test_answer_left_visible_names_file_row_episode_and_reason(built_dataset: Path) -> None:
    episode_id = leave_answer_visible(built_dataset, "mini/train-00001-of-00002.parquet", row=1)

    report = validate_dataset(built_dataset)

    assert not report.ok
    leaks = [p for p in report.problems if p.code == "answer_leak"]
    assert len(leaks) == 1
    assert (leaks[0].file, leaks[0].row, leaks[0].episode_id) == ("mini/train-00001-of-00002.parquet", 1, episode_id)
    assert leaks[0].reason.startswith("answer_leak: chunk 2 shows an answer")
    assert report.bad_rows == 1 and len(report.problems) == 1


def test_probe_target_left_in_its_masked_chunk_is_reported(built_dataset: Path) -> None:
    def unmask(rows: list[dict]) -> None:
        probe = rows[0]["recall_probes"][0]
        probe["masked_chunk"] = probe["masked_chunk"].replace("[TARGET]", probe["target"], 1)

    _rewrite(built_dataset / "mini/test-00000-of-00002.parquet", unmask)
    report = validate_dataset(built_dataset)
    assert {p.code for p in report.problems} >= {"target_leak"}
    assert {(p.file, p.row) for p in report.problems} == {("mini/test-00000-of-00002.parquet", 0)}


def test_chunk_budget_comes_from_the_build_settings_in_stats(built_dataset: Path) -> None:
    stats = json.loads((built_dataset / "stats.json").read_text())
    stats["configs"]["mini"]["build"]["chunk_tokens"] = 205
    (built_dataset / "stats.json").write_text(json.dumps(stats))

    report = validate_dataset(built_dataset)
    assert report.problems and all(p.code == "chunk_too_long" for p in report.problems)


def test_record_that_breaks_the_model_is_reported_with_the_field(built_dataset: Path) -> None:
    _rewrite(built_dataset / "mini/validation-00000-of-00002.parquet", lambda rows: rows[0].update(n_tokens=3))
    report = validate_dataset(built_dataset)
    [problem] = report.problems
    assert problem.code == "schema" and problem.row == 0 and "n_tokens" in problem.reason


def test_folder_rules_duplicate_ids_wrong_split_and_pivot_page_in_two_splits(built_dataset: Path) -> None:
    train = pq.read_table(built_dataset / "mini/train-00000-of-00002.parquet").to_pylist()

    def copy_train_pivot(rows: list[dict]) -> None:
        rows[0]["id"] = train[0]["id"]
        rows[0]["pivot_passage_id"] = train[0]["pivot_passage_id"]
        rows[0]["passage_ids"][1] = train[0]["pivot_passage_id"]
        rows[0]["split"] = "train"

    _rewrite(built_dataset / "mini/test-00000-of-00002.parquet", copy_train_pivot)
    report = validate_dataset(built_dataset)
    codes = report.counts_by_code()
    assert codes["duplicate_id"] == 1 and codes["wrong_split"] == 1 and codes["split_leak"] == 2
    duplicate = next(p for p in report.problems if p.code == "duplicate_id")
    assert duplicate.file == "mini/test-00000-of-00002.parquet" and "mini/train-00000-of-00002.parquet row 0" in duplicate.reason


def test_pivot_id_without_a_page_id_is_a_problem_not_a_crash(built_dataset: Path) -> None:
    def rename_pivot(rows: list[dict]) -> None:
        rows[0]["passage_ids"] = [p if p != rows[0]["pivot_passage_id"] else "Lyon" for p in rows[0]["passage_ids"]]
        rows[0]["pivot_passage_id"] = "Lyon"

    _rewrite(built_dataset / "mini/train-00001-of-00002.parquet", rename_pivot)
    [problem] = validate_dataset(built_dataset).problems
    assert (problem.file, problem.row, problem.code) == ("mini/train-00001-of-00002.parquet", 0, "pivot_id")


def test_card_must_declare_every_config(built_dataset: Path, dataset_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.publish.conftest import make_split_episodes, write_shards

    write_shards(built_dataset, "extra", make_split_episodes("extra", {"train": 2}, page_offset=500))
    report = validate_dataset(built_dataset)
    assert [p.reason for p in report.problems] == ["card: config 'extra' has shards but is not declared in the YAML header"]


def test_a_shard_with_the_wrong_columns_is_reported(built_dataset: Path) -> None:
    path = built_dataset / "mini/train-00000-of-00002.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["answer_label"]), path)
    report = validate_dataset(built_dataset)
    assert any(p.reason == "schema: column 'answer_label' is missing" and p.row is None for p in report.problems)
    assert any(p.code == "schema" and p.row == 0 for p in report.problems)


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    report = validate_dataset(tmp_path)
    assert not report.ok and report.problems[0].code == "layout"
    with pytest.raises(InputError, match="no such folder"):
        validate_dataset(tmp_path / "missing")


def test_hub_id_offline_is_a_clear_error() -> None:
    # conftest sets HF_HUB_OFFLINE=1: a Hub id that is not cached cannot be fetched.
    with pytest.raises(InputError, match="memtrain-test-org/not-cached"):
        validate_dataset("memtrain-test-org/not-cached")



# --- Broken datasets that once passed (issue 13.5) ----------------------------------------------


def test_a_declared_split_whose_shards_were_all_deleted_fails(built_dataset: Path) -> None:
    for shard in built_dataset.glob("mini/test-*"):
        shard.unlink()

    report = validate_dataset(built_dataset)

    reasons = [p.reason for p in report.problems]
    assert not report.ok
    assert "card: split 'test' of config 'mini' is declared (mini/test-*) but no shard of it exists" in reasons
    assert "card: config 'mini' split 'test' declares 2 episodes, the shards hold 0" in reasons


def test_one_deleted_shard_fails_by_the_episode_count_the_card_declares(built_dataset: Path) -> None:
    (built_dataset / "mini" / "train-00000-of-00002.parquet").unlink()

    reasons = [p.reason for p in validate_dataset(built_dataset).problems]

    assert "card: config 'mini' split 'train' declares 6 episodes, the shards hold 3" in reasons


def test_a_chunk_grown_by_two_million_words_with_its_count_unchanged_fails(built_dataset: Path) -> None:
    shard = built_dataset / "mini" / "train-00000-of-00002.parquet"
    _rewrite(shard, lambda rows: rows[-1]["chunks"].__setitem__(-1, rows[-1]["chunks"][-1] + " word" * 2_000_000))

    problems = [p for p in validate_dataset(built_dataset).problems if p.code == "token_count"]

    assert len(problems) == 1
    assert problems[0].file == "mini/train-00000-of-00002.parquet" and problems[0].row == 2
    assert problems[0].reason.startswith("token_count: chunk 2 has 2,000,0") and "so at least as many tokens, but records 15" in problems[0].reason


@pytest.mark.slow  # loads the real tokenizer (about 10 s on a busy 2-core machine)
def test_recount_uses_the_records_tokenizer(built_dataset: Path) -> None:
    from memtrain_data.models import load_tokenizer

    tokenizer = load_tokenizer(pq.read_table(built_dataset / "mini" / "test-00000-of-00002.parquet").column("tokenizer")[0].as_py())

    def true_counts(rows: list[dict]) -> None:
        for row in rows:
            row["chunk_n_tokens"] = [len(tokenizer(chunk, add_special_tokens=False)["input_ids"]) for chunk in row["chunks"]]
            row["n_tokens"] = sum(row["chunk_n_tokens"])

    _rewrite(built_dataset / "mini" / "test-00000-of-00002.parquet", true_counts)

    report = validate_dataset(built_dataset, recount_tokens=True)

    # The fixture's counts are made up (about 200 per chunk of ~25 tokens); only the rewritten shard is exact.
    flagged = {p.file for p in report.problems if p.code == "token_count"}
    assert "mini/test-00000-of-00002.parquet" not in flagged
    assert "mini/test-00001-of-00002.parquet" in flagged and len(flagged) == 5
    # Without the recount, the word bound alone passes them all.
    assert not [p for p in validate_dataset(built_dataset).problems if p.code == "token_count"]
