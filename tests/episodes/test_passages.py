from pathlib import Path

import pytest

from memtrain_data.episodes.passages import PassageView, pool_files, write_pool_view
from memtrain_data.errors import InputError
from tests.episodes.pool_helpers import pool_rows, write_pool


def test_view_holds_every_passage_in_an_order_independent_of_the_shards(tmp_path: Path) -> None:
    write_pool(tmp_path / "two", shards=2)
    write_pool(tmp_path / "three", shards=3)
    assert len(pool_files(tmp_path / "three")) == 3
    first = write_pool_view(tmp_path / "two", tmp_path / "two.arrow")
    second = write_pool_view(tmp_path / "three", tmp_path / "three.arrow")
    assert first == second
    view = PassageView.open(tmp_path / "two.arrow")
    assert len(view) == len(pool_rows())
    assert sorted(view.table.column("id").to_pylist()) == sorted(str(r["id"]) for r in pool_rows())
    assert view.table.column("id").to_pylist() == PassageView.open(tmp_path / "three.arrow").table.column("id").to_pylist()


def test_rows_come_back_in_the_order_asked(tmp_path: Path) -> None:
    write_pool(tmp_path)
    write_pool_view(tmp_path, tmp_path / "v.arrow")
    view = PassageView.open(tmp_path / "v.arrow")
    rows = view.rows([5, 0, 5])
    assert [r["id"] for r in rows] == [view.table.column("id")[i].as_py() for i in (5, 0, 5)]
    assert set(rows[0]) == {"id", "page_id", "title", "text", "n_words", "source"}


def test_pool_size_keeps_the_first_passages_of_the_order(tmp_path: Path) -> None:
    write_pool(tmp_path)
    full = write_pool_view(tmp_path, tmp_path / "full.arrow")
    capped = write_pool_view(tmp_path, tmp_path / "capped.arrow", pool_size=20)
    assert full != capped
    ids_full = PassageView.open(tmp_path / "full.arrow").table.column("id").to_pylist()
    ids_capped = PassageView.open(tmp_path / "capped.arrow").table.column("id").to_pylist()
    assert ids_capped == ids_full[:20]


def test_missing_or_broken_pool_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no passage pool"):
        write_pool_view(tmp_path, tmp_path / "v.arrow")
    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "passages-00000.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read the passage pool"):
        write_pool_view(tmp_path, tmp_path / "v.arrow")
