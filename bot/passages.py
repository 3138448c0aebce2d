"""Article → Passages: sentences packed into spans of about min..max characters, with body offsets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from bot.models import Article, Passage
from bot.script import to_simplified

SENTENCE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』)）\"']*|\n|$)")
CLAUSE = re.compile(r"[^，,、：:]*[，,、：:]?")


def split_passages(article: Article, min_chars: int = 80, max_chars: int = 300) -> list[Passage]:
    """Split an article body into passages that end on sentence ends and keep their character offsets."""
    text = article.text
    spans = _pack(_pieces(text, max_chars), min_chars, max_chars, text)
    passages = []
    for position, (start, end) in enumerate(spans):
        start, end = _trim(text, start, end)
        passages.append(
            Passage(
                id=passage_id(text[start:end]),
                article_id=article.id,
                position=position,
                start=start,
                end=end,
                text=text[start:end],
            )
        )
    return passages


def passage_id(text: str) -> str:
    """Identical passage text (in either script) gets the same id, so it is stored once."""
    normalised = re.sub(r"\s+", "", to_simplified(text))
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()[:16]


def unique_passages(passages: Iterable[Passage]) -> list[Passage]:
    """Drop passages whose text was already seen, keeping the first."""
    seen: set[str] = set()
    kept = []
    for passage in passages:
        if passage.id not in seen:
            seen.add(passage.id)
            kept.append(passage)
    return kept


def _pieces(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Sentence spans; a sentence longer than max_chars is cut on clause marks, then hard."""
    pieces = []
    for match in SENTENCE.finditer(text):
        start, end = match.span()
        if end == start or not text[start:end].strip():
            continue
        if end - start <= max_chars:
            pieces.append((start, end))
        else:
            pieces.extend(_cut_long(text, start, end, max_chars))
    return pieces


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    clauses = [(start + m.start(), start + m.end()) for m in CLAUSE.finditer(text[start:end]) if m.end() > m.start()]
    out: list[tuple[int, int]] = []
    for c_start, c_end in clauses:
        for s in range(c_start, c_end, max_chars):
            out.append((s, min(s + max_chars, c_end)))
    return _pack(out, max_chars // 2, max_chars, text)


def _pack(pieces: list[tuple[int, int]], min_chars: int, max_chars: int, text: str) -> list[tuple[int, int]]:
    """Greedy packing: fill a passage up to max_chars inside a paragraph; cross a paragraph end only while short."""
    spans: list[tuple[int, int]] = []
    for start, end in pieces:
        if spans and end - spans[-1][0] <= max_chars:
            short = spans[-1][1] - spans[-1][0] < min_chars
            same_paragraph = "\n" not in text[spans[-1][0] : start].rstrip(" ") and not text[: spans[-1][1]].endswith("\n")
            if short or same_paragraph:
                spans[-1] = (spans[-1][0], end)
                continue
        spans.append((start, end))
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < min_chars and spans[-1][1] - spans[-2][0] <= max_chars:
        spans[-2:] = [(spans[-2][0], spans[-1][1])]
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
