"""Small but realistic dataset folders, written the way `memtrain build-dataset` writes them.

Episodes are valid `MaskedReconstructionEpisode` records (answers masked everywhere, probe
targets masked in their chunk, token counts that add up), written with the explicit Arrow
schema into `OUT/<config>/<split>-NNNNN-of-NNNNN.parquet`, next to a passage pool and a
`stats.json` as the builder leaves them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memtrain_data import BUILDER_VERSION
from memtrain_data.records import (
    MASK_TOKEN,
    RECONSTRUCTION_QUESTION,
    TARGET_TOKEN,
    MaskedReconstructionEpisode,
)

DUMP_NAME = "enwiki-20240601-pages-articles-sample.xml.bz2"
TOKENIZER = "HuggingFaceTB/SmolLM2-135M-Instruct"

# (answer, aliases, label, pivot sentence with {M} where the answer was, probe target, probe label)
_FACTS: list[tuple[str, list[str], str, str, str, str]] = [
    ("Lyon", [], "GPE", "The silk trade made {M} the richest city on the Rhône by 1550.", "Rhône", "LOC"),
    ("1889", [], "DATE", "The tower opened to visitors in {M}, after two years of building.", "Paris", "GPE"),
    ("Marie Curie", ["Curie"], "PERSON", "{M} shared the prize with her husband Pierre.", "Pierre", "PERSON"),
    ("Danube", [], "LOC", "Barges still carry grain down the {M} towards the Black Sea.", "Black Sea", "LOC"),
    ("three", [], "CARDINAL", "The abbey kept {M} bells in its western tower until 1790.", "1790", "DATE"),
    ("UNESCO", [], "ORG", "In 1979 {M} listed the old town as a World Heritage Site.", "1979", "DATE"),
]

# Filler sentences, each with one entity a recall probe can mask: (sentence, entity, label).
_FILLER: list[tuple[str, str, str]] = [
    ("Farmers near Grenoble grow barley and rye on terraced fields.", "Grenoble", "GPE"),
    ("The railway reached the town in 1872.", "1872", "DATE"),
    ("A small museum run by the Weavers Guild displays old tools.", "the Weavers Guild", "ORG"),
    ("Winters are cold and dry, while summers bring short storms in July.", "July", "DATE"),
]


def pages_of_split(split: str, count: int, start: int = 1000) -> list[int]:
    """The first `count` page ids from `start` on that hash to `split` (default fractions 0.1 / 0.1)."""
    from memtrain_data.episodes.splits import split_of_page

    pages: list[int] = []
    page = start
    while len(pages) < count:
        if split_of_page(page, 0.1, 0.1) == split:
            pages.append(page)
        page += 1
    return pages


def make_episode(
    index: int, split: str, preset: str = "mini", *, page_id: int | None = None, other_pages: tuple[int, int] | None = None
) -> MaskedReconstructionEpisode:
    """A valid episode whose document has three chunks (one passage each) and one recall probe per chunk but the last.

    `other_pages` are the pages of the related and the random passage; by default page_id + 500 and + 700.
    """
    answer, aliases, label, pivot_sentence, probe_target, probe_label = _FACTS[index % len(_FACTS)]
    page_id = page_id if page_id is not None else 1000 + index
    related_page, random_page = other_pages or (page_id + 500, page_id + 700)
    pivot_text = pivot_sentence.replace("{M}", MASK_TOKEN)
    probe_chunk = f"{probe_target} is mentioned here. {_FILLER[index % 4][0]} People still speak of {probe_target}."
    second_sentence, second_entity, second_label = _FILLER[(index + 1) % 4]
    chunks = [
        probe_chunk,
        f"{second_sentence} {pivot_text}",
        f"{_FILLER[(index + 2) % 4][0]} Later, {MASK_TOKEN} appears once more in the record.",
    ]
    # Token counts inside the mini preset budgets (chunks <= 512, documents 512-2048 tokens).
    chunk_n_tokens = [200 + index % 7, 220 + index % 5, 150 + index % 3]
    passage_ids = [f"{related_page}-0", f"{page_id}-0", f"{random_page}-2"]
    return MaskedReconstructionEpisode(
        id=f"{preset}-{split}-{index:04d}",
        split=split,
        preset=preset,
        question=RECONSTRUCTION_QUESTION,
        answers=[answer, *aliases],
        answer_label=label,
        chunks=chunks,
        chunk_n_tokens=chunk_n_tokens,
        n_tokens=sum(chunk_n_tokens),
        masked_occurrences=2,
        recall_probes=[
            {
                "chunk_index": 0,
                "masked_chunk": probe_chunk.replace(probe_target, TARGET_TOKEN),
                "target": probe_target,
                "label": probe_label,
                "masked_occurrences": 2,
            },
            {
                "chunk_index": 1,
                "masked_chunk": chunks[1].replace(second_entity, TARGET_TOKEN),
                "target": second_entity,
                "label": second_label,
                "masked_occurrences": 1,
            },
        ][: 1 + index % 2],
        pivot_passage_id=f"{page_id}-0",
        pivot_title=f"Article {page_id}",
        passage_ids=passage_ids,
        related_passage_ids=[passage_ids[0]],
        source=DUMP_NAME,
        tokenizer=TOKENIZER,
        seed=0,
        builder_version=BUILDER_VERSION,
    )


def write_shards(folder: Path, config_name: str, episodes: dict[str, list[MaskedReconstructionEpisode]], shards_per_split: int = 2) -> None:
    """Write episodes as `<config>/<split>-NNNNN-of-NNNNN.parquet` with the explicit Arrow schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import episode_arrow_schema

    schema = episode_arrow_schema()
    target = folder / config_name
    target.mkdir(parents=True, exist_ok=True)
    for split, records in episodes.items():
        count = min(shards_per_split, max(1, len(records)))
        for shard in range(count):
            rows = [episode.model_dump(mode="json") for episode in records[shard::count]]
            table = pa.Table.from_pylist(rows, schema=schema)
            pq.write_table(table, target / f"{split}-{shard:05d}-of-{count:05d}.parquet")


