"""The episode plan: which pool rows may be pivots, in which order, and which rows each split may use.

For each split, the candidate pivots are the pool rows whose page hashes to that split and
whose text can hold an entity, ordered by a stable hash of (seed, passage id): written as
`plan-<split>.npy`, with the split's pool rows as `rows-<split>.npy` (documents draw only
from their own split's pages). A split that must hold episodes but cannot fill one document
from its own pages is a one-line error naming it.

Writing the plan never holds the pool in memory, like writing the pool view (passages.py): one
pass over the view appends each split's rows to a raw file and spills each candidate (hash, row)
to one of B bucket files by hash range, and each page id to one of B files by a hash of the id;
then each hash bucket is sorted on its own and appended to the plans, and each page bucket gives
its distinct pages. B is the view's row count over `rows_per_bucket`, so memory stays at about
`rows_per_bucket` rows whatever the pool's size.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from memtrain_data.atomic import atomic_path
from memtrain_data.build_config import EpisodeSettings
from memtrain_data.episodes.job import WorkPaths, passages_per_episode
from memtrain_data.episodes.passages import READ_BATCH_ROWS, ROWS_PER_BUCKET, PassageView
from memtrain_data.episodes.splits import split_of_page, split_targets, unit_hash
from memtrain_data.errors import InputError
from memtrain_data.records import SPLITS

if TYPE_CHECKING:
    import numpy as np

# A candidate pivot must show a digit or a capitalized word after its first word: a cheap test
# that skips NER on passages that cannot hold a usable entity anyway.
_ENTITY_HINT = re.compile(r"\d|\s[A-Z]")

# Records spilled to the bucket files; `split` is the index of the split in SPLITS.
_CANDIDATE = [("hash", "<f8"), ("row", "<i8"), ("split", "u1")]
_PAGE = [("page", "<i8"), ("split", "u1")]
_FIBONACCI = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: spreads dense or strided page ids over the buckets


def write_plan(
    settings: EpisodeSettings, seed: int, paths: WorkPaths, *, rows_per_bucket: int = ROWS_PER_BUCKET
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Candidate pivots per split in seeded hash order, and each split's pool rows.

    Returns the candidate count per split and, per split, its passages and pages. Memory stays
    at about `rows_per_bucket` rows (see the module docstring); the six files appear together
    at the end, each whole, or not at all.
    """
    import numpy as np

    view = PassageView.open(paths.pool_view)
    buckets = max(1, -(-len(view) // max(1, rows_per_bucket)))
    piece_rows = max(1, min(READ_BATCH_ROWS, rows_per_bucket))
    code_of = {split: code for code, split in enumerate(SPLITS)}
    candidates = np.zeros(len(SPLITS), dtype=np.int64)
    passages = np.zeros(len(SPLITS), dtype=np.int64)
    pages = np.zeros(len(SPLITS), dtype=np.int64)

    scratch = paths.state / "plan.buckets"
    shutil.rmtree(scratch, ignore_errors=True)  # left by a killed run
    scratch.mkdir(parents=True)
    try:
        by_hash = _BucketFiles(scratch / "candidates", np.dtype(_CANDIDATE), rows_per_bucket)
        by_page = _BucketFiles(scratch / "pages", np.dtype(_PAGE), rows_per_bucket)
        row = 0
        with ExitStack() as raw_files:
            rows_of = [raw_files.enter_context((scratch / f"rows-{split}.raw").open("wb")) for split in SPLITS]
            # Record batch by record batch, read from the file, in pieces: Python objects for at
            # most `piece_rows` passages at a time.
            for batch in view.batches(["id", "page_id", "text"]):
                for start in range(0, batch.num_rows, piece_rows):
                    piece = batch.slice(start, piece_rows)
                    page_ids = piece.column("page_id").to_numpy().astype(np.int64)
                    # No page -> split cache: the view is in passage-id hash order, so a page's
                    # passages are scattered and a cache that stays small would hardly ever hit.
                    split = np.fromiter(
                        (code_of[split_of_page(page, settings.validation_fraction, settings.test_fraction)] for page in page_ids.tolist()),
                        dtype=np.uint8,
                        count=len(page_ids),
                    )
                    rows = np.arange(row, row + len(page_ids), dtype=np.int64)
                    row += len(page_ids)
                    for code, file in enumerate(rows_of):
                        file.write(rows[split == code].tobytes())
                    passages += np.bincount(split, minlength=len(SPLITS))

                    page_records = np.empty(len(page_ids), dtype=_PAGE)
                    page_records["page"], page_records["split"] = page_ids, split
                    mixed = page_ids.astype(np.uint64) * np.uint64(_FIBONACCI)
                    by_page.add(((mixed >> np.uint64(32)) * np.uint64(buckets) >> np.uint64(32)).astype(np.int64), page_records)

                    texts, passage_ids = piece.column("text").to_pylist(), piece.column("id").to_pylist()
                    picked = np.flatnonzero([_ENTITY_HINT.search(text) is not None for text in texts])
                    found = np.empty(len(picked), dtype=_CANDIDATE)
                    found["hash"] = [unit_hash("memtrain-pivot", seed, passage_ids[i]) for i in picked]
                    found["row"], found["split"] = rows[picked], split[picked]
                    candidates += np.bincount(found["split"], minlength=len(SPLITS))
                    # floor(hash * B) never decreases with the hash, so bucket i holds only hashes
                    # at or below those of bucket i + 1 (and equal hashes share a bucket).
                    by_hash.add(np.minimum((found["hash"] * buckets).astype(np.int64), buckets - 1), found)
        by_hash.flush()
        by_page.flush()
        # A page's passages all share its split, so its first record names it.
        for bucket in range(buckets):
            seen = by_page.read(bucket)
            _, first = np.unique(seen["page"], return_index=True)
            pages += np.bincount(seen["split"][first], minlength=len(SPLITS))

        # One stack for the six files: each is renamed into place only once all are written.
        with ExitStack() as outputs:
            for code, split in enumerate(SPLITS):
                file = outputs.enter_context(_int64_npy(paths.split_rows(split), int(passages[code])))
                with (scratch / f"rows-{split}.raw").open("rb") as raw:
                    shutil.copyfileobj(raw, file, 8 * piece_rows)  # a piece's rows at a time, not a fixed 64 KiB
            plans = [outputs.enter_context(_int64_npy(paths.plan(split), int(candidates[code]))) for code, split in enumerate(SPLITS)]
            for bucket in range(buckets):
                found = by_hash.read(bucket)
                for code, plan in enumerate(plans):
                    mine = found[found["split"] == code]
                    plan.write(mine["row"][np.lexsort((mine["row"], mine["hash"]))].tobytes())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    counts = {split: int(candidates[code]) for code, split in enumerate(SPLITS)}
    sizes = {split: {"passages": int(passages[code]), "pages": int(pages[code])} for code, split in enumerate(SPLITS)}
    return counts, sizes


class _BucketFiles:
    """Fixed-size records appended to one raw file per bucket, at most about `buffer` of them in memory."""

    def __init__(self, folder: Path, dtype: np.dtype, buffer: int) -> None:
        folder.mkdir()
        self.folder, self.dtype, self.buffer = folder, dtype, max(1, buffer)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._held = 0

    def add(self, buckets: np.ndarray, records: np.ndarray) -> None:
        self._pending.append((buckets, records))
        self._held += len(records)
        if self._held >= self.buffer:
            self.flush()

    def flush(self) -> None:
        import numpy as np

        if not self._held:
            return
        buckets = np.concatenate([b for b, _ in self._pending])
        records = np.concatenate([r for _, r in self._pending])
        self._pending, self._held = [], 0
        order = np.argsort(buckets)  # any order within a bucket: each is sorted whole later
        buckets, records = buckets[order], records[order]
        bounds = np.flatnonzero(np.diff(buckets)) + 1
        for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(buckets)], strict=True):
            # Opened per write: a pool of millions of rows has more buckets than a process may hold open files.
            with self._path(int(buckets[start])).open("ab") as file:
                file.write(records[start:stop].tobytes())

    def read(self, bucket: int) -> np.ndarray:
        """Every record of `bucket`, in no particular order (empty when none was added)."""
        import numpy as np

        path = self._path(bucket)
        return np.fromfile(path, dtype=self.dtype) if path.exists() else np.empty(0, dtype=self.dtype)

    def _path(self, bucket: int) -> Path:
        return self.folder / f"{bucket:06d}.bin"


