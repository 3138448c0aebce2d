"""URL fetching against a local http.server: the page bytes and header charset, or one clear reason per URL."""

from __future__ import annotations

import pytest

from bot import fetch
from bot.corpus import decode_bytes
from bot.fetch import FetchError, fetch_url, is_url
from tests.page_server import serve_folder

GBK_TEXT = "朱镕基视察了青海省的医疗中心，听取了工作汇报。"


@pytest.fixture
def site(tmp_path):
    (tmp_path / "news.html").write_text("<html><body><p>新闻正文</p></body></html>", encoding="utf-8")
    (tmp_path / "big.html").write_bytes(b"<p>" + b"x" * 300_000 + b"</p>")
    with serve_folder(tmp_path, gbk_text=GBK_TEXT) as base:
        yield base


def test_fetch_returns_the_page_and_its_type(site):
    fetched = fetch_url(f"{site}/news.html", max_bytes=2**20)
    assert "新闻正文" in fetched.data.decode("utf-8")
    assert fetched.content_type == "text/html" and fetched.suffix == ".html"


def test_header_charset_decodes_a_gbk_page(site):
    fetched = fetch_url(f"{site}/header-gbk", max_bytes=2**20)
    assert fetched.charset == "gbk"
    assert GBK_TEXT in decode_bytes(fetched.data, declared=fetched.charset)


def test_404_names_the_http_status(site):
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_url(f"{site}/missing.html", max_bytes=2**20)


def test_a_slow_server_times_out(site, monkeypatch):
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 0.3)
    with pytest.raises(FetchError, match="timed out after 0.3 s"):
        fetch_url(f"{site}/slow", max_bytes=2**20)


def test_a_page_over_the_size_cap_is_refused(site):
    with pytest.raises(FetchError, match="over the .* MB limit"):
        fetch_url(f"{site}/big.html", max_bytes=100_000)


def test_refused_connection_says_so():
    with pytest.raises(FetchError, match="cannot connect"):
        fetch_url("http://127.0.0.1:9/", max_bytes=2**20, timeout=2)


def test_only_http_urls_are_urls():
    assert is_url("https://example.com/a.html") and is_url("HTTP://x")
    assert not is_url("news/a.html") and not is_url("ftp://x")
