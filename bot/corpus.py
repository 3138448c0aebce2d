"""Corpus folder → Articles: read every supported file, decode it, clean it, drop exact repeats."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.clean import clean_page
from bot.errors import BotError, CorpusError
from bot.models import Article

logger = logging.getLogger(__name__)

PAGE_SUFFIXES = {".txt"}


def decode_bytes(data: bytes) -> str:
    """Decode page bytes: UTF-8 (with or without BOM) first, else the detected Chinese encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16", "cp1252"]).best()
    if best is None:
        raise CorpusError("cannot detect the text encoding (is this a binary file?)")
    return str(best)


def read_txt(path: Path) -> list[Article]:
    """A scraped page dump: one article."""
    return [clean_page(decode_bytes(path.read_bytes()), origin=path.name)]


READERS: dict[str, Callable[[Path], list[Article]]] = {".txt": read_txt}


def corpus_files(folder: Path) -> Iterator[Path]:
    """Supported files under `folder`, recursively, in a stable order (hidden files skipped)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in READERS and not any(p.startswith(".") for p in path.parts[-1:]):
            yield path


def load_corpus(folder: Path) -> list[Article]:
    """All articles in the corpus folder; unreadable files are logged and skipped."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist; create it and put article files in it")
    articles: dict[str, Article] = {}
    for path in corpus_files(folder):
        try:
            found = READERS[path.suffix.lower()](path)
        except (BotError, OSError) as exc:
            logger.warning("skipping %s: %s", path, exc)
            continue
        for article in found:
            articles.setdefault(article.id, article)
    if not articles:
        raise CorpusError(
            f"corpus folder {folder} holds no readable article; add pages (.txt, .html, .json) "
            "or run `python -m bot index add FILE`"
        )
    return list(articles.values())
