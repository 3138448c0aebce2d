"""Answer → Telegram HTML: escaping, blockquotes, bold best sentence, 4096-character messages, lists."""

from __future__ import annotations

from fake_bot_api import utf16_length, visible_text

from bot.answer import ABSTAIN_HINT, ABSTAIN_TEXT
from bot.models import Answer, Article, Quote
from bot.render_telegram import (
    HELP_TEXT,
    MAX_MESSAGE_CHARS,
    page_count,
    render_about,
    render_answer,
    render_sources,
    render_start,
    reply_text,
    sort_newest_first,
)

QUESTION = "江苏通过师徒结对培养了多少科室接班人？"
PASSAGE = "江苏累计派出专家1200余人次。通过师徒结对，为青海培养了200余名科室接班人。群众就医更便捷。"


def quote(
    text: str = PASSAGE,
    title: str = "江蘇深化醫療援青結碩果",
    source: str | None = "青海新聞網",
    date: str | None = "2025-06-20",
    url: str | None = None,
) -> Quote:
    return Quote(text, title, source, date, url, "a1", 1.0, ("p1",))


def article(title: str, date: str | None, source: str | None = "人民网") -> Article:
    return Article(id=title, title=title, date=date, source=source, author=None, url=None, body=("正文。",))


def assert_valid(messages: list[str]) -> None:
    """Every message parses as Telegram HTML and fits the limit."""
    for message in messages:
        assert len(message) <= MAX_MESSAGE_CHARS
        assert utf16_length(visible_text(message)) <= MAX_MESSAGE_CHARS


def test_quote_has_title_source_date_and_blockquote_with_bold_best_sentence():
    (message,) = render_answer(Answer(QUESTION, (quote(),)))
    assert message.startswith("<b>1. 江蘇深化醫療援青結碩果</b>\n青海新聞網 · 2025-06-20\n<blockquote>")
    assert "<b>通过师徒结对，为青海培养了200余名科室接班人。</b>" in message
    assert visible_text(message).endswith(PASSAGE)


def test_corpus_text_is_escaped_everywhere():
    bad = quote(text="A<b>&B 的 <script>。", title="<i>标题&", source="来源<>", url='https://x.cn/?a=1&b="2"')
    (message,) = render_answer(Answer("什么", (bad,)))
    assert_valid([message])
    assert "&lt;i&gt;标题&amp;" in message and "来源&lt;&gt;" in message and "&lt;script&gt;" in message
    assert '<a href="https://x.cn/?a=1&amp;b=&quot;2&quot;">' in message
    assert visible_text(message).endswith("A<b>&B 的 <script>。")


def test_link_only_for_web_addresses_and_unknown_metadata_is_named():
    (message,) = render_answer(Answer(QUESTION, (quote(source=None, date=None, url="javascript:alert(1)"),)))
    assert "<a " not in message and "来源不详 · 日期不详" in message
    (linked,) = render_answer(Answer(QUESTION, (quote(url="https://www.qhnews.com/a.html"),)))
    assert '<a href="https://www.qhnews.com/a.html">青海新聞網</a> · 2025-06-20' in linked


def test_long_answers_split_between_passages_and_lose_nothing():
    quotes = tuple(quote(text=f"第{i}段。" + "医疗资源下沉基层。" * 150, title=f"标题{i}") for i in range(6))
    messages = render_answer(Answer(QUESTION, quotes))
    assert len(messages) > 1
    assert_valid(messages)
    for message in messages:
        assert message.count("<blockquote>") == message.count("</blockquote>")
    shown = "".join(visible_text(m) for m in messages)
    assert all(q.text in shown and q.title in shown for q in quotes)


def test_a_single_huge_passage_is_cut_into_valid_messages():
    no_punctuation = "医" * 5000
    text = "医疗&援助<合作>。" * 800 + no_punctuation
    messages = render_answer(Answer("医疗", (quote(text=text),)))
    assert len(messages) > 2
    assert_valid(messages)
    pieces = [visible_text(m) for m in messages]
    pieces[0] = pieces[0].split("\n", 2)[2]
    assert "".join(pieces) == text


def test_numbering_continues_on_later_pages_and_notice_comes_first():
    (message,) = render_answer(Answer(QUESTION, (quote(),)), notice="问题超过 1000 字", first_number=4)
    assert message.startswith("<i>问题超过 1000 字</i>\n\n<b>4. ")


def test_abstention_gives_the_text_and_hint_not_a_passage():
    (message,) = render_answer(Answer("红烧肉怎么做", abstained=True, note=ABSTAIN_HINT))
    assert message == f"<b>{ABSTAIN_TEXT}</b>\n{ABSTAIN_HINT}"


def test_sources_are_newest_first_with_undated_last_and_paginated():
    articles = sort_newest_first(
        [article("旧", "2023-01-01"), article("无日期", None), article("新", "2025-01-01")]
    )
    assert [a.title for a in articles] == ["新", "旧", "无日期"]
    first = render_sources(articles, 0, per_page=2)
    assert "已收录 3 篇文章" in first and "第 1/2 页" in first
    assert "1. <b>新</b>\n人民网 · 2025-01-01" in first and "无日期" not in first
    last = render_sources(articles, 9, per_page=2)
    assert "第 2/2 页" in last and "3. <b>无日期</b>\n人民网 · 日期不详" in last
    assert page_count(0) == 1 and page_count(21, 10) == 3


def test_sources_page_fits_one_message_even_with_huge_titles():
    articles = [article("&" * 5000, "2025-01-01", source="<" * 500) for _ in range(10)]
    text = render_sources(articles, 0)
    assert_valid([text])


def test_start_about_help_and_replies_are_valid_html():
    start = render_start(5, ("2023-04-14", "2025-11-01"), ["A<B？", "二？", "三？"])
    assert "5 篇文章，日期从 2023-04-14 到 2025-11-01" in start and "• A&lt;B？" in start
    about = render_about(
        {"articles": 5, "passages": 48, "model": "m3e-small", "built_at": "2026-01-01T00:00:00"}
    )
    assert "文章：5" in about and "段落：48" in about and "模型：m3e-small" in about
    assert_valid([start, about, HELP_TEXT, reply_text("rate_limited", limit=10)])
    assert "/sources" in HELP_TEXT
