"""Answer → Telegram HTML messages: escaped corpus text, quotes in blockquotes, at most 4096 characters each."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from bot.answer import ABSTAIN_HINT, ABSTAIN_TEXT, best_sentence
from bot.models import Answer, Article, Quote

MAX_MESSAGE_CHARS = 4096
MAX_TITLE_CHARS = 200
MAX_URL_CHARS = 1000
SOURCES_PER_PAGE = 10
SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")
QUOTE_OPEN, QUOTE_CLOSE = "<blockquote>", "</blockquote>"

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "开始使用"),
    ("help", "怎么提问"),
    ("sources", "已收录的文章"),
    ("about", "索引信息"),
)

HELP_TEXT = (
    "<b>怎么提问</b>\n"
    "直接发一句中文问题，例如「青海组建了多少个紧密型县域医共体？」。"
    "我会从已收录的新闻里引用原文段落，并注明标题、来源和日期；找不到可靠的段落时会直接说没有找到。\n"
    "在群里，请 @我 或回复我的消息来提问。\n\n"
    "<b>命令</b>\n" + "\n".join(f"/{name} — {text}" for name, text in COMMANDS)
)

REPLIES = {
    "not_allowed": "抱歉，这个机器人只在指定的聊天里使用。",
    "not_text": "我只能回答文字问题，请用文字提问。",
    "empty": "请写下你的问题，例如：青海组建了多少个紧密型县域医共体？",
    "too_long": "问题超过 {limit} 字，我只按前 {limit} 字来回答。",
    "unknown_command": "没有这个命令。可用的命令请看 /help 。",
    "rate_limited": "提问太频繁了：每人每分钟最多 {limit} 个问题，请稍后再试。",
    "expired": "这个按钮已过期，请重新提问。",
    "no_more": "没有更多结果了。",
    "already_shown": "下一页已经发出来了。",
    "thanks": "谢谢反馈！",
    "admins_only": "只有管理员可以使用这个命令。",
    "reloaded": "已换用新索引：{articles} 篇文章，{passages} 个段落。",
    "not_reloaded": "索引没有变化，仍在使用 {built_at} 构建的索引。",
    "error": "抱歉，处理时出了点问题，请稍后再试。",
}


def render_answer(answer: Answer, notice: str | None = None, first_number: int = 1) -> list[str]:
    """The messages of one page of an answer: quotes numbered from `first_number`, or the abstention."""
    head = [f"<i>{html.escape(notice)}</i>"] if notice else []
    if answer.abstained or not answer.quotes:
        return pack(head + [render_abstention(answer)])
    blocks = [
        b for n, q in enumerate(answer.quotes, first_number) for b in quote_blocks(n, q, answer.question)
    ]
    return pack(head + blocks)


def render_abstention(answer: Answer) -> str:
    """The abstention text and a hint, never a weak passage."""
    return f"<b>{html.escape(ABSTAIN_TEXT)}</b>\n{html.escape(answer.note or ABSTAIN_HINT)}"


def quote_blocks(number: int, quote: Quote, question: str) -> list[str]:
    """Title, source · date and the passage in a blockquote; a passage too long for one message is cut."""
    header = (
        f"<b>{number}. {title_html(quote.title)}</b>\n{metadata_html(quote.source, quote.date, quote.url)}\n"
    )
    span = best_sentence(quote.text, question)
    budget = MAX_MESSAGE_CHARS - len(header) - len(QUOTE_OPEN) - len(QUOTE_CLOSE) - len("<b></b>")
    pieces = cut_text(quote.text, budget)
    blocks = []
    for i, (start, end) in enumerate(pieces):
        body = QUOTE_OPEN + highlight(quote.text, start, end, span) + QUOTE_CLOSE
        blocks.append((header if i == 0 else "") + body)
    return blocks


def title_html(title: str) -> str:
    """The escaped title, clipped so that a malformed giant title cannot fill a message."""
    return html.escape(title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…")


def metadata_html(source: str | None, date: str | None, url: str | None) -> str:
    """`source · date`, the source linked to the article when its url is a web address."""
    name = html.escape((source or "来源不详")[:MAX_TITLE_CHARS])
    if url and url.startswith(("http://", "https://")) and len(url) <= MAX_URL_CHARS:
        name = f'<a href="{html.escape(url, quote=True)}">{name}</a>'
    return f"{name} · {html.escape(date or '日期不详')}"


def highlight(text: str, start: int, end: int, span: tuple[int, int] | None) -> str:
    """Escaped text[start:end] with the part inside `span` in bold."""
    if not span or span[1] <= start or span[0] >= end:
        return html.escape(text[start:end])
    a, b = max(span[0], start), min(span[1], end)
    return html.escape(text[start:a]) + "<b>" + html.escape(text[a:b]) + "</b>" + html.escape(text[b:end])


def cut_text(text: str, budget: int) -> list[tuple[int, int]]:
    """Offsets of consecutive pieces whose escaped length fits `budget`, cut at sentence ends when possible."""
    pieces: list[tuple[int, int]] = []
    start, size, position = 0, 0, 0
    for part_start, part_end in _units(text, budget):
        length = len(html.escape(text[part_start:part_end]))
        if size and size + length > budget:
            pieces.append((start, position))
            start, size = position, 0
        size += length
        position = part_end
    if position > start or not pieces:
        pieces.append((start, position))
    return pieces


def _units(text: str, budget: int) -> Iterable[tuple[int, int]]:
    """Sentences, and single characters inside a sentence too long for one message."""
    position = 0
    for sentence in SENTENCE_END.split(text):
        if len(html.escape(sentence)) <= budget:
            yield position, position + len(sentence)
        else:
            yield from ((position + i, position + i + 1) for i in range(len(sentence)))
        position += len(sentence)


def pack(blocks: list[str], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Join blocks with blank lines into as few messages as fit `limit`; a block is never split."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if current and len(candidate) > limit:
            messages.append(current)
            candidate = block
        current = candidate
    if current:
        messages.append(current)
    return messages


def sort_newest_first(articles: Iterable[Article]) -> list[Article]:
    """Articles by date, newest first; undated ones last, then by title."""
    dated = sorted((a for a in articles if a.date), key=lambda a: (a.date, a.title), reverse=True)
    undated = sorted((a for a in articles if not a.date), key=lambda a: a.title)
    return dated + undated


def page_count(total: int, per_page: int = SOURCES_PER_PAGE) -> int:
    """How many pages `total` items take (at least one)."""
    return max(1, -(-total // per_page))


def render_sources(articles: list[Article], page: int, per_page: int = SOURCES_PER_PAGE) -> str:
    """One page of the indexed articles as title, source and date, newest first."""
    pages = page_count(len(articles), per_page)
    page = min(max(page, 0), pages - 1)
    shown = articles[page * per_page : (page + 1) * per_page]
    text = f"<b>已收录 {len(articles)} 篇文章</b>（第 {page + 1}/{pages} 页，新的在前）"
    for number, article in enumerate(shown, page * per_page + 1):
        entry = f"{number}. <b>{title_html(article.title)}</b>\n{metadata_html(article.source, article.date, article.url)}"
        if len(text) + len(entry) + 4 > MAX_MESSAGE_CHARS:
            return text + "\n\n…"
        text += "\n\n" + entry
    return text


def date_range(articles: Iterable[Article]) -> tuple[str, str] | None:
    """The earliest and latest article dates, or None when no article is dated."""
    dates = sorted(a.date for a in articles if a.date)
    return (dates[0], dates[-1]) if dates else None


def render_start(article_count: int, dates: tuple[str, str] | None, examples: list[str]) -> str:
    """The welcome: what the bot knows and example questions."""
    span = f"，日期从 {dates[0]} 到 {dates[1]}" if dates else ""
    lines = [
        "你好！我回答关于已收录新闻的问题，并引用原文段落，注明标题、来源和日期。",
        f"目前收录了 {article_count} 篇文章{span}。",
    ]
    if examples:
        lines.append("\n可以这样问：")
        lines.extend(f"• {html.escape(q)}" for q in examples)
    lines.append("\n直接发送问题即可；更多说明请看 /help 。")
    return "\n".join(lines)


def render_about(manifest: dict) -> str:
    """Index statistics: articles, passages, model, build time."""
    rows = [
        ("文章", manifest.get("articles")),
        ("段落", manifest.get("passages")),
        ("模型", manifest.get("model")),
        ("向量索引", manifest.get("vector_index")),
        ("构建时间", manifest.get("built_at")),
    ]
    lines = [f"{name}：{html.escape(str(value))}" for name, value in rows if value is not None]
    return "<b>索引信息</b>\n" + "\n".join(lines)


def reply_text(name: str, **values: object) -> str:
    """A fixed polite reply, HTML-escaped, with its values filled in."""
    return html.escape(REPLIES[name].format(**values))
