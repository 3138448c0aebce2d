"""Telegram front end: long polling on python-telegram-bot; every handler renders the shared `answer()`."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import re
import secrets
import sys
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bot.config import Config
from bot.errors import ConfigError
from bot.models import Answer
from bot.render_telegram import (
    COMMANDS,
    HELP_TEXT,
    SOURCES_PER_PAGE,
    date_range,
    page_count,
    render_about,
    render_answer,
    render_sources,
    render_start,
    reply_text,
    sort_newest_first,
)
from bot.script import to_simplified
from bot.service import QAService

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
CONCURRENT_UPDATES = 64
TYPING_REFRESH_SECONDS = 4.0
BUTTON_TTL_DAYS = 30
MESSAGE_ONLY = filters.UpdateType.MESSAGE  # edited messages are ignored everywhere
# Resending these after a read timeout cannot show the user anything twice.
IDEMPOTENT_ENDPOINTS = frozenset(
    {
        "getMe",
        "deleteWebhook",
        "setMyCommands",
        "sendChatAction",
        "answerCallbackQuery",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)


# --- state kept by the bot -------------------------------------------------------------------------------


@dataclass
class StoredAnswer:
    """A question asked in a chat and the passage ids shown on each page of its answer."""

    question: str
    time: float
    pages: dict[int, tuple[str, ...]] = field(default_factory=dict)


class AnswerStore:
    """Answers behind buttons, appended to a JSONL file so that buttons keep working after a restart."""

    def __init__(self, path: Path, ttl_days: float = BUTTON_TTL_DAYS):
        self.path = path
        self.ttl = ttl_days * 86400
        self._answers: dict[str, StoredAnswer] = {}
        self._claimed: set[tuple[str, int]] = set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        cutoff = time.time() - self.ttl
        for line in self.path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                row = json.loads(line)
                if row["time"] >= cutoff:
                    self._remember(
                        row["key"], row["page"], row["question"], tuple(row["passage_ids"]), row["time"]
                    )
        self._rewrite()  # drops expired and unreadable rows

    def _remember(
        self, key: str, page: int, question: str, passage_ids: tuple[str, ...], when: float
    ) -> None:
        entry = self._answers.setdefault(key, StoredAnswer(question, when))
        entry.pages[page] = passage_ids

    def _rewrite(self) -> None:
        rows = [self._row(key, page, entry) for key, entry in self._answers.items() for page in entry.pages]
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text("".join(rows), encoding="utf-8")
        os.replace(temporary, self.path)

    def _row(self, key: str, page: int, entry: StoredAnswer) -> str:
        row = {
            "key": key,
            "page": page,
            "question": entry.question,
            "passage_ids": list(entry.pages[page]),
            "time": entry.time,
        }
        return json.dumps(row, ensure_ascii=False) + "\n"

    def new_key(self) -> str:
        """A fresh short key for callback data."""
        return secrets.token_urlsafe(6)

    def save(self, key: str, page: int, question: str, passage_ids: tuple[str, ...]) -> None:
        """Remember the passages shown on one page of an answer."""
        self._remember(key, page, question, passage_ids, time.time())
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(self._row(key, page, self._answers[key]))

    def get(self, key: str) -> StoredAnswer | None:
        """The stored answer, or None when unknown or expired."""
        entry = self._answers.get(key)
        return entry if entry and entry.time >= time.time() - self.ttl else None

    def claim(self, key: str, page: int) -> bool:
        """True once per page: a second tap on the same button must not send the page twice."""
        entry = self._answers.get(key)
        if (entry and page in entry.pages) or (key, page) in self._claimed:
            return False
        self._claimed.add((key, page))
        return True

    def release(self, key: str, page: int) -> None:
        """Forget a claim whose page turned out empty or failed."""
        self._claimed.discard((key, page))


class FeedbackLog:
    """👍/👎 votes as JSONL rows: question, passage ids, vote and time; no names or ids of people."""

    def __init__(self, path: Path):
        self.path = path

    def record(self, question: str, passage_ids: tuple[str, ...], vote: str) -> None:
        """Append one vote."""
        row = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "question": question,
            "passage_ids": list(passage_ids),
            "vote": vote,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


class QuestionQuota:
    """At most `per_minute` questions per user in any sliding minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._asked: dict[int, deque[float]] = defaultdict(deque)

    def allow(self, user_id: int) -> bool:
        """Count a question and say whether it is within the limit."""
        now, asked = self.clock(), self._asked[user_id]
        while asked and asked[0] <= now - 60:
            asked.popleft()
        if self.per_minute > 0 and len(asked) >= self.per_minute:
            return False
        asked.append(now)
        return True


