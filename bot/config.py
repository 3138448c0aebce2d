"""Settings from config.yaml: typed sections, unknown keys and wrong types rejected with a one-line message."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.errors import ConfigError

DEFAULT_CONFIG = Path("config.yaml")


@dataclass
class CorpusConfig:
    dir: Path = Path("corpus")
    max_file_mb: float = 20.0


@dataclass
class IndexConfig:
    dir: Path = Path("index")
    approximate_above: int = 200_000
    approximate: str = "ivf"
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    ivf_nprobe: int = 64
    keep_generations: int = 2


@dataclass
class PassageConfig:
    min_chars: int = 80
    max_chars: int = 300


@dataclass
class EmbeddingConfig:
    model: str = "m3e-small"
    device: str = "cpu"
    batch_size: int = 32
    backend: str = "onnx-int8"


@dataclass
class RetrievalConfig:
    mode: str = "hybrid"
    top_k: int = 3
    candidates: int = 50
    fusion: str = "learned"
    bm25_weight: float = 1.0
    dense_weight: float = 0.5


@dataclass
class AnswerConfig:
    max_question_chars: int = 1000
    min_coverage: float = 0.35
    min_dense: float = 0.70
    confident_dense: float = 0.80
    max_merge_chars: int = 700


@dataclass
class TelegramConfig:
    token_env: str = "TELEGRAM_BOT_TOKEN"
    api_base_url: str = "https://api.telegram.org/bot"
    allowed_chats: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    rate_limit: int = 10
    data_dir: Path = Path("data")
    results_per_page: int = 3
    poll_interval: float = 0.0
    index_check_seconds: float = 10.0


@dataclass
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    passages: PassageConfig = field(default_factory=PassageConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    path: Path | None = None


CHOICES = {
    "retrieval.mode": ("bm25", "dense", "hybrid"),
    "embedding.device": ("cpu", "cuda"),
    "embedding.backend": ("torch", "onnx", "onnx-int8"),
    "retrieval.fusion": ("learned", "weighted", "rrf"),
    "index.approximate": ("hnsw", "ivf"),
}


def load_config(path: Path | str | None = None) -> Config:
    """Read a config file; with no path, ./config.yaml if it exists, else the built-in defaults."""
    if path is None:
        if not DEFAULT_CONFIG.exists():
            return Config()
        path = DEFAULT_CONFIG
    path = Path(path)
    data = _read_yaml(path)
    config = _build(Config, data, prefix="", source=path)
    config.path = path
    _resolve_paths(config, path.resolve().parent)
    return config


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path} (pass an existing file with --config PATH)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.__class__.__name__}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}; fix the syntax") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of sections, got {type(data).__name__}")
    return data


def _build(cls: type, data: dict, prefix: str, source: Path):
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.name != "path"}
    unknown = sorted(set(data) - known)
    if unknown:
        key = f"{prefix}{unknown[0]}"
        raise ConfigError(f"{source}: unknown config key '{key}' (known here: {', '.join(sorted(known))})")
    values = {name: _coerce(hints[name], value, f"{prefix}{name}", source) for name, value in data.items()}
    return cls(**values)


def _coerce(hint, value, key: str, source: Path):
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: '{key}' must be a section (mapping), got {value!r}")
        return _build(hint, value, prefix=f"{key}.", source=source)
    value = _check_type(hint, value, key, source)
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{source}: '{key}' must be one of {', '.join(CHOICES[key])}, got {value!r}")
    return value


def _check_type(hint, value, key: str, source: Path):
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ConfigError(f"{source}: '{key}' must be a list, got {value!r}")
        return [_check_type(item, v, f"{key}[]", source) for v in value]
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{source}: '{key}' must be a folder path (string), got {value!r}")
        return Path(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{source}: '{key}' must be {_type_name(hint)}, got {value!r}")
    return value


def _type_name(hint) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(hint, str(hint))


def _resolve_paths(config: Config, base: Path) -> None:
    """Relative folders in a config file are relative to that file, so a config works from any cwd."""
    for section, name in (("corpus", "dir"), ("index", "dir"), ("telegram", "data_dir")):
        obj = getattr(config, section)
        value = getattr(obj, name)
        if not value.is_absolute():
            setattr(obj, name, base / value)
