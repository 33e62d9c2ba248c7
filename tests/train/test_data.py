"""Loading training episodes: the folder layout of `memtrain build-dataset`, and refusing anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memtrain_data.errors import InputError
from memtrain_data.records import SCHEMA_VERSION, MaskedReconstructionEpisode
from memtrain_data.train.data import load_episodes
from tests.train.mini_dataset import write_mini_dataset


def test_loads_the_train_split_of_the_only_config(mini_dataset_dir: Path) -> None:
    episodes = load_episodes(str(mini_dataset_dir))
    assert len(episodes) == 6
    assert set(episodes["split"]) == {"train"}
    # Rows come back as the records that were written, nested recall probes included.
    first = MaskedReconstructionEpisode.model_validate(episodes[0])
    assert (
        first.schema_version == SCHEMA_VERSION and first.recall_probes[0].masked_chunk.count("[TARGET]") == 1
    )


def test_split_config_and_cap(mini_dataset_dir: Path) -> None:
    assert len(load_episodes(str(mini_dataset_dir), "mini", "validation")) == 2
    assert len(load_episodes(str(mini_dataset_dir), "mini", "train", max_episodes=4)) == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"config_name": "paper"}, "no config 'paper' (episode configs found: mini)"),
        ({"split": "dev"}, "no 'dev' split"),
    ],
)
def test_missing_config_or_split_is_named(
    mini_dataset_dir: Path, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_episodes(str(mini_dataset_dir), **kwargs)


def test_several_configs_need_a_config_name(tmp_path: Path) -> None:
    write_mini_dataset(tmp_path, config_name="mini")
    write_mini_dataset(tmp_path, config_name="long", train_episodes=2)
    with pytest.raises(InputError, match=r"pass --config-name .*long, mini"):
        load_episodes(str(tmp_path))
    assert len(load_episodes(str(tmp_path), "long")) == 2


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="dataset folder does not exist"):
        load_episodes(str(tmp_path / "nowhere"))


def test_a_dataset_without_episode_columns_is_not_a_memtrain_dataset(tmp_path: Path) -> None:
    write_mini_dataset(tmp_path, drop_columns=("recall_probes", "chunks"))
    with pytest.raises(
        InputError, match="is not a memtrain dataset: missing column\\(s\\) chunks, recall_probes"
    ):
        load_episodes(str(tmp_path))


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    write_mini_dataset(tmp_path, schema_version="0.9")
    with pytest.raises(InputError, match=f"schema_version 0.9 but this memtrain reads {SCHEMA_VERSION}"):
        load_episodes(str(tmp_path))


def test_plain_parquet_of_something_else_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "qa").mkdir()
    pq.write_table(
        pa.table({"question": ["q"], "answer": ["a"]}), tmp_path / "qa" / "train-00000-of-00001.parquet"
    )
    with pytest.raises(
        InputError, match="not a memtrain dataset: missing column\\(s\\) schema_version, id, answers"
    ):
        load_episodes(str(tmp_path))


def _rewrite_first_train_record(root: Path, change: Any, schema: Any = None) -> None:
    """Rewrite mini/train's parquet with `change(record)` applied to its first record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import episode_arrow_schema

    path = root / "mini" / "train-00000-of-00001.parquet"
    records = pq.read_table(path).to_pylist()
    change(records[0])
    pq.write_table(pa.Table.from_pylist(records, schema=schema or episode_arrow_schema()), path)


def test_an_episode_that_leaks_its_answer_is_refused_with_the_first_violation(tmp_path: Path) -> None:
    write_mini_dataset(tmp_path)

    def leak(record: dict[str, Any]) -> None:
        record["chunks"][1] += f" It was {record['answers'][0]} all along."

    _rewrite_first_train_record(tmp_path, leak)
    with pytest.raises(InputError, match=r"episode 'train-0000' \(row 0\) breaks a rule: answer_leak: chunk 1") as error:
        load_episodes(str(tmp_path))
    assert "\n" not in str(error.value)


def test_string_typed_counts_are_refused(tmp_path: Path) -> None:
    import pyarrow as pa

    from memtrain_data.features import episode_arrow_schema

    write_mini_dataset(tmp_path)
    schema = episode_arrow_schema()
    schema = schema.set(schema.get_field_index("n_tokens"), pa.field("n_tokens", pa.string()))

    import pyarrow.parquet as pq

    path = tmp_path / "mini" / "train-00000-of-00001.parquet"
    records = pq.read_table(path).to_pylist()
    for record in records:
        record["n_tokens"] = str(record["n_tokens"])  # "57" reads as a number to a lax reader
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
    with pytest.raises(InputError, match="column 'n_tokens' is string, expected int"):
        load_episodes(str(tmp_path))


def test_duplicate_episode_ids_are_refused(tmp_path: Path) -> None:
    write_mini_dataset(tmp_path)

    def duplicate(record: dict[str, Any]) -> None:
        record["id"] = "train-0001"

    _rewrite_first_train_record(tmp_path, duplicate)
    with pytest.raises(InputError, match="'train-0001' \\(row 1\\): duplicate id"):
        load_episodes(str(tmp_path))
