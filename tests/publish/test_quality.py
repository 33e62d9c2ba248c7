"""The quality report and the reviewer's checks: what each [MASK] replaced, recovered from the pool."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from memtrain_data.episodes.splits import split_of_page
from memtrain_data.publish.quality import (
    QualitySettings,
    align_masks,
    judge_episode,
    partial_reason,
    quality_report,
)
from memtrain_data.publish.validate import validate_dataset
from tests.publish.conftest import pages_of_split

SETTINGS = QualitySettings()
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


def judge(passages: list[str], masked: list[str], answers: list[str], **extra: Any):  # type: ignore[no-untyped-def]
    row = episode_row(passages, masked, answers, **extra)
    return judge_episode(row, dict(zip(row["passage_ids"], passages, strict=True)), SETTINGS)


def test_alignment_recovers_what_each_mask_replaced_across_chunk_and_passage_joins() -> None:
    passages = ["Ayn Rand wrote novels.\nRand lived in New York.", "Critics read Rand widely."]
    chunks = ["[MASK] wrote novels. [MASK] lived", "in New York.\n\nCritics read [MASK] widely."]

    original, spans, starts = align_masks(chunks, passages)  # type: ignore[misc]

    assert [original[a:b] for a, b in spans] == ["Ayn Rand", "Rand", "Rand"]
    assert starts == [0, len("Ayn Rand wrote novels. Rand lived in New York.") + 1]
    assert align_masks(["Something else entirely [MASK]."], passages) == "the text before the first [MASK] differs from the pool passages"


@pytest.mark.parametrize(
    ("original", "span", "reason"),
    [
        ("The novelist Ayn Rand wrote it.", "Rand", "the name goes on before it ('Ayn')"),
        ("It crossed the Atlantic Ocean twice.", "Atlantic", "the name goes on after it ('Ocean')"),
        ("The Mid-Atlantic states voted.", "Atlantic", "joined by a hyphen to 'Mid'"),
        ("Then St. Louis grew.", "Louis", "after 'St.', which belongs to the name"),
        ("It had 29,455 people.", "455", "part of a longer number"),
        ("Many Canadians came.", "Canadian", "inside the longer word 'Canadians'"),
        ("Ayn Rand wrote it.", "Rand", "the name goes on before it ('Ayn')"),
        ("The endemic Aruba Rattlesnake, as well as lizards.", "Aruba", "the name goes on after it ('Rattlesnake')"),
        ("Stylistically, Swift and Eliot wrote.", "Stylistically, Swift and", "a mis-cut span: it starts or ends with the function word 'and'"),
        ("It took about six or seven years.", "about six or", "a mis-cut span: it starts or ends with the function word 'or'"),
        ("Both von Franz and Jung wrote.", "Both von Franz", "a mis-cut span: it starts or ends with the function word 'Both'"),
        # Whole names: none of these is a fragment.
        ("They visited Ayn Rand in 1950.", "Ayn Rand", None),
        ("Later Paris grew.", "Paris", None),
        ("input length R ← L While ANOVA is used", "ANOVA", None),  # an opener after a passage without a full stop  # an ordinary word that starts a sentence does not continue the name
        ("Fairs are held each summer. Summer Paris is busy.", "Paris", None),  # sentence-initial and used in lower case elsewhere
        ("In 1937 the city of Lyon grew.", "Lyon", None),
        ("It had 29,455 people.", "29,455", None),
        ("The Austro-Hungarian army moved.", "army", None),
        ("He met Smith and Jones.", "Smith", None),
        # A title or honorific before a surname is not part of the name (the answers hold the full name).
        ("Then Mr. Smith left.", "Smith", None),
        ("It was signed by President Lincoln.", "Lincoln", None),
        ("Though Lincoln won, the war went on.", "Lincoln", None),
        ("It was Lincoln President of the Union who spoke.", "Lincoln", None),
        ("They fought against the Moors in 1492.", "the Moors", None),
    ],
)
def test_partial_mask_rules(original: str, span: str, reason: str | None) -> None:
    start = original.index(span)
    assert partial_reason(original, start, start + len(span)) == reason


def test_a_fragment_of_a_name_fails_with_its_neighbour_named() -> None:
    verdict = judge(["Ayn Rand wrote novels.", "Rand lived in New York."], ["Ayn [MASK] wrote novels.", "[MASK] lived in New York."], ["Rand"])

    assert [span.text for span in verdict.partial_masks] == ["Rand"]
    assert verdict.problems() == ["partial_mask: [MASK] replaced 'Rand', the name goes on before it ('Ayn')"]
    assert verdict.masks_outside_pivot(0) == 1


def test_an_ordinary_word_masked_for_a_capitalised_answer_is_an_over_mask() -> None:
    verdict = judge(["Articles is a book.", "The articles were printed."], ["[MASK] is a book.", "The [MASK] were printed."], ["Articles"])

    assert [span.text for span in verdict.case_mismatches] == ["articles"]
    assert verdict.problems() == []  # reported as a rate, not a failure: meaning is a judgement call


def test_sentence_initial_capitals_are_not_a_case_mismatch() -> None:
    verdict = judge(["Gold is soft.", "Some say gold is rare."], ["[MASK] is soft.", "Some say [MASK] is rare."], ["gold"])
    assert verdict.case_mismatches == []


def test_a_masked_form_still_visible_elsewhere_fails_and_old_records_work_without_the_new_fields() -> None:
    passages = ["Canada joined in 1949.", "Canadian troops and Canada's navy served."]
    masked = ["[MASK] joined in 1949.", "Canadian troops and [MASK]'s navy served."]

    new = judge(passages, masked, ["Canada"], masked_forms=["Canada", "Canadian"], answer_page_title="Canada")
    old = judge(passages, masked, ["Canada"])

    assert new.visible == ["Canadian"]
    assert new.problems() == ["visible_alias: 'Canadian' masked elsewhere but still visible in the chunks"]
    assert old.visible == [] and old.problems() == []


def test_the_answer_left_visible_inside_a_longer_name_is_a_visible_alias() -> None:
    """Masking it there would be a partial mask; leaving it shows the answer. Either way the episode leaks."""
    passages = ["Arrhenius studied acids.", "The chemist Svante Arrhenius won a prize. Arrhenius died in 1927."]
    masked = ["[MASK] studied acids.", "The chemist Svante Arrhenius won a prize. [MASK] died in 1927."]

    verdict = judge(passages, masked, ["Arrhenius"])

    assert verdict.partial_masks == [] and verdict.visible == ["Arrhenius"]
    assert verdict.problems() == ["visible_alias: 'Arrhenius' masked elsewhere but still visible in the chunks"]
    assert verdict.problems(answers_reported=True) == []  # already named by the episode rules' answer_leak


def test_a_passage_from_a_page_of_another_split_is_a_cross_split_leak() -> None:
    test_page = pages_of_split("test", 1)[0]
    row = episode_row(["A.", "B."], ["[MASK].", "B."], ["A"])
    row["passage_ids"][1] = f"{test_page}-3"

    verdict = judge_episode(row, None, SETTINGS)

    assert split_of_page(test_page, 0.1, 0.1) == "test"
    assert verdict.cross_split_pages == [test_page]
    assert verdict.problems() == [f"cross_split: a train document holds passages of 1 pages of other splits (pages {test_page})"]
    assert verdict.spans is None  # no pool given: the mask checks did not run


def test_title_answer_is_found_by_answer_or_resolved_page() -> None:
    assert judge(["Lyon is old."], ["[MASK] is old."], ["Lyon"], pivot_title="Lyon").title_answer
    assert judge(["Lyon is old."], ["[MASK] is old."], ["the city"], pivot_title="Lyon", answer_page_title="Lyon").title_answer
    assert not judge(["Lyon is old."], ["[MASK] is old."], ["Lyon"], pivot_title="Paris").title_answer


def test_report_on_a_clean_folder_is_measured_from_the_files(built_dataset: Path) -> None:
    report = quality_report(built_dataset)["mini"]
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
    verdict = judge_episode(row, dict(zip(row["passage_ids"], passages, strict=True)), SETTINGS, forms)
    assert verdict.alias_table_visible == ["National Aeronautics and Space Administration"]
    assert verdict.problems() == []  # informational: anchors are too noisy to fail a dataset on
    assert load_alias_forms(tmp_path / "nowhere", ["NASA"]) is None
