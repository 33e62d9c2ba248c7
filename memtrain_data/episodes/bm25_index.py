"""Building the sharded BM25 index: shards in parallel, the pool's statistics merged in one small step.

Document ids are row numbers of the pool view; a shard is `rows_per_shard` consecutive rows.
The build has three steps, and the first and the last are one task per shard, run wherever the
caller's `TaskRunner` runs tasks (the episode stage hands it the executor in use: local
processes or Ray; in a Slurm build, the finish job's cores):

1. **count** (a task per shard): tokenize the shard's texts a batch at a time (bm25s's
   tokenizer, English stopwords) and write the shard's sorted vocabulary with each token's
   document frequency in the shard, its passages as shard-local token ids, and their lengths;
2. **merge** (the driver, once): merge the shards' sorted vocabularies into the pool's (token id
   = rank in the sorted vocabulary, so ids depend neither on the input order nor on the shard
   count), sum the document frequencies, and write the vocabulary (one UTF-8 blob with offsets,
   plus its tokens' 64-bit hashes in sorted order for the query-time lookup), the pool's idf,
   and each shard's local → pool id map. It holds one token per shard at a time and a few
   numpy bytes per distinct token, never a dict of the vocabulary or anything per passage;
3. **weigh** (a task per shard): the BM25 weight of every (token, passage) pair as a sparse
   column matrix over the tokens the shard holds, with the whole pool's idf and mean length
   ("lucene" BM25, k1 = 1.5, b = 0.75), in the same float operations as bm25s, so a query's
   scores are bit-identical to one bm25s index over the whole pool.

The index folder is the same bytes whatever the number of workers (and the same as the serial
build of earlier memtrain versions, so their indexes stay current). Work in progress lives in
`<index>.building/`: a task whose output folder is there is not redone, so an interrupted build
resumes; the scratch files go before the folder takes the index's place.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import shutil
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from memtrain_data.episodes.index_files import (
    IndexInfo,
    check_disk,
    clear_stale,
    directory_size,
    is_current,
    mark_current,
)

if TYPE_CHECKING:
    import numpy as np

BM25_FORMAT = "memtrain-bm25-shards/2"
"""Layout of the BM25 index folder; a folder of any other layout (e.g. a whole bm25s index of
an older memtrain) is removed and rebuilt, never read or mixed."""

ROWS_PER_SHARD = 50_000
"""Passages per BM25 shard: bounds the memory of a task (~50 MB) and of one query's scores."""

TOKENIZE_BATCH = 4_096
BM25_K1 = 1.5
BM25_B = 0.75
_MAP_FLUSH = 65_536  # local → pool ids buffered per shard before they are appended to its file


class RowTexts(Protocol):
    """Texts addressed by row (the pool view is one; so is a list, through `_ListTexts`).

    Sent to worker processes, so it must pickle cheaply: the view pickles as its path."""

    def __len__(self) -> int: ...

    def texts_between(self, start: int, stop: int) -> list[str]: ...


TaskRunner = Callable[[str, Callable[[int], None], int, Path], None]
"""Runs `task(rank)` for every rank below `count`, anywhere, and returns when all are done:
`runner(step_name, task, count, logs_folder)`. Tasks write their own files and return nothing."""


def run_here(step: str, task: Callable[[int], None], count: int, logs: Path) -> None:
    """The runner for tests and small pools: every task in this process, one after another."""
    for rank in range(count):
        task(rank)


@dataclass
class _ListTexts:
    texts: Sequence[str]

    def __len__(self) -> int:
        return len(self.texts)

    def texts_between(self, start: int, stop: int) -> list[str]:
        return list(self.texts[start:stop])


def as_row_texts(texts: Sequence[str] | RowTexts) -> RowTexts:
    return texts if hasattr(texts, "texts_between") else _ListTexts(texts)  # type: ignore[arg-type,return-value]


