"""http(s) URL → page bytes: one GET with a timeout, a size cap and a one-line reason when it fails."""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message

from bot.errors import BotError

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20.0
USER_AGENT = "Mozilla/5.0 (compatible; newsqa-bot/0.1)"
CHUNK = 64 * 1024
SUFFIX_BY_TYPE = {"text/html": ".html", "application/xhtml+xml": ".html", "application/json": ".json",
                  "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl", "text/plain": ".txt"}


class FetchError(BotError):
    """A URL could not be fetched (timeout, HTTP error, too large, not a page)."""


@dataclass(frozen=True)
class Fetched:
    """The body of one fetched URL with what its headers say about it."""

    url: str
    data: bytes
    content_type: str
    charset: str | None

    @property
    def suffix(self) -> str | None:
        """The corpus file suffix matching the content type, or None for an unsupported type."""
        return SUFFIX_BY_TYPE.get(self.content_type)


def is_url(text: str) -> bool:
    """Whether a command-line input names an http(s) URL."""
    return text.lower().startswith(("http://", "https://"))


def fetch_url(url: str, max_bytes: int, timeout: float | None = None) -> Fetched:
    """GET `url`; FetchError says why when it times out, fails, or sends more than `max_bytes`."""
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/json,*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = _read_capped(response, max_bytes, time.monotonic() + timeout, timeout)
            headers: Message = response.headers
            final_url = response.geturl()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}") from exc
    except TimeoutError as exc:
        raise FetchError(f"timed out after {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise FetchError(f"timed out after {timeout:g} s") from exc
        raise FetchError(f"cannot connect: {reason}") from exc
    except (OSError, ValueError) as exc:
        raise FetchError(f"cannot fetch: {exc}") from exc
    logger.info("fetched %s (%d bytes)", final_url, len(data))
    return Fetched(final_url, data, headers.get_content_type(), headers.get_content_charset())


def _read_capped(response, max_bytes: int, deadline: float, timeout: float) -> bytes:
    """Read the body in chunks, stopping at the size cap or the overall deadline."""
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise FetchError(f"page is {int(length) / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit (corpus.max_file_mb)")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"page is over the {max_bytes / 2**20:g} MB limit (corpus.max_file_mb)")
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)
