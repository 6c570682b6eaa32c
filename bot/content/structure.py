"""The structure of a page of interview questions: which lines are question headings, which are
section headings, and which are the hosting site's boilerplate.

Pages number their questions in many ways (`1、`, `1.`, `Q1:`, `问题1：`, `第1题`, `**1. …**`,
`### 1.`), and answers carry their own numbered lists and headings in the same styles. No single
marker tells them apart, so every line that could be a heading becomes a candidate, and for each
heading style the most consistent reading is chosen by dynamic programming over the candidates:
numbers that rise one by one, restarts only after a section heading, titles that read as
questions, answers that are not empty. The best-scoring style wins; its other candidates stay
inside the answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

DropKind = Literal["footer", "promo", "caption", "image", "toc", "page", "intro"]
# Dropped kinds that are the site's, not the author's; `intro` is the author's preamble.
BOILERPLATE_KINDS: tuple[DropKind, ...] = ("footer", "promo", "caption", "image", "toc", "page")

# A line that starts with one of these starts the hosting site's footer: everything after it goes.
FOOTER_STARTS: tuple[str, ...] = (
    "本文来自", "如若转载", "如若内容造成侵权", "相关文章", "相关推荐", "推荐阅读", "热门推荐",
    "热门文章", "猜你喜欢", "版权声明", "原文链接", "免责声明", "转载请注明", "文章来源",
    "往期推荐", "往期精彩", "往期回顾", "如何学习AI大模型", "如何学习大模型",
    "如何系统的去学习大模型", "如何系统地学习大模型", "Related posts", "Related articles",
)
_FOOTER_LINES = frozenset({"end", "the end", "完", "全文完"})
# Promotion: one strong sign, or two different weak ones, in a line.
_PROMO_STRONG = (
    "二维码", "扫码", "扫描下方", "免费领取", "一键三连", "大礼包", "资料包", "👉", "👈", "🎁",
    "加群", "进群", "私信我", "关注公众号", "公众号回复", "点击领取", "领取方式",
)
_PROMO_WEAK = (
    "公众号", "关注我", "点赞", "收藏", "转发", "评论区", "粉丝", "福利", "文末", "限时", "优惠",
    "报名", "训练营", "免费", "领取", "CSDN", "微信", "干货", "小伙伴", "宝子",
)
_CAPTION_RE = re.compile(
    r"图示|示意图|如下图|下图|见图|如图|图\s*\d|图片|截图|架构图|流程图|结构图"
    r"|\bfig(?:ure)?\.?\s*\d|\bdiagram\b|\bimage\b", re.IGNORECASE)
_IMAGE_RE = re.compile(
    r"!\[[^\]]*\]\([^)]*\)|[\[【(（<]\s*(?:图片|图像|image|img|图)\s*[\]】)）>]|图片来源.*",
    re.IGNORECASE)
_TOC_NUMBER_RE = re.compile(
    r"^[\s#*•·\-]*(?:[QqＱ]?\d{1,3}(?:\.\d+)*|[一二三四五六七八九十]{1,3})?\s*[、.．:：)）]?")
_TOC_LINES = frozenset({"目录", "文章目录", "目 录", "contents", "table of contents"})
_SENTENCE_END = tuple("。．.!！?？…;；")

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_NUMBER = "[一二三四五六七八九十两]{1,3}"

# Question heading styles, tried in order on a line without its Markdown heading/bold wrapper.
_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Q", re.compile(r"[QqＱ]\s*(\d{1,3})\s*(?:[:：.．、)）]\s*|\s+|$)(?P<title>.*)")),
    ("问题", re.compile(r"(?:问题|题目|面试题|问)\s*(\d{1,3})\s*[:：.．、)）]\s*(?P<title>.*)")),
    ("第N题", re.compile(
        rf"第\s*(\d{{1,3}}|{_CN_NUMBER})\s*[题道]\s*[:：.．、)）]?\s*(?P<title>.*)")),
    ("、", re.compile(r"(\d{1,3})\s*、\s*(?P<title>\S.*)")),
    (".", re.compile(r"(\d{1,3})[.．](?!\d)\s*(?P<title>\S.*)")),
    (")", re.compile(r"[(（]?(\d{1,3})[)）]\s*(?P<title>\S.*)")),
)
_STRONG_FAMILIES = frozenset({"Q", "问题", "第N题"})
_MD_HEADING_RE = re.compile(r"(#{1,6})\s+(.*?)(?:\s+#+)?\s*")
_BOLD_RE = re.compile(r"(\*\*|__)(.+?)\1\s*[:：]?")
_SECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("一、", re.compile(rf"({_CN_NUMBER})\s*[、.．]\s*(?P<title>\S.*)")),
    ("第N部分", re.compile(
        rf"第\s*(\d{{1,2}}|{_CN_NUMBER})\s*(?:部分|章|节|篇|部|单元|讲)\s*[:：、.．]?\s*(?P<title>.*)")),
    ("part", re.compile(r"(?:part|section|chapter)\s+(\d{1,2})\b\s*[:：.．]?\s*(?P<title>.*)",
                        re.IGNORECASE)),
    ("【】", re.compile(r"【(?P<title>[^】]{1,30})】")),
)
FENCE_RE = re.compile(r"\s*(```|~~~)")
_ANSWER_LABEL_RE = re.compile(r"\s*(?:\*\*)?(?:A|答|答案|回答|参考答案)\s*[:：](?:\*\*)?\s*")
_BULLET_START_RE = re.compile(r"\s*(?:[•·●▪◦]|[-*+]\s)")

_INTERROGATIVE_RE = re.compile(
    r"什么|如何|为什么|为何|怎么|怎样|哪些|哪个|哪种|哪里|是否|有没有|能否|可否|吗|呢|多少|几种"
    r"|啥|区别|异同|对比|比较|优缺点|优势|好处|作用|原理|意义|介绍|解释|谈谈|说说|讲讲|简述"
    r"|描述|列举|分析|理解"
    r"|^(?:what|why|how|which|when|where|who|is|are|does|do|can|should|explain|describe"
    r"|compare|list)\b|\bdifference\b", re.IGNORECASE)

# Weights of the reading score; the fixtures in tests/fixtures/content/layouts hold them in place.
# Answers hold more numbered points than a page holds questions, so a heading earns little for
# being there and much for reading as a question.
_ITEM = 0.5
_QUESTION = 2.0  # times question_score()
_STRONG = 0.5  # a heading style only questions use (Q1, 问题1, 第1题)
_EMPTY_ANSWER = 0.3
_PREAMBLE_CHARS = 400  # text before the first question costs 1 per this many characters
_START_NOT_ONE = 1.0
_GAP = 1.2  # per missing number
_MAX_GAP = 4
_RESTART = 1.5  # numbering starting again after the next section heading
_RESTART_UNFOLLOWED = 3.0  # ... after a section heading that does not follow the previous one
_RESTART_BARE = 4.0  # ... with no section heading before it
_SECTION_MISMATCH = 1.0
_INDENT_JUMP = 2.5  # the next heading indented differently
_NESTED = 1.0  # a heading indented deeper than the page's outermost candidates


@dataclass(frozen=True, slots=True)
class Dropped:
    kind: DropKind
    line: int  # 1-based line of the block's first line; 0 for page parts without a line
    text: str  # the block's text, joined into one line


@dataclass(frozen=True, slots=True)
class Section:
    line: int  # 1-based
    title: str  # as written, numbering included
    kind: str
    number: int | None  # its own numbering, when it has one


@dataclass(frozen=True, slots=True)
class Item:
    number: int
    title: str
    line: int  # 1-based line of the heading
    body: tuple[str, ...]  # the answer's lines, boilerplate taken out
    body_line: int  # 1-based line where the answer starts
    section: Section | None = None  # the section the question sits in


@dataclass(frozen=True, slots=True)
class Structure:
    title: str
    items: tuple[Item, ...] = ()
    sections: tuple[Section, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    style: str = ""  # how the chosen headings look, e.g. `1、` or `### Q1:`
    markdown: bool = False  # written in Markdown: headings with `#`/`**`, or fenced code

    def dropped_count(self, kinds: Sequence[DropKind] = BOILERPLATE_KINDS) -> int:
        return sum(1 for d in self.dropped if d.kind in kinds)


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int
    family: str  # wrapper and style, e.g. "h3 ." or "、"
    number: int
    title: str
    indent: int
    body_start: int  # index of the answer's first line
    sections: tuple[int, ...] = ()  # indices of the section lines right above it
    question: float = 0.0  # how much the title reads as a question


@dataclass(slots=True)
class _Lines:
    """The document's lines with what the passes before the reading learned about each."""

    text: list[str]
    code: list[bool]
    dropped: dict[int, DropKind] = field(default_factory=dict)
    sections: dict[int, Section] = field(default_factory=dict)

    def is_content(self, index: int) -> bool:
        return bool(self.text[index].strip()) and index not in self.dropped