def tokenize(texts: list[str]) -> list[list[str]]:
    """bm25s's tokens of each text (lowercased words, English stopwords out), the same at build and query time."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)  # type: ignore[return-value]


def token_hash(token: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(token, digest_size=8).digest(), "little")


def shard_bounds(rows: int, rows_per_shard: int) -> list[tuple[int, int]]:
    """Row ranges of the shards: consecutive, `rows_per_shard` each but the last; one empty shard for no rows."""
    return [(start, min(start + rows_per_shard, rows)) for start in range(0, rows, rows_per_shard)] or [
        (0, 0)
    ]


def _shard_folder(parent: Path, index: int) -> Path:
    return parent / f"shard-{index:05d}"


def _publish(tmp: Path, folder: Path) -> None:
    """A task's output appears whole or not at all: written under a temporary name, then renamed."""
    shutil.rmtree(folder, ignore_errors=True)
    tmp.replace(folder)


# --------------------------------------------------------------------------- 1. count


def count_shard(texts: RowTexts, bounds: list[tuple[int, int]], scratch: Path, rank: int) -> None:
    """Task `rank` of step 1: the shard's sorted vocabulary, document frequencies, local token ids and lengths."""
    import numpy as np

    folder = _shard_folder(scratch, rank)
    if folder.is_dir():
        return  # done by an earlier, interrupted run
    start, stop = bounds[rank]
    provisional: dict[str, int] = {}  # token → id in order of first sight; ranks replace them below
    docs: list[np.ndarray] = []
    for begin in range(start, stop, TOKENIZE_BATCH):
        for tokens in tokenize(texts.texts_between(begin, min(begin + TOKENIZE_BATCH, stop))):
            docs.append(
                np.fromiter(
                    (provisional.setdefault(t, len(provisional)) for t in tokens), np.int64, len(tokens)
                )
            )
    seen = list(provisional)
    del provisional
    order = sorted(range(len(seen)), key=seen.__getitem__)
    rank_of = np.empty(len(seen), dtype=np.int64)
    rank_of[np.array(order, dtype=np.int64)] = np.arange(len(seen), dtype=np.int64)
    encoded = [seen[i].encode("utf-8") for i in order]
    del seen, order
    lengths = np.array([len(doc) for doc in docs], dtype=np.int64)
    local = rank_of[np.concatenate(docs)] if docs else np.zeros(0, dtype=np.int64)
    del docs
    rows = len(lengths)
    pairs = np.unique(local * max(rows, 1) + np.repeat(np.arange(rows, dtype=np.int64), lengths))
    frequencies = np.bincount(pairs // max(rows, 1), minlength=len(encoded)).astype(np.int64)
    del pairs

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "vocabulary.bin").write_bytes(b"".join(encoded))
    np.save(tmp / "vocabulary_offsets.npy", np.cumsum([0, *map(len, encoded)], dtype=np.int64))
    np.save(tmp / "frequencies.npy", frequencies)
    np.save(tmp / "tokens.npy", local.astype(np.int32))
    np.save(tmp / "lengths.npy", lengths)
    _publish(tmp, folder)


# --------------------------------------------------------------------------- 2. merge


def _shard_terms(folder: Path, shard: int) -> Iterator[tuple[bytes, int, int]]:
    """(token, shard, document frequency) of one shard's vocabulary in sorted order, read a block at a time."""
    import numpy as np

    offsets = np.load(folder / "vocabulary_offsets.npy", mmap_mode="r")
    frequencies = np.load(folder / "frequencies.npy", mmap_mode="r")
    if not len(frequencies):
        return
    blob = np.memmap(folder / "vocabulary.bin", dtype=np.uint8, mode="r")
    for start in range(0, len(frequencies), _MAP_FLUSH):
        stop = min(start + _MAP_FLUSH, len(frequencies))
        low = int(offsets[start])
        data = bytes(blob[low : int(offsets[stop])])
        ends = (np.asarray(offsets[start : stop + 1]) - low).tolist()
        for i, count in enumerate(np.asarray(frequencies[start:stop]).tolist()):
            yield data[ends[i] : ends[i + 1]], shard, count


