"""Button payloads: compact, signed, and safe to receive from anyone.

A payload names an action on one chat-day (a chat's question of a date) and carries a truncated
HMAC so forged or altered data is refused without a database lookup. The alphabet is the one
Telegram allows in `/start` deep-link parameters ([A-Za-z0-9_-]), so the same string works as
callback data (<= 64 bytes) and as a deep link (<= 64 chars).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.core.models import Grade


class Kind(StrEnum):
    """What a button does; each is one letter. The first four act on a chat-day; the others
    name their own target (a user, a review card, ...) in the same number slot."""

    REVEAL = "r"
    KNEW = "k"
    PARTLY = "p"
    NOT_YET = "n"
    # Review cards (bot.core.review): the target is the card's pk * 100 + which showing.
    REVIEW_SHOW = "S"
    REVIEW_KNEW = "G"
    REVIEW_PARTLY = "H"
    REVIEW_NOT_YET = "A"
    FORGET = "f"  # confirm deleting a user's data; the target is the user's key
    REVIEW_OPEN = "R"  # start a review session (a /start link from a group); target 0


GRADE_OF_KIND = {Kind.KNEW: Grade.KNEW, Kind.PARTLY: Grade.PARTLY, Kind.NOT_YET: Grade.NOT_YET}
KIND_OF_GRADE = {g: k for k, g in GRADE_OF_KIND.items()}

_PATTERN = re.compile(
    rf"^([{''.join(k.value for k in Kind)}])([0-9]{{1,18}})_([A-Za-z0-9_-]{{11}})$")
MAX_PAYLOAD = 64


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    chat_day: int  # the target: a chat-day for the study kinds, the kind's own id otherwise

    @property
    def target(self) -> int:
        return self.chat_day

    @property
    def grade(self) -> Grade | None:
        return GRADE_OF_KIND.get(self.kind)


class ActionCodec:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the payload secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest()[:8]
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def encode(self, action: Action) -> str:
        body = f"{action.kind.value}{action.chat_day}"
        return f"{body}_{self._sign(body)}"

    def decode(self, payload: object) -> Action | None:
        """The action, or None for anything forged, truncated, oversized or malformed."""
        if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
            return None
        m = _PATTERN.match(payload)
        if not m:
            return None
        kind, number, sig = m.groups()
        if not hmac.compare_digest(sig, self._sign(f"{kind}{number}")):
            return None
        return Action(Kind(kind), int(number))