def parse_structure(lines: Sequence[str], default_title: str = "") -> Structure:
    """The reading of `lines` that best explains them as a numbered list of questions."""
    doc = _Lines(list(lines), _code_lines(lines))
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if first == len(lines):
        return Structure(default_title)
    title, start = _document_title(lines[first], default_title), first + 1
    if _heading_candidate(doc, first) is not None:
        title, start = default_title, first
    _mark_boilerplate(doc, start)
    for index in range(start, len(lines)):
        section = _section_at(doc, index)
        if section is not None:
            doc.sections[index] = section
    candidates = [c for i in range(start, len(lines)) if (c := _heading_candidate(doc, i))]
    chosen: list[_Candidate] = []
    best = float("-inf")
    for family in sorted({c.family for c in candidates}):
        score, reading = _best_reading(doc, start, [c for c in candidates if c.family == family],
                                       min((c.indent for c in candidates), default=0))
        if score > best:
            best, chosen = score, reading
    return _build(doc, title, start, chosen)


def _document_title(line: str, default: str) -> str:
    heading = _MD_HEADING_RE.fullmatch(line.strip())
    text = heading[2] if heading else line.strip()
    return _plain_title(text) or default


# --- line passes -------------------------------------------------------------------------------


def _code_lines(lines: Sequence[str]) -> list[bool]:
    """Lines inside fenced code, where nothing is a heading or boilerplate."""
    inside, fence, out = False, "", []
    for line in lines:
        opened = FENCE_RE.match(line)
        if opened and (not inside or line.strip().startswith(fence)):
            out.append(True)
            inside, fence = not inside, opened[1]
            continue
        out.append(inside)
    return out


