"""The embedding model gives unit vectors that match across scripts and across backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.embed import Embedder, resolve_model
from bot.errors import ModelError

TEXTS = ["青海的国家区域医疗中心平移了多少项新技术？", "江苏专家青海行一共组织了150批，培养科室接班人200余名。", "短"]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return Embedder("m3e-small").encode(TEXTS)


def test_vectors_are_unit_length_and_script_independent(torch_vectors: np.ndarray) -> None:
    embedder = Embedder("m3e-small")
    assert torch_vectors.shape == (3, embedder.dimension) and torch_vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(torch_vectors, axis=1), 1.0, atol=1e-5)
    traditional = embedder.encode(["青海的國家區域醫療中心平移了多少項新技術？"])[0]
    assert float(traditional @ torch_vectors[0]) > 0.999
    assert embedder.encode([]).shape == (0, embedder.dimension)


def test_onnx_backends_match_torch(torch_vectors: np.ndarray, model_cache: Path) -> None:
    exact = Embedder("m3e-small", backend="onnx", batch_size=2).encode(TEXTS)
    assert np.allclose((exact * torch_vectors).sum(axis=1), 1.0, atol=1e-4)
    quantised = Embedder("m3e-small", backend="onnx-int8", batch_size=2).encode(TEXTS)
    assert ((quantised * torch_vectors).sum(axis=1) > 0.9).all()
    assert list(model_cache.rglob("model_int8.onnx")), "the export is cached for the next run"


def test_a_missing_local_model_is_reported(tmp_path: Path) -> None:
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    with pytest.raises(ModelError, match="cannot load"):
        Embedder(str(tmp_path))
