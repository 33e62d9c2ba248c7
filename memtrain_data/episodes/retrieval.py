"""Related passages for a pivot: BM25 (default) or dense embeddings.

Indexes are built once per build over the canonical pool view (`passages.py`) and saved under
`OUT/.memtrain/index/`; workers load them memory-mapped. Document ids are row numbers of the
pool view. Ties are broken by row number, so retrieval is deterministic.

The BM25 index is built by `bm25_index.py`, its shards in parallel. It is queried here: the
query's token ids are found with one vectorized search in the vocabulary's memory-mapped
sorted hashes (each hit checked against the token itself), each shard sums the same float32
weights in the same order as one bm25s index over the whole pool, so scores are bit-identical
to it, and the best rows of each shard are merged by (score, row). While querying, a process
holds one shard's score array.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from memtrain_data.episodes.bm25_index import (
    BM25_FORMAT,
    ROWS_PER_SHARD,
    TOKENIZE_BATCH,
    RowTexts,
    TaskRunner,
    build_bm25_index,
    run_here,
    token_hash,
    tokenize,
)
from memtrain_data.episodes.index_files import (
    IndexInfo,
    clear_stale,
    directory_size,
    is_current,
    mark_current,
)
from memtrain_data.errors import ConfigError, InputError, MissingDependencyError, first_line

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BM25_FORMAT", "ROWS_PER_SHARD", "BM25Retriever", "DenseRetriever", "IndexInfo", "PassageRetriever",
    "build_bm25_index", "build_dense_index", "build_index", "load_retriever", "top_rows",
]  # fmt: skip


class PassageRetriever(Protocol):
    """Finds pool rows related to a pivot row."""

    name: str

    def related(self, pivot_row: int, pivot_text: str, k: int, allowed: np.ndarray | None = None) -> list[int]:
        """Up to `k` rows most related to the pivot, best first, never the pivot itself.

        `allowed`, a boolean row mask (True = may be returned), keeps a document inside the
        pivot's split.
        """
        ...


class TextBatches(Protocol):
    """Texts in row order, a batch at a time (the pool view is one)."""

    def text_batches(self, rows: int = ...) -> Iterator[list[str]]: ...


class PoolTexts(TextBatches, RowTexts, Protocol):
    """The pool view as the index builds read it: in batches (dense) or by row range (BM25 tasks)."""


@dataclass
class _ListTexts:
    texts: Sequence[str]

    def text_batches(self, rows: int = TOKENIZE_BATCH) -> Iterator[list[str]]:
        for start in range(0, len(self.texts), rows):
            yield list(self.texts[start : start + rows])


def _as_batches(texts: Sequence[str] | TextBatches) -> TextBatches:
    return texts if hasattr(texts, "text_batches") else _ListTexts(texts)  # type: ignore[arg-type,return-value]


def top_rows(scores: np.ndarray, pivot_row: int, k: int, allowed: np.ndarray | None = None) -> list[int]:
    """Rows of the `k` highest positive scores, best first, ties by row, the pivot and rows not
    `allowed` left out."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64).copy()
    scores[pivot_row] = -np.inf
    if allowed is not None:
        scores[~np.asarray(allowed, dtype=bool)] = -np.inf
    rows = _best_rows(scores, k)
    return [int(row) for row in rows[np.lexsort((rows, -scores[rows]))][:k]]


