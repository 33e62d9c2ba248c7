"""Writing a config's card: computed from its shards, merged into stats.json beside other configs, rewritten identically."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from memtrain_data.errors import InputError
from memtrain_data.features import episode_features
from memtrain_data.publish.write_card import write_dataset_card
from tests.publish.conftest import DatasetFactory, card_header_data, load_config, write_card


def test_rewriting_the_card_gives_identical_files(dataset_factory: DatasetFactory) -> None:
    folder = dataset_factory("mini")

    def digest() -> dict[str, str]:
        files = [folder / "README.md", folder / "stats.json", *sorted((folder / "mini" / "figures").iterdir())]
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    write_card(folder)
    before = digest()
    write_card(folder)
    assert digest() == before


def test_second_config_in_the_same_folder_keeps_the_first(dataset_factory: DatasetFactory, tmp_path: Path) -> None:
    folder = dataset_factory("alpha", {"train": 4, "validation": 1, "test": 1})
    write_card(folder, "alpha")
    alpha_shards = {p.name: p.read_bytes() for p in (folder / "alpha").glob("*.parquet")}

    dataset_factory("beta", {"train": 3, "validation": 2, "test": 1}, page_offset=100)
    write_card(folder, "beta")

    header = card_header_data(folder)
    assert [c["config_name"] for c in header["configs"]] == ["alpha", "beta"]
    assert [i["config_name"] for i in header["dataset_info"]] == ["alpha", "beta"]
    assert {p.name: p.read_bytes() for p in (folder / "alpha").glob("*.parquet")} == alpha_shards
    card = (folder / "README.md").read_text()
    assert "## Config `alpha`" in card and "## Config `beta`" in card
    stats = json.loads((folder / "stats.json").read_text())
    assert stats["configs"]["alpha"]["splits"]["train"]["episodes"] == 4
    assert stats["configs"]["beta"]["splits"]["train"]["episodes"] == 3

    alpha = load_config(folder, "alpha", tmp_path / "cache")
    beta = load_config(folder, "beta", tmp_path / "cache")
    assert alpha["train"].num_rows == 4 and beta["validation"].num_rows == 2
    assert beta["test"].features == episode_features()
    assert set(alpha["train"]["preset"]) == {"alpha"} and set(beta["train"]["preset"]) == {"beta"}


def test_card_without_shards_is_an_input_error(tmp_path: Path) -> None:
    from memtrain_data.build_config import resolve_build_config

    config = resolve_build_config(None, {"output": tmp_path, "preset": "mini"})
    with pytest.raises(InputError, match="no episode shards"):
        write_dataset_card(config, stats={}, command=None)
