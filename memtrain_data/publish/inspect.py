"""One episode of a dataset folder, and rich renderables that show it as the model sees it.

`load_episode` finds the row (reading only the row group that holds it); `episode_renderables`
builds rich objects (the CLI prints them): the problem, every chunk in reading order with
`[MASK]` and `[TARGET]` highlighted, the answers and aliases, the recall probes, and the
numbers of the episode next to those of its split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data.errors import InputError
from memtrain_data.publish.layout import find_configs, read_stats, resolve_dataset_folder
from memtrain_data.records import MASK_TOKEN, SPLITS, TARGET_TOKEN, MaskedReconstructionEpisode

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

MASK_STYLE = "bold white on red"
TARGET_STYLE = "bold black on yellow"
_PLACEHOLDERS = re.compile(re.escape(MASK_TOKEN) + "|" + re.escape(TARGET_TOKEN))
# C0 and C1 control characters (ESC starts terminal sequences, e.g. one that sets the window
# title), DEL, and Unicode bidi overrides; newlines and tabs stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every control character shown as a visible escape (`\\x1b`), never sent raw."""
    return _CONTROL.sub(lambda match: ascii(match.group(0))[1:-1], text)


def plain(text: object) -> Text:
    """Record text as rich Text: never read as markup (a title may hold `[/]`), controls escaped."""
    from rich.text import Text

    return Text(terminal_safe(str(text)))


@dataclass
class EpisodeView:
    """An episode and where it came from: config, split, index in the split, shard file and row."""

    folder: Path
    config_name: str
    split: str
    index: int
    split_size: int
    file: str
    row_in_file: int
    episode: MaskedReconstructionEpisode
    split_stats: dict[str, Any] = field(default_factory=dict)


def _pick_config(configs: dict[str, dict[str, list[Path]]], config_name: str | None, folder: Path) -> str:
    if not configs:
        raise InputError(f"no episode shards (<config>/<split>-*.parquet) in {folder}")
    if config_name is None:
        if len(configs) > 1:
            raise InputError(f"{folder} has several configs ({', '.join(configs)}); pick one with --config-name")
        return next(iter(configs))
    if config_name not in configs:
        raise InputError(f"no config {config_name!r} in {folder}; configs: {', '.join(configs)}")
    return config_name


def load_episode(source: str | Path, *, config_name: str | None = None, split: str = "train", index: int = 0) -> EpisodeView:
    """The `index`-th episode (0-based, in shard order) of `split` in `config_name` of a folder or Hub id."""
    import pyarrow.parquet as pq
    from pydantic import ValidationError

    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    folder = resolve_dataset_folder(source)
    configs = find_configs(folder)
    name = _pick_config(configs, config_name, folder)
    shards = configs[name].get(split)
    if not shards:
        raise InputError(f"config {name!r} has no {split} split; splits: {', '.join(configs[name])}")
    files = [pq.ParquetFile(path) for path in shards]
    split_size = sum(f.metadata.num_rows for f in files)
    if not -split_size <= index < split_size:
        raise InputError(f"index {index} is out of range: {name}/{split} has {split_size} episodes (0-{split_size - 1})")
    position = index % split_size  # negative indices count from the end, as in Python
    for path, parquet in zip(shards, files, strict=True):
        if position >= parquet.metadata.num_rows:
            position -= parquet.metadata.num_rows
            continue
        row_in_file = position
        for group in range(parquet.metadata.num_row_groups):
            group_rows = parquet.metadata.row_group(group).num_rows
            if position < group_rows:
                row = parquet.read_row_group(group).slice(position, 1).to_pylist()[0]
                break
            position -= group_rows
        try:
            episode = MaskedReconstructionEpisode.model_validate(row)
        except ValidationError as exc:
            raise InputError(
                f"{path.relative_to(folder)} row {row_in_file} is not a valid episode ({exc.error_count()} errors); run `memtrain validate {source}`"
            ) from None
        split_stats = read_stats(folder).get("configs", {}).get(name, {}).get("splits", {}).get(split, {})
        return EpisodeView(
            folder=folder,
            config_name=name,
            split=split,
            index=index % split_size,
            split_size=split_size,
            file=path.relative_to(folder).as_posix(),
            row_in_file=row_in_file,
            episode=episode,
            split_stats=split_stats,
        )
    raise AssertionError("unreachable: the index was checked against the row counts")


def highlight_placeholders(text: str) -> Text:
    """`text` as rich Text with every [MASK] and [TARGET] styled so they stand out."""
    from rich.text import Text

    text = terminal_safe(text)
    rendered = Text(text)
    for match in _PLACEHOLDERS.finditer(text):
        rendered.stylize(MASK_STYLE if match.group(0) == MASK_TOKEN else TARGET_STYLE, match.start(), match.end())
    return rendered


