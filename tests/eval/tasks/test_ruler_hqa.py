"""ruler-hqa: MemAgent's released RULER-HotpotQA files read as they are, bad records counted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from memtrain_data.errors import InputError
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.tasks.ruler_hqa import RulerHotpotQATask
from memtrain_data.progress import NullProgress


@pytest.fixture(scope="module")
def ruler_dir() -> Path:
    from tests.conftest import SHARED_DIR

    folder = SHARED_DIR / "data/hotpotqa/ruler_hqa"
    if not (folder / "eval_50.json").is_file():
        pytest.skip(f"{folder} is absent: this test reads the shared RULER-HotpotQA stand-in files")
    return folder


def load(data: Path | str, **values) -> tuple[RulerHotpotQATask, list]:
    task = RulerHotpotQATask()
    config = EvalConfig(model="m", task="ruler-hqa", data=str(data), **values)
    task.validate_inputs(config)
    return task, task.load_examples(config, None, NullProgress())


@pytest.mark.parametrize(("label", "documents"), [("50", 50), ("100docs", 100), ("7k", 50), ("896k", 6400)])
def test_ruler_lengths_are_document_counts_or_the_papers_labels(label: str, documents: int) -> None:
    assert RulerHotpotQATask.documents_of(label) == documents


def record(index: int, num_docs: int = 2, **changes) -> dict:
    values = {
        "context": "Document 1:\nA\nAlpha text.\n\nDocument 2:\nB\nBeta text.",
        "input": f"Question {index}?",
        "answers": [f"answer {index}"],
        "num_docs": num_docs,
        "index": index,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def write(path: Path, records: list) -> Path:
    path.write_text(json.dumps(records))
    return path


def test_a_folder_of_released_files_is_read_as_it_is(ruler_dir: Path) -> None:
    task, examples = load(ruler_dir)
    assert sorted({e.length for e in examples}, key=int) == ["50", "100"]
    assert len(examples) == 60 and len(task.fingerprints) == 60
    raw = json.loads((ruler_dir / "eval_50.json").read_text())[0]
    first = next(e for e in examples if e.key == "50/0")
    assert first.problem == raw["input"].strip() and first.context == raw["context"].strip()
    assert first.answers == raw["answers"] and first.extra["num_docs"] == 50
    assert "".join(first.chunks) == first.context


def test_one_file_limit_ids_and_lengths(ruler_dir: Path) -> None:
    _, examples = load(ruler_dir / "eval_100.json", limit=2)
    assert [e.key for e in examples] == ["100/0", "100/1"]
    task, examples = load(ruler_dir, ids=["3", "7"])
    assert sorted(e.key for e in examples) == ["100/3", "100/7", "50/3", "50/7"]
    assert len(task.fingerprints) == 60  # every example of the data is known, not only those selected
    task, examples = load(ruler_dir, lengths=["7k"])  # the paper's label of the 50-document file
    assert {e.length for e in examples} == {"50"} and len(task.fingerprints) == 30
    with pytest.raises(InputError, match="no records with 200 documents"):
        load(ruler_dir, lengths=["200"])
    with pytest.raises(InputError, match="--ids not in"):
        load(ruler_dir, ids=["no-such-id"])


def test_bad_records_are_counted_and_skipped(tmp_path: Path, caplog) -> None:
    records = [
        record(0),
        record(1, answers="not a list"),
        record(2, context=None),
        record(3, input=None),
        record(4, answers=None),
        "not an object",
        record(6, answers=[]),
        record(0),  # the same index again
        record(8, num_docs=None),  # no num_docs: counted from the "Document i:" headers
    ]
    with caplog.at_level(logging.WARNING):
        task, examples = load(write(tmp_path / "eval_2.json", records))
    assert [e.id for e in examples] == ["0", "8"]
    assert all(len(e.chunks) == 1 for e in examples)  # shorter than one chunk: read in one turn
    assert task.load_counts == {
        "skipped_answers_not_a_list_of_strings": 2,
        "skipped_missing_context": 1,
        "skipped_missing_input": 1,
        "skipped_missing_answers": 1,
        "skipped_not_an_object": 1,
        "skipped_duplicate_index": 1,
        "num_docs_inferred": 1,
    }


def test_mixed_num_docs_are_grouped_and_said_in_one_line(tmp_path: Path, caplog) -> None:
    path = write(tmp_path / "eval_2.json", [record(0), record(1, num_docs=3), record(2)])
    with caplog.at_level(logging.WARNING):
        task, examples = load(path)
    assert sorted(e.key for e in examples) == ["2/0", "2/2", "3/1"]
    lines = [r.getMessage() for r in caplog.records if "different num_docs" in r.getMessage()]
    assert lines == [
        "eval_2.json: records have 2 different num_docs (2 docs: 2, 3 docs: 1); each is scored as its own length"
    ]
    assert task.load_counts["files_with_mixed_num_docs"] == 1


def test_json_lines_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "eval_2.jsonl"
    path.write_text("\n".join(json.dumps(record(i)) for i in range(3)) + "\n")
    assert len(load(path)[1]) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "neither JSON nor JSON lines"),
        ('{"context": "x"}', "expected a list of records"),
        ("[1, 2]", "no usable RULER-HotpotQA records"),
    ],
)
def test_files_in_neither_layout(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "eval_50.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load(path)


def test_raw_hotpotqa_is_pointed_to_the_hotpotqa_task(hotpotqa_sample: Path) -> None:
    with pytest.raises(InputError, match=r"raw HotpotQA .*use --task hotpotqa"):
        load(hotpotqa_sample)


def test_missing_data(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no eval_"):
        load(tmp_path)
    with pytest.raises(InputError, match="ruler-hqa data not found"):
        load(tmp_path / "absent.json")
    with pytest.raises(InputError, match="cannot download Hub dataset 'nobody/no-such-ruler-hqa'"):
        load("nobody/no-such-ruler-hqa")  # the Hub is offline in tests: one line, no traceback
