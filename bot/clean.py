"""Raw scraped page → Article: strip menus, spam, markup, pinyin and repeated bodies; find the metadata."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from bot.errors import BotError
from bot.models import Article
from bot.script import to_simplified


class NoArticleError(BotError):
    """The page holds no article text (only menus, lists or spam)."""


CJK = r"\u3400-\u9fff"
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# Pinyin printed after a character, e.g. 國(guó); a lost "(" shows up as "?" in some encodings.
PINYIN = re.compile(rf"\((?=[a-zü{TONED}]*[{TONED}])[a-zü{TONED}]{{1,7}}\)")
# In some re-encoded pages a character and its "(" were lost to "?": 日?bào) once read 日報(bào).
PINYIN_MANGLED = re.compile(rf"\?((?=[a-zü{TONED}]*[{TONED}])[a-zü{TONED}]{{1,7}})\)")
LOST_CHAR_MIN_FREQ = 100
TAG = re.compile(r"</?[a-zA-Z][^<>]{0,300}>")
BULLET = re.compile(r"^[\s•·▪●◆■□*>\-–—]+(?=\S)")

# Patterns run on the simplified, NFKC-folded line, so one pattern covers both scripts.
BOILERPLATE = re.compile(
    r"版权所有|copyright|all rights reserved|icp备|公网安备|新闻信息许可证|未经.{0,30}授权|请勿转载|"
    r"违者依法|^声明[:：]|免责声明|e-?mail|邮箱[:：]|电话[:：]|单位地址|网站所属|^域名[:：]|网站地图|设为首页|"
    r"收藏本站|^上一篇|^下一篇|返回列表|扫一扫|分享到|长按识别|二维码|^推荐阅读|^相关阅读|^相关新闻|"
    r"^热点图片|^24h热点|^热门推荐|^网罗天下|责任编辑|^编辑[:：]|位置\s*[:：]|站内检索|^img$|阅读量|"
    r"字号[:：]|打印本页|关闭窗口|^主流媒体|门户\s*主流媒体|关于我们",
    re.IGNORECASE,
)
SPAM_WORD = re.compile(r"无码|精品|av|人妻|久久|国产|午夜|色欲|一区二区|免费观看|在线观看|福利|成人|偷拍|嫩草", re.I)
IMAGE_NAME = re.compile(r"(微信图片|img|image|dsc)[_\-]?\d{4,}|\.(jpe?g|png|gif|webp)$", re.IGNORECASE)
PHOTO_CREDIT = re.compile(r"^[^。！？]{0,30}(记者|通讯员|供图|图)?\s*[^。！？]{0,12}摄$")
SENTENCE_END = re.compile(r"[。！？；!?;]")
DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
DATE_LABEL = re.compile(r"(发布|发表|更新)?(时间|日期)\s*[:：]\s*$")
SOURCE = re.compile(r"(?:来源|稿源|转自|转载自|出处|来自)\s*[:：]\s*([^\s|,，。:：;；()（）]{2,24})")
SOURCE_LEAD = re.compile(rf"^([{CJK}]{{2,12}}?(?:网|报|台|社|新闻))(?:[·・]|讯|消息)")
COPYRIGHT = re.compile(rf"版权所有\s*[:：]?\s*([{CJK}]{{2,12}}(?:网|报|台|社))")
AUTHOR_LABEL = re.compile(rf"作者\s*[:：]\s*(?:本报)?(?:记者)?\s*([{CJK}·]{{2,4}})(?![{CJK}])")
AUTHOR_BYLINE = re.compile(rf"[(（][^()（）]{{0,24}}?记者\s*([{CJK}·]{{2,4}}?)\s*(?:报道|摄)?\s*[)）]")
META_LINE = re.compile(r"^(作者|编辑|责任编辑|来源|转自|发布时间|发布日期|时间|日期)\s*[:：]")


@dataclass(frozen=True)
class Line:
    """One line of the page: the text as printed and its simplified form used for matching."""

    text: str
    key: str


def clean_page(raw: str, url: str | None = None, origin: str = "", title_hint: str | None = None) -> Article:
    """Turn one scraped page into an Article whose body holds each article sentence exactly once."""
    lines = page_lines(raw)
    start, paragraphs = find_body(lines)
    if not paragraphs:
        raise NoArticleError("no article text found (only menus, lists or spam)")
    header = lines[:start]
    meta_lines = header + [ln for ln in lines[start:] if _is_meta(ln) and len(ln.key) <= 80]
    body_text = "\n".join(paragraphs)
    body = Line(body_text, unicodedata.normalize("NFKC", to_simplified(body_text)).lower())
    title = title_hint or find_title(header, lines) or _first_sentence(paragraphs[0])
    return Article(
        id=article_id(title, paragraphs),
        title=title,
        date=find_date(meta_lines) or find_date(lines),
        source=find_source(meta_lines, paragraphs[0], lines),
        author=find_author(meta_lines, body),
        url=url,
        body=tuple(paragraphs),
        origin=origin,
    )


def page_lines(raw: str) -> list[Line]:
    """Split a page into stripped, de-marked lines, each with its simplified matching key."""
    text = html.unescape(TAG.sub("\n", raw.replace("\r\n", "\n").replace("\r", "\n")))
    text = strip_pinyin(text)
    lines = []
    for piece in text.split("\n"):
        cleaned = _tidy(piece)
        if cleaned:
            lines.append(Line(cleaned, unicodedata.normalize("NFKC", to_simplified(cleaned)).lower()))
    return lines


def strip_pinyin(text: str) -> str:
    """Remove pinyin annotations printed after characters, keeping Chinese in parentheses such as (助理)."""
    text = PINYIN.sub("", text)
    traditional = to_simplified(text) != text
    out: list[str] = []
    pos = 0
    for match in PINYIN_MANGLED.finditer(text):
        out.append(text[pos : match.start()])
        previous = out[-1][-1:] if out[-1] else (out[-2][-1:] if len(out) > 1 else "")
        out.append(restore_lost_char(previous, match[1], traditional))
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def restore_lost_char(previous: str, reading: str, traditional: bool) -> str:
    """The character read `reading` that forms a common word with `previous`, or "" when none clearly does."""
    candidates = _chars_by_reading().get(reading, ())
    freq = _word_freq()
    prev = to_simplified(previous)
    best = max(candidates, key=lambda ch: freq.get(prev + ch, 0), default="")
    if not best or freq.get(prev + best, 0) < LOST_CHAR_MIN_FREQ:
        return ""
    return _to_traditional(best) if traditional else best


@lru_cache(maxsize=1)
def _chars_by_reading() -> dict[str, tuple[str, ...]]:
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[str, list[str]] = {}
    for codepoint, readings in pinyin_dict.items():
        for reading in readings.split(","):
            table.setdefault(reading, []).append(chr(codepoint))
    return {reading: tuple(chars) for reading, chars in table.items()}


@lru_cache(maxsize=1)
def _word_freq() -> dict[str, int]:
    from bot.tokenize import jieba_dictionary

    return jieba_dictionary()


def _to_traditional(char: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(char)


def _tidy(piece: str) -> str:
    piece = piece.replace("\u00a0", " ").replace("\u3000", " ").replace("\u200b", "").replace("\ufeff", "")
    piece = BULLET.sub("", piece.strip())
    return re.sub(r"[ \t]{2,}", "  ", piece).strip()


def find_body(lines: list[Line]) -> tuple[int, list[str]]:
    """Return the index of the first body line and the de-duplicated body paragraphs."""
    blocks = _prose_blocks(lines)
    if not blocks:
        return len(lines), []
    main = max(blocks, key=lambda block: sum(len(lines[i].key) for i in block))
    seen: set[str] = set()
    paragraphs: list[str] = []
    for block in blocks:
        fresh = _unseen(lines, block, seen)
        if block is not main and sum(len(lines[i].key) for i in fresh) < 150:
            continue
        seen.update(_dedupe_key(lines[i].key) for i in fresh)
        paragraphs.extend(lines[i].text for i in fresh)
    return main[0], paragraphs


def _unseen(lines: list[Line], block: list[int], seen: set[str]) -> list[int]:
    """Lines of the block not seen before, also dropping repeats inside the block itself."""
    local = set(seen)
    fresh = []
    for i in block:
        key = _dedupe_key(lines[i].key)
        if key not in local:
            local.add(key)
            fresh.append(i)
    return fresh


def _prose_blocks(lines: list[Line]) -> list[list[int]]:
    """Runs of prose lines; captions inside a run are skipped, short headings before prose are kept."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if is_prose(line):
            current.append(i)
        elif _is_caption(line) and current:
            continue
        elif current and _is_heading(line) and _next_is_prose(lines, i):
            current.append(i)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return [b for b in blocks if any(is_prose(lines[i]) for i in b)]


