"""The episode plan is written by a bucket sort on disk: the same bytes as sorting every candidate
in memory, whatever the bucket size, in memory that does not grow with the pool."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from memtrain_data.build_config import EpisodeSettings
from memtrain_data.episodes import plan
from memtrain_data.episodes.job import WorkPaths
from memtrain_data.episodes.passages import PassageView, write_pool_view
from memtrain_data.episodes.plan import write_plan
from memtrain_data.episodes.splits import split_of_page, unit_hash
from memtrain_data.records import SPLITS
from tests.episodes.pool_helpers import write_pool

Result = tuple[dict[str, int], dict[str, dict[str, int]]]


def _paths(root: Path) -> WorkPaths:
    return WorkPaths(root / ".memtrain", "cfg", root / "cfg")


def _synthetic_rows(pages: int, first_page: int = 100) -> list[dict[str, object]]:
    """Passage records over `pages` pages of 1 to 5 passages, about a third of them without an entity hint."""
    rows: list[dict[str, object]] = []
    for page in range(first_page, first_page + pages):
        for n in range(1 + page % 5):
            text = ["the river runs north of the old town", "Lyon lies on the river", "built in 1850"][(page + n) % 3]
            rows.append(
                {"id": f"{page}-{n}", "page_id": page, "title": f"Page {page}", "text": text, "n_words": len(text.split()),
                 "revision_id": 1, "timestamp": "2016-01-01T00:00:00Z", "source": "synthetic"}
            )  # fmt: skip
    return rows


def _pool(root: Path, rows: list[dict[str, object]] | None = None) -> WorkPaths:
    """A pool view of `rows` (default: the invented pages) under `root`, as the build writes it."""
    write_pool(root, rows)
    paths = _paths(root)
    write_pool_view(root, paths.pool_view)
    return paths


def _files(paths: WorkPaths) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(paths.state.iterdir())}


def _reference_plan(settings: EpisodeSettings, seed: int, paths: WorkPaths) -> Result:
    """The plan by definition, everything in memory: sort (hash, row) pairs, `np.save` the rows."""
    view = PassageView.open(paths.pool_view)
    keyed: dict[str, list[tuple[float, int]]] = {split: [] for split in SPLITS}
    rows: dict[str, list[int]] = {split: [] for split in SPLITS}
    pages: dict[str, set[int]] = {split: set() for split in SPLITS}
    for row, passage in enumerate(view.table.select(["id", "page_id", "text"]).to_pylist()):
        split = split_of_page(passage["page_id"], settings.validation_fraction, settings.test_fraction)
        rows[split].append(row)
        pages[split].add(passage["page_id"])
        if plan._ENTITY_HINT.search(passage["text"]):
            keyed[split].append((plan.unit_hash("memtrain-pivot", seed, passage["id"]), row))
    paths.state.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        np.save(paths.plan(split), np.array([row for _, row in sorted(keyed[split])], dtype=np.int64))
        np.save(paths.split_rows(split), np.array(rows[split], dtype=np.int64))
    counts = {split: len(keyed[split]) for split in SPLITS}
    return counts, {split: {"passages": len(rows[split]), "pages": len(pages[split])} for split in SPLITS}


def _coarse_hash(*parts: object) -> float:
    """unit_hash rounded up to a quarter: most candidates tie, and 1.0 is reached (the real
    unit_hash reaches it too, rarely: (2**64 - 1) / 2**64 rounds to 1.0)."""
    return math.ceil(unit_hash(*parts) * 4) / 4


@pytest.mark.parametrize(
    ("seed", "validation_fraction", "test_fraction"), [(0, 0.1, 0.1), (7, 0.3, 0.05), (3, 0.0, 0.0)]
)
@pytest.mark.parametrize("rows_per_bucket", [1, 13, 1_000_000])
def test_the_plan_is_every_candidate_sorted_by_hash_then_row_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, validation_fraction: float, test_fraction: float,
    rows_per_bucket: int,
) -> None:  # fmt: skip
    monkeypatch.setattr(plan, "unit_hash", _coarse_hash)  # ties everywhere: only the row can order them
    settings = EpisodeSettings(validation_fraction=validation_fraction, test_fraction=test_fraction)
    paths = _pool(tmp_path / "pool", _synthetic_rows(150))
    expected, reference = _reference_plan(settings, seed, paths), _files(paths)

    assert write_plan(settings, seed, paths, rows_per_bucket=rows_per_bucket) == expected
    assert _files(paths) == reference  # no scratch folder, no temporary left beside the plan


def test_the_plan_of_the_invented_pages_is_the_in_memory_one(small_pool: Path) -> None:
    paths = _paths(small_pool)
    write_pool_view(small_pool, paths.pool_view)
    expected, reference = _reference_plan(EpisodeSettings(), 0, paths), _files(paths)
    assert write_plan(EpisodeSettings(), 0, paths) == expected
    assert _files(paths) == reference
    assert expected[1] == {split: {"passages": 4 * n, "pages": n} for split, n in (("train", 6), ("validation", 3), ("test", 3))}


def test_bucket_size_never_changes_the_files(tmp_path: Path) -> None:
    paths = _pool(tmp_path, _synthetic_rows(400))
    one_bucket = write_plan(EpisodeSettings(), 5, paths, rows_per_bucket=1_000_000)
    files = _files(paths)
    assert write_plan(EpisodeSettings(), 5, paths, rows_per_bucket=2) == one_bucket
    assert _files(paths) == files
    assert one_bucket[0]["train"] > 100  # a plan, not three empty files


def test_an_empty_split_gets_an_empty_plan(tmp_path: Path) -> None:
    paths = _pool(tmp_path, _synthetic_rows(20))
    counts, sizes = write_plan(EpisodeSettings(validation_fraction=0.0, test_fraction=0.0), 0, paths, rows_per_bucket=4)
    assert counts["validation"] == counts["test"] == 0
    assert sizes["test"] == {"passages": 0, "pages": 0}
    assert np.load(paths.plan("test")).shape == (0,) and np.load(paths.split_rows("test")).dtype == np.int64
    assert len(np.load(paths.split_rows("train"))) == len(PassageView.open(paths.pool_view))


def test_a_failed_write_leaves_the_previous_plan_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _pool(tmp_path, _synthetic_rows(50))
    write_plan(EpisodeSettings(), 0, paths, rows_per_bucket=8)
    before = _files(paths)

    read = plan._BucketFiles.read

    def fail_on_a_later_bucket(self: plan._BucketFiles, bucket: int) -> np.ndarray:
        # by then the rows files and the first buckets of each plan are written
        if self.folder.name == "candidates" and bucket == 5:
            raise OSError("disk full")
        return read(self, bucket)

    monkeypatch.setattr(plan._BucketFiles, "read", fail_on_a_later_bucket)
    with pytest.raises(OSError, match="disk full"):
        write_plan(EpisodeSettings(), 1, paths, rows_per_bucket=8)
    assert _files(paths) == before


def _synthetic_view(path: Path, rows: int) -> WorkPaths:
    """A view of `rows` passages of about 4 per page, written directly (the order does not matter here)."""
    import pyarrow as pa

    page = np.arange(rows) // 4 + 1000
    ids = [f"{p}-{n}" for p, n in zip(page.tolist(), (np.arange(rows) % 4).tolist(), strict=True)]
    texts = ["the river runs north of the old town", "Lyon lies on the river"] * (rows // 2) + ["x"] * (rows % 2)
    paths = _paths(path)
    paths.pool_view.parent.mkdir(parents=True)
    table = pa.table({"id": ids, "page_id": pa.array(page, pa.int64()), "text": texts})
    with pa.OSFile(str(paths.pool_view), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return paths


def _peak_bytes(paths: WorkPaths, rows_per_bucket: int) -> int:
    write_plan(EpisodeSettings(), 0, paths, rows_per_bucket=rows_per_bucket)  # warm: imports are not the plan's memory
    tracemalloc.start()
    try:
        write_plan(EpisodeSettings(), 0, paths, rows_per_bucket=rows_per_bucket)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_when_the_pool_is_four_times_larger(tmp_path: Path) -> None:
    # Peak memory is about `rows_per_bucket` rows, whatever the pool's size; a small bucket
    # shows it on small pools (holding every candidate, as an in-memory sort does, gives ~4x).
    small = _peak_bytes(_synthetic_view(tmp_path / "small", 5_000), rows_per_bucket=500)
    large = _peak_bytes(_synthetic_view(tmp_path / "large", 20_000), rows_per_bucket=500)
    assert large < 1.3 * small
