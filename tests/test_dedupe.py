"""Duplicates and syndicated copies: the same story from another site is recognised and never indexed twice."""

from __future__ import annotations

import dataclasses

import numpy as np

from bot.corpus import read_txt
from bot.dedupe import Deduplicator, merge_syndicated, minhash, url_key
from bot.extract import html_article
from tests.conftest import SEEDS

SEED = SEEDS / "001_b7a1d6505b067d20.txt"  # 江蘇深化醫療援青結碩果…, 青海新聞網


def syndicated_page(body: tuple[str, ...]) -> str:
    """The seed story republished by another site: its own menus, title style, credit line and footer."""
    paragraphs = "".join(f"<p>{p}</p>" for p in body[:-1])  # the copy drops the closing paragraph
    return ('<html><head><meta charset="utf-8"><title>江苏医疗援青结硕果_海东时报网</title>'
            '<meta property="og:site_name" content="海东时报网"></head><body>'
            '<ul class="menu"><li>首页</li><li>时政</li><li>社会</li><li>财经</li></ul>'
            "<h1>江苏医疗援青结硕果</h1><p>2025-06-21 09:12 来源：青海新闻网 作者：陈郁</p>"
            f'<div class="article">{paragraphs}</div>'
            "<p>责任编辑：李四</p><p>推荐阅读：西宁今夏气温偏高</p><footer>版权所有：海东时报网</footer></body></html>")


def test_syndicated_copy_keeps_the_original_source_and_records_the_other_outlet():
    (original,) = read_txt(SEED)
    copy = html_article(syndicated_page(original.body), url="https://haidong.example/1.html")
    assert copy.id != original.id
    dedupe = Deduplicator([original])
    verdict = dedupe.admit(copy)
    assert verdict.status == "syndicated" and verdict.kept.id == original.id
    assert verdict.kept.source == "青海新聞網"
    assert verdict.kept.also_reported_by == ("海东时报网",)
    assert dedupe.articles[original.id].also_reported_by == ("海东时报网",) and len(dedupe.articles) == 1
    assert dedupe.check(copy).status == "duplicate"  # a second time it brings nothing new


def test_exact_duplicates_by_text_and_by_url():
    (original,) = read_txt(SEED)
    dedupe = Deduplicator([dataclasses.replace(original, url="https://www.qhnews.com/a/1.html#top")])
    assert dedupe.check(original).status == "duplicate"
    other = dataclasses.replace(original, id="x", body=("完全不同的一篇报道。",), url="http://WWW.qhnews.com/a/1.html/")
    verdict = dedupe.check(other)
    assert verdict.status == "duplicate" and "same url" in verdict.reason


def test_different_stories_are_new():
    articles = [a for path in sorted(SEEDS.glob("*.txt")) for a in read_txt(path)]
    dedupe = Deduplicator()
    assert [dedupe.admit(a).status for a in articles] == ["new"] * len(articles)


def test_minhash_estimates_similarity():
    text = "青海省卫生健康委介绍，全省持续推进医疗服务能力提升，群众就医更加便捷。" * 3
    same = minhash(text) == minhash(text + "责任编辑")
    other = minhash(text) == minhash("江苏省援青医疗队在西宁开展义诊活动，受到当地群众欢迎。" * 3)
    assert np.mean(same) > 0.8 and np.mean(other) < 0.2
    assert minhash("").shape == minhash("短").shape


def test_merge_never_lists_the_source_as_also_reporting():
    (original,) = read_txt(SEED)
    copy = dataclasses.replace(original, source="青海新闻网", also_reported_by=("人民网", "海东时报网"))
    merged = merge_syndicated(dataclasses.replace(original, also_reported_by=("人民网",)), copy)
    assert merged.source == "青海新聞網" and merged.also_reported_by == ("人民网", "海东时报网")


def test_url_key_ignores_fragment_scheme_and_trailing_slash():
    assert url_key("https://News.example.com/a/?id=1#c") == url_key("http://news.example.com/a?id=1")
    assert url_key(None) is None
