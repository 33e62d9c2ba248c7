"""Related passages for a pivot: BM25 with bm25s (default) or dense embeddings.

Indexes are built once per build, in the main process, over the canonical pool view
(`passages.py`), and saved under `OUT/.memtrain/index/`; workers load them memory-mapped.
Document ids are row numbers of the pool view. Ties are broken by row number, so retrieval
is deterministic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from memtrain_data.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    import numpy as np

_FINGERPRINT_FILE = "memtrain-fingerprint.json"


class PassageRetriever(Protocol):
    """Finds pool rows related to a pivot row."""

    name: str

    def related(self, pivot_row: int, pivot_text: str, k: int, allowed: np.ndarray | None = None) -> list[int]:
        """Up to `k` rows most related to the pivot, best first, never the pivot itself.

        `allowed`, a boolean row mask (True = may be returned), keeps a document inside the
        pivot's split.
        """
        ...


@dataclass
class IndexInfo:
    """Where an index lives, its size on disk, and how long building it took (0 when reused)."""

    directory: Path
    size_bytes: int
    build_seconds: float
    reused: bool


def _directory_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def _is_current(directory: Path, fingerprint: str) -> bool:
    marker = directory / _FINGERPRINT_FILE
    return marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == fingerprint


def _mark_current(directory: Path, fingerprint: str) -> None:
    (directory / _FINGERPRINT_FILE).write_text(json.dumps({"fingerprint": fingerprint}) + "\n")


def top_rows(scores: np.ndarray, pivot_row: int, k: int, allowed: np.ndarray | None = None) -> list[int]:
    """Rows of the `k` highest positive scores, best first, ties by row, the pivot and rows not `allowed` left out."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64).copy()
    scores[pivot_row] = -np.inf
    if allowed is not None:
        scores[~np.asarray(allowed, dtype=bool)] = -np.inf
    candidates = min(k + 1, len(scores))
    if candidates <= 0:
        return []
    # argpartition finds a superset cheaply; the exact order (score desc, row asc) is sorted after.
    threshold_rows = np.argpartition(-scores, candidates - 1)[:candidates]
    cutoff = scores[threshold_rows].min()
    rows = np.nonzero((scores >= cutoff) & (scores > 0))[0]
    ordered = rows[np.lexsort((rows, -scores[rows]))]
    return [int(row) for row in ordered[:k]]


def _bm25_tokens(texts: Sequence[str], return_ids: bool) -> object:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", return_ids=return_ids, show_progress=False)


def build_bm25_index(texts: Sequence[str], directory: Path, fingerprint: str) -> IndexInfo:
    """Index `texts` (row i = document i) with BM25 into `directory`; reuse a current one."""
    if _is_current(directory, fingerprint):
        return IndexInfo(directory, _directory_size(directory), 0.0, reused=True)
    import bm25s

    started = time.perf_counter()
    model = bm25s.BM25()
    model.index(_bm25_tokens(texts, return_ids=True), show_progress=False)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(str(directory), show_progress=False)
    _mark_current(directory, fingerprint)
    return IndexInfo(directory, _directory_size(directory), time.perf_counter() - started, reused=False)


class BM25Retriever:
    """Lexical retrieval with bm25s over the pool view; the pivot's own text is the query."""

    name = "bm25"

    def __init__(self, directory: Path) -> None:
        import bm25s

        self._model = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)

    def related(self, pivot_row: int, pivot_text: str, k: int, allowed: np.ndarray | None = None) -> list[int]:
        if k <= 0:
            return []
        tokens = _bm25_tokens([pivot_text], return_ids=False)[0]  # type: ignore[index]
        ids = self._model.get_tokens_ids(tokens)
        if not ids:
            return []
        return top_rows(self._model.get_scores_from_ids(ids), pivot_row, k, allowed)


def _import_sentence_transformers() -> object:
    try:
        import sentence_transformers
    except ImportError:
        raise MissingDependencyError(
            "--retriever dense needs sentence-transformers: pip install 'memtrain[dense]'"
        ) from None
    return sentence_transformers


def build_dense_index(texts: Sequence[str], directory: Path, fingerprint: str, model_name: str | None) -> IndexInfo:
    """Embed `texts` with a sentence-transformers model into `directory/embeddings.npy` (normalized)."""
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
        raise ConfigError(f"cannot load dense model '{model_name}': {str(exc).splitlines()[0]}") from None
    embeddings = model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    directory.mkdir(parents=True, exist_ok=True)
    np.save(directory / "embeddings.npy", embeddings.astype(np.float32))
    _mark_current(directory, full_fingerprint)
    return IndexInfo(directory, _directory_size(directory), time.perf_counter() - started, reused=False)


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


def build_index(retriever: str, texts: Sequence[str], work_dir: Path, fingerprint: str, dense_model: str | None) -> IndexInfo:
    """Build (or reuse) the index that `retriever` needs."""
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
