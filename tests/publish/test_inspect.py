"""`load_episode` finds the right row; `episode_renderables` shows what the model sees."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from memtrain_data.errors import InputError
from memtrain_data.publish.inspect import (
    MASK_STYLE,
    TARGET_STYLE,
    episode_renderables,
    highlight_placeholders,
    load_episode,
)
from tests.publish.conftest import DatasetFactory, write_card


def _split_rows(folder: Path, config: str, split: str) -> list[dict]:
    return [row for path in sorted((folder / config).glob(f"{split}-*.parquet")) for row in pq.read_table(path).to_pylist()]


def _render(view, **kwargs) -> str:  # type: ignore[no-untyped-def]
    console = Console(record=True, width=140, force_terminal=False)
    for item in episode_renderables(view, **kwargs):
        console.print(item)
    return console.export_text()


def test_index_counts_across_shards_in_order(built_dataset: Path) -> None:
    rows = _split_rows(built_dataset, "mini", "train")
    for index in range(len(rows)):
        view = load_episode(built_dataset, split="train", index=index)
        assert view.episode.id == rows[index]["id"]
        assert view.split_size == len(rows)
    last = load_episode(built_dataset, split="train", index=-1)
    assert last.episode.id == rows[-1]["id"] and last.index == len(rows) - 1
    assert (last.file, last.row_in_file) == ("mini/train-00001-of-00002.parquet", 2)


def test_rendering_shows_chunks_in_order_answers_probes_and_statistics(built_dataset: Path) -> None:
    view = load_episode(built_dataset, config_name="mini", split="validation", index=1)
    episode = view.episode
    text = _render(view)

    positions = [text.index(f"chunk {n}/{len(episode.chunks)}") for n in range(1, len(episode.chunks) + 1)]
    assert positions == sorted(positions)
    assert episode.question in text
    assert f"answer: {episode.answers[0]}" in text and episode.answer_label in text
    for probe in episode.recall_probes:
        assert probe.target in text
    assert "[TARGET]" in text and "[MASK]" in text
    assert "statistics" in text and "validation split (min / mean / max)" in text
    assert f"{episode.n_tokens:,}" in text


def test_aliases_are_listed(dataset_factory: DatasetFactory) -> None:
    folder = dataset_factory("mini", {"train": 3})
    write_card(folder)
    # The fixture's third fact ("Marie Curie") has the alias "Curie".
    view = next(v for v in (load_episode(folder, index=i) for i in range(3)) if v.episode.answers[0] == "Marie Curie")
    assert view.episode.answers[1:] == ["Curie"]
    assert f"aliases: {', '.join(view.episode.answers[1:])}" in _render(view)


def test_placeholders_are_styled() -> None:
    text = highlight_placeholders("In [MASK] the [TARGET] met [MASK].")
    styled = [(text.plain[span.start : span.end], span.style) for span in text.spans]
    assert styled == [("[MASK]", MASK_STYLE), ("[TARGET]", TARGET_STYLE), ("[MASK]", MASK_STYLE)]


def test_long_chunks_can_be_shortened(built_dataset: Path) -> None:
    view = load_episode(built_dataset)
    text = _render(view, max_chars=20)
    assert "more characters]" in text
    assert view.episode.chunks[1] not in text


def test_bad_choices_are_clear_errors(built_dataset: Path, dataset_factory: DatasetFactory) -> None:
    with pytest.raises(InputError, match=r"index 6 is out of range: mini/train has 6 episodes"):
        load_episode(built_dataset, index=6)
    with pytest.raises(InputError, match="unknown split 'dev'"):
        load_episode(built_dataset, split="dev")
    with pytest.raises(InputError, match=r"no config 'paper'.*configs: mini"):
        load_episode(built_dataset, config_name="paper")
    folder = dataset_factory("alpha", {"train": 1})
    dataset_factory("beta", {"train": 1}, page_offset=50)
    with pytest.raises(InputError, match=r"several configs \(alpha, beta\); pick one with --config-name"):
        load_episode(folder)


def test_markup_in_titles_and_terminal_sequences_in_text_are_shown_never_interpreted(built_dataset: Path) -> None:
    """A title like `[/]` once crashed rich; an ESC sequence in a chunk could set the terminal's window title."""
    view = load_episode(built_dataset, split="train", index=0)
    episode = view.episode.model_copy(deep=True)
    episode.pivot_title = "Close [/] and [bold red]shout[/bold red]"
    osc_title = "\x1b]0;pwned\x07"
    episode.chunks[0] = f"{osc_title}Before \x1b[31mred\x1b[0m after\x00. {episode.chunks[0]}"
    episode.answers[0] = "[link=http://evil]x[/link]"
    view.episode = episode

    console = Console(record=True, width=200, force_terminal=True, color_system="truecolor")
    for item in episode_renderables(view):
        console.print(item)
    raw = console.export_text(styles=False)

    assert "Close [/] and [bold red]shout[/bold red]" in raw
    assert "[link=http://evil]x[/link]" in raw
    assert "\\x1b]0;pwned\\x07Before \\x1b[31mred\\x1b[0m after\\x00." in raw
    assert "\x1b" not in raw and "\x07" not in raw and "\x00" not in raw
