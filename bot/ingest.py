"""Files, folders and URLs → new articles in corpus/ and in the live index, embedding only their passages."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.config import Config
from bot.corpus import PARSERS, corpus_files, load_corpus, parse_entries, read_entries
from bot.dedupe import Deduplicator
from bot.errors import BotError, CorpusError, IndexMissingError
from bot.extract import article_record, record_article
from bot.fetch import fetch_url, is_url
from bot.models import Article
from bot.store import IndexData, build_index, drop_articles, extend_index, index_lock, load_index, write_index

logger = logging.getLogger(__name__)

ADDED_FOLDER = "added"


@dataclass(frozen=True)
class Source:
    """One input to ingest: a file's or URL's bytes, or why it cannot be read."""

    label: str
    suffix: str = ""
    data: bytes = b""
    url: str | None = None
    charset: str | None = None
    path: Path | None = None
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one input (or one record of it): added, skipped or rejected, and why."""

    label: str
    status: str
    detail: str


@dataclass
class Batch:
    """The result of reading and deduplicating every input of one `index add`."""

    outcomes: list[Outcome] = field(default_factory=list)
    added: list[Article] = field(default_factory=list)
    updated: dict[str, Article] = field(default_factory=dict)
    copies: list[tuple[Source, list[Article]]] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many outcomes have this status."""
        return sum(o.status == status for o in self.outcomes)


def add_inputs(config: Config, inputs: list[str], device: str | None = None, progress: bool = True) -> int:
    """Add articles from files, folders and URLs; print one line per input and a summary; 1 if any was rejected."""
    with index_lock(config):
        previous, known = _open_live(config)
        batch = Batch()
        dedupe = Deduplicator(known)
        for source in iter_sources(inputs, max_bytes=int(config.corpus.max_file_mb * 2**20)):
            for outcome in ingest_source(source, dedupe, batch):
                batch.outcomes.append(outcome)
                print(f"{outcome.status}: {outcome.label}: {outcome.detail}", flush=True)
        stored = _copy_into_corpus(config, batch.copies)
        batch.added = [dataclasses.replace(a, origin=stored.get(a.id, a.origin)) for a in batch.added]
        data = _updated_index(config, previous, known, batch, device, progress)
        data.manifest["last_add"] = _last_add(batch, data)
        write_index(config, data)
    print(f"{batch.count('added')} added, {batch.count('skipped')} skipped, {batch.count('rejected')} rejected; "
          f"index now holds {data.manifest['articles']} articles, {data.manifest['passages']} passages")
    return 1 if batch.count("rejected") else 0


def _open_live(config: Config) -> tuple[IndexData | None, list[Article]]:
    """The live index (model checked first) and its articles; without one, the corpus articles."""
    try:
        previous = load_index(config)
        return previous, list(previous.articles.values())
    except IndexMissingError:
        logger.info("no index yet; the corpus folder %s is indexed along with the new articles", config.corpus.dir)
    try:
        return None, load_corpus(config.corpus.dir)
    except CorpusError:
        return None, []


def iter_sources(inputs: list[str], max_bytes: int) -> Iterator[Source]:
    """Every file or URL named by the inputs; folders are walked recursively."""
    for text in inputs:
        if is_url(text):
            yield _url_source(text, max_bytes)
            continue
        path = Path(text)
        if path.is_dir():
            yield from _folder_sources(path, max_bytes)
        elif path.exists():
            yield _file_source(path, text, max_bytes, explicit=True)
        else:
            yield Source(text, error="no such file or folder")


def _url_source(url: str, max_bytes: int) -> Source:
    try:
        fetched = fetch_url(url, max_bytes)
    except BotError as exc:
        return Source(url, url=url, error=str(exc))
    suffix = fetched.suffix or _sniff_suffix(fetched.data)
    return Source(url, suffix, fetched.data, url=url, charset=fetched.charset)


def _folder_sources(folder: Path, max_bytes: int) -> Iterator[Source]:
    """Files under a folder; a symlink leading outside it is rejected, hidden files are passed over."""
    root = folder.resolve()
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in [d for d in dirs if (Path(current) / d).is_symlink()]:
            path = Path(current) / name
            if not path.resolve().is_relative_to(root):
                yield Source(str(path), error=f"symlink points outside {folder} (to {path.resolve()})")
        for name in sorted(n for n in files if not n.startswith(".")):
            path = Path(current) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                yield Source(str(path), error=f"symlink points outside {folder} (to {path.resolve()})")
            elif path.suffix.lower() in PARSERS:
                yield _file_source(path, str(path), max_bytes, explicit=False)
            else:
                yield Source(str(path), error=f"skipped: unsupported file type {path.suffix or '(none)'}")


def _file_source(path: Path, label: str, max_bytes: int, explicit: bool) -> Source:
    try:
        size = path.stat().st_size
        if not path.is_file():
            return Source(label, error="not a regular file")
        if size > max_bytes:
            return Source(label, error=f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit "
                                       "(corpus.max_file_mb in the config)")
        data = path.read_bytes()
    except OSError as exc:
        return Source(label, error=f"cannot read: {exc.strerror or exc}")
    suffix = path.suffix.lower()
    if suffix not in PARSERS and explicit:
        suffix = _sniff_suffix(data)
    return Source(label, suffix, data, path=path)


def _sniff_suffix(data: bytes) -> str:
    """Guess the format of a file or response whose name or type does not say it."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"{", b"[")):
        return ".jsonl" if head.startswith(b"{") and b"}\n{" in data[:65536].replace(b"\r", b"") else ".json"
    if re.search(rb"<(html|body|p|div|article|!doctype)\b", head):
        return ".html"
    return ".txt"


def ingest_source(source: Source, dedupe: Deduplicator, batch: Batch) -> list[Outcome]:
    """Read one input, deduplicate its articles against the index and this batch, and record what to index."""
    if source.error:
        status = "skipped" if source.error.startswith("skipped: ") else "rejected"
        return [Outcome(source.label, status, source.error.removeprefix("skipped: "))]
    try:
        entries = parse_entries(source.data, source.suffix, _origin(source), source.url, source.charset)
    except BotError as exc:
        return [Outcome(source.label, "rejected", str(exc))]
    outcomes, kept = [], []
    for entry in entries:
        label = source.label + entry.label.removeprefix(_origin(source)) if len(entries) > 1 else source.label
        if entry.article is None:
            outcomes.append(Outcome(label, "rejected", entry.error or "unreadable record"))
            continue
        outcome = _admit(entry.article, label, dedupe, batch)
        outcomes.append(outcome)
        if outcome.status == "added" or outcome.detail.startswith("syndicated"):
            kept.append(entry.article)
    if kept:
        batch.copies.append((source, kept))
    return outcomes


def _origin(source: Source) -> str:
    return source.url or (source.path.name if source.path else source.label)


def _admit(article: Article, label: str, dedupe: Deduplicator, batch: Batch) -> Outcome:
    verdict = dedupe.admit(article)
    if verdict.status == "new":
        batch.added.append(article)
        warning = "" if article.date else "; warning: no publication date found (date unknown)"
        if not article.date:
            logger.warning("%s: no publication date found; added with date unknown", label)
        return Outcome(label, "added", f"{article.id} 《{article.title}》 ({article.source or 'source unknown'}, "
                                       f"{article.date or 'date unknown'}){warning}")
    kept = verdict.kept
    if verdict.status == "syndicated":
        if kept.id in {a.id for a in batch.added}:
            batch.added = [kept if a.id == kept.id else a for a in batch.added]
        else:
            batch.updated[kept.id] = kept
        also = ", ".join(kept.also_reported_by)
        return Outcome(label, "skipped", f"syndicated copy of {kept.id} 《{kept.title}》; source stays "
                                         f"{kept.source or 'unknown'}, also reported by {also}")
    return Outcome(label, "skipped", f"duplicate: {verdict.reason} 《{kept.title}》")


def _copy_into_corpus(config: Config, copies: list[tuple[Source, list[Article]]]) -> dict[str, str]:
    """Store what was ingested under corpus/added/, so that `index build` reproduces the index; id → file name."""
    folder = config.corpus.dir / ADDED_FOLDER
    corpus_root = config.corpus.dir.resolve()
    stored = {}
    for source, articles in copies:
        if source.path is not None and source.path.resolve().is_relative_to(corpus_root):
            continue  # already in the corpus folder
        data, suffix = _corpus_bytes(source, articles)
        name = _write_once(folder, data, suffix, _stem(source)).name
        stored.update({a.id: name for a in articles})
    return stored


def _corpus_bytes(source: Source, articles: list[Article]) -> tuple[bytes, str]:
    """A file's own bytes; a fetched page as JSON records, which keep its url."""
    if source.url is None:
        return source.data, source.suffix
    records = [article_record(a) for a in articles]
    return json.dumps(records if len(records) > 1 else records[0], ensure_ascii=False, indent=1).encode("utf-8"), ".json"


def _stem(source: Source) -> str:
    name = Path(source.url.split("?")[0].rstrip("/")).name if source.url else Path(source.label).stem
    return re.sub(r"[^\w.-]+", "_", Path(name).stem)[:40] or "page"


def _write_once(folder: Path, data: bytes, suffix: str, stem: str) -> Path:
    """Write `data` atomically under a name with its content hash; the same content is stored once."""
    digest = hashlib.sha1(data).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob(f"*-{digest}-*{suffix}"))
    if existing:
        return existing[0]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = folder / f"{stamp}-{digest}-{stem}{suffix}"
    temporary = folder / f".{target.name}.tmp-{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    logger.info("stored %s", target)
    return target


def _updated_index(config: Config, previous: IndexData | None, known: list[Article], batch: Batch,
                   device: str | None, progress: bool) -> IndexData:
    """The live index extended by the batch, or a first index of the corpus and the batch."""
    from bot.service import make_embedder

    if previous is not None:
        embedder = make_embedder(config, device) if batch.added else None
        return extend_index(config, previous, batch.added, embedder, progress, list(batch.updated.values()))
    articles = [batch.updated.get(a.id, a) for a in known] + batch.added
    if not articles:
        raise CorpusError("nothing to index: no input held an article and the corpus folder is empty")
    return build_index(config, articles, make_embedder(config, device), progress)


def _last_add(batch: Batch, data: IndexData) -> dict:
    return {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "added": batch.count("added"),
        "skipped": batch.count("skipped"),
        "rejected": batch.count("rejected"),
        "articles": [a.id for a in batch.added],
        "updated": sorted(batch.updated),
        "seconds": data.manifest.get("build_seconds"),
    }


def remove_articles(config: Config, article_ids: list[str]) -> int:
    """Drop articles from the corpus folder and the index; print one line per id; 1 if any id is unknown."""
    with index_lock(config):
        previous = load_index(config, check_model=False)
        found = [i for i in dict.fromkeys(article_ids) if i in previous.articles]
        for missing in (i for i in article_ids if i not in previous.articles):
            print(f"not found: {missing} (see `python -m bot index dump` for article ids)")
        if found:
            # The corpus goes first: if this is killed midway, `index build` already agrees with the intent.
            files = remove_from_corpus(config, set(found))
            data = drop_articles(config, previous, set(found))
            data.manifest["last_remove"] = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                            "removed": found}
            write_index(config, data)
            for article_id in found:
                where = ", ".join(dict.fromkeys(files.get(article_id, []))) or "no corpus file"
                print(f"removed: {article_id} 《{previous.articles[article_id].title}》 ({where})")
    return 0 if len(found) == len(set(article_ids)) else 1


