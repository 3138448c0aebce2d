"""Passages, BM25 terms and vectors ↔ the index folder: atomic generations, a manifest and a writer lock."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bot.bm25 import BM25Index
from bot.config import Config
from bot.embed import Embedder
from bot.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from bot.models import Article, Passage
from bot.passages import split_passages, unique_passages
from bot.tokenize import tokenize
from bot.vectors import VectorIndex, create_vector_index, load_vector_index

logger = logging.getLogger(__name__)

FORMAT = 1
CURRENT = "current"
LOCK = ".lock"
FILES = ("manifest.json", "articles.jsonl", "passages.jsonl", "tokens.jsonl", "vectors.faiss", "bm25")


@dataclass
class IndexData:
    """A loaded index: the articles, their passages and both search structures, row-aligned."""

    manifest: dict
    articles: dict[str, Article]
    passages: list[Passage]
    tokens: Sequence[list[str]]  # a loaded index reads these from disk only when an update needs them
    bm25: BM25Index
    dense: VectorIndex
    path: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = {p.id: i for i, p in enumerate(self.passages)}


class StoredTokens(Sequence):
    """The BM25 terms of a stored generation, read from tokens.jsonl on first use rather than at load.

    Serving never needs them (BM25 has its own files) and at a million passages they cost gigabytes.
    """

    def __init__(self, path: Path):
        self.path = path
        self._count = _count_lines(path)
        self._rows: list[list[str]] | None = None

    def _loaded(self) -> list[list[str]]:
        if self._rows is None:
            self._rows = list(_read_jsonl(self.path))
            if len(self._rows) != self._count:
                raise IndexCorruptError(f"index file {self.path} changed while in use; run `python -m bot index build --full`")
        return self._rows

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, row):
        return self._loaded()[row]

    def __iter__(self) -> Iterator[list[str]]:
        return iter(self._loaded())


def build_index(config: Config, articles: list[Article], embedder: Embedder | None, progress: bool = False,
                previous: IndexData | None = None) -> IndexData:
    """Split, tokenise and embed articles into a new in-memory index, reusing `previous` vectors by passage id."""
    started = time.perf_counter()
    passages = passages_of(config, articles)
    tokens = [tokenize(p.text) for p in passages]
    vectors = _embed_missing(passages, embedder, previous, progress)
    dense = _new_vector_index(config, vectors.shape[1], len(passages))
    dense.add(vectors)
    manifest = _manifest(config, vectors.shape[1], articles, passages, dense, time.perf_counter() - started)
    return IndexData(manifest, {a.id: a for a in articles}, passages, tokens, BM25Index.build(tokens), dense)


def extend_index(config: Config, previous: IndexData, articles: list[Article], embedder: Embedder | None,
                 progress: bool = False, updated: list[Article] = ()) -> IndexData:
    """`previous` plus new articles, embedding only their new passages; `updated` replaces article metadata.

    `previous` is consumed: its vector index grows in memory (its files on disk stay untouched).
    """
    started = time.perf_counter()
    fresh = [p for p in passages_of(config, articles) if p.id not in previous.rows]
    tokens = list(previous.tokens) + [tokenize(p.text) for p in fresh]
    dense = previous.dense
    if fresh:
        dense.add(embed_passages([p.text for p in fresh], _need(embedder), progress))
    if dense.kind == "flat" and len(dense) > config.index.approximate_above:
        logger.warning("the index now holds %d passages; run `python -m bot index build --full` to switch "
                       "to approximate (%s) search", len(dense), config.index.approximate)
    all_articles = {**previous.articles, **{a.id: a for a in updated}, **{a.id: a for a in articles}}
    passages = previous.passages + fresh
    manifest = _derived_manifest(previous.manifest, all_articles, passages, len(fresh), time.perf_counter() - started)
    return IndexData(manifest, all_articles, passages, tokens, BM25Index.build(tokens), dense)


def drop_articles(config: Config, previous: IndexData, article_ids: set[str]) -> IndexData:
    """`previous` without the given articles; the passages left keep their stored vectors and terms."""
    started = time.perf_counter()
    articles = {i: a for i, a in previous.articles.items() if i not in article_ids}
    passages = passages_of(config, articles.values())
    missing = [p.id for p in passages if p.id not in previous.rows]
    if missing:
        raise IndexCorruptError(f"{len(missing)} passages are not in the index (passage settings changed?); "
                                "run `python -m bot index build --full`")
    rows = np.array([previous.rows[p.id] for p in passages], dtype=np.int64)
    dense = _new_vector_index(config, int(previous.manifest["dimension"]), len(rows))
    dense.add(previous.dense.vectors(rows))
    stored = list(previous.tokens)
    tokens = [stored[r] for r in rows]
    manifest = _derived_manifest(previous.manifest, articles, passages, 0, time.perf_counter() - started)
    return IndexData(manifest, articles, passages, tokens, BM25Index.build(tokens), dense)


def passages_of(config: Config, articles: Iterable[Article]) -> list[Passage]:
    """Every article's passages with the configured sizes, each distinct passage once."""
    sizes = config.passages.min_chars, config.passages.max_chars
    return unique_passages(p for a in articles for p in split_passages(a, *sizes))