def _idf(frequencies: np.ndarray, rows: int) -> np.ndarray:
    """bm25s's idf, log(1 + (N − df + 0.5) / (df + 0.5)), in float64 then float32: once per distinct df."""
    import numpy as np

    distinct = np.unique(frequencies)
    values = np.array(
        [math.log(1 + (rows - f + 0.5) / (f + 0.5)) for f in distinct.tolist()], dtype=np.float32
    )
    return values[np.searchsorted(distinct, frequencies)] if len(distinct) else np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class _Merged:
    """What step 2 learned about the pool: rows, tokens in all, (token, passage) pairs, distinct tokens, blob bytes."""

    rows: int
    total_length: int
    postings: int
    tokens: int
    blob_bytes: int

    @property
    def avg_doc_len(self) -> float:
        return self.total_length / self.rows if self.rows else 1.0


def merge_vocabularies(scratch: Path, shards: int, building: Path) -> _Merged:
    """Step 2: the pool's vocabulary, hashes and idf from the shards' counts; each shard's id map."""
    import numpy as np

    marker = scratch / "merged.json"
    if marker.is_file():
        return _Merged(**json.loads(marker.read_text()))
    folders = [_shard_folder(scratch, shard) for shard in range(shards)]
    rows = total_length = 0
    for folder in folders:
        lengths = np.load(folder / "lengths.npy", mmap_mode="r")
        rows += len(lengths)
        total_length += int(np.asarray(lengths).sum())
    offsets, frequencies, hashes = array("q", [0]), array("q"), array("Q")
    pending: list[array] = [array("q") for _ in folders]

    def flush(shard: int) -> None:
        with open(folders[shard] / "pool_ids.bin", "ab") as sink:
            pending[shard].tofile(sink)
        pending[shard] = array("q")

    for folder in folders:
        (folder / "pool_ids.bin").unlink(missing_ok=True)
        (folder / "pool_ids.bin").touch()
    position = 0
    previous: bytes | None = None
    with open(building / "vocabulary.bin", "wb") as blob:
        for token, shard, count in heapq.merge(
            *(_shard_terms(folder, shard) for shard, folder in enumerate(folders))
        ):
            if token != previous:
                previous = token
                blob.write(token)
                position += len(token)
                offsets.append(position)
                frequencies.append(0)
                hashes.append(token_hash(token))
            frequencies[-1] += count
            pending[shard].append(len(frequencies) - 1)
            if len(pending[shard]) >= _MAP_FLUSH:
                flush(shard)
    for shard in range(len(folders)):
        flush(shard)
    np.save(building / "vocabulary_offsets.npy", np.frombuffer(offsets, dtype=np.int64))
    hash_array = np.frombuffer(hashes, dtype=np.uint64)
    by_hash = np.argsort(hash_array, kind="stable")
    np.save(building / "vocabulary_hashes.npy", hash_array[by_hash])
    np.save(building / "vocabulary_hash_ids.npy", by_hash.astype(np.int64))
    del hash_array, by_hash, hashes
    frequency_array = np.frombuffer(frequencies, dtype=np.int64)
    np.save(scratch / "idf.npy", _idf(frequency_array, rows))
    merged = _Merged(rows, total_length, int(frequency_array.sum()), len(frequency_array), position)
    marker.write_text(json.dumps(merged.__dict__) + "\n")
    return merged


# --------------------------------------------------------------------------- 3. weigh


