"""Sparse retrieval: BM25 over jieba tokens (bm25s), with document frequencies for answer checks."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import bm25s
import numpy as np

from bot.errors import IndexCorruptError

# bm25s pins its logger to DEBUG on import; let it inherit whatever level the application configured.
logging.getLogger("bm25s").setLevel(logging.NOTSET)


class BM25Index:
    """BM25 over pre-tokenised passages; row i is passage i."""

    def __init__(self, retriever: bm25s.BM25, doc_freq: dict[str, int], size: int):
        self._retriever = retriever
        self.doc_freq = doc_freq
        self.size = size

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> BM25Index:
        """Index token lists (one per passage)."""
        retriever = bm25s.BM25()
        # An empty passage would make bm25s drop the row and shift ids; a placeholder keeps rows aligned.
        retriever.index([tokens or ["\u2205"] for tokens in token_lists], show_progress=False)
        doc_freq: dict[str, int] = {}
        for tokens in token_lists:
            for token in set(tokens):
                doc_freq[token] = doc_freq.get(token, 0) + 1
        return cls(retriever, doc_freq, len(token_lists))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query (unknown terms score nothing)."""
        if not query_tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(query_tokens), dtype=np.float32)

    def idf(self, term: str) -> float:
        """Inverse document frequency; a term no passage holds gets the highest weight."""
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def save(self, folder: Path) -> None:
        """Write the index and document frequencies into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(folder))
        (folder / "doc_freq.json").write_text(json.dumps({"size": self.size, "df": self.doc_freq}, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """Read an index written by `save`."""
        try:
            meta = json.loads((folder / "doc_freq.json").read_text(encoding="utf-8"))
            retriever = bm25s.BM25.load(str(folder))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(
                f"BM25 index in {folder} is missing or corrupt; run `python -m bot index build --full`"
            ) from exc
        return cls(retriever, meta["df"], int(meta["size"]))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Row ids of the k highest positive scores, best first."""
    # Most passages share no term with the question; partitioning only the scored ones is far cheaper at 1M rows.
    positive = np.flatnonzero(scores > 0)
    k = min(k, len(positive))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    top = positive[np.argpartition(-scores[positive], k - 1)[:k]] if k < len(positive) else positive
    return top[np.argsort(-scores[top], kind="stable")]
