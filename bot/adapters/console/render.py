"""Neutral messages as terminal text; buttons become numbered choices."""

from __future__ import annotations

import unicodedata

from bot.core.messages import Button, OutgoingMessage
from bot.core.text import plain_text

BOLD, RESET = "\x1b[1m", "\x1b[0m"


def safe(text: str) -> str:
    """Text fit for a terminal: no escape sequences or other control characters but newlines."""
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")


def render(message: OutgoingMessage, first_number: int, *, color: bool = False) -> str:
    """The message as lines of text; its buttons are numbered from `first_number` on."""
    parts: list[str] = []
    if message.title:
        title = safe(message.title)
        parts.append(f"{BOLD}{title}{RESET}" if color else title)
    if message.blocks:
        parts.append(safe(plain_text(message.blocks)))
    if message.footer:
        parts.append(safe(message.footer))
    number = first_number
    for row in message.buttons:
        cells = []
        for button in row:
            cells.append(f"[{number}] {safe(button.label)}")
            number += 1
        parts.append("  ".join(cells))
    return "\n".join(parts)


def button_count(message: OutgoingMessage) -> int:
    return sum(len(row) for row in message.buttons)


def flat_buttons(message: OutgoingMessage) -> list[Button]:
    return [button for row in message.buttons for button in row]