def _mark_boilerplate(doc: _Lines, start: int) -> None:
    lines = doc.text
    for index in range(start, len(lines)):
        if doc.code[index] or not lines[index].strip():
            continue
        core = _undecorated(lines[index])
        if _is_footer_start(core):
            for rest in range(index, len(lines)):
                doc.dropped[rest] = "footer"
            return
        kind = _line_kind(core)
        if kind == "toc":
            _mark_toc(doc, index)
        elif kind is not None:
            doc.dropped[index] = kind


def _undecorated(line: str) -> str:
    """A line without Markdown heading marks, emphasis or brackets around it."""
    text = line.strip()
    heading = _MD_HEADING_RE.fullmatch(text)
    if heading:
        text = heading[2]
    return text.strip("*_ 　").strip()


def _is_footer_start(core: str) -> bool:
    text = core.lstrip("【[<《#>-—=·• ")
    if text.lower().strip("-—=·* ") in _FOOTER_LINES:
        return True
    return text.lower().startswith(tuple(start.lower() for start in FOOTER_STARTS))


def _line_kind(core: str) -> DropKind | None:
    if core.lower() in _TOC_LINES:
        return "toc"
    if _IMAGE_RE.fullmatch(core):
        return "image"
    if any(sign in core for sign in _PROMO_STRONG):
        return "promo"
    if sum(1 for sign in _PROMO_WEAK if sign in core) >= 2:
        return "promo"
    if _is_caption(core):
        return "caption"
    return None


