"""Chinese script normalisation: traditional → simplified (OpenCC t2s) for matching, never for quoting."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified ones; other text passes through unchanged."""
    return _converter().convert(text) if text else text


def normalize_for_matching(text: str) -> str:
    """Simplified script, NFKC width folding (full-width digits and punctuation) and lower case."""
    return unicodedata.normalize("NFKC", to_simplified(text)).lower()