def _next_is_prose(lines: list[Line], i: int) -> bool:
    rest = [ln for ln in lines[i + 1 : i + 4] if not _is_caption(ln)]
    return bool(rest) and is_prose(rest[0])


def is_prose(line: Line) -> bool:
    """A line that reads as article text: long enough, sentence punctuation, mostly Chinese, not boilerplate."""
    key = line.key
    if len(key) < 25 or is_spam(line) or BOILERPLATE.search(key) or _is_meta(line) or _is_caption(line):
        return False
    cjk = len(re.findall(rf"[{CJK}]", key))
    if cjk < 0.5 * len(key.replace(" ", "")):
        return False
    return bool(SENTENCE_END.search(key)) or (len(key) >= 60 and ("," in key or "，" in key))


def is_spam(line: Line) -> bool:
    """SEO spam: long `|`-separated keyword lists, or lines dense with spam vocabulary."""
    if line.key.count("|") >= 3 and not SENTENCE_END.search(line.key):
        return True
    return len(SPAM_WORD.findall(line.key)) >= 3


def _is_caption(line: Line) -> bool:
    """An image file name or a bare photo credit (本报记者 李文斌 摄); captions with sentences are kept."""
    return len(line.key) <= 60 and bool(IMAGE_NAME.search(line.key) or PHOTO_CREDIT.search(line.key))


