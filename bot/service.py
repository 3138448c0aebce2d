"""One loaded question-answering service: config, model and index, shared by the CLI and the bot."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from bot.answer import answer
from bot.config import Config
from bot.corpus import load_corpus
from bot.embed import Embedder
from bot.errors import BotError, IndexMissingError
from bot.models import Answer
from bot.retrieve import HybridRetriever
from bot.store import IndexData, build_index, index_lock, live_generation, load_index, write_index

logger = logging.getLogger(__name__)


def make_embedder(config: Config, device: str | None = None) -> Embedder:
    """The configured embedding model (loaded once per process)."""
    e = config.embedding
    return Embedder(e.model, device or e.device, e.batch_size, e.backend)


def rebuild(config: Config, embedder: Embedder | None = None, progress: bool = True, full: bool = False) -> IndexData:
    """Build the index from the corpus folder and make it live; the old one serves until the switch.

    Without `full`, vectors of passages the live index already holds (same model) are reused.
    """
    with index_lock(config):
        articles = load_corpus(config.corpus.dir)
        embedder = embedder or make_embedder(config)
        previous = None if full else _previous_index(config)
        data = build_index(config, articles, embedder, progress=progress, previous=previous)
        write_index(config, data)
        return data


def _previous_index(config: Config) -> IndexData | None:
    try:
        return load_index(config)
    except BotError as exc:
        logger.info("not reusing the live index: %s", exc)
        return None


@dataclass
class QAService:
    """Holds the live index and answers questions; `reload` swaps in a newer index without a restart."""

    config: Config
    embedder: Embedder
    retriever: HybridRetriever
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, config: Config, auto_build: bool = True, progress: bool = True) -> QAService:
        """Load the index (building it first when there is none) and the embedding model."""
        try:
            data = load_index(config)  # checks the model named in the manifest before loading any model
            embedder = make_embedder(config)
        except IndexMissingError:
            if not auto_build:
                raise
            logger.info("no index yet; building it from %s", config.corpus.dir)
            embedder = make_embedder(config)
            data = rebuild(config, embedder, progress=progress)
        return cls(config, embedder, HybridRetriever(data, embedder, config.retrieval))

    def answer(self, question: str, top_k: int | None = None, offset: int = 0, mode: str | None = None) -> Answer:
        """Answer one question from the live index."""
        retriever = self.retriever  # one consistent index for this question, even if a reload happens meanwhile
        top_k = top_k or self.config.retrieval.top_k
        return answer(question, retriever, self.config.answer, top_k=top_k, offset=offset, mode=mode)

    @property
    def manifest(self) -> dict:
        """The manifest of the index being served."""
        return self.retriever.data.manifest

    def is_stale(self) -> bool:
        """Whether a newer index generation than the one served is live on disk."""
        try:
            return live_generation(self.config) != self.retriever.data.path
        except BotError:
            return False

    def reload(self) -> bool:
        """Swap in the live index if it changed; questions in flight finish on the old one."""
        with self._lock:
            if not self.is_stale():
                return False
            data = load_index(self.config)
            self.retriever = HybridRetriever(data, self.embedder, self.config.retrieval)
            logger.info("swapped to index %s (%d passages)", data.path, len(data.passages))
            return True
