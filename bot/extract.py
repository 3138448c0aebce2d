"""HTML pages and JSON records → Articles: trafilatura main text and metadata, then the seed-page cleaning."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from bot.clean import (
    article_id,
    clean_page,
    find_copyright_holder,
    find_date,
    find_source,
    page_lines,
    parse_date,
)
from bot.errors import CorpusError
from bot.models import Article
from bot.script import to_simplified

logger = logging.getLogger(__name__)

SCRIPT_OR_STYLE = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
RECORD_FIELDS = ("title", "date", "source", "url", "text")


@dataclass(frozen=True)
class Entry:
    """One article found in an input, or the reason one record of it was rejected."""

    label: str
    article: Article | None = None
    error: str | None = None


def html_entries(page: str, origin: str, url: str | None = None) -> list[Entry]:
    """An HTML page: one article."""
    return [Entry(origin, html_article(page, url=url, origin=origin))]


def html_article(page: str, url: str | None = None, origin: str = "") -> Article:
    """The article of an HTML page: trafilatura's main text cleaned like a seed page, metadata from the page."""
    doc = _extract(page)
    visible = SCRIPT_OR_STYLE.sub("\n", page)
    # trafilatura discards short articles; the seed-page cleaner then reads the whole visible page.
    main = doc.text if doc is not None and (doc.text or "").strip() else visible
    article = clean_page(main, url=url or (doc.url if doc else None), origin=origin,
                         title_hint=_title(doc) if doc else None)
    lines = page_lines(visible)
    source = article.source or find_source(lines, "", lines)
    publisher = (doc.sitename if doc else None) or find_copyright_holder(lines)
    return Article(
        id=article.id,
        title=article.title,
        date=parse_date((doc.date if doc else None) or "") or article.date or find_date(lines),
        source=source or publisher,
        author=article.author or (doc.author if doc else None),
        url=article.url,
        body=article.body,
        origin=origin,
        also_reported_by=_other_outlets(source, publisher),
    )


def _extract(page: str):
    try:
        import trafilatura
    except ImportError as exc:  # pragma: no cover - trafilatura is a core dependency
        raise CorpusError("trafilatura is missing: pip install trafilatura") from exc
    return trafilatura.bare_extraction(
        page, with_metadata=True, favor_recall=True, include_comments=False, include_tables=False,
        # Structured dates only (meta tags, <time>, the URL); dates in the text are found by the cleaner.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )


def _title(doc) -> str | None:
    title = (doc.title or "").strip()
    if title and doc.sitename:
        title = re.sub(rf"\s*[-_|｜—–]+\s*{re.escape(doc.sitename)}\s*$", "", title)
    return title or None


def _other_outlets(source: str | None, publisher: str | None) -> tuple[str, ...]:
    """The site that republished a credited story counts as also reporting it."""
    if not publisher or not source or to_simplified(publisher) == to_simplified(source):
        return ()
    return (publisher,)


def json_entries(text: str, origin: str, url: str | None = None) -> list[Entry]:
    """A .json file: one record or a list of records."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CorpusError(f"malformed JSON ({exc}); each record needs title, date, source, url and text") from exc
    records = data if isinstance(data, list) else [data]
    labels = [f"{origin}[{i}]" for i in range(len(records))] if isinstance(data, list) else [origin]
    return [_record_entry(record, label) for record, label in zip(records, labels, strict=True)]


def jsonl_entries(text: str, origin: str, url: str | None = None) -> list[Entry]:
    """A .jsonl file: one record per line; a malformed line is rejected on its own."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label = f"{origin}:{number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            entries.append(Entry(label, error=f"malformed JSON on line {number} ({exc.msg})"))
            continue
        entries.append(_record_entry(record, label))
    if not entries:
        raise CorpusError("empty file")
    return entries


def _record_entry(record: object, label: str) -> Entry:
    try:
        return Entry(label, record_article(record, origin=label.split(":")[0].split("[")[0]))
    except CorpusError as exc:
        return Entry(label, error=str(exc))


def record_article(record: object, origin: str = "") -> Article:
    """An article from a {"title", "date", "source", "url", "text"} record; the text is tidied like a page."""
    if not isinstance(record, dict):
        raise CorpusError(f"a record must be a JSON object with {', '.join(RECORD_FIELDS)}")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError('record has no "text"')
    paragraphs = [line.text for line in page_lines(text)]
    if not paragraphs:
        raise CorpusError('record has no "text"')
    title = _string(record, "title") or paragraphs[0][:40]
    return Article(
        id=article_id(title, paragraphs),
        title=title,
        date=parse_date(_string(record, "date") or ""),
        source=_string(record, "source"),
        author=_string(record, "author"),
        url=_string(record, "url"),
        body=tuple(paragraphs),
        origin=origin,
        also_reported_by=tuple(x for x in record.get("also_reported_by") or () if isinstance(x, str)),
    )


def _string(record: dict, key: str) -> str | None:
    value = record.get(key)
    return value.strip() or None if isinstance(value, str) else None


def article_record(article: Article) -> dict:
    """The JSON record that `record_article` reads back into the same article."""
    return {"title": article.title, "date": article.date, "source": article.source, "url": article.url,
            "text": article.text, "author": article.author, "also_reported_by": list(article.also_reported_by)}