def _shorten(text: str, max_chars: int) -> str:
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    return text[:max_chars] + f" … [{len(text) - max_chars:,} more characters]"


def _target_snippets(masked_chunk: str, width: int = 80) -> str:
    """The parts of a masked chunk around each [TARGET], joined with ellipses."""
    pieces = []
    for match in re.finditer(re.escape(TARGET_TOKEN), masked_chunk):
        start, end = max(0, match.start() - width), min(len(masked_chunk), match.end() + width)
        pieces.append(("…" if start > 0 else "") + masked_chunk[start:end] + ("…" if end < len(masked_chunk) else ""))
    return "\n".join(pieces) if pieces else _shorten(masked_chunk, 2 * width)


def episode_renderables(view: EpisodeView, *, max_chars: int = 0) -> list[RenderableType]:
    """Rich renderables for one episode, top to bottom; `max_chars` > 0 shortens long chunks."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    episode = view.episode
    probes_by_chunk: dict[int, list[str]] = {}
    for probe in episode.recall_probes:
        probes_by_chunk.setdefault(probe.chunk_index, []).append(probe.target)

    header = Table.grid(padding=(0, 2))
    header.add_column(style="bold")
    header.add_column()
    header.add_row("episode", plain(f"{episode.id}  ({view.config_name}/{view.split} #{view.index} of {view.split_size}; {view.file} row {view.row_in_file})"))
    header.add_row("pivot", plain(f"{episode.pivot_title} (passage {episode.pivot_passage_id})"))
    header.add_row("document", plain(f"{len(episode.passage_ids)} passages ({len(episode.related_passage_ids)} related), {len(episode.chunks)} chunks, {episode.n_tokens:,} tokens"))
    header.add_row("built", plain(f"preset {episode.preset}, seed {episode.seed}, {episode.builder_version}, tokenizer {episode.tokenizer}, source {episode.source}"))

    items: list[RenderableType] = [
        Panel(header, title="memtrain episode", title_align="left"),
        Panel(highlight_placeholders(episode.question), title="problem (shown in every turn)", title_align="left"),
    ]
    for number, (chunk, n_tokens) in enumerate(zip(episode.chunks, episode.chunk_n_tokens, strict=True)):
        probes = probes_by_chunk.get(number)
        subtitle = plain(f"recall probes: {', '.join(probes)}") if probes else None
        items.append(
            Panel(
                highlight_placeholders(_shorten(chunk, max_chars)),
                title=f"chunk {number + 1}/{len(episode.chunks)} · {n_tokens:,} tokens · {chunk.count(MASK_TOKEN)} × {MASK_TOKEN}",
                title_align="left",
                subtitle=subtitle,
                subtitle_align="right",
            )
        )

    answer = Text()
    answer.append("answer: ", style="bold")
    answer.append(terminal_safe(episode.answers[0]), style="bold green")
    answer.append(terminal_safe(f"  ({episode.answer_label}, masked {episode.masked_occurrences} times)"))
    if len(episode.answers) > 1:
        answer.append("\naliases: ", style="bold")
        answer.append(terminal_safe(", ".join(episode.answers[1:])), style="green")
    items.append(Panel(answer, title="what the agent must reconstruct", title_align="left"))

    probes_table = Table(title="intermediate memory recall probes", title_justify="left", show_lines=True)
    probes_table.add_column("chunk", justify="right")
    probes_table.add_column("target")
    probes_table.add_column("label")
    probes_table.add_column("masked", justify="right")
    probes_table.add_column(f"masked chunk around {TARGET_TOKEN}")
    for probe in episode.recall_probes:
        probes_table.add_row(
            str(probe.chunk_index + 1),
            Text(terminal_safe(probe.target), style="bold green"),
            plain(probe.label),
            str(probe.masked_occurrences),
            highlight_placeholders(_target_snippets(probe.masked_chunk)),
        )
    items.append(probes_table if episode.recall_probes else Text("no recall probes (one-chunk document)", style="dim"))

    numbers = Table(title="statistics", title_justify="left")
    numbers.add_column("")
    numbers.add_column("this episode", justify="right")
    split_stats = view.split_stats
    if split_stats:
        numbers.add_column(f"{view.split} split (min / mean / max)", justify="right")

    def split_summary(key: str) -> str:
        values = split_stats.get(key) or {}
        return f"{values.get('min', '?')} / {values.get('mean', '?')} / {values.get('max', '?')}" if values else ""

    rows = [
        ("tokens", f"{episode.n_tokens:,}", "tokens_per_episode"),
        ("chunks", str(len(episode.chunks)), "chunks_per_episode"),
        ("masked occurrences", str(episode.masked_occurrences), "masked_occurrences"),
        ("recall probes", str(len(episode.recall_probes)), "probes_per_episode"),
    ]
    for label, value, key in rows:
        numbers.add_row(label, value, *([split_summary(key)] if split_stats else []))
    items.append(numbers)
    return items
