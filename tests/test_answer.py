"""answer() quotes passages that contain the answer, with metadata, and abstains when the corpus has none."""

from __future__ import annotations

import json

import pytest

from bot.answer import ABSTAIN_TEXT, best_sentence, check_question, merge_quotes
from bot.errors import QuestionError
from bot.models import Hit, Passage
from bot.script import to_simplified
from tests.conftest import SHARED

DEV_QUESTIONS = [json.loads(line) for line in (SHARED / "dev_questions.jsonl").read_text().splitlines() if line]
OFF_TOPIC = [
    "北京房价多少钱一平米", "上海二手房价格走势", "深圳的房价会跌吗",
    "红烧肉怎么做", "番茄炒蛋的做法", "糖醋排骨的家常做法",
    "最近有什么好看的电影", "周杰伦的新电影什么时候上映", "推荐一部科幻片",
    "精品视频免费在线观看", "久久精品国产AV", "免费看片网站",
]


@pytest.mark.parametrize("case", [c for c in DEV_QUESTIONS if not c.get("abstain")], ids=lambda c: c["id"])
def test_dev_question_is_answered_with_the_expected_quote_in_top_3(service, case):
    answer = service.answer(case["q"], top_k=3)
    assert not answer.abstained
    quotes = [to_simplified(q.text) for q in answer.quotes]
    assert any(to_simplified(expected) in quote for quote in quotes for expected in case["answers"]), quotes


@pytest.mark.parametrize("question", [c["q"] for c in DEV_QUESTIONS if c.get("abstain")] + OFF_TOPIC)
def test_unrelated_question_abstains(service, question):
    answer = service.answer(question)
    assert answer.abstained and answer.quotes == ()
    assert answer.note


def test_quote_carries_title_source_date_and_verbatim_text(service):
    answer = service.answer("江苏通过师徒结对培养了多少科室接班人？")
    top = answer.quotes[0]
    assert top.title == "江蘇深化醫療援青結碩果 精準幫扶助力青海健康事業邁上新臺階"
    assert (top.source, top.date) == ("青海新聞網", "2025-06-20")
    assert "通過“師徒結對”培養200余名科室接班人" in top.text  # original traditional script, not converted
    article = service.retriever.data.articles[top.article_id]
    assert top.text in article.text


def test_no_two_quotes_overlap_in_one_article(service):
    for case in DEV_QUESTIONS:
        quotes = service.answer(case["q"], top_k=10).quotes
        by_article: dict[str, list[str]] = {}
        for q in quotes:
            by_article.setdefault(q.article_id, []).append(q.text)
        for texts in by_article.values():
            for i, a in enumerate(texts):
                for b in texts[i + 1 :]:
                    assert a not in b and b not in a


def test_touching_passages_of_one_article_are_merged(service):
    data = service.retriever.data
    first, second = [p for p in data.passages if p.article_id == data.passages[0].article_id][:2]
    hits = [Hit(first, 1.0), Hit(second, 0.9)]
    quotes = merge_quotes(hits, service.retriever, max_chars=2000)
    assert len(quotes) == 1
    assert first.text in quotes[0].text and second.text in quotes[0].text
    assert quotes[0].passage_ids == (first.id, second.id)


def test_overlapping_passages_are_never_both_shown(service):
    data = service.retriever.data
    p = data.passages[0]
    overlapping = Passage("other", p.article_id, 99, p.start + 5, p.end + 5, "x")
    quotes = merge_quotes([Hit(p, 1.0), Hit(overlapping, 0.5)], service.retriever, max_chars=10)
    assert len(quotes) == 1 and quotes[0].text == p.text


def test_more_results_are_the_next_ranks(service):
    question = "县域医共体建设"
    first = service.answer(question, top_k=2)
    more = service.answer(question, top_k=2, offset=2)
    assert first.quotes and more.quotes
    assert not {q.text for q in first.quotes} & {q.text for q in more.quotes}


def test_best_sentence_points_at_the_answer():
    text = "第一句讲别的事情。江苏组织“江苏专家青海行”150批1100余人次。最后一句。"
    start, end = best_sentence(text, "江苏专家青海行一共组织了多少批")
    assert text[start:end] == "江苏组织“江苏专家青海行”150批1100余人次。"


@pytest.mark.parametrize("question", ["", "   ", None])
def test_empty_question_is_refused(question):
    with pytest.raises(QuestionError, match="empty"):
        check_question(question, 1000)


def test_overlong_question_is_refused():
    with pytest.raises(QuestionError, match="5000 characters long; the limit is 1000"):
        check_question("医" * 5000, 1000)


def test_abstention_text_is_explicit(service):
    from bot.render_cli import render_text

    assert render_text(service.answer("红烧肉怎么做")).startswith(ABSTAIN_TEXT)