def _is_caption(core: str) -> bool:
    # What introduces a picture that did not come along with the text; a sentence that mentions
    # a figure ends like a sentence and stays.
    if len(core) > 30 or not _CAPTION_RE.search(core):
        return False
    if _BULLET_START_RE.match(core) or any(p.match(core) for _, p in _FAMILIES):
        return False
    return core.endswith((":", "：")) or not core.endswith(_SENTENCE_END)


def _mark_toc(doc: _Lines, index: int) -> None:
    """A table of contents repeats headings found further down; drop it with its header."""
    doc.dropped[index] = "toc"
    later = [_toc_key(line) for line in doc.text[index + 1 :]]
    for k in range(index + 1, len(doc.text)):
        if not doc.text[k].strip():
            continue
        key = _toc_key(doc.text[k])
        if not key or key not in later[k - index :]:
            return
        doc.dropped[k] = "toc"


def _toc_key(line: str) -> str:
    text = _TOC_NUMBER_RE.sub("", line)
    return re.sub(r"[\W_]+", "", text).lower()


# --- candidates --------------------------------------------------------------------------------


def _unwrap(line: str) -> tuple[str, str]:
    """The Markdown heading or bold wrapper of a line (e.g. `h3`, `b`) and the text inside it."""
    text, wrapper = line.strip(), ""
    heading = _MD_HEADING_RE.fullmatch(text)
    if heading:
        wrapper, text = f"h{len(heading[1])} ", heading[2].strip()
    bold = _BOLD_RE.fullmatch(text)
    if bold:
        wrapper, text = wrapper + "b ", bold[2].strip()
    return wrapper, text


def _heading_candidate(doc: _Lines, index: int) -> _Candidate | None:
    line = doc.text[index]
    if doc.code[index] or index in doc.dropped or not line.strip():
        return None
    wrapper, text = _unwrap(line)
    for family, pattern in _FAMILIES:
        found = pattern.fullmatch(text)
        if not found:
            continue
        title, body_start = _plain_title(found["title"]), index + 1
        if not title:
            # `第1题` or `Q1:` alone on its line: the question is the next line.
            following = _next_content(doc, index + 1)
            if following is None or _heading_candidate(doc, following) is not None:
                return None
            title, body_start = _plain_title(doc.text[following]), following + 1
        number = _number(found[1])
        indent = len(line) - len(line.lstrip(" \t"))
        return _Candidate(index, wrapper + family, number, title, indent, body_start,
                          _sections_above(doc, index), question_score(title))
    return None


def _next_content(doc: _Lines, start: int) -> int | None:
    for index in range(start, len(doc.text)):
        if doc.is_content(index):
            return index
    return None


def _sections_above(doc: _Lines, index: int) -> tuple[int, ...]:
    """Section lines stacked right above a line, with nothing but blank or dropped lines between."""
    found: list[int] = []
    k = index - 1
    while k >= 0:
        if k in doc.sections:
            found.append(k)
        elif doc.is_content(k):
            break
        k -= 1
    return tuple(reversed(found))


def _section_at(doc: _Lines, index: int) -> Section | None:
    line = doc.text[index]
    if doc.code[index] or index in doc.dropped or not line.strip():
        return None
    wrapper, text = _unwrap(line)
    if any(pattern.fullmatch(text) for _, pattern in _FAMILIES):
        return None
    for kind, pattern in _SECTION_PATTERNS:
        found = pattern.fullmatch(text)
        if found and len(text) <= 40:
            number = _number(found[1]) if kind != "【】" else None
            return Section(index + 1, _plain_title(text), wrapper + kind, number)
    if wrapper.startswith("h") and len(text) <= 60:
        return Section(index + 1, _plain_title(text), wrapper.strip(), None)
    return None


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    # Chinese numerals up to 99: 十 = 10, 十二 = 12, 二十 = 20, 二十三 = 23.
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + _CN_DIGITS.get(ones, 0)
    return _CN_DIGITS.get(text, 0)


def _plain_title(text: str) -> str:
    """A heading's text without Markdown emphasis or escapes, on one line."""
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text.strip())
    text = re.sub(r"\\([\\`*_\[\]#+\-.!()>])", r"\1", text)
    return " ".join(text.strip("*_ ").split())


