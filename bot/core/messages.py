"""Neutral output: what the core wants said, with no platform markup."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.text import Block


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str  # an encoded action (bot.core.actions); at most 64 bytes


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message: a picture (image/*) shown inline, anything else as a
    document. Each adapter sends it its platform's way; the console writes it to a file."""

    filename: str
    data: bytes
    media_type: str  # "image/png", "application/json", ...
    alt: str = ""  # what a picture shows, for screen readers and text-only clients

    @property
    def is_picture(self) -> bool:
        return self.media_type.startswith("image/")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    title: str = ""
    blocks: tuple[Block, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    footer: str = ""
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """What the core answers to one event.

    `public` goes to the chat the event came from; `private` only to the acting user (an ephemeral
    reply on Discord, the user's private chat on Telegram). `deep_link` is a `/start` payload that
    reproduces `private` when the platform cannot reach the user directly yet. `toast` is the short
    notice shown for a button press.
    """

    public: tuple[OutgoingMessage, ...] = ()
    private: tuple[OutgoingMessage, ...] = ()
    toast: str = ""
    deep_link: str = ""
    # When set, the adapter reports the id of the first public message it posted back to the
    # core (StudyService.posted) under this key: the leaderboard is then kept up to date there.
    remember: str = ""


def say(*messages: OutgoingMessage) -> Response:
    return Response(public=tuple(messages))