def _is_heading(line: Line) -> bool:
    return 4 <= len(line.key) <= 60 and not BOILERPLATE.search(line.key) and not is_spam(line) and not _is_meta(line)


def _is_meta(line: Line) -> bool:
    if META_LINE.search(line.key) or (SOURCE.search(line.key) and len(line.key) <= 80):
        return True
    return len(line.key) <= 40 and bool(DATE.match(line.key))


def _is_menu(line: Line) -> bool:
    tokens = line.key.split()
    return len(tokens) >= 4 and sum(map(len, tokens)) / len(tokens) <= 4.5


def _dedupe_key(key: str) -> str:
    return re.sub(r"[\W_]+", "", key)


def find_title(header: list[Line], lines: list[Line]) -> str | None:
    """The headline: the last title-like line above the body, preferring one the page repeats."""
    candidates = [ln for ln in header if _is_title_like(ln)]
    if not candidates:
        return None
    counts = {ln.key: sum(other.key == ln.key for other in lines) for ln in candidates}
    repeated = [ln for ln in candidates if counts[ln.key] > 1]
    return (repeated or candidates)[-1].text


def _is_title_like(line: Line) -> bool:
    key = line.key
    if not 6 <= len(key) <= 80 or "。" in key or _is_meta(line) or _is_caption(line) or _is_menu(line):
        return False
    return not BOILERPLATE.search(key) and not is_spam(line) and len(re.findall(rf"[{CJK}]", key)) >= 4


def _first_sentence(paragraph: str) -> str:
    sentence = re.split(r"(?<=[。！？!?])", paragraph, maxsplit=1)[0]
    return sentence[:40]


def find_date(lines: list[Line]) -> str | None:
    """The publication date as YYYY-MM-DD: a labelled one (发布时间：…) first, else the first valid one."""
    labelled = [ln for ln in lines if re.search(r"(发布|发表)?(时间|日期)\s*[:：]", ln.key)]
    for line in labelled + lines:
        found = parse_date(line.key)
        if found:
            return found
    return None


def parse_date(text: str) -> str | None:
    """The first valid calendar date in `text` (2025-06-20, 2025/6/20, 2025年6月20日) as ISO."""
    for match in DATE.finditer(text):
        try:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            continue
    return None


def find_source(meta_lines: list[Line], lead: str, lines: list[Line]) -> str | None:
    """The outlet: an explicit 来源/转自 credit, else the dateline's outlet, else the copyright holder."""
    for line in meta_lines + lines:
        match = SOURCE.search(line.key)
        if match and not DATE.match(match[1]):
            return _original(line, match, 1)
    lead_line = Line(lead, unicodedata.normalize("NFKC", to_simplified(lead)).lower())
    match = SOURCE_LEAD.search(lead_line.key)
    if match:
        return _original(lead_line, match, 1)
    return find_copyright_holder(lines)


def find_copyright_holder(lines: list[Line]) -> str | None:
    """The outlet named in a 版权所有 line, in the page's own script."""
    for line in lines:
        match = COPYRIGHT.search(line.key)
        if match:
            return _original(line, match, 1)
    return None


def find_author(meta_lines: list[Line], body: Line) -> str | None:
    """The reporter named in an 作者 line or a (记者 …) byline."""
    for line in meta_lines:
        match = AUTHOR_LABEL.search(line.key)
        if match:
            return _original(line, match, 1)
    match = AUTHOR_BYLINE.search(body.key)
    return _original(body, match, 1) if match else None


def _original(line: Line, match: re.Match, group: int) -> str:
    """The matched text in the page's own script (t2s keeps lengths for these short spans)."""
    if len(line.text) == len(line.key):
        return line.text[match.start(group) : match.end(group)]
    return match[group]


def article_id(title: str, paragraphs: list[str]) -> str:
    """A stable id from the normalised content, the same in either script."""
    normalised = re.sub(r"\s+", "", to_simplified(title + "\n" + "\n".join(paragraphs)))
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()[:12]
