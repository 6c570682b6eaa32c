"""Neutral messages as Discord embeds and buttons: pure functions that carry Discord's limits."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.core.actions import Kind
from bot.core.messages import Attachment, Button, OutgoingMessage
from bot.core.text import Block, Span, split_blocks

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object)
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
MESSAGE_EMBED_TOTAL = 6000  # title + description + footer (+ fields) of every embed in a message
EMBEDS_PER_MESSAGE = 10
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5
LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100

COLOR = discord.Colour(0x5865F2)
CUSTOM_ID_PREFIX = "sb:"
CUSTOM_ID_TEMPLATE = r"sb:(?P<payload>[A-Za-z0-9_-]{1,64})"
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ZWSP = "\u200b"
ALT_LIMIT = 1024  # an attachment's description (alt text)
FILENAME_LIMIT = 100
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ButtonHandler(Protocol):
    """What a pressed study button calls: the adapter's client implements it."""

    async def study_button_pressed(self, interaction: discord.Interaction[Any],
                                   payload: str) -> None: ...


class StudyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE):
    """A button whose custom_id carries the core's signed payload, so it outlives restarts."""

    def __init__(self, payload: str, label: str = "?",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> None:
        super().__init__(discord.ui.Button(label=label, style=style,
                                           custom_id=CUSTOM_ID_PREFIX + payload))
        self.payload = payload

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> StudyButton:
        label = getattr(item, "label", None) or "?"
        return cls(match["payload"], label=label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = interaction.client
        if hasattr(handler, "study_button_pressed"):
            await handler.study_button_pressed(interaction, self.payload)


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """One Discord message: up to ten embeds, and the buttons (only on a message's last part)."""

    embeds: tuple[discord.Embed, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None  # on the first part only

    def view(self) -> discord.ui.View | None:
        return build_view(self.buttons)

    def file(self) -> discord.File | None:
        """A fresh upload each call: discord.py reads (and closes) a File as it sends it."""
        if self.attachment is None:
            return None
        return discord.File(io.BytesIO(self.attachment.data),
                            filename=file_name(self.attachment.filename),
                            description=clip(self.attachment.alt, ALT_LIMIT) or None)


def file_name(name: str) -> str:
    """A name Discord keeps as given, so `attachment://name` finds the file: letters, digits,
    dot, dash and underscore only."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip("._") or "file"
    return cleaned[-FILENAME_LIMIT:]


# ----- text --------------------------------------------------------------------------------------

_NUMBERED_START = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
_HEADING_HASH = re.compile(r"^(\s*)#", re.MULTILINE)


def escape(text: str) -> str:
    """Plain text shown literally by Discord: escape_markdown, plus markers it leaves alone
    (a line starting `1. ` would become a list, `# ` beyond three hashes a heading)."""
    escaped = discord.utils.escape_markdown(text)
    escaped = _NUMBERED_START.sub(r"\1\\.", escaped)
    return _HEADING_HASH.sub(lambda m: m.group(1) + "\\#", escaped)


def _break_backticks(text: str, run: int) -> str:
    """Backtick runs of `run` or more can close a code span or block early: a zero-width space
    between the backticks keeps the text looking the same while never closing it."""
    pattern = re.compile(f"`{{{run},}}")
    return pattern.sub(lambda m: _ZWSP.join(m.group(0)), text)


def code_span(text: str) -> str:
    if not text:
        return ""
    if "`" not in text:
        return f"`{text}`"
    # Double backticks allow single ones inside; padding keeps edge backticks from merging.
    return f"`` {_break_backticks(text, 2)} ``"


def code_block(text: str, language: str = "") -> str:
    lang = language if re.fullmatch(r"[A-Za-z0-9_+#.-]{1,20}", language or "") else ""
    return f"```{lang}\n{_break_backticks(text, 3)}\n```"


def _span(span: Span) -> str:
    if span.code:
        lead, body, trail = "", code_span(span.text), ""
    else:
        core = span.text.strip()
        if not core:
            return span.text
        # Markers must hug the text, so surrounding spaces and newlines stay outside them.
        lead = span.text[: len(span.text) - len(span.text.lstrip())]
        trail = span.text[len(span.text.rstrip()):]
        body = escape(core)
    if span.bold and span.italic:
        body = f"***{body}***"
    elif span.bold:
        body = f"**{body}**"
    elif span.italic:
        body = f"*{body}*"
    return lead + body + trail


def _inline(spans: Sequence[Span]) -> str:
    return "".join(_span(s) for s in spans)


def render_block(block: Block) -> str:
    indent = "  " * block.level
    if block.kind == "code":
        return code_block(block.plain, block.language)
    text = _inline(block.spans)
    if block.kind == "heading":
        return f"**{escape(block.plain.strip())}**" if block.plain.strip() else ""
    if block.kind == "bullet":
        return f"{indent}- " + text.replace("\n", "\n" + indent + "  ")
    if block.kind == "numbered":
        return f"{indent}{block.number}. " + text.replace("\n", "\n" + indent + "   ")
    if block.kind == "quote":
        return "\n".join("> " + line for line in text.split("\n"))
    return text


def render_blocks(blocks: Sequence[Block]) -> str:
    """Blocks as Discord Markdown; list items on consecutive lines, the rest a blank line apart."""
    out: list[str] = []
    state: _Place | None = None
    for block in blocks:
        out.append(_separator(state, block))
        out.append(render_block(block))
        state = _place(state, block)
    return "".join(out)


# Where a chunk is: its last block, and the kind of the top-level list it is in ("" for none).
_Place = tuple[Block, str]


def _separator(state: _Place | None, block: Block) -> str:
    if state is None:
        return ""
    previous, top_kind = state
    listed = ("bullet", "numbered")
    # A bullet list straight after a numbered one (or the reverse) would read as one.
    same_list = block.kind in listed and previous.kind in listed and (
        block.level > 0 or block.kind == top_kind)
    return "\n" if same_list else "\n\n"


def _place(state: _Place | None, block: Block) -> _Place:
    return block, block.kind if block.level == 0 else (state[1] if state else "")


def _step(state: _Place | None, block: Block) -> tuple[_Place, int]:
    """`render_blocks`' length one block at a time (a `Step` for `split_blocks`)."""
    return _place(state, block), len(_separator(state, block)) + len(render_block(block))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----- messages ----------------------------------------------------------------------------------

def render(message: OutgoingMessage) -> list[DiscordMessage]:
    """The message as one or more Discord messages, every Discord limit respected."""
    title = clip(escape(message.title.strip()), TITLE_LIMIT) if message.title.strip() else ""
    footer = clip(message.footer.strip(), FOOTER_LIMIT)
    descriptions = [render_blocks(chunk)
                    for chunk in split_blocks(message.blocks, _step, DESCRIPTION_LIMIT)]
    # A piece that still overflows (text the splitter cannot cut small enough) is clipped last.
    descriptions = [clip(d, DESCRIPTION_LIMIT) for d in descriptions if d.strip()]
    if not descriptions and not title:
        descriptions = [_ZWSP]  # an embed needs a title or a description
    if not descriptions:
        descriptions = [""]

    embeds: list[discord.Embed] = []
    for i, description in enumerate(descriptions):
        embed = discord.Embed(colour=COLOR, description=description or None,
                              title=title if i == 0 and title else None)
        embeds.append(embed)
    if footer:
        embeds[-1].set_footer(text=footer)
    attachment = message.attachment
    if attachment is not None and attachment.is_picture:
        # The picture is shown inside the first embed rather than as a loose file above it.
        embeds[0].set_image(url=f"attachment://{file_name(attachment.filename)}")

    messages: list[list[discord.Embed]] = [[]]
    size = 0
    for embed in embeds:
        length = len(embed)
        if messages[-1] and (len(messages[-1]) >= EMBEDS_PER_MESSAGE
                             or size + length > MESSAGE_EMBED_TOTAL):
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += length
    rows = button_rows(message.buttons)
    return [DiscordMessage(tuple(group), rows if i == len(messages) - 1 else (),
                           attachment if i == 0 else None)
            for i, group in enumerate(messages)]


def button_rows(rows: Sequence[Sequence[Button]]) -> tuple[tuple[Button, ...], ...]:
    """Rows of at most five buttons and at most five rows; buttons whose payload cannot be a
    custom_id are left out rather than failing the whole message."""
    out: list[tuple[Button, ...]] = []
    for row in rows:
        usable = [b for b in row if _PAYLOAD.fullmatch(b.payload)]
        for start in range(0, len(usable), BUTTONS_PER_ROW):
            out.append(tuple(usable[start:start + BUTTONS_PER_ROW]))
    return tuple(out[:ROWS_PER_MESSAGE])


def build_view(rows: Sequence[Sequence[Button]]) -> discord.ui.View | None:
    """A persistent view (no timeout) of StudyButtons, one Discord action row per row."""
    rows = button_rows(rows)
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for number, row in enumerate(rows):
        for button in row:
            style = (discord.ButtonStyle.primary if button.payload.startswith(Kind.REVEAL.value)
                     else discord.ButtonStyle.secondary)
            item = StudyButton(button.payload, label=clip(button.label.strip() or "?",
                                                          LABEL_LIMIT), style=style)
            item.row = number
            view.add_item(item)
    return view


def embed_total(embeds: Sequence[discord.Embed]) -> int:
    """What Discord counts toward the 6000-character limit of one message."""
    return sum(len(e) for e in embeds)