def remove_from_corpus(config: Config, article_ids: set[str]) -> dict[str, list[str]]:
    """Delete (or rewrite without them) the corpus files holding these articles and their syndicated copies."""
    dedupe = Deduplicator()
    removed: dict[str, list[str]] = {}
    for path in corpus_files(config.corpus.dir):
        try:
            entries = read_entries(path)
        except (BotError, OSError):
            continue
        drop: set[str] = set()
        for article in (e.article for e in entries if e.article is not None):
            owner = dedupe.admit(article).kept.id
            if owner in article_ids:
                drop.add(article.id)
                removed.setdefault(owner, []).append(str(path.relative_to(config.corpus.dir)))
        if drop:
            _drop_from_file(path, drop)
    return removed


def _drop_from_file(path: Path, article_ids: set[str]) -> None:
    """Delete a single-article file; rewrite a JSON/JSONL file without the removed records."""
    if path.suffix.lower() not in (".json", ".jsonl"):
        path.unlink()
        return
    kept = [r for r in _records(path) if not _record_in(r, article_ids, path.name)]
    if not kept:
        path.unlink()
        return
    if path.suffix.lower() == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
    else:
        text = json.dumps(kept, ensure_ascii=False, indent=1)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _records(path: Path) -> list:
    from bot.corpus import decode_bytes

    text = decode_bytes(path.read_bytes())
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def _record_in(record: object, article_ids: set[str], origin: str) -> bool:
    try:
        return record_article(record, origin).id in article_ids
    except BotError:
        return False
