"""The FAISS index finds the nearest passages exactly up to a size, approximately (but nearly as well) above it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.errors import IndexCorruptError
from bot.vectors import approximate_recall, create_vector_index, load_vector_index


def unit_vectors(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_exact_index_returns_the_nearest_rows_and_survives_disk(tmp_path: Path) -> None:
    vectors = unit_vectors(100)
    index = create_vector_index(32, expected_size=100, approximate_above=1000)
    index.add(vectors)
    scores, ids = index.search(vectors[[7, 42]], 3)
    assert ids[:, 0].tolist() == [7, 42] and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    index.save(tmp_path / "vectors.faiss")
    loaded = load_vector_index(tmp_path / "vectors.faiss")
    assert (index.kind, loaded.kind, len(loaded)) == ("flat", "flat", 100)
    assert np.allclose(loaded.vectors(np.array([3, 5])), vectors[[3, 5]])


def test_large_collections_switch_to_hnsw_with_high_recall() -> None:
    vectors = unit_vectors(3000, seed=1)
    index = create_vector_index(32, expected_size=3000, approximate_above=1000, ef_search=128)
    index.add(vectors)
    assert index.kind == "hnsw"
    queries = unit_vectors(50, seed=2)
    assert approximate_recall(index, vectors, queries, k=10) >= 0.98


def test_k_larger_than_the_index_is_clamped() -> None:
    index = create_vector_index(32, expected_size=2, approximate_above=1000)
    index.add(unit_vectors(2))
    _, ids = index.search(unit_vectors(1, seed=3), 10)
    assert sorted(ids[0].tolist()) == [0, 1]


def test_a_corrupt_file_names_the_rebuild_command(tmp_path: Path) -> None:
    path = tmp_path / "vectors.faiss"
    path.write_bytes(b"not an index")
    with pytest.raises(IndexCorruptError, match="index build --full"):
        load_vector_index(path)


def clustered_unit_vectors(count: int, centres: np.ndarray, seed: int) -> np.ndarray:
    """Unit vectors scattered around a few topics, the way passage embeddings cluster."""
    rng = np.random.default_rng(seed)
    vectors = centres[rng.integers(0, len(centres), count)] + rng.standard_normal((count, centres.shape[1])) * 0.1
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_ivf_is_chosen_by_config_trains_itself_and_survives_disk(tmp_path: Path) -> None:
    centres = unit_vectors(40, seed=6)
    vectors = clustered_unit_vectors(4000, centres, seed=4)
    index = create_vector_index(32, expected_size=4000, approximate_above=1000, approximate="ivf", nprobe=64)
    index.add(vectors[:3000])
    index.add(vectors[3000:])  # a later add (index add) goes into the trained lists
    assert index.kind == "ivf" and len(index) == 4000
    queries = clustered_unit_vectors(50, centres, seed=5)
    assert approximate_recall(index, vectors, queries, k=10) >= 0.98
    index.save(tmp_path / "vectors.faiss")
    loaded = load_vector_index(tmp_path / "vectors.faiss", nprobe=64)
    assert (loaded.kind, len(loaded)) == ("ivf", 4000)
    assert np.allclose(loaded.vectors(np.array([3, 3500])), vectors[[3, 3500]], atol=1e-3)
    assert loaded.search(vectors[[3500]], 1)[1][0, 0] == 3500