@dataclass
class BotState:
    """Everything the handlers share: the service, the settings and the bot's own files."""

    service: QAService
    config: Config
    answers: AnswerStore
    feedback: FeedbackLog
    quota: QuestionQuota
    examples: dict[Path | None, list[str]] = field(default_factory=dict)
    watcher: asyncio.Task | None = None

    @classmethod
    def create(cls, service: QAService, config: Config) -> BotState:
        """State over the data folder named in the config."""
        data_dir = config.telegram.data_dir
        return cls(
            service,
            config,
            AnswerStore(data_dir / "answers.jsonl"),
            FeedbackLog(data_dir / "feedback.jsonl"),
            QuestionQuota(config.telegram.rate_limit),
        )


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """The BotState stored in the application."""
    return context.application.bot_data["state"]


# --- retries and logging ---------------------------------------------------------------------------------


class RetryingRequests(BaseRateLimiter[None]):
    """Retries Bot API calls after flood control (RetryAfter) and network errors, with back-off."""

    def __init__(self, attempts: int = 5, first_delay: float = 0.5, max_delay: float = 30.0):
        self.attempts, self.first_delay, self.max_delay = attempts, first_delay, max_delay

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        """Call the Bot API, waiting and retrying when Telegram or the network asks for it."""
        for attempt in range(1, self.attempts + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                delay = retry_after_seconds(exc)
                if attempt == self.attempts:
                    raise
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self.attempts or not may_resend(endpoint, exc):
                    raise
                delay = min(self.first_delay * 2 ** (attempt - 1), self.max_delay)
            logger.warning("%s failed (attempt %d); retrying in %.1f s", endpoint, attempt, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def may_resend(endpoint: str, exc: NetworkError) -> bool:
    """Whether resending cannot duplicate a message: the request never arrived, or repeating it is harmless."""
    if endpoint in IDEMPOTENT_ENDPOINTS or not isinstance(exc, TimedOut):
        return True
    return isinstance(exc.__cause__, (httpx.ConnectTimeout, httpx.PoolTimeout))


class TokenFilter(logging.Filter):
    """Replaces the bot token in log messages and tracebacks (Bot API URLs contain it)."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


# --- who is being asked ----------------------------------------------------------------------------------


def is_private(message: Message) -> bool:
    """Whether the message is in a one-to-one chat with the bot."""
    return message.chat.type == ChatType.PRIVATE


def mentions_bot(message: Message, username: str) -> bool:
    """Whether the text or caption @-mentions this bot."""
    entities = message.parse_entities([MessageEntity.MENTION]) or message.parse_caption_entities(
        [MessageEntity.MENTION]
    )
    return any(text.lower() == f"@{username}".lower() for text in entities.values())


def replies_to_bot(message: Message, bot_id: int) -> bool:
    """Whether the message replies to one of this bot's messages."""
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


def is_addressed(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Private chats always; in groups only a mention, a reply to the bot or a command meant for it."""
    bot = context.bot
    if is_private(message) or replies_to_bot(message, bot.id) or mentions_bot(message, bot.username):
        return True
    command = re.match(r"/\w+(@\w+)?", message.text or "")
    return bool(command and (command.group(1) or "").lower() in ("", f"@{bot.username}".lower()))


def question_text(message: Message, username: str) -> str:
    """The message text without the bot's @-mention."""
    return re.sub(rf"@{re.escape(username)}\b", " ", message.text or "", flags=re.IGNORECASE).strip()


# --- handlers --------------------------------------------------------------------------------------------


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refuse chats outside telegram.allowed_chats politely, once per addressed message, and stop there."""
    allowed = state_of(context).config.telegram.allowed_chats
    chat = update.effective_chat
    if not allowed or chat is None or chat.id in allowed:
        return
    if update.callback_query:
        await update.callback_query.answer(reply_text("not_allowed"), show_alert=True)
    elif update.message and is_addressed(update.message, context):
        await update.message.reply_text(reply_text("not_allowed"))
    raise ApplicationHandlerStop


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome, what the bot knows and three example questions."""
    state = state_of(context)
    articles = list(state.service.retriever.data.articles.values())
    examples = await example_questions(state)
    await update.message.reply_text(render_start(len(articles), date_range(articles), examples))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to ask, and the commands."""
    await update.message.reply_text(HELP_TEXT)


async def on_about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Index statistics."""
    await update.message.reply_text(render_about(state_of(context).service.manifest))


async def on_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The first page of indexed articles, newest first."""
    text, keyboard = sources_page(state_of(context), 0)
    await update.message.reply_text(text, reply_markup=keyboard)


async def on_sources_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn the /sources message to another page."""
    query = update.callback_query
    await query.answer()
    text, keyboard = sources_page(state_of(context), int(query.data.split(":")[1]))
    with contextlib.suppress(BadRequest):  # the same page again: Telegram refuses an unchanged edit
        await query.edit_message_text(text, reply_markup=keyboard)


def sources_page(state: BotState, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text of one /sources page and its ◀ ▶ buttons."""
    articles = sort_newest_first(state.service.retriever.data.articles.values())
    pages = page_count(len(articles), SOURCES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ 上一页", callback_data=f"src:{page - 1}"))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton("下一页 ▶", callback_data=f"src:{page + 1}"))
    keyboard = InlineKeyboardMarkup([buttons]) if buttons else None
    return render_sources(articles, page, SOURCES_PER_PAGE), keyboard


async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins only: swap in a rebuilt index; questions in flight finish on the old one."""
    state = state_of(context)
    if update.effective_user.id not in state.config.telegram.admins:
        await update.message.reply_text(reply_text("admins_only"))
        return
    changed = await asyncio.to_thread(state.service.reload)
    manifest = state.service.manifest
    name = "reloaded" if changed else "not_reloaded"
    await update.message.reply_text(
        reply_text(
            name,
            articles=manifest.get("articles"),
            passages=manifest.get("passages"),
            built_at=manifest.get("built_at"),
        )
    )


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have (in groups only when addressed to it)."""
    if is_addressed(update.message, context):
        await update.message.reply_text(reply_text("unknown_command"))


async def on_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files: ask for a text question."""
    if is_addressed(update.message, context):
        await update.message.reply_text(reply_text("not_text"))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A question: in private chats any text, in groups only when the bot is mentioned or replied to."""
    message = update.message
    if not is_addressed(message, context):
        return
    state = state_of(context)
    if not state.quota.allow(update.effective_user.id):
        await message.reply_text(reply_text("rate_limited", limit=state.quota.per_minute))
        return
    question = question_text(message, context.bot.username)
    if not question:
        await message.reply_text(reply_text("empty"))
        return
    limit = state.config.answer.max_question_chars
    notice = reply_text("too_long", limit=limit) if len(question) > limit else None
    async with typing(context, message.chat_id):
        await send_page(
            context, message.chat_id, question[:limit], state.answers.new_key(), 0, message, notice
        )


@contextlib.asynccontextmanager
async def typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int):
    """Show "typing…" until the block ends (Telegram clears it after five seconds, so it is renewed)."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_REFRESH_SECONDS)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()


async def find_page(state: BotState, question: str, page: int) -> tuple[Answer, bool]:
    """One page of the answer, searched off the event loop, and whether a further page exists."""
    per_page = state.config.telegram.results_per_page
    found = await asyncio.to_thread(state.service.answer, question, per_page + 1, page * per_page)
    has_more = len(found.quotes) > per_page
    return Answer(found.question, found.quotes[:per_page], found.abstained, found.note), has_more


async def send_page(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    question: str,
    key: str,
    page: int,
    reply_to: Message | None = None,
    notice: str | None = None,
) -> bool:
    """Search and send one page of the answer with its buttons; False when the page is empty."""
    state = state_of(context)
    found, has_more = await find_page(state, question, page)
    if page > 0 and not found.quotes:
        return False
    first_number = page * state.config.telegram.results_per_page + 1
    messages = render_answer(found, notice, first_number)
    keyboard = None
    if found.quotes:
        state.answers.save(key, page, question, tuple(pid for q in found.quotes for pid in q.passage_ids))
        keyboard = answer_keyboard(key, page, has_more)
    reply = ReplyParameters(reply_to.message_id, allow_sending_without_reply=True) if reply_to else None
    for i, text in enumerate(messages):
        last = i == len(messages) - 1
        await context.bot.send_message(
            chat_id, text, reply_parameters=reply if i == 0 else None, reply_markup=keyboard if last else None
        )
    return True


def answer_keyboard(key: str, page: int, more: bool) -> InlineKeyboardMarkup:
    """更多结果 (when there is a next page), 👍 and 👎; callback data stays far under 64 bytes."""
    row = [InlineKeyboardButton("更多结果", callback_data=f"more:{key}:{page}")] if more else []
    row += [
        InlineKeyboardButton("👍", callback_data=f"vote:{key}:{page}:up"),
        InlineKeyboardButton("👎", callback_data=f"vote:{key}:{page}:down"),
    ]
    return InlineKeyboardMarkup([row])


async def on_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """更多结果: send the next passages and drop the button from the previous page."""
    query, state = update.callback_query, state_of(context)
    _, key, page = query.data.split(":")
    entry, next_page = state.answers.get(key), int(page) + 1
    if entry is None:
        await query.answer(reply_text("expired"), show_alert=True)
        return
    if not state.answers.claim(key, next_page):
        await query.answer(reply_text("already_shown"))
        return
    await query.answer()
    try:
        async with typing(context, query.message.chat.id):
            sent = await send_page(context, query.message.chat.id, entry.question, key, next_page)
    finally:
        state.answers.release(key, next_page)
    if not sent:
        await context.bot.send_message(query.message.chat.id, reply_text("no_more"))
    with contextlib.suppress(BadRequest):  # already edited by an earlier tap
        await query.edit_message_reply_markup(answer_keyboard(key, int(page), more=False))


async def on_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎: record the vote for the passages on that page."""
    query, state = update.callback_query, state_of(context)
    _, key, page, vote = query.data.split(":")
    entry = state.answers.get(key)
    if entry is None or int(page) not in entry.pages:
        await query.answer(reply_text("expired"), show_alert=True)
        return
    await asyncio.to_thread(state.feedback.record, entry.question, entry.pages[int(page)], vote)
    await query.answer(reply_text("thanks"))


async def on_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button this version of the bot does not know."""
    await update.callback_query.answer(reply_text("expired"), show_alert=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the update id and traceback; the user gets a generic apology, never the traceback."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(reply_text("error"), show_alert=True)
        else:
            await context.bot.send_message(update.effective_chat.id, reply_text("error"))
    except TelegramError:
        logger.warning("could not send the apology for update %s", update_id)


# --- start-up, index watching and serving ----------------------------------------------------------------


async def example_questions(state: BotState, count: int = 3) -> list[str]:
    """Questions built from the newest titles that the index really answers (cached per index generation)."""
    generation = state.service.retriever.data.path
    if generation not in state.examples:
        state.examples[generation] = await asyncio.to_thread(_find_examples, state.service, count)
    return state.examples[generation]


def _find_examples(service: QAService, count: int) -> list[str]:
    examples = []
    for article in sort_newest_first(service.retriever.data.articles.values()):
        question = to_simplified(re.split(r"\s", article.title.strip())[0]).rstrip("。！？!?") + "？"
        found = service.answer(question, top_k=1)
        if not found.abstained and found.quotes[0].article_id == article.id:
            examples.append(question)
        if len(examples) == count:
            break
    return examples


async def watch_index(service: QAService, seconds: float) -> None:
    """Every `seconds`, swap in a newer index that appeared on disk."""
    while True:
        await asyncio.sleep(seconds)
        try:
            if await asyncio.to_thread(service.reload):
                logger.info("a newer index was found and swapped in")
        except Exception:  # noqa: BLE001 - a broken rebuild must not stop the bot; the old index keeps serving
            logger.exception("could not load the newer index; still serving the old one")


async def on_startup(application: Application) -> None:
    """Register the commands with Telegram and start watching the index folder."""
    state: BotState = application.bot_data["state"]
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    seconds = state.config.telegram.index_check_seconds
    if seconds > 0:
        state.watcher = asyncio.create_task(watch_index(state.service, seconds))


async def on_stop(application: Application) -> None:
    """Stop watching the index folder."""
    state: BotState = application.bot_data["state"]
    if state.watcher:
        state.watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.watcher


def build_application(config: Config, service: QAService, token: str) -> Application:
    """The python-telegram-bot Application with every handler, talking to telegram.api_base_url."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token inside request URLs
    defaults = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(config.telegram.api_base_url)
        .defaults(defaults)
        .rate_limiter(RetryingRequests())
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(on_startup)
        .post_stop(on_stop)
        .build()
    )
    application.bot_data["state"] = BotState.create(service, config)
    add_handlers(application)
    return application


def add_handlers(application: Application) -> None:
    """Commands, questions, buttons and the error handler, in the order they are tried."""
    application.add_handler(TypeHandler(Update, gate), group=-1)
    for name, callback in (
        ("start", on_start),
        ("help", on_help),
        ("sources", on_sources),
        ("about", on_about),
        ("reload", on_reload),
    ):
        application.add_handler(CommandHandler(name, callback, filters=MESSAGE_ONLY))
    application.add_handler(MessageHandler(filters.COMMAND & MESSAGE_ONLY, on_unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & MESSAGE_ONLY, on_text))
    application.add_handler(MessageHandler(filters.ATTACHMENT & MESSAGE_ONLY, on_not_text))
    application.add_handler(CallbackQueryHandler(on_more, pattern=r"^more:[\w-]+:\d+$"))
    application.add_handler(CallbackQueryHandler(on_vote, pattern=r"^vote:[\w-]+:\d+:(up|down)$"))
    application.add_handler(CallbackQueryHandler(on_sources_page, pattern=r"^src:\d+$"))
    application.add_handler(CallbackQueryHandler(on_stale_button))
    application.add_error_handler(on_error)


def read_token(config: Config) -> str:
    """The bot token from the environment variable named by telegram.token_env."""
    name = config.telegram.token_env
    token = os.environ.get(name, "").strip()
    if not token:
        raise ConfigError(
            f"no Telegram bot token: set the environment variable {name} (create a bot with @BotFather)"
        )
    return token


async def check_token(config: Config, token: str) -> str:
    """The bot's @username, or ConfigError when the Bot API rejects the token or cannot be reached."""
    tg = config.telegram
    try:
        async with Bot(token, base_url=tg.api_base_url) as bot:  # initialising calls getMe
            return bot.username
    except InvalidToken:
        raise ConfigError(
            f"the Bot API rejected the token in {tg.token_env}; copy it again from @BotFather"
        ) from None
    except NetworkError as exc:
        raise ConfigError(
            f"cannot reach the Bot API at {tg.api_base_url} ({type(exc).__name__}); check the network "
            "or telegram.api_base_url"
        ) from None


def serve(config: Config) -> int:
    """Run the bot with long polling until interrupted (Ctrl-C or SIGTERM)."""
    token = read_token(config)
    for handler in logging.getLogger().handlers:
        handler.addFilter(TokenFilter(token))
    username = asyncio.run(check_token(config, token))  # fail in a second, before the model loads
    service = QAService.open(config, progress=sys.stderr.isatty())
    application = build_application(config, service, token)
    logger.info("@%s serves %s articles", username, service.manifest.get("articles"))
    application.run_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=config.telegram.poll_interval)
    return 0