def write_bm25_shard(
    folder: Path, tokens: np.ndarray, lengths: np.ndarray, idf: np.ndarray, avg_doc_len: float
) -> None:
    """The BM25 weights of one shard's passages (`tokens`: pool token ids, passage after passage;
    `lengths`: tokens per passage) as CSC columns over the tokens present."""
    import numpy as np

    folder.mkdir(parents=True)
    rows = len(lengths)
    pairs, tf = np.unique(
        tokens * rows + np.repeat(np.arange(rows, dtype=np.int64), lengths), return_counts=True
    )
    token_of, doc_of = pairs // max(rows, 1), pairs % max(rows, 1)
    tf32 = tf.astype(np.float32)
    # the same float operations, in the same order and precision, as bm25s ("lucene" method)
    tfc = tf32 / (BM25_K1 * ((1 - BM25_B) + BM25_B * lengths[doc_of].astype(np.float64) / avg_doc_len) + tf32)
    weights = (idf[token_of].astype(np.float64) * tfc).astype(np.float32)
    present, starts = np.unique(token_of, return_index=True)
    np.save(folder / "tokens.npy", present.astype(np.int64))
    np.save(folder / "indptr.npy", np.append(starts, len(token_of)).astype(np.int64))
    np.save(folder / "indices.npy", doc_of.astype(np.int32))
    np.save(folder / "data.npy", weights)


def weigh_shard(scratch: Path, building: Path, avg_doc_len: float, rank: int) -> None:
    """Task `rank` of step 3: the shard's BM25 weights with the pool's idf and mean length."""
    import numpy as np

    folder = _shard_folder(building, rank)
    if folder.is_dir():
        return
    counted = _shard_folder(scratch, rank)
    pool_ids = np.fromfile(counted / "pool_ids.bin", dtype=np.int64)
    tokens = pool_ids[np.load(counted / "tokens.npy")] if len(pool_ids) else np.zeros(0, dtype=np.int64)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    write_bm25_shard(
        tmp,
        tokens,
        np.load(counted / "lengths.npy"),
        np.load(scratch / "idf.npy", mmap_mode="r"),
        avg_doc_len,
    )
    _publish(tmp, folder)


# --------------------------------------------------------------------------- the build


def build_bm25_index(
    texts: Sequence[str] | RowTexts,
    directory: Path,
    fingerprint: str,
    *,
    rows_per_shard: int = ROWS_PER_SHARD,
    run_tasks: TaskRunner = run_here,
) -> IndexInfo:
    """Index `texts` (row i = document i) with sharded BM25 into `directory`; reuse a current one.

    `run_tasks` runs the per-shard steps (default: here, one after another)."""
    key = f"{BM25_FORMAT}:{rows_per_shard}:{fingerprint}"
    if is_current(directory, key):
        return IndexInfo(directory, directory_size(directory), 0.0, reused=True)
    note = clear_stale(directory)
    started = time.perf_counter()
    source = as_row_texts(texts)
    bounds = shard_bounds(len(source), rows_per_shard)
    building = directory.with_name(directory.name + ".building")
    if not is_current(building, key):  # another pool's half-built index is never resumed
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        mark_current(building, key)
    scratch, logs = building / "scratch", building / "logs"
    scratch.mkdir(exist_ok=True)

    run_tasks("count", partial(count_shard, source, bounds, scratch), len(bounds), logs / "count")
    merged = merge_vocabularies(scratch, len(bounds), building)
    check_disk(
        directory,
        8 * merged.postings + 20 * merged.tokens + merged.blob_bytes + 4096 * (len(bounds) + 1),
        "BM25 index",
    )
    run_tasks(
        "weigh", partial(weigh_shard, scratch, building, merged.avg_doc_len), len(bounds), logs / "weigh"
    )

    shutil.rmtree(scratch)
    shutil.rmtree(logs, ignore_errors=True)
    meta = {
        "format": BM25_FORMAT,
        "rows": merged.rows,
        "shards": bounds,
        "postings": merged.postings,
        "avg_doc_len": merged.avg_doc_len,
    }
    (building / "bm25.json").write_text(json.dumps(meta) + "\n")
    mark_current(building, key)
    building.replace(directory)
    return IndexInfo(
        directory, directory_size(directory), time.perf_counter() - started, reused=False, note=note
    )
