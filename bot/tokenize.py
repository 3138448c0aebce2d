"""Query and passage text → BM25 terms: t2s first (jieba's dictionary is simplified), then jieba search mode."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

from bot.script import normalize_for_matching

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

TOKEN = re.compile(r"[\w.%]+")
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 等 有 为 对 也 就 都 而 及其 以及 或 被 把 将 从 到 由 于 上 下 中 这 那 其 之 着 个 吗 呢 吧 啊 "
    "多少 几 几家 几个 哪 哪些 哪个 哪里 哪款 哪天 哪年 哪一年 什么 时候 什么时候 怎么 怎样 如何 为什么 是否 谁 何 请问 一下 一共 通过 "
    "可以 能 会 要 我 你 他 她 它 我们 你们 他们 最 很 更".split()
)


def tokenize(text: str) -> list[str]:
    """BM25 terms of `text`: simplified, folded, segmented in jieba search mode, punctuation dropped."""
    normalised = normalize_for_matching(text)
    return [tok for tok in jieba.lcut_for_search(normalised) if TOKEN.fullmatch(tok)]


def key_terms(text: str) -> list[str]:
    """Distinct content terms of a question (no stopwords), used to judge whether a passage answers it."""
    normalised = normalize_for_matching(text)
    # Single characters (做, 一, 向) match almost any passage and would fake relevance.
    terms = [
        tok for tok in jieba.lcut(normalised)
        if TOKEN.fullmatch(tok) and tok not in STOPWORDS and (len(tok) > 1 or tok.isascii())
    ]
    return list(dict.fromkeys(terms))


@lru_cache(maxsize=1)
def jieba_dictionary() -> dict[str, int]:
    """jieba's word → frequency table (built on first use)."""
    jieba.initialize()
    return jieba.dt.FREQ
