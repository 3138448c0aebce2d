"""Articles are split into verbatim passages of about 80–300 characters that end on sentence ends."""

from __future__ import annotations

from bot.clean import clean_page
from bot.models import Article
from bot.passages import split_passages, unique_passages
from tests.conftest import SEEDS


def _seed_articles() -> list[Article]:
    return [clean_page(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]


def test_passages_are_verbatim_slices_with_offsets_and_positions():
    for article in _seed_articles():
        passages = split_passages(article)
        assert [p.position for p in passages] == list(range(len(passages)))
        for p in passages:
            assert article.text[p.start : p.end] == p.text
            assert p.article_id == article.id


def test_passages_cover_the_whole_body_once():
    for article in _seed_articles():
        joined = "".join(p.text for p in split_passages(article))
        assert joined.replace("\n", "") == article.text.replace("\n", "")


def test_passage_sizes_and_sentence_ends():
    for article in _seed_articles():
        passages = split_passages(article, min_chars=80, max_chars=300)
        for p in passages:
            assert len(p.text) <= 300
            at_paragraph_end = article.text[p.end : p.end + 1] in ("", "\n")
            assert p.text[-1] in "。！？；!?;”" or at_paragraph_end, p.text[-10:]
        assert all(len(p.text) >= 80 for p in passages[:-1]) or len(passages) == 1


def test_long_sentence_without_punctuation_is_cut_within_limit():
    body = ("县域医共体建设" * 120) + "。"
    article = Article("x", "t", None, None, None, None, (body,))
    passages = split_passages(article, 80, 300)
    assert len(passages) > 1 and all(len(p.text) <= 300 for p in passages)
    assert "".join(p.text for p in passages) == body


def test_identical_passages_are_stored_once():
    a = Article("a", "t", None, None, None, None, ("同一段落的文字在两篇文章里出现。" * 6,))
    b = Article("b", "t", None, None, None, None, ("同一段落的文字在两篇文章里出現。" * 6,))  # traditional variant
    merged = unique_passages(split_passages(a) + split_passages(b))
    assert len(merged) == 1 and merged[0].article_id == "a"


def test_passages_never_span_two_articles():
    for article in _seed_articles():
        assert {p.article_id for p in split_passages(article)} == {article.id}