def question_score(title: str) -> float:
    """How much a heading reads as a question: positive for one, negative for a statement."""
    text = title.strip()
    score = 0.0
    asks = text.endswith(("?", "？")) or text.rstrip(")）】").endswith(("?", "？"))
    if asks:
        score += 1.2
    elif _INTERROGATIVE_RE.search(text):
        score += 0.8
    if len(text) > 80:
        score -= 1.5
    if re.search(r"[。；;]", text.rstrip("。；;")):
        score -= 1.0  # more than one sentence: an answer's point, not a question
    label = re.search(r"[:：]\s*(\S.*)", text)
    if label and len(label[1]) >= 8 and not asks:
        score -= 1.0  # `label: explanation` is how answers list their points
    if text.endswith((":", "：")):
        score -= 0.5
    return score


# --- choosing a reading ------------------------------------------------------------------------


_State = tuple[int, int]  # (candidate position, line index of the section opening its group; -1)


def _best_reading(
    doc: _Lines, start: int, candidates: Sequence[_Candidate], outermost: int
) -> tuple[float, list[_Candidate]]:
    """The best-scoring sequence of `candidates` (all of one style) taken as question headings.

    A state is a heading taken last plus the section that opened its numbering group, since
    whether a restart is plausible depends on the section before it; the score adds each
    heading's gain and each step's cost (see the weights above).
    """
    weights = [len(line.strip()) if doc.is_content(i) and i not in doc.sections else 0
               for i, line in enumerate(doc.text)]
    prefix = [0]
    for weight in weights:
        prefix.append(prefix[-1] + weight)

    def chars(begin: int, end: int) -> int:
        return prefix[max(begin, end)] - prefix[begin]

    def answer_cost(item: _Candidate, end: int) -> float:
        return 0.0 if chars(item.body_start, end) else -_EMPTY_ANSWER

    best: dict[_State, tuple[float, _State | None]] = {}
    by_number: dict[int, list[_State]] = {}
    for k, cand in enumerate(candidates):
        opening = cand.sections[0] if cand.sections else cand.index
        gain = _ITEM + _QUESTION * cand.question + (_STRONG if _strong(cand.family) else 0.0)
        if cand.indent > outermost + 1:
            gain -= _NESTED
        group = cand.sections[-1] if cand.sections else -1
        score = gain - chars(start, opening) / _PREAMBLE_CHARS
        score -= 0.0 if cand.number == 1 else _START_NOT_ONE
        options: list[tuple[float, _State | None, int]] = [(score, None, group)]
        # Only a restart at 1 may follow any heading; otherwise the number just below counts.
        numbers = by_number if cand.number == 1 else {
            n: by_number.get(n, []) for n in range(cand.number - _MAX_GAP, cand.number)}
        for j, group_before in [state for states in numbers.values() for state in states]:
            before = best[(j, group_before)][0]
            prev = candidates[j]
            step = _step(doc, prev, cand, group_before)
            if step is None:
                continue
            cost, new_group = step
            if abs(prev.indent - cand.indent) > 1:
                cost += _INDENT_JUMP
            total = before + answer_cost(prev, opening) + gain - cost
            options.append((total, (j, group_before), new_group))
        for total, back, new_group in options:
            state = (k, new_group)
            if state not in best:
                by_number.setdefault(cand.number, []).append(state)
            if state not in best or total > best[state][0]:
                best[state] = (total, back)
    if not best:
        return float("-inf"), []
    end = len(doc.text)
    final = {state: score + answer_cost(candidates[state[0]], end)
             for state, (score, _) in best.items()}
    state: _State | None = max(final, key=lambda s: final[s])
    score = final[state]
    reading: list[_Candidate] = []
    while state is not None:
        reading.append(candidates[state[0]])
        state = best[state][1]
    return score, reading[::-1]


def _strong(family: str) -> bool:
    return family.split()[-1] in _STRONG_FAMILIES


