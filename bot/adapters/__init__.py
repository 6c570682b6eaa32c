"""Platform adapters. Each turns platform updates into core events and core messages into posts."""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import OutgoingMessage
from bot.core.models import ChatRef


class StartError(Exception):
    """A platform could not be started (rejected token, unreachable API); the text is for the
    operator and never holds a secret."""


class PlatformAdapter(Protocol):
    """What `studybot run` needs of a platform: a lifecycle, a health flag, and a Messenger."""

    platform: str

    @property
    def connected(self) -> bool:
        """True while the platform connection is up (polling, webhook or gateway)."""
        ...

    async def start(self) -> None:
        """Connect and start receiving updates; returns once running (work goes on in tasks).
        Raises StartError when the platform cannot be reached or refuses the token."""
        ...

    async def stop(self) -> None:
        """Stop receiving and close connections; safe to call twice or after a failed start."""
        ...

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str: ...
