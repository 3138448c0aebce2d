"""Decoding: UTF-8, GBK/GB2312/GB18030 and Big5 pages read correctly; binary, empty and garbled text refused."""

from __future__ import annotations

import json

import pytest

from bot.corpus import READERS, decode_bytes, load_corpus
from bot.errors import CorpusError

SIMPLIFIED = "青海省卫生健康委介绍，全省持续推进医疗服务能力提升，群众就医更加便捷，朱镕基曾到访。"
TRADITIONAL = "臺灣衛生福利部表示，偏鄉醫療資源持續擴充，民眾就醫更加便利，醫院新增病床三百張。"


def page(text: str, charset: str | None, title: str = "新聞") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<html><head>{meta}<title>{title}</title></head><body><p>{text}</p></body></html>"


def test_utf8_with_and_without_bom():
    data = page(SIMPLIFIED, "utf-8").encode("utf-8")
    assert SIMPLIFIED in decode_bytes(data)
    assert SIMPLIFIED in decode_bytes(b"\xef\xbb\xbf" + data)


@pytest.mark.parametrize("declared", ["gbk", "gb2312", "GB18030", None])
def test_gbk_page_decodes_whatever_it_declares(declared):
    # 镕 is outside GB2312: a page labelled gb2312 is read with its superset GB18030.
    assert SIMPLIFIED in decode_bytes(page(SIMPLIFIED, declared).encode("gbk"))


@pytest.mark.parametrize("declared", ["big5", None, "gb2312"])
def test_big5_page_decodes_even_when_mislabelled(declared):
    assert TRADITIONAL in decode_bytes(page(TRADITIONAL, declared).encode("big5"))


def test_http_header_charset_is_honoured():
    assert SIMPLIFIED in decode_bytes(SIMPLIFIED.encode("gb18030"), declared="GBK")


def test_utf8_page_once_read_as_latin1_is_repaired():
    mangled = SIMPLIFIED.encode("utf-8").decode("latin-1").encode("utf-8")
    assert decode_bytes(mangled) == SIMPLIFIED


def test_mojibake_never_gets_through():
    # Big5 bytes read as GBK and saved as UTF-8: valid UTF-8, but not Chinese anyone wrote.
    garbled = TRADITIONAL.encode("big5").decode("gbk", errors="replace").encode("utf-8")
    with pytest.raises(CorpusError, match="garbled"):
        decode_bytes(garbled)


def test_binary_and_empty_files_are_refused():
    with pytest.raises(CorpusError, match="binary file"):
        decode_bytes(bytes(range(256)) * 8)
    with pytest.raises(CorpusError, match="empty file"):
        decode_bytes(b" \n\t ")


def test_every_format_has_a_reader():
    assert {".txt", ".html", ".htm", ".json", ".jsonl"} <= set(READERS)


def test_load_corpus_reads_every_format_and_keeps_one_copy_of_a_story(tmp_path):
    body = "西宁市新建的三座图书馆将于八月正式开放，共藏书四十二万册，市民可凭身份证免费借阅图书。"
    (tmp_path / "a.json").write_text(json.dumps({"title": "西宁新建三座图书馆", "date": "2025-07-01",
                                                 "source": "西宁晚报", "text": body}, ensure_ascii=False))
    (tmp_path / "b.jsonl").write_text(json.dumps({"title": "西宁三座图书馆八月开放", "source": "青海日报",
                                                  "text": body}, ensure_ascii=False) + "\n{broken\n")
    (tmp_path / "c.html").write_bytes(page(TRADITIONAL, "big5").encode("big5"))
    (tmp_path / ".hidden.txt").write_text(SIMPLIFIED)
    articles = {a.title: a for a in load_corpus(tmp_path)}
    assert len(articles) == 2
    library = articles["西宁新建三座图书馆"]
    assert library.source == "西宁晚报" and library.also_reported_by == ("青海日报",)
    assert any(TRADITIONAL in a.text for a in articles.values())


def test_missing_or_empty_corpus_says_what_to_do(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="index add"):
        load_corpus(tmp_path)
