"""Related passages for a pivot: BM25 (default) or dense embeddings.

Indexes are built once per build, in the main process, over the canonical pool view
(`passages.py`), and saved under `OUT/.memtrain/index/`; workers load them memory-mapped.
Document ids are row numbers of the pool view. Ties are broken by row number, so retrieval
is deterministic.

The BM25 index is built streaming and stored in shards, so no process ever holds the pool:

1. pass 1 tokenizes the texts a batch at a time (bm25s's tokenizer and English stopwords) and
   counts, per token, the passages that hold it, and the passages' total length;
2. the vocabulary is sorted (token id = rank, so ids never depend on the input order) and
   stored as one UTF-8 blob with offsets, plus its tokens' 64-bit hashes in sorted order, so a
   worker finds a query's token ids with one vectorized search in memory-mapped arrays (each hit
   checked against the token itself);
3. pass 2 tokenizes again and writes, per `rows_per_shard` consecutive rows, the BM25 weight
   of every (token, passage) pair as a sparse column matrix over the tokens the shard holds,
   with the whole pool's idf and mean length: a query sums the same float32 weights in the
   same order as one bm25s index over the whole pool ("lucene" BM25, k1 = 1.5, b = 0.75), so
   scores are bit-identical to it, and the best rows of each shard are merged by (score, row).

Memory while building is one shard of postings plus the vocabulary's document frequencies
(which grow with the vocabulary, not the pool); while querying, one shard's score array.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from memtrain_data.errors import ConfigError, InputError, MissingDependencyError, first_line

if TYPE_CHECKING:
    import numpy as np

_FINGERPRINT_FILE = "memtrain-fingerprint.json"
BM25_FORMAT = "memtrain-bm25-shards/2"
"""Layout of the BM25 index folder; a folder of any other layout (e.g. a whole bm25s index of
an older memtrain) is removed and rebuilt, never read or mixed."""

ROWS_PER_SHARD = 50_000
"""Passages per BM25 shard: bounds the memory of building (~50 MB) and of one query's scores."""

TOKENIZE_BATCH = 4_096
BM25_K1 = 1.5
BM25_B = 0.75


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


@dataclass
class _ListTexts:
    texts: Sequence[str]

    def text_batches(self, rows: int = TOKENIZE_BATCH) -> Iterator[list[str]]:
        for start in range(0, len(self.texts), rows):
            yield list(self.texts[start : start + rows])


def _as_batches(texts: Sequence[str] | TextBatches) -> TextBatches:
    return texts if hasattr(texts, "text_batches") else _ListTexts(texts)  # type: ignore[arg-type,return-value]


@dataclass
class IndexInfo:
    """Where an index lives, its size on disk, and how long building it took (0 when reused).

    `note` says why an existing folder was replaced (another pool, or an older layout)."""

    directory: Path
    size_bytes: int
    build_seconds: float
    reused: bool
    note: str | None = None


def _directory_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def _is_current(directory: Path, fingerprint: str) -> bool:
    marker = directory / _FINGERPRINT_FILE
    try:
        return marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == fingerprint
    except (ValueError, OSError):
        return False


def _mark_current(directory: Path, fingerprint: str) -> None:
    (directory / _FINGERPRINT_FILE).write_text(json.dumps({"fingerprint": fingerprint}) + "\n")


def _clear_stale(directory: Path) -> str | None:
    """Remove an index folder that is not current; say so."""
    if not directory.exists():
        return None
    shutil.rmtree(directory)
    return f"index folder {directory} was built from another pool or by an older memtrain: removed and rebuilt"


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


def _tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)  # type: ignore[return-value]


def _check_disk(directory: Path, needed: int, what: str) -> None:
    existing = directory
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise InputError(
            f"not enough disk for the {what} in {directory}: it needs about {needed / 1e9:.2f} GB "
            f"(measured from the pool), {free / 1e9:.2f} GB are free"
        )


def _write_bm25_shard(folder: Path, docs: list[np.ndarray], idf: np.ndarray, avg_doc_len: float) -> None:
    """The BM25 weights of `docs` (token ids per passage) as CSC columns over the tokens present."""
    import numpy as np

    folder.mkdir(parents=True)
    lengths = np.array([len(doc) for doc in docs], dtype=np.int64)
    tokens = np.concatenate(docs).astype(np.int64) if docs else np.zeros(0, dtype=np.int64)
    rows = len(docs)
    pairs, tf = np.unique(tokens * rows + np.repeat(np.arange(rows, dtype=np.int64), lengths), return_counts=True)
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


