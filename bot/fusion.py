"""One query's candidates (BM25 and dense scores, texts) → one fused ranking score per candidate."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.script import normalize_for_matching

WORD = re.compile(r"[\w%.]+")
NUMBER_OR_LATIN = re.compile(r"[0-9a-z][0-9a-z.%]*")
RRF_K = 60
LONGEST_MATCH_CAP = 12

FEATURES = (
    "bm25_max",  # BM25 / best BM25 among the candidates
    "dense_minmax",  # cosine mapped onto [0, 1] over the candidates
    "dense_gap",  # cosine minus the best cosine (≤ 0); keeps the absolute spread minmax hides
    "bm25_rrf",  # reciprocal rank in the BM25 order
    "dense_rrf",  # reciprocal rank in the dense order
    "agreement",  # bm25_max × dense_minmax: high only where both retrievers like the passage
    "bigram_share",  # share of the question's character bigrams that occur in the passage
    "longest_match",  # longest question substring found verbatim in the passage / 12
    "exact_share",  # share of the question's numbers and Latin words found in the passage
    "rare_bigram_share",  # bigram share weighted by rarity among the candidates (a query-local IDF)
)

# Fitted on CMRC 2018 dev only (listwise softmax regression, benchmarks/fit_fusion.py); DRCD test is held out.
LEARNED_WEIGHTS = dict(zip(FEATURES, (1.86, 5.18, 3.06, 0.88, 2.25, 3.38, 3.89, 4.0, 2.12, 6.07), strict=True))


@dataclass(frozen=True)
class Candidates:
    """One question and the passages both retrievers proposed for it, with their raw scores."""

    question: str
    texts: list[str]
    bm25: np.ndarray
    dense: np.ndarray


class Fusion(ABC):
    """Scores a query's candidates; higher is better."""

    needs_text: bool = False

    @abstractmethod
    def scores(self, candidates: Candidates) -> np.ndarray:
        """One fused score per candidate."""


class WeightedFusion(Fusion):
    """Weighted sum of max-normalised BM25 and min-max-normalised cosine."""

    def __init__(self, bm25_weight: float, dense_weight: float):
        self.bm25_weight, self.dense_weight = bm25_weight, dense_weight

    def scores(self, candidates: Candidates) -> np.ndarray:
        return fuse(candidates.bm25, candidates.dense, self.bm25_weight, self.dense_weight)


class RRFusion(Fusion):
    """Reciprocal-rank fusion with per-retriever weights."""

    def __init__(self, bm25_weight: float, dense_weight: float):
        self.bm25_weight, self.dense_weight = bm25_weight, dense_weight

    def scores(self, candidates: Candidates) -> np.ndarray:
        return self.bm25_weight * reciprocal_rank(candidates.bm25) + self.dense_weight * reciprocal_rank(candidates.dense)


class LearnedFusion(Fusion):
    """A linear score over query-relative features: both retrievers' scores and ranks plus verbatim overlap."""

    needs_text = True

    def __init__(self, weights: dict[str, float] | None = None):
        chosen = weights or LEARNED_WEIGHTS
        self.weights = np.array([chosen[name] for name in FEATURES], dtype=np.float32)

    def scores(self, candidates: Candidates) -> np.ndarray:
        return candidate_features(candidates) @ self.weights


FUSIONS = ("learned", "weighted", "rrf")


def create_fusion(kind: str, bm25_weight: float = 1.0, dense_weight: float = 0.5) -> Fusion:
    """The fusion named in `retrieval.fusion`."""
    if kind == "learned":
        return LearnedFusion()
    if kind == "rrf":
        return RRFusion(bm25_weight, dense_weight)
    if kind == "weighted":
        return WeightedFusion(bm25_weight, dense_weight)
    raise ValueError(f"unknown fusion {kind!r}; use one of {', '.join(FUSIONS)}")


def candidate_features(candidates: Candidates) -> np.ndarray:
    """The FEATURES matrix, one row per candidate."""
    bm25, dense = candidates.bm25.astype(np.float32), candidates.dense.astype(np.float32)
    bm25_max, dense_minmax = normalise_max(bm25), normalise_minmax(dense)
    rows = overlap_features(candidates.question, candidates.texts)
    lexical = np.array([row[:3] for row in rows], dtype=np.float32).reshape(-1, 3)
    return np.column_stack([
        bm25_max, dense_minmax, dense - (dense.max() if len(dense) else 0.0),
        reciprocal_rank(bm25), reciprocal_rank(dense), bm25_max * dense_minmax, lexical,
        rare_share([row[3] for row in rows]),
    ]).astype(np.float32)


def overlap_features(question: str, texts: list[str]) -> list[tuple]:
    """(bigram share, longest verbatim match / 12, number-and-Latin share, bigram presence mask) per text."""
    q = matching_text(question)
    bigrams = sorted({q[i : i + 2] for i in range(len(q) - 1)})
    exact = set(NUMBER_OR_LATIN.findall(q))
    matched = [matching_text(text) for text in texts]
    presence = np.array([[g in t for g in bigrams] for t in matched], dtype=bool).reshape(len(texts), len(bigrams))
    counts = presence.sum(axis=1).tolist()
    return [(
        counts[i] / len(bigrams) if bigrams else 0.0,
        min(longest_match(q, t), LONGEST_MATCH_CAP) / LONGEST_MATCH_CAP,
        sum(w in t for w in exact) / len(exact) if exact else 0.0,
        presence[i],
    ) for i, t in enumerate(matched)]


@lru_cache(maxsize=200_000)
def matching_text(text: str) -> str:
    """Simplified, width-folded, lower-case word characters only; cached because passages recur across queries."""
    return "".join(WORD.findall(normalize_for_matching(text)))


def rare_share(presence: list[np.ndarray]) -> np.ndarray:
    """Share of the question's bigram weight found in each text, a bigram weighing log(1 + n / texts holding it)."""
    matrix = np.vstack(presence) if presence else np.zeros((0, 0), dtype=bool)
    if matrix.size == 0:
        return np.zeros(len(presence), dtype=np.float32)
    weights = np.log1p(len(presence) / np.maximum(matrix.sum(axis=0), 1))
    return (matrix @ weights / weights.sum()).astype(np.float32)


def longest_match(query: str, text: str) -> int:
    """Length of the longest substring of `query` that occurs in `text`."""
    best = 0
    for start in range(len(query)):
        length = best + 1
        while start + length <= len(query) and query[start : start + length] in text:
            best = length
            length += 1
    return best


def reciprocal_rank(scores: np.ndarray) -> np.ndarray:
    """1 / (k + rank) of each score in descending order (k = 60, as in RRF), scaled so rank 1 gets k+1 / k+1."""
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return (RRF_K + 1) / (RRF_K + ranks)


def normalise_max(scores: np.ndarray) -> np.ndarray:
    """Scale so the best candidate scores 1 (BM25 scores are unbounded and query-dependent)."""
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def normalise_minmax(scores: np.ndarray) -> np.ndarray:
    """Map the candidates' range onto [0, 1] (cosine similarities sit in a narrow band)."""
    if len(scores) == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    return (scores - low) / (high - low) if high > low else np.ones_like(scores)


def fuse(bm25: np.ndarray, dense: np.ndarray, bm25_weight: float, dense_weight: float) -> np.ndarray:
    """Weighted sum of normalised scores over the same candidates."""
    return bm25_weight * normalise_max(bm25) + dense_weight * normalise_minmax(dense)