def _new_vector_index(config: Config, dimension: int, size: int) -> VectorIndex:
    """An empty vector index of the kind the config asks for at this size."""
    ix = config.index
    return create_vector_index(dimension, size, ix.approximate_above, ix.hnsw_m, ix.hnsw_ef_search, ix.approximate,
                               ix.ivf_nprobe)


def _need(embedder: Embedder | None) -> Embedder:
    if embedder is None:
        raise ValueError("new passages need an embedder")
    return embedder


def embed_passages(texts: list[str], embedder: Embedder, progress: bool = False) -> np.ndarray:
    """Vectors of the texts, encoded in chunks under a progress bar that shows passages per second."""
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    step = max(embedder.batch_size * 4, 1)
    # disable=None hides the bar when stderr is not a terminal (logs, tests, pipes).
    with tqdm(total=len(texts), unit="passage", desc="embedding", disable=None if progress else True,
              dynamic_ncols=True, smoothing=0.1) as bar:
        for start in range(0, len(texts), step):
            chunk = texts[start : start + step]
            vectors[start : start + len(chunk)] = embedder.encode(chunk)
            bar.update(len(chunk))
    return vectors


def _embed_missing(passages: list[Passage], embedder: Embedder | None, previous: IndexData | None,
                   progress: bool) -> np.ndarray:
    """Vectors for all passages; only passages the previous index lacks are embedded."""
    known = previous.rows if previous is not None else {}
    todo = [i for i, p in enumerate(passages) if p.id not in known]
    dimension = embedder.dimension if embedder is not None else int(previous.manifest["dimension"])
    vectors = np.zeros((len(passages), dimension), dtype=np.float32)
    if todo:
        vectors[todo] = embed_passages([passages[i].text for i in todo], _need(embedder), progress)
    reused = [i for i, p in enumerate(passages) if p.id in known]
    if reused:
        vectors[reused] = previous.dense.vectors(np.array([known[passages[i].id] for i in reused]))
    logger.info("embedded %d passages, reused %d", len(todo), len(reused))
    return vectors


def _manifest(config: Config, dimension: int, articles: list[Article], passages: list[Passage],
              dense: VectorIndex, seconds: float) -> dict:
    model = {
        "format": FORMAT,
        "model": config.embedding.model,
        "embedding_backend": config.embedding.backend,
        "dimension": dimension,
        "normalized": True,
        "metric": "inner_product",
        "vector_index": dense.kind,
        "tokenizer": "OpenCC t2s + jieba lcut_for_search",
    }
    return _derived_manifest(model, {a.id: a for a in articles}, passages, len(passages), seconds)


def _derived_manifest(previous: dict, articles: dict[str, Article], passages: list[Passage], embedded: int,
                      seconds: float) -> dict:
    """The previous manifest with this generation's counts, hash and timing (model fields unchanged)."""
    return {
        **previous,
        "articles": len(articles),
        "passages": len(passages),
        "corpus_hash": corpus_hash(list(articles.values())),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 2),
        "passages_per_second": round(embedded / seconds, 1) if embedded and seconds > 0 else None,
    }


def corpus_hash(articles: list[Article]) -> str:
    """A hash over the article ids (themselves content hashes), independent of file order."""
    digest = hashlib.sha256("\n".join(sorted(a.id for a in articles)).encode("ascii"))
    return digest.hexdigest()[:16]


def write_index(config: Config, data: IndexData) -> Path:
    """Write a new generation beside the live one, then switch `current` to it atomically."""
    root = config.index.dir
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    target = root / f"gen-{stamp}-{os.getpid()}"
    staging = root / f".staging-{stamp}-{os.getpid()}"
    staging.mkdir()
    _write_files(staging, data)
    os.replace(staging, target)
    link = root / f".{CURRENT}.tmp-{os.getpid()}"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(target.name, link)
    os.replace(link, root / CURRENT)
    _fsync_dir(root)
    data.path = target
    _prune(root, target, config.index.keep_generations)
    logger.info("index generation %s is live (%d passages)", target.name, len(data.passages))
    return target


