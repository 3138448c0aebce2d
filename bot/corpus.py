"""Corpus files → Articles: detect the encoding, decode, pick the reader by suffix, drop repeats."""

from __future__ import annotations

import codecs
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from bot.clean import clean_page
from bot.errors import BotError, CorpusError
from bot.extract import Entry, html_entries, json_entries, jsonl_entries
from bot.models import Article
from bot.script import to_simplified

logger = logging.getLogger(__name__)

# Declared legacy charsets are read with their supersets: GB2312 ⊂ GBK ⊂ GB18030, Big5 ⊂ CP950/Big5-HKSCS.
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "cp950", "cp950": "cp950",
             "big5hkscs": "big5hkscs"}
CHINESE_CODECS = ("gb18030", "cp950", "big5hkscs")
META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]{2,20})""", re.IGNORECASE)
XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,100}encoding\s*=\s*["']([a-zA-Z0-9_\-]{2,20})""")
MIN_JUDGED_CJK = 10
MIN_COMMON_SHARE = 0.85  # real text scores ≥ 0.94 on CMRC/DRCD; Big5 read as GBK scores ≤ 0.67
BINARY_SAMPLE = 8192


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode page bytes: BOM, UTF-8, the declared or <meta> charset, else the likeliest Chinese encoding."""
    data = _strip_utf8_bom(data)
    if not data.strip():
        raise CorpusError("empty file")
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return _checked(data.decode("utf-16"))
    if b"\x00" in data[:BINARY_SAMPLE]:
        raise CorpusError("binary file, not a text page (give .html, .txt, .json or .jsonl)")
    try:
        return _checked(repair_mojibake(data.decode("utf-8")))
    except UnicodeDecodeError:
        pass
    return _checked(_decode_legacy(data, declared))


def _strip_utf8_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(codecs.BOM_UTF8) else data


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in <meta charset>, <meta http-equiv> or an XML declaration."""
    match = META_CHARSET.search(data[:4096]) or XML_ENCODING.search(data[:200])
    return match[1].decode("ascii").lower() if match else None


def _decode_legacy(data: bytes, declared: str | None) -> str:
    """Try the declared charsets, then GB18030 and Big5; keep the decoding that reads as Chinese."""
    named = [_codec(name) for name in (declared, declared_charset(data)) if name]
    decoded: dict[str, str] = {}
    for codec in dict.fromkeys([*(n for n in named if n), *CHINESE_CODECS]):
        try:
            decoded[codec] = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    if not decoded:
        return _detect_other(data)
    return max(decoded.items(), key=lambda item: (common_share(item[1]), item[0] in named))[1]


