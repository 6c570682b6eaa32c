"""Neutral input: what a user did, as every adapter reports it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import ChatKind, ChatRef, UserRef


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted, where, and whether they may change the chat's settings."""

    chat: ChatRef
    chat_kind: ChatKind
    user: UserRef
    is_admin: bool
    chat_title: str = ""  # the group's name, when the platform says it (reminders name groups)


@dataclass(frozen=True, slots=True)
class Command:
    actor: Actor
    name: str  # lower case, without the slash or @botname
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ButtonPress:
    actor: Actor
    payload: str


def parse_command(text: str, bot_username: str = "") -> tuple[str, tuple[str, ...]] | None:
    """`/name@bot arg1 arg2` → (name, args); None if the text is not a command for this bot.

    A command addressed to another bot (`/today@OtherBot`) is not ours.
    """
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, *args = stripped.split()
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        return ("", tuple(args)) if name else None
    return name.lower(), tuple(args)