def _write_files(folder: Path, data: IndexData) -> None:
    _write_jsonl(folder / "articles.jsonl", (a.to_dict() for a in data.articles.values()))
    _write_jsonl(folder / "passages.jsonl", (p.to_dict() for p in data.passages))
    _write_jsonl(folder / "tokens.jsonl", data.tokens)
    data.dense.save(folder / "vectors.faiss")
    data.bm25.save(folder / "bm25")
    # The manifest is written last: a folder without one is never a complete generation.
    (folder / "manifest.json").write_text(json.dumps(data.manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(root: Path, live: Path, keep: int) -> None:
    """Remove older generations beyond `keep` and anything left by killed writers."""
    generations = sorted((p for p in root.glob("gen-*") if p != live), key=lambda p: p.name, reverse=True)
    for old in generations[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    clean_leftovers(root)


def clean_leftovers(root: Path) -> None:
    """Delete staging folders and temporary links of writers that were killed; call only under the lock."""
    for folder in root.glob(".staging-*"):
        logger.info("removing %s left by an interrupted writer", folder.name)
        shutil.rmtree(folder, ignore_errors=True)
    for link in root.glob(f".{CURRENT}.tmp-*"):
        link.unlink(missing_ok=True)


def live_generation(config: Config) -> Path:
    """The folder `current` points to, or IndexMissingError."""
    link = config.index.dir / CURRENT
    if not link.exists():
        raise IndexMissingError(f"no index in {config.index.dir}; run `python -m bot index build`")
    return link.resolve()


def read_manifest(config: Config) -> dict:
    """The live manifest."""
    return _read_manifest(live_generation(config))


def _read_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index file {path} is missing or corrupt; run `python -m bot index build --full`") from exc


def load_index(config: Config, check_model: bool = True) -> IndexData:
    """Load the live generation, checking it is complete and matches the configured model."""
    folder = live_generation(config)
    # Read from the resolved folder, not `current` again: a writer may switch `current` in between.
    manifest = _read_manifest(folder)
    if check_model:
        check_model_matches(config, manifest)
    articles = {a["id"]: Article.from_dict(a) for a in _read_jsonl(folder / "articles.jsonl")}
    passages = [Passage(**p) for p in _read_jsonl(folder / "passages.jsonl")]
    tokens = StoredTokens(folder / "tokens.jsonl")
    dense = load_vector_index(folder / "vectors.faiss", config.index.hnsw_ef_search, config.index.ivf_nprobe)
    bm25 = BM25Index.load(folder / "bm25")
    if not (len(passages) == len(tokens) == len(dense) == bm25.size == manifest.get("passages")):
        raise IndexCorruptError(f"index in {folder} is inconsistent (row counts differ); run `python -m bot index build --full`")
    return IndexData(manifest, articles, passages, tokens, bm25, dense, path=folder)


def check_model_matches(config: Config, manifest: dict) -> None:
    """Refuse an index built with another embedding model (or backend, whose vectors differ) than the configured one."""
    built = (manifest.get("model"), manifest.get("embedding_backend", "torch"))
    wanted = (config.embedding.model, config.embedding.backend)
    if built != wanted:
        raise IndexMismatchError(
            f"the index was built with model {built[0]!r} ({built[1]}) but the config names "
            f"{wanted[0]!r} ({wanted[1]}); run `python -m bot index build --full`"
        )


def _count_lines(path: Path) -> int:
    """Rows of a JSON-lines file, counted without parsing them."""
    try:
        with open(path, "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError as exc:
        raise IndexCorruptError(f"index file {path} is missing or corrupt; run `python -m bot index build --full`") from exc


def _read_jsonl(path: Path) -> Iterator:
    try:
        with open(path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index file {path} is missing or corrupt; run `python -m bot index build --full`") from exc
    return iter(rows)


@contextmanager
def index_lock(config: Config) -> Iterator[None]:
    """Hold the writer lock of the index folder; a second writer gets IndexLockedError at once."""
    config.index.dir.mkdir(parents=True, exist_ok=True)
    path = config.index.dir / LOCK
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            raise IndexLockedError(
                f"another command is writing the index in {config.index.dir}; wait for it to finish and try again"
            ) from exc
        raise
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        clean_leftovers(config.index.dir)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
