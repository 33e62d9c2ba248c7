"""The dataset card: the YAML header that `datasets` loads, and the body rendered from stats.json (license, rules, quality, fields)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from memtrain_data import BUILDER_VERSION, __version__
from memtrain_data.features import episode_features
from tests.publish.conftest import (
    DUMP_NAME,
    TOKENIZER,
    DatasetFactory,
    card_header_data,
    load_config,
    read_episodes,
    write_card,
)


def test_load_dataset_reads_the_folder_with_the_declared_features(built_dataset: Path, tmp_path: Path) -> None:
    dataset = load_config(built_dataset, "mini", tmp_path / "cache")

    assert list(dataset) == ["train", "validation", "test"]
    assert {split: dataset[split].num_rows for split in dataset} == {"train": 6, "validation": 2, "test": 2}
    assert dataset["train"].features == episode_features()
    probe = dataset["validation"][0]["recall_probes"][0]
    assert set(probe) == {"chunk_index", "masked_chunk", "target", "label", "masked_occurrences"}


def test_header_declares_configs_features_license(built_dataset: Path) -> None:
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCard

    header = card_header_data(built_dataset)
    assert header["configs"] == [
        {
            "config_name": "mini",
            "data_files": [
                {"split": "train", "path": "mini/train-*"},
                {"split": "validation", "path": "mini/validation-*"},
                {"split": "test", "path": "mini/test-*"},
            ],
        }
    ]
    infos = DatasetInfosDict.from_dataset_card_data(DatasetCard.load(built_dataset / "README.md").data)
    assert infos["mini"].features == episode_features()
    assert {name: split.num_examples for name, split in infos["mini"].splits.items()} == {"train": 6, "validation": 2, "test": 2}
    assert header["license"] == "cc-by-sa-4.0"  # the dump is from June 2024
    assert header["language"] == ["en"] and "memtrain" in header["tags"]


def test_body_says_how_it_was_built(built_dataset: Path) -> None:
    card = (built_dataset / "README.md").read_text()
    assert "arXiv 2606.03197" in card and "https://arxiv.org/abs/2606.03197" in card
    assert f"| command | `memtrain build-dataset --dump {DUMP_NAME} --preset mini --config-name mini --output " in card
    assert f"| memtrain version | {__version__} (builder `{BUILDER_VERSION}`) |" in card
    assert f"| Wikipedia dump | {DUMP_NAME} |" in card
    assert "| dump date | 2024-06-01 |" in card
    stamps = pq.read_table(built_dataset / "pool" / "passages-00000.parquet", columns=["timestamp"]).column("timestamp").to_pylist()
    assert f"| page revisions | {min(stamps)} … {max(stamps)} |" in card
    assert "| seed | 0 |" in card and "| preset | mini |" in card
    assert f"| tokenizer | `{TOKENIZER}` |" in card
    assert "| spaCy model | en_core_web_sm 3.8.0 (spaCy 3." in card
    assert "| chunk budget | 512 tokens, at most 4 chunks |" in card
    assert "CC BY-SA" in card and "Wikipedia" in card
    assert 'load_dataset("YOUR_ORG/YOUR_DATASET", "mini")' in card and "memtrain train" in card and "TRL" in card














# --- A true card (issue 10.8) -------------------------------------------------------------------


def _set_pool_stats(folder: Path, **values: object) -> None:
    path = folder / "stats.json"
    stats = json.loads(path.read_text())
    stats["pool"].update(values)
    path.write_text(json.dumps(stats))


@pytest.mark.parametrize(
    ("newest_revision", "license_id", "words"),
    [
        ("2016-05-01T07:08:29Z", "cc-by-sa-3.0", ["as of 2016-05-01 (newest page revision in the input)", "CC BY-SA 3.0", "GNU Free Documentation License"]),
        ("2023-05-31T23:59:59Z", "cc-by-sa-3.0", ["as of 2023-05-31", "CC BY-SA 3.0"]),
        ("2024-11-02T10:00:00Z", "cc-by-sa-4.0", ["as of 2024-11-02", "CC BY-SA 4.0"]),
    ],
)
def test_license_follows_the_date_of_the_text(dataset_factory: DatasetFactory, newest_revision: str, license_id: str, words: list[str]) -> None:
    folder = dataset_factory("mini")
    _set_pool_stats(folder, latest_revision_timestamp=newest_revision)
    write_card(folder)

    assert card_header_data(folder)["license"] == license_id
    section = (folder / "README.md").read_text().split("## License", 1)[1].split("##", 1)[0]
    for word in words:
        assert word in section
    assert ("GNU Free Documentation" in section) == (license_id == "cc-by-sa-3.0")


def test_empty_alias_table_is_stated_and_a_full_one_is_counted(dataset_factory: DatasetFactory) -> None:
    folder = dataset_factory("mini")
    _set_pool_stats(folder, alias_rows=0, redirects_seen=0, anchors_seen=0)
    write_card(folder)
    assert "**The alias table is empty: there were no links or redirects in the input**" in (folder / "README.md").read_text()

    _set_pool_stats(folder, alias_rows=1234, redirects_seen=60, anchors_seen=5000)
    write_card(folder)
    assert "The alias table holds 1,234 (target, alias) rows collected from the input's own 60 redirects and 5,000 link anchors" in (folder / "README.md").read_text()


def test_card_states_measured_composition_real_checks_and_limitations(built_dataset: Path) -> None:
    card = (built_dataset / "README.md").read_text()
    stats = json.loads((built_dataset / "stats.json").read_text())["configs"]["mini"]
    train = read_episodes(built_dataset, "mini", "train")

    assert "Answers never appear in any chunk" not in card
    assert "**Checks.**" in card and "no `[MASK]` covers a fragment of a longer name" in card
    assert "## Known limitations" in card and "en_core_web_sm" in card.split("## Known limitations", 1)[1]
    assert "**Masking and answer rules.**" in card
    # Planned vs measured: the fixture documents have 3 passages (1 related) where the mini preset plans 12.
    assert "| passages per document (planned) | 1 pivot + 3 related + 8 random; measured below |" in card
    assert {len(row["passage_ids"]) for row in train} == {3}
    assert "| passages per document (min / mean / max) | 3 / 3.0 / 3 | 3 / 3.0 / 3 | 3 / 3.0 / 3 |" in card
    assert "| share of related passages | 33.3% | 33.3% | 33.3% |" in card
    assert "| documents topped up with extra random passages | 0.0% | 0.0% | 0.0% |" in card
    assert "| documents holding passages of other splits | 0 | 0 | 0 |" in card
    tokens = sorted(row["n_tokens"] for row in train)
    assert stats["splits"]["train"]["tokens_percentiles"]["p50"] == statistics.median_low(tokens)
    assert stats["build"]["spacy_model"] == "en_core_web_sm" and stats["build"]["spacy_version"] == "3.8.0"
    assert (stats["build"]["validation_fraction"], stats["build"]["test_fraction"]) == (0.1, 0.1)


def test_the_cards_quality_figures_are_the_validators_report(built_dataset: Path) -> None:
    from memtrain_data.publish.layout import read_stats
    from memtrain_data.publish.validate import validate_dataset

    quality = read_stats(built_dataset)["configs"]["mini"]["quality"]
    card = (built_dataset / "README.md").read_text(encoding="utf-8")

    assert quality == validate_dataset(built_dataset).quality["mini"]
    assert "#### Quality" in card and "| partial masks (share of aligned episodes) | 0.0% |" in card


def test_the_fields_table_has_a_row_per_record_field_with_its_description(built_dataset: Path) -> None:
    from memtrain_data.records import MaskedReconstructionEpisode

    card = (built_dataset / "README.md").read_text()
    table = card.split("### Fields", 1)[1].split("\n\n", 2)[1]
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    assert [row[0].strip("| `") for row in rows] == list(MaskedReconstructionEpisode.model_fields)
    for row, info in zip(rows, MaskedReconstructionEpisode.model_fields.values(), strict=True):
        assert str(info.description) in row[1]
