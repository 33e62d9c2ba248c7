"""Cleaning then splitting keeps lists apart: the names of adjacent items never run together in a passage.

An episode once read "Carnus Clarus [MASK] of Sicyon": a list lost its separators on the way to
the pool, three names fused into one and a mask covered part of it. Each case here writes one
list of seers in one of the ways wikitext writes lists, and cuts the page into passages shorter
than the list, as a long list on a real page is cut.
"""

from __future__ import annotations

import itertools

import pytest

from memtrain_data.pipeline.extractors.wikitext import clean_page
from memtrain_data.pipeline.passages import split_passages

SEERS = [
    "Carnus", "Clarus", "Hippolytus of Sicyon", "Mopsus", "Amphilochus", "Calchas",
    "Tiresias", "Melampus", "Polyidus", "Theoclymenus", "Idmon", "Amphiaraus",
]  # fmt: skip
LINKED = [f"[[{name}]]" if " " not in name else name for name in SEERS]

LISTS = {
    "bullets": "\n".join(f"* {name}" for name in LINKED),
    "numbered and nested": "\n".join(f"{'#' if i % 3 else '#:'} {name}" for i, name in enumerate(LINKED)),
    "definition list": "\n".join(f"; {name}\n: a seer" for name in LINKED),
    "line breaks": "<br />".join(LINKED),
    "line breaks at line ends": "<br>\n".join(LINKED),
    "plainlist template": "{{plainlist|\n" + "\n".join(f"* {name}" for name in LINKED) + "\n}}",
    "unbulleted list template": "{{ubl|" + "|".join(LINKED) + "}}",
    "html list": "<ul>" + "".join(f"<li>{name}</li>" for name in LINKED) + "</ul>",
    "poem": "<poem>\n" + "\n".join(LINKED) + "\n</poem>",
}


def page_with(seer_list: str) -> str:
    return (
        "'''Seers''' of [[Greek mythology]] foretold the will of the gods.\n\n"
        f"== Seers ==\nThe best known seers were:\n{seer_list}\n\n"
        "Hippolytus of Sicyon is not the same as [[Hippolytus (son of Theseus)|Hippolytus]], the son of Theseus."
    )


@pytest.mark.parametrize("seer_list", LISTS.values(), ids=LISTS.keys())
def test_names_of_adjacent_list_items_never_run_together_in_a_passage(seer_list: str) -> None:
    page = clean_page(page_with(seer_list))
    passages = split_passages(page.text, min_words=5, max_words=12, section_starts=page.section_starts)
    assert len(passages) > 2  # the list was cut
    for passage in passages:
        for name, next_name in itertools.pairwise(SEERS):
            assert f"{name} {next_name}" not in passage, passage


@pytest.mark.parametrize("seer_list", [LISTS["bullets"], LISTS["line breaks"], LISTS["html list"]], ids=["bullets", "line breaks", "html list"])
def test_a_block_list_keeps_one_name_per_line_in_its_passages(seer_list: str) -> None:
    page = clean_page(page_with(seer_list))
    passages = split_passages(page.text, min_words=5, max_words=12, section_starts=page.section_starts)
    lines = [line for passage in passages for line in passage.split("\n")]
    # the first name may share the lead-in's line, as a line wrapped before a <br> does on the page
    first = next(n for n, line in enumerate(lines) if line.endswith(SEERS[0]))
    assert lines[first + 1 : first + len(SEERS)] == SEERS[1:]
