"""Fusion of BM25 and dense scores for one query's candidates into one ranking score."""

from __future__ import annotations

import numpy as np


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
