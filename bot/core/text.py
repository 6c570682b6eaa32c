"""Neutral rich text: the small Markdown subset answers use, parsed once, rendered per platform.

Renderers (console, Telegram HTML, Discord Markdown) walk these blocks; none of them sees Markdown
source, so escaping is each renderer's single concern.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

BlockKind = Literal["paragraph", "heading", "bullet", "numbered", "code", "quote"]


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    spans: tuple[Span, ...] = ()
    number: int = 0  # position in a numbered list
    level: int = 0  # list nesting depth, 0 for top level
    language: str = ""  # code blocks only

    @property
    def plain(self) -> str:
        return "".join(s.text for s in self.spans)


def paragraph(text: str, *, bold: bool = False) -> Block:
    return Block("paragraph", (Span(text, bold=bold),))


def bullet(text: str) -> Block:
    return Block("bullet", (Span(text),))


def card(*lines: str, bold_first: bool = False) -> Block:
    """Short lines kept in one block, one under the other with no blank line between them:
    a compact card (a streak, a leaderboard) rather than a paragraph per line."""
    spans = [Span(line + ("\n" if i < len(lines) - 1 else ""), bold=bold_first and i == 0)
             for i, line in enumerate(lines)]
    return Block("paragraph", _merge(spans))


_md = MarkdownIt("commonmark", {"html": False}).disable(["image", "html_block", "html_inline"])


# Every reveal shows an answer from the same few hundred: each is parsed once (a long one costs
# about a millisecond to parse), and the blocks, being immutable, are shared.
@functools.lru_cache(maxsize=1024)
def parse_markdown(source: str) -> tuple[Block, ...]:
    """Parse an answer into blocks; anything outside the subset degrades to plain text."""
    tokens = _md.parse(source)
    blocks: list[Block] = []
    list_stack: list[tuple[str, int]] = []  # (kind, next number)
    in_quote = 0
    heading = False
    item_number = 0
    for tok in tokens:
        t = tok.type
        if t == "bullet_list_open":
            list_stack.append(("bullet", 0))
        elif t == "ordered_list_open":
            start = int(tok.attrGet("start") or 1)
            list_stack.append(("numbered", start))
        elif t in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif t == "list_item_open" and list_stack:
            kind, n = list_stack[-1]
            item_number = n
            if kind == "numbered":
                list_stack[-1] = (kind, n + 1)
        elif t == "blockquote_open":
            in_quote += 1
        elif t == "blockquote_close":
            in_quote -= 1
        elif t == "heading_open":
            heading = True
        elif t == "heading_close":
            heading = False
        elif t in ("fence", "code_block"):
            blocks.append(
                Block("code", (Span(tok.content.rstrip("\n"), code=True),),
                      language=(tok.info or "").strip().split(" ")[0])
            )
        elif t == "inline":
            spans = _inline_spans(tok.children or [])
            if not spans:
                continue
            if heading:
                blocks.append(Block("heading", spans))
            elif list_stack:
                kind, _ = list_stack[-1]
                level = len(list_stack) - 1
                prev = blocks[-1] if blocks else None
                # A list item with several paragraphs: later ones continue the same item.
                if (prev is not None and prev.kind == kind and prev.level == level
                        and _continues(tokens, tok)):
                    blocks[-1] = Block(kind, (*prev.spans, Span("\n"), *spans), item_number, level)
                else:
                    number = item_number if kind == "numbered" else 0
                    blocks.append(Block(kind, spans, number, level))
            elif in_quote:
                blocks.append(Block("quote", spans))
            else:
                blocks.append(Block("paragraph", spans))
        elif t == "hr":
            continue
    return tuple(blocks)


def _continues(tokens: Sequence[Token], tok: Token) -> bool:
    """True for a second paragraph inside one list item (its paragraph follows another)."""
    i = tokens.index(tok)
    return i >= 3 and tokens[i - 2].type == "paragraph_close"


def _inline_spans(children: Iterable[Token]) -> tuple[Span, ...]:
    spans: list[Span] = []
    bold = italic = False
    for c in children:
        t = c.type
        if t == "strong_open":
            bold = True
        elif t == "strong_close":
            bold = False
        elif t == "em_open":
            italic = True
        elif t == "em_close":
            italic = False
        elif t == "code_inline":
            spans.append(Span(c.content, bold=bold, italic=italic, code=True))
        elif t in ("softbreak", "hardbreak"):
            spans.append(Span("\n", bold=bold, italic=italic))
        elif t == "text" or t == "html_inline":
            if c.content:
                spans.append(Span(c.content, bold=bold, italic=italic))
        elif t in ("link_open", "link_close"):
            continue
        elif c.content:
            spans.append(Span(c.content, bold=bold, italic=italic))
    return _merge(spans)


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    out: list[Span] = []
    for s in spans:
        if out and (out[-1].bold, out[-1].italic, out[-1].code) == (s.bold, s.italic, s.code):
            out[-1] = Span(out[-1].text + s.text, s.bold, s.italic, s.code)
        else:
            out.append(s)
    return tuple(out)


# A renderer's size, one block at a time: `step(state, block)` is the size `block` adds to a chunk
# rendered so far (the separator before it and the block itself) and the state after it, `state`
# being None for a chunk's first block. A chunk's size is the sum of its steps, so splitting renders
# each block once instead of re-rendering the chunk for every block added to it.
Step = Callable[[Any, Block], tuple[Any, int]]


def split_blocks(blocks: Sequence[Block], step: Step, limit: int) -> list[list[Block]]:
    """Group blocks into consecutive chunks whose rendered size (summed `step`s) fits `limit`.

    A block that alone exceeds the limit is cut into pieces by `_fit`, so nothing is lost.
    """
    chunks: list[list[Block]] = []
    current: list[Block] = []
    state: Any = None
    size = 0
    for block in blocks:
        for piece, alone in _fit(block, step, limit):
            if current:
                after, grown = step(state, piece)
                if size + grown <= limit:
                    current.append(piece)
                    state, size = after, size + grown
                    continue
                chunks.append(current)
            current = [piece]
            state, size = alone
    if current:
        chunks.append(current)
    return chunks


def _fit(block: Block, step: Step, limit: int) -> list[tuple[Block, tuple[Any, int]]]:
    """The block, or its pieces when it alone exceeds `limit`, each with its step from None."""
    alone = step(None, block)
    if alone[1] <= limit:
        return [(block, alone)]
    text = block.plain
    # Halve until each piece fits; cuts prefer a newline or sentence end near the middle.
    mid = _cut_point(text)
    first, second = text[:mid], text[mid:]
    style = block.spans[0] if block.spans else Span("")
    make = lambda s: Block(  # noqa: E731
        block.kind, (Span(s, style.bold, style.italic, style.code),), block.number, block.level,
        block.language)
    return [*_fit(make(first), step, limit), *_fit(make(second), step, limit)]


def _cut_point(text: str) -> int:
    mid = len(text) // 2
    window = max(1, len(text) // 4)
    for sep in ("\n", "。", ". ", "；", "，", " "):
        left = text.rfind(sep, mid - window, mid + window)
        if left > 0:
            return left + len(sep)
    return max(1, mid)


def plain_text(blocks: Sequence[Block]) -> str:
    """Blocks as plain text, the way the console shows them and limits are measured."""
    out: list[str] = []
    previous: Block | None = None
    for b in blocks:
        out.append(list_separator(previous, b))
        out.append(_plain_line(b))
        previous = b
    return "".join(out)


def plain_step(previous: Block | None, block: Block) -> tuple[Block, int]:
    """`plain_text`'s length one block at a time (a `Step` for `split_blocks`)."""
    return block, len(list_separator(previous, block)) + len(_plain_line(block))


def _plain_line(b: Block) -> str:
    indent = "  " * b.level
    if b.kind == "bullet":
        return f"{indent}• {b.plain}"
    if b.kind == "numbered":
        return f"{indent}{b.number}. {b.plain}"
    if b.kind == "quote":
        return "> " + b.plain
    return b.plain


def list_separator(previous: Block | None, block: Block) -> str:
    """Items of one list sit on consecutive lines; everything else is a paragraph apart."""
    if previous is None:
        return ""
    listed = ("bullet", "numbered")
    return "\n" if block.kind in listed and previous.kind in listed else "\n\n"