def original_passages(episode: MaskedReconstructionEpisode) -> dict[str, str]:
    """The pool passages an episode was made of: each chunk (one passage here) with its [MASK]s filled in."""
    return {pid: chunk.replace(MASK_TOKEN, episode.answers[0]) for pid, chunk in zip(episode.passage_ids, episode.chunks, strict=True)}


def write_pool(folder: Path, episodes: dict[str, list[MaskedReconstructionEpisode]] | None = None) -> None:
    """The passage pool: every passage the episodes use (unmasked), else twelve filler passages."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import passage_arrow_schema

    texts: dict[str, str] = {}
    for records in (episodes or {}).values():
        for episode in records:
            texts.update(original_passages(episode))
    if not texts:
        texts = {f"{page}-0": "Some clean passage text about a town and its river, long enough to be a passage." for page in range(1000, 1012)}
    path = folder / "pool" / "passages-00000.parquet"
    if path.is_file():  # a second config: keep the passages of the first
        texts = dict(zip(*pq.read_table(path, columns=["id", "text"]).to_pydict().values(), strict=True)) | texts
    rows = [
        {
            "id": pid,
            "page_id": int(pid.rsplit("-", 1)[0]),
            "title": f"Article {pid.rsplit('-', 1)[0]}",
            "text": text,
            "n_words": len(text.split()),
            "revision_id": 7_000_000 + int(pid.rsplit("-", 1)[0]),
            "timestamp": f"2024-05-{10 + int(pid.rsplit('-', 1)[0]) % 20:02d}T12:00:00Z",
            "source": DUMP_NAME,
        }
        for pid, text in sorted(texts.items())
    ]
    (folder / "pool").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=passage_arrow_schema()), folder / "pool" / "passages-00000.parquet")


def episode_stats(config_name: str, episodes: dict[str, list[MaskedReconstructionEpisode]]) -> dict[str, Any]:
    """What the episode builder records in stats.json for a config."""
    return {
        "preset": config_name,
        "seed": 0,
        "tokenizer": TOKENIZER,
        "spacy_model": "en_core_web_sm",
        "spacy_version": "3.8.0",
        "source": DUMP_NAME,
        "episodes": {split: len(records) for split, records in episodes.items()},
        "dropped": {"doc_too_short": 3, "no_usable_entity": 1, "answer_leak": 0},
    }


def write_stats(folder: Path, config_name: str, episodes: dict[str, list[MaskedReconstructionEpisode]]) -> dict[str, Any]:
    path = folder / "stats.json"
    stats = json.loads(path.read_text()) if path.is_file() else {}
    stats["pool"] = {"pages": 12, "passages": 12, "skipped": {"redirect": 4, "timeout": 0}}
    stats.setdefault("configs", {})[config_name] = episode_stats(config_name, episodes)
    path.write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats


def make_split_episodes(config_name: str, counts: dict[str, int], page_offset: int = 0) -> dict[str, list[MaskedReconstructionEpisode]]:
    """Episodes per split with distinct pivot pages of that split, every passage from a page of the same split."""
    episodes: dict[str, list[MaskedReconstructionEpisode]] = {}
    index = 0
    for split, count in counts.items():
        pages = pages_of_split(split, 3 * count, start=1000 + page_offset)
        episodes[split] = []
        for n in range(count):
            pivot, related, random = pages[n], pages[count + n], pages[2 * count + n]
            episodes[split].append(make_episode(index, split, config_name, page_id=pivot, other_pages=(related, random)))
            index += 1
    return episodes


DatasetFactory = Callable[..., Path]


def write_dataset(folder: Path, config_name: str = "mini", counts: dict[str, int] | None = None, page_offset: int = 0) -> Path:
    counts = counts or {"train": 6, "validation": 2, "test": 2}
    episodes = make_split_episodes(config_name, counts, page_offset)
    folder.mkdir(parents=True, exist_ok=True)
    write_pool(folder, episodes)
    write_shards(folder, config_name, episodes)
    write_stats(folder, config_name, episodes)
    # Working state the builder leaves behind: must never be published.
    (folder / ".memtrain" / "logs").mkdir(parents=True, exist_ok=True)
    (folder / ".memtrain" / "logs" / "stats.json").write_text("{}")
    return folder


def write_card(folder: Path, config_name: str = "mini") -> Path:
    """The dataset card as `build-dataset` writes it after the episodes."""
    from memtrain_data.build_config import resolve_build_config
    from memtrain_data.publish.layout import read_stats
    from memtrain_data.publish.write_card import write_dataset_card

    config = resolve_build_config(None, {"output": folder, "preset": "mini", "config_name": config_name, "dump": [DUMP_NAME]})
    command = f"memtrain build-dataset --dump {DUMP_NAME} --preset mini --config-name {config_name} --output {folder}"
    return write_dataset_card(config, stats=read_stats(folder), command=command)


def read_episodes(folder: Path, config: str, split: str) -> list[dict[str, Any]]:
    """Every row of one config's split, in shard order."""
    import pyarrow.parquet as pq

    return [row for path in sorted((folder / config).glob(f"{split}-*.parquet")) for row in pq.read_table(path).to_pylist()]