def _codec(name: str) -> str | None:
    name = name.strip().lower().replace("_", "-")
    if name in SUPERSETS or name.replace("-", "") in SUPERSETS:
        return SUPERSETS.get(name) or SUPERSETS[name.replace("-", "")]
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _detect_other(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise CorpusError("cannot detect the text encoding (is this a binary file?)")
    return str(best)


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """The 6,763 characters of GB2312 (levels 1 and 2): the characters ordinary simplified text uses."""
    chars = set()
    for row in range(0xB0, 0xF8):
        for col in range(0xA1, 0xFF):
            try:
                chars.add(bytes([row, col]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def common_share(text: str) -> float:
    """Share of the Chinese characters (after t2s) that are common ones; mojibake scores low."""
    cjk = [ch for ch in to_simplified(text) if "\u3400" <= ch <= "\u9fff"]
    if len(cjk) < MIN_JUDGED_CJK:
        return 1.0
    common = _common_chars()
    return sum(ch in common for ch in cjk) / len(cjk)


def repair_mojibake(text: str) -> str:
    """Undo a UTF-8 page that was once read as Latin-1/CP1252 or GBK and saved again; else `text` unchanged."""
    if common_share(text) >= MIN_COMMON_SHARE and not re.search(r"[\u00c0-\u00ef][\u0080-\u00bf\u2000-\u203a]", text):
        return text
    for wrong in ("cp1252", "latin-1", "gb18030"):
        try:
            repaired = text.encode(wrong).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if common_share(repaired) >= MIN_COMMON_SHARE and _cjk_count(repaired) >= MIN_JUDGED_CJK:
            logger.info("repaired text that had been decoded as %s", wrong)
            return repaired
    return text


def _cjk_count(text: str) -> int:
    return sum("\u3400" <= ch <= "\u9fff" for ch in text)


def _checked(text: str) -> str:
    """Refuse decoded text that is still garbled, so mojibake never reaches the index."""
    share = common_share(text)
    replaced = text.count("\ufffd")
    controls = sum(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f" for ch in text[:BINARY_SAMPLE])
    if share < MIN_COMMON_SHARE or replaced > max(3, len(text) // 200) or controls > 8:
        raise CorpusError(
            f"text looks garbled after decoding ({share:.0%} common characters, {replaced} replacement marks); "
            "re-save the page as UTF-8"
        )
    return text


def read_entries(path: Path, origin: str | None = None, url: str | None = None,
                 declared: str | None = None, suffix: str | None = None) -> list[Entry]:
    """Every article (or rejected record) in one file, read by its suffix."""
    suffix = (suffix or path.suffix).lower()
    if suffix not in PARSERS:
        raise CorpusError(f"unsupported file type {suffix or '(none)'}; give {', '.join(sorted(PARSERS))} files")
    return parse_entries(path.read_bytes(), suffix, origin or path.name, url, declared)


def parse_entries(data: bytes, suffix: str, origin: str, url: str | None = None,
                  declared: str | None = None) -> list[Entry]:
    """Decode page bytes and turn them into entries with the parser for `suffix`."""
    return PARSERS[suffix](decode_bytes(data, declared), origin, url)


def txt_entries(text: str, origin: str, url: str | None = None) -> list[Entry]:
    """A scraped page dump: one article."""
    return [Entry(origin, clean_page(text, url=url, origin=origin))]


def read_txt(path: Path) -> list[Article]:
    """A scraped page dump: one article."""
    return _articles(read_entries(path, suffix=".txt"))


def _articles(entries: list[Entry]) -> list[Article]:
    for entry in entries:
        if entry.error:
            logger.warning("skipping %s: %s", entry.label, entry.error)
    return [entry.article for entry in entries if entry.article is not None]


def _reader(suffix: str) -> Callable[[Path], list[Article]]:
    return lambda path: _articles(read_entries(path, suffix=suffix))


PARSERS: dict[str, Callable[[str, str, str | None], list[Entry]]] = {
    ".txt": txt_entries, ".html": html_entries, ".htm": html_entries, ".json": json_entries, ".jsonl": jsonl_entries,
}
READERS: dict[str, Callable[[Path], list[Article]]] = {".txt": read_txt, **{s: _reader(s) for s in PARSERS if s != ".txt"}}


def corpus_files(folder: Path) -> Iterator[Path]:
    """Supported files under `folder`, recursively, in a stable order (hidden files and folders skipped)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and path.suffix.lower() in READERS and path.is_file():
                yield path


def load_corpus(folder: Path) -> list[Article]:
    """All articles in the corpus folder, repeats and syndicated copies merged; unreadable files are skipped."""
    from bot.dedupe import Deduplicator

    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist; create it and put article files in it")
    dedupe = Deduplicator()
    for path in corpus_files(folder):
        try:
            found = READERS[path.suffix.lower()](path)
        except (BotError, OSError) as exc:
            logger.warning("skipping %s: %s", path, exc)
            continue
        for article in found:
            dedupe.admit(article)
    if not dedupe.articles:
        raise CorpusError(
            f"corpus folder {folder} holds no readable article; add pages (.txt, .html, .json) "
            "or run `python -m bot index add FILE`"
        )
    return list(dedupe.articles.values())