@contextmanager
def _int64_npy(path: Path, length: int) -> Iterator[BinaryIO]:
    """A file to write `length` int64 values to, in pieces, after the header `np.save` would write,
    so the bytes are np.save's; `path` appears on success only, and only if every value came."""
    import numpy as np

    with atomic_path(path) as temporary, temporary.open("wb") as file:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.int64)), "fortran_order": False, "shape": (length,)}
        np.lib.format.write_array_header_1_0(file, header)
        expected = file.tell() + 8 * length
        yield file
        if file.tell() != expected:
            raise RuntimeError(f"{path.name}: wrote {file.tell()} bytes, expected {expected}")


def check_split_capacity(settings: EpisodeSettings, num_episodes: int, preset: str, sizes: dict[str, dict[str, int]]) -> None:
    """A one-line InputError when a split that must hold episodes cannot fill one document from its own pages."""
    needed = passages_per_episode(settings.documents)
    targets = split_targets(num_episodes, settings.validation_fraction, settings.test_fraction)
    for split in SPLITS:
        have = sizes[split]
        if targets[split] > 0 and have["passages"] < needed:
            fraction = {"validation": "validation_fraction", "test": "test_fraction"}.get(split)
            advice = (
                f"raise {fraction} (now {getattr(settings, fraction)}; e.g. validation_fraction: 0.25 and test_fraction: 0.25 "
                "in a --config YAML) or use a larger dump"
                if fraction
                else "lower validation_fraction/test_fraction or use a larger dump"
            )
            if preset != "mini":
                advice += ", or choose --preset mini"
            raise InputError(
                f"the {split} split has {have['passages']:,} passages from {have['pages']:,} pages, but one "
                f"'{preset}' episode needs {needed} passages from its own split's pages; {advice}"
            )
