"""Ranked Hits → Answer: keep only passages that answer the question, merge neighbours, or abstain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import AnswerConfig
from bot.errors import QuestionError
from bot.models import Answer, Hit, Quote
from bot.retrieve import HybridRetriever
from bot.script import normalize_for_matching
from bot.tokenize import key_terms

ABSTAIN_TEXT = "没有找到相关内容"
ABSTAIN_HINT = "已收录的文章里没有能回答这个问题的段落。可以换个说法，或问与已收录文章相关的问题。"
SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def check_question(question: str | None, max_chars: int) -> str:
    """The stripped question, or QuestionError naming what to fix."""
    text = (question or "").strip()
    if not text:
        raise QuestionError("the question is empty; ask something such as: 青海组建了多少个紧密型县域医共体？")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is {len(text)} characters long; the limit is {max_chars} (answer.max_question_chars)"
        )
    return text


def answer(question: str, retriever: HybridRetriever, config: AnswerConfig, top_k: int = 3, offset: int = 0,
           mode: str | None = None, candidates: int = 30) -> Answer:
    """Quote the passages that answer `question` (ranks offset+1 … offset+top_k), or abstain."""
    question = check_question(question, config.max_question_chars)
    terms = key_terms(question)
    hits = retriever.search(question, max(candidates, offset + top_k), mode=mode)
    relevant = [hit for hit in hits if is_relevant(hit, terms, retriever, config)]
    if not relevant:
        return Answer(question=question, abstained=True, note=ABSTAIN_HINT)
    quotes = merge_quotes(relevant, retriever, config.max_merge_chars)
    return Answer(question=question, quotes=tuple(quotes[offset : offset + top_k]))


def coverage(text: str, terms: list[str], retriever: HybridRetriever) -> float:
    """IDF-weighted share of the question's key terms that occur in `text` (either script)."""
    if not terms:
        return 0.0
    haystack = normalize_for_matching(text)
    weights = [retriever.data.bm25.idf(term) for term in terms]
    found = sum(w for term, w in zip(terms, weights, strict=True) if term in haystack)
    return found / sum(weights)


def is_relevant(hit: Hit, terms: list[str], retriever: HybridRetriever, config: AnswerConfig) -> bool:
    """A passage answers when it shares enough key terms and meaning, or is semantically very close."""
    dense = hit.dense if hit.dense is not None else 1.0
    share = coverage(hit.passage.text, terms, retriever)
    if dense >= config.confident_dense and share >= config.min_coverage / 2:
        return True
    return share >= config.min_coverage and dense >= config.min_dense


@dataclass
class _Span:
    article_id: str
    start: int
    end: int
    score: float
    passage_ids: list[str]


def merge_quotes(hits: list[Hit], retriever: HybridRetriever, max_chars: int) -> list[Quote]:
    """One quote per region of an article: overlapping or touching hits are merged, never shown twice."""
    spans: list[_Span] = []
    for hit in hits:
        p = hit.passage
        neighbour = next((s for s in spans if s.article_id == p.article_id and _touches(s, p.start, p.end)), None)
        if neighbour is None:
            spans.append(_Span(p.article_id, p.start, p.end, hit.score, [p.id]))
        elif max(neighbour.end, p.end) - min(neighbour.start, p.start) <= max_chars:
            neighbour.start, neighbour.end = min(neighbour.start, p.start), max(neighbour.end, p.end)
            neighbour.passage_ids.append(p.id)
        elif _overlaps(neighbour, p.start, p.end):
            continue
        else:
            spans.append(_Span(p.article_id, p.start, p.end, hit.score, [p.id]))
    return [_quote(span, retriever) for span in spans]


def _touches(span: _Span, start: int, end: int) -> bool:
    return start <= span.end + 1 and end >= span.start - 1


def _overlaps(span: _Span, start: int, end: int) -> bool:
    return start < span.end and end > span.start


def _quote(span: _Span, retriever: HybridRetriever) -> Quote:
    article = retriever.data.articles[span.article_id]
    return Quote(
        text=article.text[span.start : span.end],
        title=article.title,
        source=article.source,
        date=article.date,
        url=article.url,
        article_id=article.id,
        score=span.score,
        passage_ids=tuple(span.passage_ids),
    )


def best_sentence(text: str, question: str) -> tuple[int, int] | None:
    """Offsets of the sentence in `text` sharing the most question terms (longer terms count more)."""
    terms = key_terms(question)
    best, best_score = None, 0.0
    position = 0
    for sentence in SENTENCE_END.split(text):
        if sentence.strip():
            normalised = normalize_for_matching(sentence)
            score = sum(len(t) for t in terms if t in normalised)
            if score > best_score:
                stripped = len(sentence) - len(sentence.lstrip())
                best, best_score = (position + stripped, position + len(sentence.rstrip())), score
        position += len(sentence)
    return best
