"""New Article → new, duplicate or syndicated copy: exact url/text matches, then MinHash on the normalised body."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from bot.models import Article
from bot.script import normalize_for_matching

logger = logging.getLogger(__name__)

SHINGLE = 5
PERMUTATIONS = 128
SYNDICATED_SIMILARITY = 0.7  # estimated Jaccard of 5-character shingles; reworded stories score far lower
_RNG = np.random.default_rng(20250620)
_MUL = _RNG.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_ADD = _RNG.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)


@dataclass(frozen=True)
class Verdict:
    """What to do with an article: `new` (index it), `duplicate` or `syndicated` (skip; `kept` is updated)."""

    status: str
    kept: Article
    reason: str = ""


def normalised_body(article: Article) -> str:
    """The body in simplified script, width-folded, lower case, with spaces and punctuation removed."""
    return re.sub(r"[\W_]+", "", normalize_for_matching(article.text))


def url_key(url: str | None) -> str | None:
    """A url without fragment, default ports and trailing slash, with scheme and host lower-cased."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    return urlunsplit(("http" if parts.scheme in ("http", "https") else parts.scheme, host,
                       parts.path.rstrip("/") or "/", parts.query, ""))


def minhash(text: str) -> np.ndarray:
    """A MinHash signature of the text's 5-character shingles (PERMUTATIONS unsigned 64-bit values)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = min(SHINGLE, len(codes)) or 1
    count = max(len(codes) - width + 1, 1)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(width):
            hashes = hashes * np.uint64(1_000_003) + (codes[offset : offset + count] if len(codes) else 0)
        mixed = _mix(np.unique(hashes))
        return (np.multiply.outer(mixed, _MUL) + _ADD).min(axis=0)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads similar shingle hashes over all 64 bits."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def merge_syndicated(kept: Article, copy: Article) -> Article:
    """The kept article with the copy's outlets recorded as also reporting it (the original outlet stays source)."""
    source = kept.source or copy.source
    outlets = [*kept.also_reported_by, copy.source, *copy.also_reported_by]
    seen = {normalize_for_matching(source)} if source else set()
    also: list[str] = []
    for outlet in outlets:
        if outlet and normalize_for_matching(outlet) not in seen:
            seen.add(normalize_for_matching(outlet))
            also.append(outlet)
    return dataclasses.replace(kept, source=source, also_reported_by=tuple(also),
                               date=kept.date or copy.date, url=kept.url or copy.url)


class Deduplicator:
    """Known articles, looked up by url, normalised text and MinHash signature."""

    def __init__(self, articles: Iterable[Article] = ()):
        self.articles: dict[str, Article] = {}
        self._by_url: dict[str, str] = {}
        self._by_text: dict[str, str] = {}
        self._ids: list[str] = []
        self._signatures = np.zeros((64, PERMUTATIONS), dtype=np.uint64)
        for article in articles:
            self.add(article)

    def add(self, article: Article) -> None:
        """Remember an article as indexed."""
        body = normalised_body(article)
        self.articles[article.id] = article
        if url_key(article.url):
            self._by_url.setdefault(url_key(article.url), article.id)
        self._by_text.setdefault(hashlib.sha1(body.encode("utf-8")).hexdigest(), article.id)
        if len(self._ids) == len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
        self._signatures[len(self._ids)] = minhash(body)
        self._ids.append(article.id)

    def check(self, article: Article) -> Verdict:
        """Whether the article is new, a repeat of a known one, or a syndicated copy of one."""
        if article.id in self.articles:
            return Verdict("duplicate", self.articles[article.id], f"same text as {article.id}")
        by_url = self._by_url.get(url_key(article.url) or "")
        if by_url:
            return Verdict("duplicate", self.articles[by_url], f"same url as {by_url}")
        body = normalised_body(article)
        match = self._by_text.get(hashlib.sha1(body.encode("utf-8")).hexdigest()) or self._nearest(body)
        if match is None:
            return Verdict("new", article)
        kept = self.articles[match]
        merged = merge_syndicated(kept, article)
        if merged == kept:
            return Verdict("duplicate", kept, f"same story as {kept.id}")
        return Verdict("syndicated", merged, f"syndicated copy of {kept.id}")

    def admit(self, article: Article) -> Verdict:
        """Check an article and record the outcome: a new one is added, a copy updates the one kept."""
        verdict = self.check(article)
        if verdict.status == "new":
            self.add(article)
        elif verdict.status == "syndicated":
            self.articles[verdict.kept.id] = verdict.kept
        return verdict

    def _nearest(self, body: str) -> str | None:
        if not self._ids:
            return None
        similarity = (self._signatures[: len(self._ids)] == minhash(body)).mean(axis=1)
        best = int(similarity.argmax())
        logger.debug("nearest known article %s at estimated similarity %.2f", self._ids[best], similarity[best])
        return self._ids[best] if similarity[best] >= SYNDICATED_SIMILARITY else None
