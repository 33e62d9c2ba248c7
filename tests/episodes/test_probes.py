import random
from typing import Any

from memtrain_data.build_config import ONTONOTES_LABELS
from memtrain_data.episodes.chunking import chunk_document
from memtrain_data.episodes.masking import contains_any, mask_occurrences
from memtrain_data.episodes.probes import find_targets, is_valid_target, make_recall_probes
from memtrain_data.records import MASK_TOKEN, TARGET_TOKEN
from tests.episodes.pool_helpers import PAGES

ANSWERS = ["Barack Obama", "Obama"]


def _document(tokenizer: Any) -> Any:
    passages = [text for title in ("Barack Obama", "Lyon", "Apollo 11", "Istanbul") for text in PAGES[title]]
    masked = [mask_occurrences(text, ANSWERS, MASK_TOKEN)[0] for text in passages]
    return chunk_document(tokenizer, masked, 120)


def test_probes_on_every_chunk_but_the_last(tokenizer: Any, nlp: Any) -> None:
    chunking = _document(tokenizer)
    probes, words_read = make_recall_probes(
        nlp, chunking.chunks, chunking.pieces, ANSWERS, list(ONTONOTES_LABELS), 2, random.Random(0)
    )
    last = len(chunking.chunks) - 1
    assert last >= 2
    assert {p.chunk_index for p in probes} == set(range(last))
    assert all(sum(p.chunk_index == i for p in probes) <= 2 for i in range(last))
    assert 0 < words_read < sum(len(c.split()) for c in chunking.chunks)  # NER did not read everything
    for probe in probes:
        chunk = chunking.chunks[probe.chunk_index]
        assert contains_any(chunk, [probe.target])
        assert not contains_any(probe.masked_chunk, [probe.target])
        assert probe.masked_chunk.count(TARGET_TOKEN) == probe.masked_occurrences >= 1
        assert probe.masked_chunk == mask_occurrences(chunk, [probe.target], TARGET_TOKEN)[0]
        assert is_valid_target(probe.target, ANSWERS)


def test_probes_are_reproducible_from_the_seed(tokenizer: Any, nlp: Any) -> None:
    chunking = _document(tokenizer)
    run = [
        make_recall_probes(nlp, chunking.chunks, chunking.pieces, ANSWERS, list(ONTONOTES_LABELS), 2, random.Random(7))[0]
        for _ in range(2)
    ]
    assert run[0] == run[1]


def test_targets_never_overlap_the_answer_or_its_aliases(nlp: Any) -> None:
    pieces = PAGES["Barack Obama"]
    targets, _ = find_targets(nlp, pieces, ["Obama"], list(ONTONOTES_LABELS), 20, random.Random(1))
    assert targets
    assert all("obama" not in t.text.casefold() for t in targets)
    assert not is_valid_target("Michelle Obama", ["Obama"])
    assert not is_valid_target("obama", ["Barack Obama"])
    assert is_valid_target("Honolulu", ["Barack Obama"])


def test_zero_probes_per_chunk_gives_none(tokenizer: Any, nlp: Any) -> None:
    chunking = _document(tokenizer)
    probes, words = make_recall_probes(nlp, chunking.chunks, chunking.pieces, ANSWERS, ["GPE"], 0, random.Random(0))
    assert probes == [] and words == 0