def _best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows with a positive score at least the k-th best (ties at the cut included), unordered."""
    import numpy as np

    positive = np.flatnonzero(scores > 0)
    if k <= 0 or len(positive) <= k:
        return positive if k > 0 else positive[:0]
    values = scores[positive]
    kth = np.partition(values, len(values) - k)[len(values) - k]
    return positive[values >= kth]


class _Vocabulary:
    """The sorted vocabulary, memory-mapped; a token's id is its rank. Looked up by hash."""

    def __init__(self, directory: Path) -> None:
        import numpy as np

        self._offsets = np.load(directory / "vocabulary_offsets.npy", mmap_mode="r")
        size = int(self._offsets[-1])
        self._blob = np.memmap(directory / "vocabulary.bin", dtype=np.uint8, mode="r") if size else b""
        self._hashes = np.load(directory / "vocabulary_hashes.npy", mmap_mode="r")
        self._hash_ids = np.load(directory / "vocabulary_hash_ids.npy", mmap_mode="r")

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def token(self, index: int) -> bytes:
        return bytes(self._blob[int(self._offsets[index]) : int(self._offsets[index + 1])])

    def ids_of(self, tokens: list[str]) -> list[int | None]:
        """The id of each token (None when it is not in the vocabulary)."""
        import numpy as np

        encoded = [token.encode("utf-8") for token in tokens]
        hashes = np.array([token_hash(token) for token in encoded], dtype=np.uint64)
        positions = np.searchsorted(self._hashes, hashes)
        ids: list[int | None] = []
        for token, wanted, position in zip(encoded, hashes, positions, strict=True):
            found = None
            while position < len(self._hashes) and self._hashes[position] == wanted:  # equal hashes: check each
                candidate = int(self._hash_ids[position])
                if self.token(candidate) == token:
                    found = candidate
                    break
                position += 1
            ids.append(found)
        return ids


@dataclass
class _Shard:
    start: int
    stop: int
    tokens: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    def scores(self, token_ids: np.ndarray) -> np.ndarray:
        """float32 BM25 scores of the shard's rows, summed over the query tokens in order."""
        import numpy as np

        scores = np.zeros(self.stop - self.start, dtype=np.float32)
        if not len(self.tokens):
            return scores
        at = np.searchsorted(self.tokens, token_ids)
        present = (at < len(self.tokens)) & (self.tokens[np.minimum(at, len(self.tokens) - 1)] == token_ids)
        at = at[present]  # query order kept: the sums add in the same order as bm25s
        for begin, end in zip(self.indptr[at].tolist(), self.indptr[at + 1].tolist(), strict=True):
            scores[self.indices[begin:end]] += self.data[begin:end]  # rows are unique in a column
        return scores


class BM25Retriever:
    """Lexical retrieval over the sharded BM25 index; the pivot's own text is the query."""

    name = "bm25"

    def __init__(self, directory: Path) -> None:
        import numpy as np

        meta_path = directory / "bm25.json"
        if not meta_path.is_file() or json.loads(meta_path.read_text()).get("format") != BM25_FORMAT:
            raise InputError(f"{directory} is not a {BM25_FORMAT} index (built by an older memtrain?); rebuild it")
        meta = json.loads(meta_path.read_text())
        self._vocabulary = _Vocabulary(directory)
        self._shards = [
            _Shard(start, stop, *(np.load(directory / f"shard-{i:05d}" / f"{name}.npy", mmap_mode="r")
                                  for name in ("tokens", "indptr", "indices", "data")))
            for i, (start, stop) in enumerate(meta["shards"])
        ]  # fmt: skip

    def token_ids(self, text: str) -> np.ndarray:
        """The query's token ids in order (repeats kept, unknown tokens dropped), as bm25s does."""
        import numpy as np

        ids = self._vocabulary.ids_of(tokenize([text])[0])
        return np.array([i for i in ids if i is not None], dtype=np.int64)

    def scores(self, text: str) -> np.ndarray:
        """BM25 scores of every row for `text` (for tests and benchmarks; queries never build it)."""
        import numpy as np

        ids = self.token_ids(text)
        return np.concatenate([shard.scores(ids) for shard in self._shards])

    def related(self, pivot_row: int, pivot_text: str, k: int, allowed: np.ndarray | None = None) -> list[int]:
        import numpy as np

        if k <= 0:
            return []
        ids = self.token_ids(pivot_text)
        if not len(ids):
            return []
        found_rows: list[np.ndarray] = []
        found_scores: list[np.ndarray] = []
        for shard in self._shards:
            scores = shard.scores(ids)
            if shard.start <= pivot_row < shard.stop:
                scores[pivot_row - shard.start] = 0.0
            if allowed is not None:
                scores[~np.asarray(allowed[shard.start : shard.stop], dtype=bool)] = 0.0
            best = _best_rows(scores, k)
            found_rows.append(best + shard.start)
            found_scores.append(scores[best])
        rows = np.concatenate(found_rows)
        scores = np.concatenate(found_scores).astype(np.float64)
        return [int(row) for row in rows[np.lexsort((rows, -scores))][:k]]


