"""RULER-style HotpotQA: contexts padded to the target length with the gold paragraphs kept."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from memtrain_data.agent.budgets import count_tokens
from memtrain_data.errors import InputError
from memtrain_data.eval.config import EvalConfig
from memtrain_data.eval.tasks.hotpotqa import HotpotQATask, Paragraph, pad_context, read_hotpotqa
from memtrain_data.progress import NullProgress


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


def load(hotpotqa_sample: Path, tokenizer, **values) -> list:
    config = EvalConfig(model="m", task="hotpotqa", data=str(hotpotqa_sample), **values)
    return HotpotQATask().load_examples(config, tokenizer, NullProgress())


def test_reads_the_official_format(hotpotqa_sample: Path) -> None:
    questions, skipped = read_hotpotqa(hotpotqa_sample)
    assert len(questions) == 30 and skipped == 0
    first = questions[0]
    assert first.question == "Were Scott Derrickson and Ed Wood of the same nationality?"
    assert first.answer == "yes"
    assert {p.title for p in first.gold} == {"Scott Derrickson", "Ed Wood"}
    assert len(first.gold) + len(first.distractors) == 10


def test_contexts_are_within_the_target_length_and_hold_the_gold_paragraphs(
    hotpotqa_sample, tokenizer
) -> None:
    task = HotpotQATask()
    config = EvalConfig(
        model="m",
        task="hotpotqa",
        data=str(hotpotqa_sample),
        lengths=["1k", "2k", "4k"],
        limit=8,
        chunk_tokens=512,
    )
    examples = task.load_examples(config, tokenizer, NullProgress())
    questions = {q.id: q for q in read_hotpotqa(hotpotqa_sample)[0]}
    assert len(examples) == 24
    gold_too_long = 0
    for example in examples:
        target = example.extra["target_tokens"]
        measured = count_tokens(tokenizer, example.context)
        assert measured == example.n_tokens
        gold_tokens = count_tokens(tokenizer, "\n\n".join(p.block(1) for p in questions[example.id].gold))
        if gold_tokens > target:
            # The gold paragraphs alone are over the target (the tiny tokenizer is byte-heavy): kept as they are.
            gold_too_long += 1
            assert example.extra["n_documents"] == len(questions[example.id].gold)
        else:
            # Never over the target, and filled to within 10% of it.
            assert 0.9 * target <= measured <= target, (example.length, measured)
        for paragraph in questions[example.id].gold:
            assert f"{paragraph.title}\n{paragraph.text}" in example.context
        assert example.context.startswith("Document 1:\n")
        assert f"Document {example.extra['n_documents']}:\n" in example.context
        assert all(count_tokens(tokenizer, chunk) <= 512 for chunk in example.chunks)
        assert "".join(example.chunks) == example.context
        assert example.answers == [questions[example.id].answer]
    assert task.load_counts.get("gold_over_length_1k", 0) == gold_too_long
    assert gold_too_long < len(examples) // 3


def test_longer_contexts_have_more_documents(hotpotqa_sample, tokenizer) -> None:
    examples = load(hotpotqa_sample, tokenizer, lengths=["1k", "4k"], limit=1)
    assert examples[0].extra["n_documents"] < examples[1].extra["n_documents"]


def test_padding_is_seeded(hotpotqa_sample, tokenizer) -> None:
    first = load(hotpotqa_sample, tokenizer, lengths=["2k"], limit=3, seed=1)
    again = load(hotpotqa_sample, tokenizer, lengths=["2k"], limit=3, seed=1)
    other = load(hotpotqa_sample, tokenizer, lengths=["2k"], limit=3, seed=2)
    assert [e.context for e in first] == [e.context for e in again]
    assert [e.context for e in first] != [e.context for e in other]
    # Adding another length or question does not change the contexts already made.
    wider = load(hotpotqa_sample, tokenizer, lengths=["1k", "2k"], limit=4, seed=1)
    assert [e.context for e in wider if e.length == "2k"][:3] == [e.context for e in first]


def test_gold_paragraphs_are_kept_even_when_they_exceed_the_target(hotpotqa_sample, tokenizer) -> None:
    question = read_hotpotqa(hotpotqa_sample)[0][0]
    paragraphs, tokens = pad_context(question, [], 20, tokenizer, random.Random(0))
    assert set(paragraphs) == set(question.gold)
    assert tokens > 20


def test_pool_passages_become_distractors(hotpotqa_sample, tokenizer, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "pool").mkdir()
    texts = [
        f"Zanzibar fact number {i}: the archipelago exported cloves in year {1800 + i}." for i in range(400)
    ]
    pq.write_table(
        pa.table({"title": [f"Pool {i}" for i in range(400)], "text": texts}),
        tmp_path / "pool" / "passages-00000.parquet",
    )
    examples = load(hotpotqa_sample, tokenizer, lengths=["8k"], limit=2, pool=tmp_path)
    assert all("Zanzibar fact number" in e.context for e in examples)


def test_pool_folder_without_passages_is_an_error(hotpotqa_sample, tokenizer, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no passage pool found"):
        load(hotpotqa_sample, tokenizer, lengths=["1k"], pool=tmp_path)


def test_malformed_questions_are_counted_and_skipped(tmp_path: Path, hotpotqa_sample: Path) -> None:
    items = [*json.loads(hotpotqa_sample.read_text())[:2], {"question": "no id"}, "not a dict"]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(items))
    questions, skipped = read_hotpotqa(path)
    assert len(questions) == 2 and skipped == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON file"),
        ('{"a": 1}', "expected a JSON list"),
        ("[{}]", "no usable HotpotQA questions"),
    ],
)
def test_unusable_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_hotpotqa(path)


def test_missing_data_flag(tokenizer) -> None:
    with pytest.raises(InputError, match="--data is required"):
        HotpotQATask().load_examples(EvalConfig(model="m", task="hotpotqa"), tokenizer, NullProgress())


def test_paragraph_block_format() -> None:
    assert Paragraph("Title", "Text.").block(3) == "Document 3:\nTitle\nText."


def test_lengths_in_documents_and_under_length_contexts_are_counted(hotpotqa_sample, tokenizer) -> None:
    task = HotpotQATask()
    config = EvalConfig(
        model="m", task="hotpotqa", data=str(hotpotqa_sample), lengths=["50docs", "400docs"], limit=2
    )
    messages: list[str] = []

    class Log(NullProgress):
        def log(self, message: str) -> None:
            messages.append(message)

    examples = task.load_examples(config, tokenizer, Log())
    by_length = {label: [e for e in examples if e.length == label] for label in ("50docs", "400docs")}
    assert all(e.extra["n_documents"] == 50 and not e.extra["under_length"] for e in by_length["50docs"])
    # The 30 questions hold 291 distinct paragraphs: 400 documents cannot be reached.
    assert all(e.extra["n_documents"] < 400 and e.extra["under_length"] for e in by_length["400docs"])
    assert all(e.n_tokens == count_tokens(tokenizer, e.context) for e in examples)  # measured, not the target
    assert task.load_counts["under_length"] == 2
    assert [m for m in messages if "under_length" in m] == [
        "hotpotqa: the distractor pool cannot fill 2 context(s) at 400docs (291 paragraphs): they are scored "
        "and plotted at their measured length (counted as under_length; pass a larger --pool, e.g. the whole "
        "HotpotQA dev set)"
    ]


def test_a_hotpotqa_file_as_pool_adds_its_paragraphs(hotpotqa_sample, tokenizer, tmp_path: Path) -> None:
    few = tmp_path / "few.json"
    few.write_text(json.dumps(json.loads(hotpotqa_sample.read_text())[:3]))
    alone = HotpotQATask()
    alone.validate_inputs(EvalConfig(model="m", task="hotpotqa", data=str(few), lengths=["60docs"]))
    pooled = HotpotQATask()
    pooled.validate_inputs(
        EvalConfig(model="m", task="hotpotqa", data=str(few), lengths=["60docs"], pool=hotpotqa_sample)
    )
    assert len(alone.others) < 60 <= len(pooled.others) == 291
    assert pooled.load_counts["pool_paragraphs_added"] == 291 - len(alone.others)
    # The pool enters every example's input hash: cached predictions made without it are not reused.
    assert set(alone.fingerprints) == set(pooled.fingerprints)
    assert all(alone.fingerprints[k] != pooled.fingerprints[k] for k in alone.fingerprints)


def test_the_released_layout_is_pointed_to_ruler_hqa(tokenizer) -> None:
    from tests.conftest import SHARED_DIR

    folder = SHARED_DIR / "data/hotpotqa/ruler_hqa"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    with pytest.raises(InputError, match="use --task ruler-hqa"):
        HotpotQATask().validate_inputs(
            EvalConfig(model="m", task="hotpotqa", data=str(folder / "eval_50.json"))
        )
