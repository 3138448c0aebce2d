"""FakeBotAPI: a named fake of the Telegram Bot API on 127.0.0.1, strict where Telegram is strict.

It serves the methods the bot uses (getMe, deleteWebhook, setMyCommands, getUpdates with long polling,
sendMessage, editMessageText, editMessageReplyMarkup, sendChatAction, answerCallbackQuery), records every
call, and rejects what Telegram rejects: text over 4096 characters, malformed HTML, unchanged edits.
Tests feed updates with `push_message` / `push_callback` and read what a user would see from `sent`.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

MAX_TEXT = 4096
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
JSON_FIELDS = {
    "reply_markup",
    "link_preview_options",
    "reply_parameters",
    "commands",
    "allowed_updates",
    "scope",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout"}
TOKEN_PATTERN = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s[^<>]*)?)>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|[<>&]")


async def wait_until(condition: Callable[[], object], timeout: float = 60.0) -> object:
    """Wait (without blocking the event loop) until `condition()` is truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"the bot did not do what was expected within {timeout} s")


class ApiError(Exception):
    """A Bot API error reply."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def visible_text(text: str) -> str:
    """The text a user sees after HTML parsing, or ApiError the way Telegram words it."""
    stack: list[str] = []
    out: list[str] = []
    position = 0
    for match in TOKEN_PATTERN.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        out.append(_token(match, stack))
    out.append(text[position:])
    if stack:
        raise ApiError(
            400,
            f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\"",
        )
    return "".join(out)


def _token(match: re.Match, stack: list[str]) -> str:
    closing, tag, attributes, entity = match.groups()
    if tag is None and entity is None:
        raise ApiError(
            400, f'Bad Request: can\'t parse entities: unexpected "{match.group()}" at offset {match.start()}'
        )
    if entity is not None:
        if not entity.startswith("#") and entity not in NAMED_ENTITIES:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported entity "&{entity};"')
        return html.unescape(match.group())
    tag = tag.lower()
    if tag not in ALLOWED_TAGS:
        raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"')
    if closing:
        if not stack or stack.pop() != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unmatched end tag "{tag}"')
    else:
        if tag == "a" and not re.search(r'href="[^"]+"', attributes):
            raise ApiError(400, "Bad Request: can't parse entities: a tag without href")
        stack.append(tag)
    return ""


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict
    time: float
    result: object = None
    error: str | None = None


@dataclass
class FakeBot:
    """One bot account: its identity, pending updates, chats' messages and the calls it made."""

    token: str
    id: int
    username: str
    lock: threading.Condition
    updates: list[dict] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict] = field(default_factory=dict)
    failures: dict[str, list[ApiError]] = field(default_factory=dict)
    pushed_at: dict[int, float] = field(default_factory=dict)
    acknowledged: int = 0
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def user(self) -> dict:
        """The bot as a Telegram User object."""
        return {"id": self.id, "is_bot": True, "first_name": "NewsQA", "username": self.username}

    # --- feeding updates -------------------------------------------------------------------------------

    def push_message(
        self,
        chat_id: int,
        text: str | None = None,
        user_id: int | None = None,
        reply_to: dict | None = None,
        edited: bool = False,
        **extra: object,
    ) -> dict:
        """Queue a user's message (or an edit of one); chats with negative ids are groups."""
        user_id = user_id or abs(chat_id)
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "测试群"
        message = {
            "message_id": next(self.ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": "测试用户"},
            **extra,
        }
        if text is not None:
            message["text"] = text
            message["entities"] = _entities(text)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        with self.lock:
            self.messages[(chat_id, message["message_id"])] = message
        self._push({"edited_message" if edited else "message": message})
        return message

    def push_callback(self, message: dict, data: str, user_id: int | None = None) -> str:
        """Queue a tap on an inline button of `message` (a message the bot sent)."""
        chat_id = message["chat"]["id"]
        query_id = f"cb{next(self.ids)}"
        query = {
            "id": query_id,
            "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "测试用户"},
            "chat_instance": str(chat_id),
            "data": data,
            "message": message,
        }
        self._push({"callback_query": query})
        return query_id

    def _push(self, payload: dict) -> None:
        with self.lock:
            update_id = len(self.updates) + 1
            self.updates.append({"update_id": update_id, **payload})
            self.pushed_at[update_id] = time.perf_counter()
            self.lock.notify_all()

    @property
    def last_update_id(self) -> int:
        """The id of the update queued last."""
        with self.lock:
            return len(self.updates)

    def fail_next(
        self,
        method: str,
        code: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = 1,
    ) -> None:
        """Make the next call of `method` fail once (flood control by default)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        with self.lock:
            self.failures.setdefault(method, []).append(ApiError(code, description, parameters))

    # --- what the user sees ----------------------------------------------------------------------------

    def calls_of(self, method: str, chat_id: int | None = None, ok: bool = True) -> list[Call]:
        """Calls of one method (to one chat), successful ones by default."""
        with self.lock:
            return [
                c
                for c in self.calls
                if c.method == method
                and (chat_id is None or c.params.get("chat_id") == chat_id)
                and (c.error is None) == ok
            ]

    def sent(self, chat_id: int) -> list[Call]:
        """Messages the bot sent to a chat, in order."""
        return self.calls_of("sendMessage", chat_id)

    def texts(self, chat_id: int) -> list[str]:
        """The HTML texts the bot sent to a chat."""
        return [c.params["text"] for c in self.sent(chat_id)]

    async def wait_for(self, condition: Callable[[], object], timeout: float = 60.0) -> object:
        """Wait until `condition()` is truthy and return its value."""
        return await wait_until(condition, timeout)

    async def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 60.0) -> list[Call]:
        """Wait until the bot sent at least `count` messages to the chat."""
        await self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    async def wait_acknowledged(self, update_id: int, timeout: float = 60.0) -> None:
        """Wait until the bot fetched and confirmed the update (getUpdates offset moved past it)."""
        await self.wait_for(lambda: self.acknowledged > update_id, timeout)

    # --- the API ---------------------------------------------------------------------------------------

    def handle(self, method: str, params: dict) -> object:
        """Answer one Bot API call, recording it; raises ApiError like Telegram."""
        call = Call(method, params, time.perf_counter())
        if method != "getUpdates":
            with self.lock:
                self.calls.append(call)
        try:
            self._maybe_fail(method)
            call.result = getattr(self, f"api_{method}")(params)
        except AttributeError:
            call.error = f"unknown method {method}"
            raise ApiError(404, "Not Found: method not found") from None
        except ApiError as exc:
            call.error = exc.description
            raise
        return call.result

    def _maybe_fail(self, method: str) -> None:
        with self.lock:
            pending = self.failures.get(method)
            if pending:
                raise pending.pop(0)

    def api_getMe(self, params: dict) -> dict:
        return {
            **self.user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def api_deleteWebhook(self, params: dict) -> bool:
        return True

    def api_setMyCommands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        if not all(re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) and c["description"] for c in commands):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    def api_getUpdates(self, params: dict) -> list[dict]:
        offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self.lock:
            self.acknowledged = max(self.acknowledged, offset)
            while True:
                pending = [u for u in self.updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if pending or remaining <= 0:
                    return pending[: int(params.get("limit") or 100)]
                self.lock.wait(min(remaining, 0.5))

    def api_sendChatAction(self, params: dict) -> bool:
        return True

    def api_answerCallbackQuery(self, params: dict) -> bool:
        return True

    def api_sendMessage(self, params: dict) -> dict:
        shown = _checked_text(params)
        chat_id = params["chat_id"]
        message = {
            "message_id": next(self.ids),
            "date": int(time.time()),
            "from": self.user,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "text": shown,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self.lock:
            self.messages[(chat_id, message["message_id"])] = {**message, "html": params["text"]}
        return message

    def api_editMessageText(self, params: dict) -> dict:
        shown = _checked_text(params)
        return self._edit(params, {"text": shown, "html": params["text"]})

    def api_editMessageReplyMarkup(self, params: dict) -> dict:
        return self._edit(params, {})

    def _edit(self, params: dict, changes: dict) -> dict:
        key = (params["chat_id"], params["message_id"])
        with self.lock:
            old = self.messages.get(key)
            if old is None or old.get("from", {}).get("id") != self.id:
                raise ApiError(400, "Bad Request: message to edit not found")
            new = {**old, **changes}
            if params.get("reply_markup"):
                new["reply_markup"] = params["reply_markup"]
            else:
                new.pop("reply_markup", None)
            if new == old:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup",
                )
            self.messages[key] = new
        return {k: v for k, v in new.items() if k != "html"}


def _checked_text(params: dict) -> str:
    text = params.get("text") or ""
    shown = visible_text(text) if params.get("parse_mode") == "HTML" else text
    if not shown.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_length(shown) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return shown


def _entities(text: str) -> list[dict]:
    """bot_command and mention entities, with offsets in UTF-16 code units like Telegram's."""
    entities = []
    for match in re.finditer(r"(?:^/\w+(?:@\w+)?)|@\w+", text):
        kind = "bot_command" if match.group().startswith("/") else "mention"
        entities.append(
            {
                "type": kind,
                "offset": utf16_length(text[: match.start()]),
                "length": utf16_length(match.group()),
            }
        )
    return entities


class FakeBotAPI:
    """The HTTP server holding any number of fake bots, reached at `base_url` + token."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.bots: dict[str, FakeBot] = {}
        self.server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-bot-api", daemon=True)

    @property
    def base_url(self) -> str:
        """What goes into telegram.api_base_url."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def add_bot(self, token: str, username: str = "newsqa_test_bot", bot_id: int = 777000) -> FakeBot:
        """Register a bot account that accepts `token`."""
        bot = FakeBot(token, bot_id, username, self.lock)
        self.bots[token] = bot
        return bot

    def start(self) -> FakeBotAPI:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake any long poll."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            self.lock.notify_all()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Connections the bot drops while shutting down are not errors of the fake."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _handler_for(api: FakeBotAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            match = re.fullmatch(r"/bot([^/]+)/(\w+)", self.path)
            bot = api.bots.get(match.group(1)) if match else None
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if bot is None:
                self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            try:
                result = bot.handle(match.group(2), _params(body, self.headers.get("Content-Type", "")))
                self._reply(200, {"ok": True, "result": result})
            except ApiError as exc:
                payload = {"ok": False, "error_code": exc.code, "description": exc.description}
                if exc.parameters:
                    payload["parameters"] = exc.parameters
                self._reply(exc.code, payload)

        do_GET = do_POST  # noqa: N815

        def _reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the bot gave up a long poll while shutting down

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence per-request lines
            return

    return Handler


def _params(body: bytes, content_type: str) -> dict:
    """Bot API parameters from a form or JSON body (python-telegram-bot sends forms with JSON values)."""
    if "json" in content_type:
        return json.loads(body or b"{}")
    params: dict = {}
    for name, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
        if name in JSON_FIELDS:
            params[name] = json.loads(value)
        elif name in INT_FIELDS:
            params[name] = int(value)
        else:
            params[name] = value
    return params
