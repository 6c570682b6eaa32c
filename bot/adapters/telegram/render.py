"""Neutral messages as Telegram HTML plus an inline keyboard.

Pure functions over plain data: the adapter turns `Rendered` into python-telegram-bot objects, so
the exact HTML and buttons can be tested without the library.

Telegram's limit is 4096 characters of message text *after* entity parsing, counted in UTF-16 code
units. Chunks are cut between blocks (or inside an over-long block by `split_blocks`), and each
chunk is rendered on its own, so a cut never falls inside a tag or an entity.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.messages import Button, OutgoingMessage
from bot.core.text import Block, Span, list_separator, split_blocks

MAX_TEXT = 4096
MAX_CAPTION = 1024  # a photo's or document's caption, counted like message text
MAX_BUTTON_LABEL = 64  # Telegram shows little more on a phone; longer labels are clipped
MAX_CALLBACK_DATA = 64  # bytes


@dataclass(frozen=True, slots=True)
class Rendered:
    """One Telegram message: HTML text and, on the last chunk only, keyboard rows."""

    html: str
    keyboard: tuple[tuple[Button, ...], ...] = ()


def escape(text: str) -> str:
    """HTML-escape for Telegram's parse mode: only <, > and & are special."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render(message: OutgoingMessage, limit: int = MAX_TEXT) -> list[Rendered]:
    """The message as one or more HTML chunks within `limit`; buttons ride on the last one."""
    title = f"<b>{escape(message.title)}</b>" if message.title else ""
    footer = f"<i>{escape(message.footer)}</i>" if message.footer else ""
    title_len = utf16_len(message.title) + 2 if message.title else 0
    footer_len = utf16_len(message.footer) + 2 if message.footer else 0
    body_limit = max(256, limit - title_len - footer_len)
    chunks = split_blocks(message.blocks, _visible_step, body_limit) if message.blocks else []
    texts = [render_blocks(chunk) for chunk in chunks] or [""]
    texts[0] = _join(title, texts[0])
    texts[-1] = _join(texts[-1], footer)
    keyboard = tuple(tuple(_clip_button(b) for b in row) for row in message.buttons if row)
    out = [Rendered(text) for text in texts[:-1]]
    out.append(Rendered(texts[-1] or "\u2063", keyboard))  # Telegram rejects an empty text
    return out


def render_with_file(message: OutgoingMessage) -> tuple[Rendered, list[Rendered]]:
    """The caption sent with the message's file, and the messages that follow it.

    The whole message is the caption when it fits Telegram's 1024 characters; otherwise the
    caption is the title alone and the body follows as ordinary messages, buttons on the last.
    """
    whole = render(message)
    if len(whole) == 1 and utf16_len(visible_text(whole[0].html)) <= MAX_CAPTION:
        return whole[0], []
    title = message.title if utf16_len(message.title) <= MAX_CAPTION else (
        message.title[: MAX_CAPTION // 2 - 1] + "…")
    caption = f"<b>{escape(title)}</b>" if title else ""
    rest = render(OutgoingMessage(blocks=message.blocks, buttons=message.buttons,
                                  footer=message.footer))
    return Rendered(caption), rest


def _join(first: str, second: str) -> str:
    return f"{first}\n\n{second}" if first and second else first or second


def _clip_button(button: Button) -> Button:
    label = button.label if len(button.label) <= MAX_BUTTON_LABEL else (
        button.label[: MAX_BUTTON_LABEL - 1] + "…")
    if len(button.payload.encode()) > MAX_CALLBACK_DATA:
        raise ValueError("a button payload is longer than Telegram's 64 bytes")
    return Button(label, button.payload)


def render_blocks(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    previous: Block | None = None
    for block in blocks:
        out.append(list_separator(previous, block))
        out.append(_block(block))
        previous = block
    return "".join(out)


def _block(block: Block) -> str:
    indent = "  " * block.level
    if block.kind == "code":
        code = escape(block.plain)
        if block.language and block.language.replace("-", "").replace("+", "").isalnum():
            return f'<pre><code class="language-{escape(block.language)}">{code}</code></pre>'
        return f"<pre>{code}</pre>"
    spans = _spans(block.spans)
    if block.kind == "heading":
        return f"<b>{escape(block.plain)}</b>"
    if block.kind == "bullet":
        return f"{indent}• {spans}"
    if block.kind == "numbered":
        return f"{indent}{block.number}. {spans}"
    if block.kind == "quote":
        return f"<blockquote>{spans}</blockquote>"
    return spans


def _spans(spans: Sequence[Span]) -> str:
    out: list[str] = []
    for span in spans:
        text = escape(span.text)
        if span.code:
            text = f"<code>{text}</code>"
        if span.italic:
            text = f"<i>{text}</i>"
        if span.bold:
            text = f"<b>{text}</b>"
        out.append(text)
    return "".join(out)


def _visible_step(previous: Block | None, block: Block) -> tuple[Block, int]:
    """What Telegram counts, one block at a time (a `Step` for `split_blocks`): the text left
    after the HTML is parsed, in UTF-16 units. Tags and entities never cross a block's edge, so
    a chunk's count is the sum of its blocks' and separators'."""
    return block, len(list_separator(previous, block)) + utf16_len(_shown(block))


def _shown(block: Block) -> str:
    """The text Telegram shows for `_block(block)`, without rendering and parsing it: escaping is
    undone by the parse and tags show nothing, so what is left are the prefixes and the text."""
    indent = "  " * block.level
    if block.kind == "bullet":
        return f"{indent}• {block.plain}"
    if block.kind == "numbered":
        return f"{indent}{block.number}. {block.plain}"
    return block.plain


def _strip_tags(markup: str) -> str:
    out: list[str] = []
    inside = False
    for ch in markup:
        if ch == "<":
            inside = True
        elif ch == ">" and inside:
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)


def visible_text(markup: str) -> str:
    """The text a user sees for our HTML (tests and limits use it)."""
    return html.unescape(_strip_tags(markup))