def build_bm25_index(
    texts: Sequence[str] | TextBatches, directory: Path, fingerprint: str, *, rows_per_shard: int = ROWS_PER_SHARD
) -> IndexInfo:
    """Index `texts` (row i = document i) with sharded BM25 into `directory`; reuse a current one."""
    key = f"{BM25_FORMAT}:{rows_per_shard}:{fingerprint}"
    if _is_current(directory, key):
        return IndexInfo(directory, _directory_size(directory), 0.0, reused=True)
    import numpy as np

    note = _clear_stale(directory)
    started = time.perf_counter()
    source = _as_batches(texts)
    frequencies: Counter[str] = Counter()
    total_length = 0
    rows = 0
    for batch in source.text_batches(TOKENIZE_BATCH):
        for tokens in _tokenize(batch):
            frequencies.update(set(tokens))
            total_length += len(tokens)
            rows += 1
    vocabulary = sorted(frequencies)
    encoded = [token.encode("utf-8") for token in vocabulary]
    postings = sum(frequencies.values())
    shards = -(-rows // rows_per_shard)
    _check_disk(directory, 8 * postings + 20 * len(vocabulary) + sum(map(len, encoded)) + 4096 * (shards + 1), "BM25 index")
    idf = np.array(
        [math.log(1 + (rows - frequencies[token] + 0.5) / (frequencies[token] + 0.5)) for token in vocabulary],
        dtype=np.float32,
    )
    del frequencies
    avg_doc_len = total_length / rows if rows else 1.0

    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    (building / "vocabulary.bin").write_bytes(b"".join(encoded))
    np.save(building / "vocabulary_offsets.npy", np.cumsum([0, *map(len, encoded)], dtype=np.int64))
    hashes = np.array([_token_hash(token) for token in encoded], dtype=np.uint64)
    by_hash = np.argsort(hashes, kind="stable")
    np.save(building / "vocabulary_hashes.npy", hashes[by_hash])
    np.save(building / "vocabulary_hash_ids.npy", by_hash.astype(np.int64))
    del hashes, by_hash
    token_id = {token: i for i, token in enumerate(vocabulary)}
    del vocabulary, encoded
    pending: list[np.ndarray] = []
    bounds: list[tuple[int, int]] = []
    done = 0
    for batch in source.text_batches(TOKENIZE_BATCH):
        for tokens in _tokenize(batch):
            pending.append(np.array([token_id[token] for token in tokens], dtype=np.int64))
            if len(pending) == rows_per_shard:
                _write_bm25_shard(building / f"shard-{len(bounds):05d}", pending, idf, avg_doc_len)
                bounds.append((done, done + len(pending)))
                done += len(pending)
                pending = []
    if pending or not bounds:
        _write_bm25_shard(building / f"shard-{len(bounds):05d}", pending, idf, avg_doc_len)
        bounds.append((done, done + len(pending)))
    meta = {"format": BM25_FORMAT, "rows": rows, "shards": bounds, "postings": postings, "avg_doc_len": avg_doc_len}
    (building / "bm25.json").write_text(json.dumps(meta) + "\n")
    _mark_current(building, key)
    building.replace(directory)
    return IndexInfo(directory, _directory_size(directory), time.perf_counter() - started, reused=False, note=note)


def _token_hash(token: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(token, digest_size=8).digest(), "little")


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
        hashes = np.array([_token_hash(token) for token in encoded], dtype=np.uint64)
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

        ids = self._vocabulary.ids_of(_tokenize([text])[0])
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
    if _is_current(directory, full_fingerprint):
        return IndexInfo(directory, _directory_size(directory), 0.0, reused=True)
    import numpy as np

    started = time.perf_counter()
    try:
        model = sentence_transformers.SentenceTransformer(model_name, device="cpu")  # type: ignore[attr-defined]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load dense model '{model_name}': {first_line(exc)}") from None
    note = _clear_stale(directory)
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
    _mark_current(building, full_fingerprint)
    building.replace(directory)
    return IndexInfo(directory, _directory_size(directory), time.perf_counter() - started, reused=False, note=note)


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
    retriever: str, texts: Sequence[str] | TextBatches, work_dir: Path, fingerprint: str, dense_model: str | None
) -> IndexInfo:
    """Build (or reuse) the index that `retriever` needs; `texts` is a list or the pool view (read in batches)."""
    directory = index_directory(work_dir, retriever)
    if retriever == "bm25":
        return build_bm25_index(texts, directory, fingerprint)
    if retriever == "dense":
        return build_dense_index(texts, directory, fingerprint, dense_model)
    raise ConfigError(f"unknown retriever '{retriever}'; choose bm25 or dense")


def load_retriever(retriever: str, work_dir: Path) -> PassageRetriever:
    """Open the index built by `build_index` (memory-mapped)."""
    directory = index_directory(work_dir, retriever)
    if retriever == "bm25":
        return BM25Retriever(directory)
    return DenseRetriever(directory)