def card_header_data(folder: Path) -> dict[str, Any]:
    """The card's YAML header, as the Hub reads it."""
    from huggingface_hub import DatasetCard

    return DatasetCard.load(folder / "README.md").data.to_dict()


def load_config(folder: Path, config: str, cache: Path):  # type: ignore[no-untyped-def]
    """One config of the folder through `datasets.load_dataset`."""
    from datasets import load_dataset

    return load_dataset(str(folder), config, cache_dir=str(cache))


@pytest.fixture
def dataset_factory(tmp_path: Path) -> DatasetFactory:
    """`factory(config_name="mini", counts=..., page_offset=0)` writes one config (shards, pool, stats.json) into one folder."""
    folder = tmp_path / "dataset"

    def factory(config_name: str = "mini", counts: dict[str, int] | None = None, page_offset: int = 0) -> Path:
        return write_dataset(folder, config_name, counts, page_offset)

    return factory


@pytest.fixture(scope="session")
def _built_dataset_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_dataset(tmp_path_factory.mktemp("built") / "dataset")
    write_card(folder)
    return folder


@pytest.fixture
def built_dataset(_built_dataset_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of a folder with config `mini` and its dataset card (as after `build-dataset`)."""
    import shutil

    return Path(shutil.copytree(_built_dataset_template, tmp_path / "built"))


def leave_answer_visible(folder: Path, shard: str = "mini/train-00001-of-00002.parquet", row: int = 1) -> str:
    """Tamper with one record: leave its answer visible in its last chunk. Returns the episode id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / shard
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[row]["chunks"][-1] += f" It was {rows[row]['answers'][0]}."
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return str(rows[row]["id"])