def _import_sentence_transformers() -> object:
    try:
        import sentence_transformers
    except ImportError:
        raise MissingDependencyError(
            "--retriever dense needs sentence-transformers: pip install 'memtrain[dense]'"
        ) from None
    return sentence_transformers


def build_dense_index(
    texts: Sequence[str] | TextBatches, directory: Path, fingerprint: str, model_name: str | None
) -> IndexInfo:
    """Embed `texts` with a sentence-transformers model into `directory/embeddings.npy` (normalized),
    a batch at a time, straight into the memory-mapped file."""
    if not model_name:
        raise ConfigError("--retriever dense needs --dense-model (a sentence-transformers model id or folder)")
    sentence_transformers = _import_sentence_transformers()
    full_fingerprint = f"{fingerprint}:{model_name}"
    if is_current(directory, full_fingerprint):
        return IndexInfo(directory, directory_size(directory), 0.0, reused=True)
    import numpy as np

    started = time.perf_counter()
    try:
        model = sentence_transformers.SentenceTransformer(model_name, device="cpu")  # type: ignore[attr-defined]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load dense model '{model_name}': {first_line(exc)}") from None
    note = clear_stale(directory)
    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    parts = []
    for batch in _as_batches(texts).text_batches(TOKENIZE_BATCH):
        part = model.encode(batch, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        np.save(building / f"part-{len(parts):05d}.npy", part.astype(np.float32))
        parts.append(len(part))
    dimension = int(model.get_sentence_embedding_dimension() or 0)
    embeddings = np.lib.format.open_memmap(building / "embeddings.npy", "w+", np.float32, (sum(parts), dimension))
    at = 0
    for i, rows in enumerate(parts):
        embeddings[at : at + rows] = np.load(building / f"part-{i:05d}.npy")
        (building / f"part-{i:05d}.npy").unlink()
        at += rows
    embeddings.flush()
    del embeddings
    mark_current(building, full_fingerprint)
    building.replace(directory)
    return IndexInfo(directory, directory_size(directory), time.perf_counter() - started, reused=False, note=note)


class DenseRetriever:
    """Cosine similarity between stored, normalized passage embeddings (memory-mapped)."""

    name = "dense"

    def __init__(self, directory: Path) -> None:
        import numpy as np

        self._embeddings = np.load(directory / "embeddings.npy", mmap_mode="r")

    def related(self, pivot_row: int, pivot_text: str, k: int, allowed: np.ndarray | None = None) -> list[int]:
        if k <= 0:
            return []
        return top_rows(self._embeddings @ self._embeddings[pivot_row], pivot_row, k, allowed)


def index_directory(work_dir: Path, retriever: str) -> Path:
    """Where the index of `retriever` lives inside `OUT/.memtrain`."""
    return work_dir / "index" / retriever


def build_index(
    retriever: str,
    texts: Sequence[str] | PoolTexts,
    work_dir: Path,
    fingerprint: str,
    dense_model: str | None,
    run_tasks: TaskRunner = run_here,
) -> IndexInfo:
    """Build (or reuse) the index that `retriever` needs; `texts` is a list or the pool view.

    `run_tasks` runs the BM25 index's per-shard tasks (see `bm25_index.TaskRunner`)."""
    directory = index_directory(work_dir, retriever)
    if retriever == "bm25":
        return build_bm25_index(texts, directory, fingerprint, run_tasks=run_tasks)
    if retriever == "dense":
        return build_dense_index(texts, directory, fingerprint, dense_model)
    raise ConfigError(f"unknown retriever '{retriever}'; choose bm25 or dense")


def load_retriever(retriever: str, work_dir: Path) -> PassageRetriever:
    """Open the index built by `build_index` (memory-mapped)."""
    directory = index_directory(work_dir, retriever)
    if retriever == "bm25":
        return BM25Retriever(directory)
    return DenseRetriever(directory)
