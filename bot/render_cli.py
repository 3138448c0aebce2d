"""Answer → terminal text: each quote followed by its title, source and date."""

from __future__ import annotations

import json

from bot.answer import ABSTAIN_TEXT, best_sentence
from bot.models import Answer, Quote

BOLD, RESET = "\033[1m", "\033[0m"


def render_text(answer: Answer, color: bool = False) -> str:
    """Human-readable answer for the terminal."""
    if answer.abstained:
        return f"{ABSTAIN_TEXT}。\n{answer.note or ''}".rstrip()
    blocks = [_render_quote(i, quote, answer.question, color) for i, quote in enumerate(answer.quotes, 1)]
    return "\n\n".join(blocks)


def _render_quote(number: int, quote: Quote, question: str, color: bool) -> str:
    text = quote.text
    span = best_sentence(text, question) if color else None
    if span:
        text = text[: span[0]] + BOLD + text[span[0] : span[1]] + RESET + text[span[1] :]
    quoted = "\n".join(f"    {line}" for line in text.splitlines())
    return f"[{number}] 「\n{quoted}\n    」\n    —— {metadata_line(quote)}"


def metadata_line(quote: Quote) -> str:
    """《title》 · source · date · url, skipping what is unknown."""
    parts = [f"《{quote.title}》", quote.source or "来源不详", quote.date or "日期不详"]
    if quote.url:
        parts.append(quote.url)
    return " · ".join(parts)


def render_json(answer: Answer) -> str:
    """One JSON object on one line."""
    return json.dumps(answer.to_json(), ensure_ascii=False)
