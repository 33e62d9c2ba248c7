"""Fitting chunks to the run's chunk budget: re-split, never cut; masks kept; probes carried or counted."""

from __future__ import annotations

from typing import Any

import pytest

from memtrain_data.build_config import PRESETS as BUILD_PRESETS
from memtrain_data.errors import InputError
from memtrain_data.records import MASK_TOKEN, TARGET_TOKEN
from memtrain_data.train.config import PRESETS as TRAIN_PRESETS
from memtrain_data.train.resplit import fit_episode, split_chunk

_SENTENCES = [
    f"In 1851 {MASK_TOKEN} moved the workshop to Lyon and hired twelve engravers.",
    "The river trade brought copper, tin and timber to the quays every spring.",
    f"Critics in Vienna praised the prints, and {MASK_TOKEN}-made plates sold abroad.",
    "A fire in the winter of 1860 destroyed the archive of the guild.",
    f"Letters from {MASK_TOKEN} to the mayor of Grenoble survive in the library.",
]


def _words(texts: list[str]) -> list[str]:
    return " ".join(texts).split()


def _episode(chunks: list[str], probes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "e-1", "chunks": chunks, "recall_probes": probes}


def test_a_long_chunk_becomes_pieces_that_fit_and_keep_every_word_and_mask(tiny_tokenizer: Any) -> None:
    chunk = " ".join(_SENTENCES * 3)
    tokens = len(tiny_tokenizer(chunk, add_special_tokens=False)["input_ids"])
    budget = 40
    assert tokens > 3 * budget  # really needs splitting
    pieces = split_chunk(tiny_tokenizer, chunk, budget)
    assert len(pieces) >= 3
    assert all(len(tiny_tokenizer(p, add_special_tokens=False)["input_ids"]) <= budget for p in pieces)
    assert _words(pieces) == chunk.split()  # nothing lost, nothing reordered, cuts only at whitespace
    assert sum(p.count(MASK_TOKEN) for p in pieces) == chunk.count(MASK_TOKEN) == 9


def test_fitting_keeps_every_mask_and_moves_the_probe_to_the_piece_holding_its_target(tiny_tokenizer: Any) -> None:
    first = " ".join(_SENTENCES)  # the probe's target, Grenoble, is in the last sentence
    probe = {
        "chunk_index": 0,
        "masked_chunk": first.replace("Grenoble", TARGET_TOKEN),
        "target": "Grenoble",
        "label": "GPE",
        "masked_occurrences": 1,
    }
    episode = _episode([first, "A short closing chunk."], [probe])
    fitted = fit_episode(episode, tiny_tokenizer, 32)

    assert fitted.chunks_resplit == 1 and fitted.chunks_added == len(fitted.chunks) - 2 > 0
    assert sum(c.count(MASK_TOKEN) for c in fitted.chunks) == sum(c.count(MASK_TOKEN) for c in episode["chunks"])
    assert _words(fitted.chunks) == _words(episode["chunks"])
    assert fitted.chunks[-1] == "A short closing chunk."
    [moved] = fitted.recall_probes
    assert fitted.probes_moved == 1 and fitted.probes_dropped == 0
    holder = fitted.chunks[moved["chunk_index"]]
    assert "Grenoble" in holder and moved["masked_chunk"] == holder.replace("Grenoble", TARGET_TOKEN)
    assert moved["masked_occurrences"] == 1 and moved["target"] == "Grenoble"


def test_chunks_that_fit_are_untouched_and_their_probes_only_renumbered(tiny_tokenizer: Any) -> None:
    long_chunk = " ".join(_SENTENCES)
    probe = {"chunk_index": 1, "masked_chunk": f"{TARGET_TOKEN} is small.", "target": "Lyon", "label": "GPE",
             "masked_occurrences": 1}  # fmt: skip
    fitted = fit_episode(_episode([long_chunk, "Lyon is small.", "The end."], [probe]), tiny_tokenizer, 32)
    index = fitted.chunks.index("Lyon is small.")
    assert fitted.recall_probes == [{**probe, "chunk_index": index}]
    assert fitted.probes_moved == 0 and fitted.probes_dropped == 0


def test_a_probe_whose_target_is_cut_apart_is_dropped_and_counted(tiny_tokenizer: Any) -> None:
    chunk = " ".join(f"w{i}" for i in range(60))
    pieces = split_chunk(tiny_tokenizer, chunk, 20)
    # The target is the two words on either side of the first cut: no piece holds it whole.
    target = f"{pieces[0].split()[-1]} {pieces[1].split()[0]}"
    assert chunk.count(target) == 1
    probe = {"chunk_index": 0, "masked_chunk": chunk.replace(target, TARGET_TOKEN), "target": target,
             "label": "CARDINAL", "masked_occurrences": 1}  # fmt: skip
    fitted = fit_episode(_episode([chunk, "last"], [probe]), tiny_tokenizer, 20)
    assert fitted.probes_dropped == 1 and fitted.recall_probes == [] and fitted.dropped_targets == [target]


def test_a_probe_on_the_last_piece_is_dropped(tiny_tokenizer: Any) -> None:
    # After re-splitting, a probe must still be on a chunk before the document's last one.
    only = " ".join(_SENTENCES)
    probe = {"chunk_index": 0, "masked_chunk": only.replace("Grenoble", TARGET_TOKEN), "target": "Grenoble",
             "label": "GPE", "masked_occurrences": 1}  # fmt: skip
    fitted = fit_episode(_episode([only], [probe]), tiny_tokenizer, 32)
    assert "Grenoble" in fitted.chunks[-1]
    assert fitted.probes_dropped == 1 and fitted.recall_probes == []


def test_a_budget_too_small_for_a_placeholder_is_refused_in_one_line(tiny_tokenizer: Any) -> None:
    with pytest.raises(InputError, match="too small") as error:
        split_chunk(tiny_tokenizer, f"{MASK_TOKEN}{MASK_TOKEN}{MASK_TOKEN} tail", 1)
    assert "\n" not in str(error.value)


def test_the_readme_recipe_reads_whole_mini_chunks() -> None:
    # cpu-smoke trains with the chunk budget the mini dataset was built with (same tokenizer), so
    # nothing is re-split or dropped; and its memory budget can bind (it is below the response budget).
    smoke = TRAIN_PRESETS["cpu-smoke"]
    assert smoke["chunk_tokens"] >= BUILD_PRESETS["mini"]["chunk_tokens"]
    assert smoke["memory_tokens"] <= smoke["response_tokens"]
