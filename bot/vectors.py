"""Dense vector search behind one interface (add, search, save, load); FAISS is the backend."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from bot.errors import DependencyError, IndexCorruptError

logger = logging.getLogger(__name__)

try:
    import faiss
except ImportError:  # pragma: no cover - exercised only without faiss installed
    faiss = None


class VectorIndex(ABC):
    """Inner-product search over unit vectors; row i of the index is passage i."""

    kind: str = ""

    @abstractmethod
    def add(self, vectors: np.ndarray) -> None:
        """Append vectors (rows) to the index."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row ids of the k nearest rows per query (ids are -1 where fewer exist)."""

    @abstractmethod
    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of the given row ids."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the index to one file."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of stored vectors."""


class FaissIndex(VectorIndex):
    """FAISS exact inner product (flat), or HNSW or IVF for large collections."""

    def __init__(self, index):
        self._index = index
        name = type(index).__name__
        self.kind = "hnsw" if "HNSW" in name else "ivf" if "IVF" in name else "flat"

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not self._index.is_trained:
            self._index.train(training_sample(vectors, self._index.nlist))
        self._index.add(vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        return self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) == 0:
            return np.zeros((0, self._index.d), dtype=np.float32)
        return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    def __len__(self) -> int:
        return int(self._index.ntotal)


def create_vector_index(dimension: int, expected_size: int, approximate_above: int, hnsw_m: int = 32,
                        ef_search: int = 128, approximate: str = "hnsw", nprobe: int = 64) -> VectorIndex:
    """Exact search up to `approximate_above` vectors, HNSW or IVF (`approximate`) above it."""
    _require_faiss()
    if expected_size > approximate_above and approximate == "ivf":
        nlist = ivf_lists(expected_size)
        logger.info("%d vectors > %d: approximate IVF search (%d lists, nprobe=%d, fp16 storage)", expected_size,
                    approximate_above, nlist, nprobe)
        # fp16 halves the memory of float32 vectors while moving cosines by about 1e-4.
        index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dimension), dimension, nlist,
                                              faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = nprobe
        index.set_direct_map_type(faiss.DirectMap.Array)  # keeps `vectors(ids)` working
        return FaissIndex(index)
    if expected_size > approximate_above:
        logger.info("%d vectors > %d: approximate HNSW search (M=%d, efSearch=%d)", expected_size, approximate_above,
                    hnsw_m, ef_search)
        index = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = ef_search
        return FaissIndex(index)
    return FaissIndex(faiss.IndexFlatIP(dimension))


def ivf_lists(expected_size: int) -> int:
    """IVF list count: about 4·√n, with at least 39 training vectors per list as FAISS asks."""
    return max(1, min(int(4 * np.sqrt(expected_size)), expected_size // 39))


def training_sample(vectors: np.ndarray, nlist: int, per_list: int = 64) -> np.ndarray:
    """A fixed random subset of the first vectors added, enough to place the IVF centroids."""
    if len(vectors) <= nlist * per_list:
        return vectors
    rows = np.random.default_rng(0).choice(len(vectors), nlist * per_list, replace=False)
    return vectors[np.sort(rows)]


def load_vector_index(path: Path, ef_search: int = 128, nprobe: int = 64) -> VectorIndex:
    """Read an index written by `save`."""
    _require_faiss()
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorruptError(f"index file {path} is missing or corrupt; run `python -m bot index build --full`") from exc
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = ef_search
    if hasattr(index, "nprobe"):
        index.nprobe = nprobe
    return FaissIndex(index)


def approximate_recall(index: VectorIndex, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k rows (brute force over `vectors`) that `index` also returns."""
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :k]
    _, found = index.search(queries, k)
    return float(np.mean([len(set(e) & set(f)) / k for e, f in zip(exact, found, strict=True)]))


def _require_faiss() -> None:
    if faiss is None:
        raise DependencyError("faiss is missing: pip install faiss-cpu")
