"""The real python-telegram-bot Application against FakeBotAPI on 127.0.0.1, with the real model and index."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import ROOT, write_config
from fake_bot_api import FakeBot, FakeBotAPI, wait_until

from bot import telegram_bot
from bot.answer import ABSTAIN_TEXT
from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.models import Answer, Quote
from bot.render_telegram import REPLIES
from bot.service import QAService, rebuild
from bot.telegram_bot import (
    ALLOWED_UPDATES,
    QuestionQuota,
    TokenFilter,
    build_application,
    serve,
    watch_index,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "123456:FAKE-token-that-must-never-show"
ADMIN = 4242
QUESTION = "江苏通过师徒结对培养了多少科室接班人？"
TITLE = "江蘇深化醫療援青結碩果 精準幫扶助力青海健康事業邁上新臺階"
MANY_RESULTS = "青海多舉措持續提升醫療服務能力？"
RATE_LIMIT = 3
chat_ids = itertools.count(1001)


def polite(name: str, **values: object) -> str:
    """A fixed reply as the user sees it."""
    return REPLIES[name].format(**values)


async def start_polling(application) -> None:
    """What run_polling does before it blocks."""
    await application.initialize()
    await application.post_init(application)
    await application.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await application.start()


async def stop_polling(application) -> None:
    """What run_polling does on Ctrl-C."""
    await application.updater.stop()
    await application.stop()
    await application.post_stop(application)
    await application.shutdown()


@pytest.fixture(scope="module")
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture(scope="module")
def project(seed_config_path: Path, tmp_path_factory: pytest.TempPathFactory, api: FakeBotAPI) -> Config:
    """A writable copy of the seed project (its index may be rebuilt) pointed at the fake Bot API."""
    folder = tmp_path_factory.mktemp("telegram-project")
    for name in ("corpus", "index"):
        shutil.copytree(seed_config_path.parent / name, folder / name, symlinks=True)
    telegram = {
        "api_base_url": api.base_url,
        "admins": [ADMIN],
        "rate_limit": RATE_LIMIT,
        "results_per_page": 1,
        "index_check_seconds": 0,
    }
    return load_config(write_config(folder, telegram=telegram))


@pytest.fixture(scope="module")
def qa(project: Config, service: QAService) -> QAService:
    """The service over the project copy; the model is the one the session already loaded (cached)."""
    return QAService.open(project, auto_build=False, progress=False)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(api: FakeBotAPI, project: Config, qa: QAService):
    """The running Application and the fake account it polls."""
    account = api.add_bot(TOKEN)
    application = build_application(project, qa, TOKEN)
    await start_polling(application)
    yield account
    await stop_polling(application)


@pytest.fixture
def chat() -> int:
    """A fresh private chat (and user) id per test."""
    return next(chat_ids)


async def ask(bot: FakeBot, chat_id: int, text: str, count: int = 1, **kwargs) -> list[str]:
    """Send a message and return the HTML of the first `count` replies."""
    bot.push_message(chat_id, text, **kwargs)
    return [c.params["text"] for c in await bot.wait_for_messages(chat_id, count)]


async def settle(bot: FakeBot) -> None:
    """Wait until every update queued so far has been handled: a later private /help has been answered."""
    sentinel = next(chat_ids)
    await ask(bot, sentinel, "/help")


def buttons(call) -> list[dict]:
    """The inline buttons under a sent message."""
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button(call, label: str) -> str:
    """The callback data of the button with this label."""
    return next(b["callback_data"] for b in buttons(call) if b["text"] == label)


# --- start-up and commands -------------------------------------------------------------------------------


async def test_commands_are_registered_at_startup(bot: FakeBot):
    call = (await bot.wait_for(lambda: bot.calls_of("setMyCommands")))[0]
    assert [c["command"] for c in call.params["commands"]] == ["start", "help", "sources", "about"]


async def test_start_tells_what_the_bot_knows_with_three_examples(bot: FakeBot, chat: int):
    (text,) = await ask(bot, chat, "/start")
    assert "5 篇文章" in text and "2023-04-14" in text and "2025-11-01" in text
    examples = [line[2:] for line in text.splitlines() if line.startswith("• ")]
    assert len(examples) == 3
    reply = await ask(bot, chat, examples[0], count=2)
    assert "<blockquote>" in reply[1]


async def test_help_explains_how_to_ask_and_lists_commands(bot: FakeBot, chat: int):
    (text,) = await ask(bot, chat, "/help")
    assert "怎么提问" in text
    assert all(f"/{name}" in text for name in ("start", "help", "sources", "about"))


async def test_sources_lists_articles_newest_first_in_pages(bot: FakeBot, chat: int, monkeypatch):
    monkeypatch.setattr(telegram_bot, "SOURCES_PER_PAGE", 2)
    (text,) = await ask(bot, chat, "/sources")
    assert "已收录 5 篇文章" in text and "第 1/3 页" in text
    assert text.index("2025-11-01") < text.index("2025-06-20")
    assert "玉溪" not in text
    first = bot.sent(chat)[0]
    bot.push_callback(first.result, button(first, "下一页 ▶"))
    edit = (await bot.wait_for(lambda: bot.calls_of("editMessageText", chat)))[0]
    assert "第 2/3 页" in edit.params["text"] and "玉溪日報 · 2025-04-18" in edit.params["text"]
    bot.push_callback(first.result, button(first, "下一页 ▶"))  # a stale tap asks for the page already shown
    await bot.wait_for(lambda: bot.calls_of("editMessageText", chat, ok=False))
    await settle(bot)
    assert len(bot.sent(chat)) == 1, "an unchanged edit is not an error the user hears about"


async def test_about_shows_index_statistics(bot: FakeBot, chat: int, qa: QAService):
    (text,) = await ask(bot, chat, "/about")
    manifest = qa.manifest
    assert f"文章：{manifest['articles']}" in text and f"段落：{manifest['passages']}" in text
    assert "m3e-small" in text and manifest["built_at"] in text


# --- questions -------------------------------------------------------------------------------------------


async def test_question_is_answered_with_quote_title_source_and_date(bot: FakeBot, chat: int):
    (text,) = await ask(bot, chat, QUESTION)
    assert bot.calls_of("sendChatAction", chat)[0].params["action"] == "typing"
    assert f"<b>1. {TITLE}</b>" in text
    assert "青海新聞網 · 2025-06-20" in text
    quote = text[text.index("<blockquote>") : text.index("</blockquote>")]
    assert "200余名" in quote and "<b>" in quote, "the best sentence is bold inside the quote"
    call = bot.sent(chat)[0]
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}
    labels = [b["text"] for b in buttons(call)]
    assert "👍" in labels and "👎" in labels
    assert all(len(b["callback_data"].encode()) < 64 for b in buttons(call))


async def test_answer_quotes_the_question_it_replies_to(bot: FakeBot, chat: int):
    message = bot.push_message(chat, QUESTION)
    (call,) = await bot.wait_for_messages(chat)
    assert call.params["reply_parameters"]["message_id"] == message["message_id"]


async def test_unanswerable_question_abstains_without_a_passage(bot: FakeBot, chat: int):
    (text,) = await ask(bot, chat, "红烧肉怎么做")
    assert ABSTAIN_TEXT in text and "换个说法" in text
    assert "<blockquote>" not in text
    assert buttons(bot.sent(chat)[0]) == []


async def test_more_results_sends_the_next_passages_once(bot: FakeBot, chat: int):
    (first_text,) = await ask(bot, chat, MANY_RESULTS)
    first = bot.sent(chat)[0]
    more = button(first, "更多结果")
    bot.push_callback(first.result, more)
    second = (await bot.wait_for_messages(chat, 2))[1]
    assert second.params["text"].startswith("<b>2. ") and "<blockquote>" in second.params["text"]
    assert second.params["text"] != first_text
    edit = (await bot.wait_for(lambda: bot.calls_of("editMessageReplyMarkup", chat)))[0]
    assert "更多结果" not in json.dumps(edit.params["reply_markup"], ensure_ascii=False)
    bot.push_callback(first.result, more)  # a double tap
    await bot.wait_for(
        lambda: (
            len(bot.calls_of("answerCallbackQuery"))
            and any(
                c.params.get("text") == polite("already_shown") for c in bot.calls_of("answerCallbackQuery")
            )
        )
    )
    await settle(bot)
    assert len(bot.sent(chat)) == 2, "the next page is not sent twice"


async def test_thumbs_up_records_feedback_without_names(bot: FakeBot, chat: int, project: Config):
    await ask(bot, chat, QUESTION)
    first = bot.sent(chat)[0]
    query_id = bot.push_callback(first.result, button(first, "👍"))
    await bot.wait_for(
        lambda: [c for c in bot.calls_of("answerCallbackQuery") if c.params["callback_query_id"] == query_id]
    )
    feedback = project.telegram.data_dir / "feedback.jsonl"
    rows = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    row = next(r for r in rows if r["question"] == QUESTION)
    assert row["vote"] == "up" and row["passage_ids"] and row["time"]
    assert set(row) == {"time", "question", "passage_ids", "vote"}
    assert "测试用户" not in feedback.read_text(encoding="utf-8")
    answered = [c for c in bot.calls_of("answerCallbackQuery") if c.params["callback_query_id"] == query_id]
    assert answered[0].params["text"] == polite("thanks")


async def test_buttons_keep_working_after_a_restart(
    api: FakeBotAPI, bot: FakeBot, project: Config, qa: QAService, chat: int
):
    await ask(bot, chat, MANY_RESULTS)
    first = bot.sent(chat)[0]
    restarted = api.add_bot("654321:RESTARTED-token", username="newsqa_test_bot", bot_id=777000)
    restarted.messages[(chat, first.result["message_id"])] = bot.messages[(chat, first.result["message_id"])]
    application = build_application(project, qa, "654321:RESTARTED-token")  # reads the same data folder
    await start_polling(application)
    try:
        restarted.push_callback(first.result, button(first, "更多结果"))
        (call,) = await restarted.wait_for_messages(chat)
        assert call.params["text"].startswith("<b>2. ")
        restarted.push_callback(first.result, "more:unknownkey:0")
        await restarted.wait_for(
            lambda: [
                c
                for c in restarted.calls_of("answerCallbackQuery")
                if c.params.get("text") == polite("expired")
            ]
        )
    finally:
        await stop_polling(application)


async def test_stale_button_says_it_expired(bot: FakeBot, chat: int):
    await ask(bot, chat, QUESTION)
    first = bot.sent(chat)[0]
    for data in ("more:gone-key:0", "vote:gone-key:0:up", "an-old-button-layout"):
        query_id = bot.push_callback(first.result, data)
        call = await bot.wait_for(
            lambda q=query_id: [
                c for c in bot.calls_of("answerCallbackQuery") if c.params["callback_query_id"] == q
            ]
        )
        assert call[0].params["text"] == polite("expired")


async def test_huge_passage_is_split_into_messages_telegram_accepts(
    bot: FakeBot, chat: int, qa: QAService, monkeypatch
):
    passage = "医疗<援助>&合作。" * 1500
    quote = Quote(passage, "标题<b>", "来源&", "2025-01-01", None, "a1", 1.0, ("p1",))
    monkeypatch.setattr(qa, "answer", lambda q, *a, **k: Answer(q, (quote,)))
    bot.push_message(chat, "长段落？")
    await bot.wait_for(lambda: bot.sent(chat) and buttons(bot.sent(chat)[-1]))
    shown = [c.result["text"] for c in bot.sent(chat)]
    assert len(shown) > 1 and not bot.calls_of("sendMessage", chat, ok=False)
    assert "".join(s.split("\n", 2)[-1] if i == 0 else s for i, s in enumerate(shown)) == passage


# --- groups ----------------------------------------------------------------------------------------------


async def test_group_chatter_is_ignored_and_a_mention_is_answered(bot: FakeBot):
    group = -next(chat_ids)
    bot.push_message(group, QUESTION, user_id=5001)
    bot.push_message(group, "/unknowncommand@another_bot", user_id=5001)
    bot.push_message(group, QUESTION, user_id=5001, edited=True)
    bot.push_message(
        group,
        None,
        user_id=5001,
        sticker={
            "file_id": "s1",
            "file_unique_id": "u1",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        },
    )
    await settle(bot)
    assert bot.sent(group) == []
    (text,) = await ask(bot, group, f"@{bot.username} {QUESTION}", user_id=5001)
    assert TITLE in text and "200余名" in text


async def test_group_reply_to_the_bot_is_answered(bot: FakeBot):
    group = -next(chat_ids)
    (welcome,) = await ask(bot, group, f"/help@{bot.username}", user_id=5002)
    assert "怎么提问" in welcome
    replied = bot.sent(group)[0].result
    texts = await ask(bot, group, QUESTION, count=2, user_id=5002, reply_to=replied)
    assert TITLE in texts[1]


async def test_edited_private_message_is_ignored(bot: FakeBot, chat: int):
    bot.push_message(chat, QUESTION, edited=True)
    await settle(bot)
    assert bot.sent(chat) == []


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document"])
async def test_non_text_messages_get_a_polite_reply(bot: FakeBot, chat: int, kind: str):
    media = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "u",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        },
        "photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}],
        "voice": {"file_id": "v", "file_unique_id": "u", "duration": 1},
        "document": {"file_id": "d", "file_unique_id": "u", "file_name": "a.pdf"},
    }[kind]
    bot.push_message(chat, None, **{kind: media})
    (call,) = await bot.wait_for_messages(chat)
    assert call.params["text"] == polite("not_text")


async def test_empty_question_gets_an_example(bot: FakeBot, chat: int):
    (text,) = await ask(bot, chat, "   ")
    assert text == polite("empty")
    group = -next(chat_ids)
    (text,) = await ask(bot, group, f"@{bot.username}", user_id=chat)
    assert text == polite("empty")


async def test_overlong_question_is_answered_from_its_first_part_with_a_note(bot: FakeBot, chat: int):
    (text,) = await ask(bot, chat, QUESTION + "啊" * 1200)
    assert text.startswith(f"<i>{polite('too_long', limit=1000)}</i>")
    assert TITLE in text


async def test_unknown_command_is_answered_politely(bot: FakeBot, chat: int):
    (text,) = await ask(bot, chat, "/frobnicate")
    assert text == polite("unknown_command")


async def test_user_over_the_rate_limit_is_asked_to_wait(bot: FakeBot, chat: int):
    for _ in range(RATE_LIMIT):
        bot.push_message(chat, "红烧肉怎么做")
    await bot.wait_for_messages(chat, RATE_LIMIT)
    texts = await ask(bot, chat, "红烧肉怎么做", count=RATE_LIMIT + 1)
    assert texts[-1] == polite("rate_limited", limit=RATE_LIMIT)
    assert all(ABSTAIN_TEXT in t for t in texts[:-1])


async def test_chat_not_allowed_gets_a_refusal_and_nothing_else(
    bot: FakeBot, chat: int, project: Config, monkeypatch
):
    monkeypatch.setattr(project.telegram, "allowed_chats", [999])
    (text,) = await ask(bot, chat, QUESTION)
    await settle(bot)
    assert len(bot.sent(chat)) == 1 and not bot.calls_of("sendChatAction", chat)


# --- faults ----------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_is_retried(bot: FakeBot, chat: int):
    # PTB's own RetryAfter constructor warns about the future type of retry_after
    bot.fail_next("sendMessage")  # 429 with retry_after=1
    (text,) = await ask(bot, chat, QUESTION)
    assert TITLE in text
    failed = bot.calls_of("sendMessage", chat, ok=False)
    assert len(failed) == 1 and failed[0].error.startswith("Too Many Requests")
    assert len(bot.sent(chat)) == 1


async def test_network_error_is_retried(bot: FakeBot, chat: int):
    bot.fail_next("sendMessage", code=502, description="Bad Gateway", retry_after=None)
    (text,) = await ask(bot, chat, QUESTION)
    assert TITLE in text and len(bot.calls_of("sendMessage", chat, ok=False)) == 1


async def test_handler_error_is_logged_and_the_user_gets_an_apology(
    bot: FakeBot, chat: int, qa: QAService, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("index exploded: internal detail")

    monkeypatch.setattr(qa, "answer", broken)
    with caplog.at_level(logging.ERROR, logger="bot.telegram_bot"):
        (text,) = await ask(bot, chat, QUESTION)
    assert text == polite("error") and "internal detail" not in text
    record = next(r for r in caplog.records if r.name == "bot.telegram_bot" and r.levelno == logging.ERROR)
    assert record.getMessage() == f"update {bot.last_update_id} failed"
    assert record.exc_info and "index exploded" in str(record.exc_info[1])


async def test_token_never_reaches_logs_or_replies(bot: FakeBot, chat: int, caplog):
    with caplog.at_level(logging.DEBUG):
        await ask(bot, chat, QUESTION)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in c.params.get("text", "") for c in bot.calls)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET %s", (f"/bot{TOKEN}/getMe",), None)
    TokenFilter(TOKEN).filter(record)
    assert TOKEN not in record.getMessage()


# --- index reloads ---------------------------------------------------------------------------------------


async def test_reload_is_for_admins_and_swaps_in_a_rebuilt_index(
    bot: FakeBot, chat: int, project: Config, qa: QAService
):
    (text,) = await ask(bot, chat, "/reload")
    assert text == polite("admins_only")
    removed = next(project.corpus.dir.glob("003_*"))  # 玉溪推動優質醫療資源下沉基層
    moved = removed.rename(removed.with_suffix(".bak"))
    try:
        rebuild(project, embedder=qa.embedder, progress=False)
    finally:
        moved.rename(removed)
    (text,) = await ask(bot, ADMIN, "/reload")
    assert text.startswith("已换用新索引：4 篇文章")
    about = (await ask(bot, ADMIN, "/about", count=2))[1]
    assert "文章：4" in about


async def test_running_bot_notices_a_newer_index(project: Config, qa: QAService):
    rebuild(project, embedder=qa.embedder, progress=False)
    watcher = asyncio.create_task(watch_index(qa, 0.05))
    try:
        await wait_until(lambda: qa.manifest["articles"] == 5)
    finally:
        watcher.cancel()


async def test_question_quota_is_per_user_and_per_minute():
    now = [0.0]
    quota = QuestionQuota(2, clock=lambda: now[0])
    assert quota.allow(1) and quota.allow(1) and not quota.allow(1) and quota.allow(2)
    now[0] = 61.0
    assert quota.allow(1)


# --- `python -m bot serve` -------------------------------------------------------------------------------


async def test_serve_without_a_token_names_the_variable(project: Config, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        serve(project)


async def test_serve_end_to_end(api: FakeBotAPI, project: Config):
    """`TELEGRAM_BOT_TOKEN=… python -m bot serve`: a rejected token exits 2 in one line; a good one answers."""
    command = [sys.executable, "-m", "bot", "serve", "--config", str(project.path), "-v"]
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "999:WRONG-token-secret"}
    wrong = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert wrong.returncode == 2 and "WRONG-token-secret" not in wrong.stderr
    assert wrong.stderr.strip().splitlines()[-1].startswith("error: the Bot API rejected the token")
    account = api.add_bot("777:SERVE-token", username="serve_bot", bot_id=778000)
    process = subprocess.Popen(
        command,
        env={**env, "TELEGRAM_BOT_TOKEN": "777:SERVE-token"},
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        account.push_message(31337, QUESTION)
        await wait_until(lambda: account.sent(31337) or process.poll() is not None, timeout=120)
        assert process.poll() is None, process.stderr.read()
        assert TITLE in account.sent(31337)[0].params["text"]
    finally:
        process.send_signal(signal.SIGINT)
        _, log = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0 and "SERVE-token" not in log
