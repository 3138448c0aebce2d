"""Terminal rendering: every quote is followed by its title, source and date; unknowns are said plainly."""

from bot.models import Answer, Quote
from bot.render_cli import render_json, render_text

QUOTE = Quote("第一句。答案在这里。", "标题", "人民网", "2023-04-14", "http://example.test/a", "a1", 0.81234)


def test_quote_then_metadata_line():
    text = render_text(Answer("问题", (QUOTE,)))
    assert text.index("答案在这里") < text.index("《标题》 · 人民网 · 2023-04-14 · http://example.test/a")


def test_unknown_source_and_date_are_labelled():
    quote = Quote("文字。", "标题", None, None, None, "a2", 0.5)
    assert "《标题》 · 来源不详 · 日期不详" in render_text(Answer("问题", (quote,)))


def test_best_sentence_is_bold_on_a_terminal():
    assert "\033[1m答案在这里。\033[0m" in render_text(Answer("答案在哪里", (QUOTE,)), color=True)


def test_json_rounds_score_and_keeps_unicode():
    assert '"score": 0.8123' in render_json(Answer("问题", (QUOTE,))) and "人民网" in render_json(Answer("问题", (QUOTE,)))