def _step(
    doc: _Lines, prev: _Candidate, cand: _Candidate, group: int
) -> tuple[float, int] | None:
    """The cost of taking `cand` right after `prev`, and the section then opening the group."""
    section = cand.sections[-1] if cand.sections else -1
    follows = section >= 0 and group >= 0 and _follows(doc.sections[group], doc.sections[section])
    gap = cand.number - prev.number
    if 1 <= gap <= _MAX_GAP:
        cost = _GAP * (gap - 1)
        if section >= 0 and not follows:
            cost += _SECTION_MISMATCH if group >= 0 else 0.3
        return cost, section if section >= 0 else group
    if cand.number != 1:
        return None
    # Numbering that starts again: the usual page has `一、基础篇` 1…10, `二、进阶篇` 1…8.
    if follows:
        return _RESTART, section
    return (_RESTART_UNFOLLOWED if section >= 0 else _RESTART_BARE), section


def _follows(before: Section, after: Section) -> bool:
    if before.kind != after.kind:
        return False
    if before.number is None or after.number is None:
        return before.number is None and after.number is None
    return after.number == before.number + 1


# --- the result --------------------------------------------------------------------------------


def _build(doc: _Lines, title: str, start: int, chosen: Sequence[_Candidate]) -> Structure:
    items: list[Item] = []
    used_sections: list[Section] = []
    current: Section | None = None
    dropped = dict(doc.dropped)
    for k, cand in enumerate(chosen):
        nxt = chosen[k + 1] if k + 1 < len(chosen) else None
        end = (nxt.sections[0] if nxt.sections else nxt.index) if nxt else len(doc.text)
        for index in cand.sections:
            used_sections.append(doc.sections[index])
        if cand.sections:
            current = doc.sections[cand.sections[-1]]
        body = [doc.text[i] for i in range(cand.body_start, end) if i not in doc.dropped]
        items.append(Item(cand.number, cand.title, cand.index + 1, _trimmed(body),
                          cand.body_start + 1, current))
    # The preamble is the author's own words, not a question: it goes, and is counted.
    first = (chosen[0].sections[0] if chosen[0].sections else chosen[0].index) if chosen else len(
        doc.text)
    for index in range(start, first):
        if doc.is_content(index):
            dropped.setdefault(index, "intro")
    style = _style_of(doc.text[chosen[0].index]) if chosen else ""
    markdown = any(doc.code) or any(c.family[0] in "hb" and " " in c.family for c in chosen)
    return Structure(title, tuple(items), tuple(used_sections), _blocks(doc.text, dropped), style,
                     markdown)


def _trimmed(lines: Sequence[str]) -> tuple[str, ...]:
    begin, end = 0, len(lines)
    while begin < end and not lines[begin].strip():
        begin += 1
    while end > begin and not lines[end - 1].strip():
        end -= 1
    body = list(lines[begin:end])
    # `A:` / `答:` only says an answer starts here, which the heading already told.
    if body and (label := _ANSWER_LABEL_RE.match(body[0])):
        rest = body[0][label.end():]
        body = ([rest] if rest.strip() else []) + body[1:]
    return tuple(body)


def _blocks(lines: Sequence[str], dropped: dict[int, DropKind]) -> tuple[Dropped, ...]:
    """Dropped lines grouped into blocks: consecutive lines of one kind; a blank line ends one."""
    blocks: list[Dropped] = []
    previous: tuple[int, DropKind] | None = None
    for index in sorted(dropped):
        if not lines[index].strip():
            continue
        kind = dropped[index]
        if previous and previous[1] == kind and previous[0] == index - 1:
            last = blocks[-1]
            blocks[-1] = Dropped(kind, last.line, f"{last.text} {lines[index].strip()}")
        else:
            blocks.append(Dropped(kind, index + 1, lines[index].strip()))
        previous = (index, kind)
    return tuple(blocks)


def _style_of(line: str) -> str:
    wrapper, text = _unwrap(line)
    marker = text
    for _, pattern in _FAMILIES:
        found = pattern.fullmatch(text)
        if found:
            marker = text[: found.start("title")].strip() if found["title"] else text
            break
    marker = re.sub(r"\d+", "1", marker)
    if wrapper.startswith("h"):
        marker = "#" * int(wrapper[1]) + " " + marker
    if "b" in wrapper.split():
        marker = f"**{marker} …**"
    return marker
