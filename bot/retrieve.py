"""Question → ranked Hits: BM25 and dense candidates, scored by both retrievers and fused."""

from __future__ import annotations

import logging

import numpy as np

from bot.bm25 import top_k
from bot.config import RetrievalConfig
from bot.embed import Embedder
from bot.fusion import Candidates, create_fusion
from bot.models import Hit
from bot.store import IndexData
from bot.tokenize import tokenize

logger = logging.getLogger(__name__)

MODES = ("bm25", "dense", "hybrid")


class HybridRetriever:
    """Ranks passages by BM25, dense similarity or their fusion; every hit carries both raw scores."""

    def __init__(self, data: IndexData, embedder: Embedder | None, config: RetrievalConfig):
        self.data = data
        self.embedder = embedder
        self.config = config
        self.fusion = create_fusion(config.fusion, config.bm25_weight, config.dense_weight)

    def search(self, query: str, k: int, mode: str | None = None) -> list[Hit]:
        """The k best passages for the query."""
        mode = mode or self.config.mode
        bm25_all = self.data.bm25.scores(tokenize(query))
        query_vector = self.embedder.encode([query])[0] if self.embedder is not None else None
        rows = self._candidates(bm25_all, query_vector, mode, k)
        if len(rows) == 0:
            return []
        bm25 = bm25_all[rows]
        dense = self.data.dense.vectors(rows) @ query_vector if query_vector is not None else None
        order_scores = self._rank_scores(query, rows, bm25, dense, mode)
        order = np.argsort(-order_scores, kind="stable")[:k]
        return [
            Hit(
                passage=self.data.passages[int(rows[i])],
                score=float(order_scores[i]),
                bm25=float(bm25[i]),
                dense=float(dense[i]) if dense is not None else None,
            )
            for i in order
        ]

    def _candidates(self, bm25_all: np.ndarray, query_vector: np.ndarray | None, mode: str, k: int) -> np.ndarray:
        n = max(self.config.candidates, k)
        parts = []
        if mode in ("bm25", "hybrid") or query_vector is None:
            parts.append(top_k(bm25_all, n))
        if mode in ("dense", "hybrid") and query_vector is not None:
            _, ids = self.data.dense.search(query_vector[None, :], n)
            parts.append(ids[0][ids[0] >= 0])
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _rank_scores(self, query: str, rows: np.ndarray, bm25: np.ndarray, dense: np.ndarray | None,
                     mode: str) -> np.ndarray:
        if mode == "bm25" or dense is None:
            return bm25
        if mode == "dense":
            return dense
        texts = [self.data.passages[int(i)].text for i in rows] if self.fusion.needs_text else []
        return self.fusion.scores(Candidates(query, texts, bm25, dense))
