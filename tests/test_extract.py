"""HTML pages and JSON records → Articles: main text, title, date in its common forms, credited source."""

from __future__ import annotations

import json

import pytest

from bot.clean import NoArticleError
from bot.errors import CorpusError
from bot.extract import article_record, html_article, json_entries, jsonl_entries, record_article

BODY = ("新华社西宁6月20日电，青海省卫生健康委介绍，全省持续推进医疗服务能力提升，群众就医更加便捷，"
        "基层医疗机构诊疗量同比增长百分之十二。",
        "据介绍，青海省已建成国家区域医疗中心两家，平移新技术七十七项，填补省内空白四十五项，有效减少了患者跨省就医。")


def news_page(head: str = "", info: str = "", site: str = "海东时报网") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return (f'<html><head><meta charset="utf-8"><title>青海推进医疗服务能力提升 - {site}</title>'
            f'<meta property="og:site_name" content="{site}">{head}</head><body>'
            '<div class="nav"><a href="/">首页</a> <a href="/gn">国内</a> <a href="/gj">国际</a></div>'
            f'<h1>青海推进医疗服务能力提升</h1><div class="info">{info}</div>'
            f'<div class="content">{paragraphs}</div>'
            f'<div class="footer">版权所有：{site} ICP备12345号</div><script>var x = "2019-01-01";</script>'
            "</body></html>")


def test_html_main_text_title_and_meta_tag_date():
    head = '<meta property="article:published_time" content="2025-06-21T08:00:00+08:00">'
    article = html_article(news_page(head=head), origin="a.html")
    assert article.body == BODY
    assert article.title == "青海推进医疗服务能力提升"
    assert article.date == "2025-06-21"
    assert "首页" not in article.text and "版权所有" not in article.text


@pytest.mark.parametrize("info", ["发布时间：2025-06-20 08:05", "2025年6月20日 10:30", "日期: 2025/6/20"])
def test_html_dates_in_the_page_text(info):
    assert html_article(news_page(info=info)).date == "2025-06-20"


def test_html_credited_source_is_the_original_outlet():
    article = html_article(news_page(info="2025-06-20 来源：新华社"))
    assert article.source == "新华社"
    assert article.also_reported_by == ("海东时报网",)


def test_html_without_credit_is_sourced_to_its_site_and_may_lack_a_date():
    article = html_article(news_page())
    assert article.source == "海东时报网" and article.also_reported_by == ()
    assert article.date is None


def test_html_with_no_article_is_refused():
    menu = "<html><body><ul>" + "".join(f"<li><a href='/{i}'>栏目{i}</a></li>" for i in range(30)) + "</ul></body></html>"
    with pytest.raises(NoArticleError):
        html_article(menu)


def test_json_record_fields():
    record = {"title": "西宁新建三座图书馆", "date": "2025年7月1日", "source": "西宁晚报",
              "url": "https://example.com/lib", "text": "西宁市新建三座图书馆。\n\n将于八月开放。"}
    (entry,) = json_entries(json.dumps(record, ensure_ascii=False), "lib.json")
    article = entry.article
    assert (article.title, article.date, article.source, article.url) == (
        "西宁新建三座图书馆", "2025-07-01", "西宁晚报", "https://example.com/lib")
    assert article.body == ("西宁市新建三座图书馆。", "将于八月开放。")
    assert record_article(article_record(article), origin="lib.json") == article


def test_jsonl_malformed_line_is_rejected_alone():
    good = json.dumps({"title": "标题", "text": "正文内容一段。"}, ensure_ascii=False)
    entries = jsonl_entries(f"{good}\n{{not json\n\n[1, 2]\n", "feed.jsonl")
    assert [e.label for e in entries] == ["feed.jsonl:1", "feed.jsonl:2", "feed.jsonl:4"]
    assert entries[0].article is not None and entries[0].article.date is None
    assert "malformed JSON on line 2" in entries[1].error
    assert "JSON object" in entries[2].error


def test_record_without_text_and_malformed_json_file():
    (entry,) = json_entries('{"title": "只有标题"}', "t.json")
    assert entry.error == 'record has no "text"'
    with pytest.raises(CorpusError, match="malformed JSON"):
        json_entries("{oops", "bad.json")
