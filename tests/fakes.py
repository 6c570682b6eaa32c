"""Test doubles written against bot.core.ports."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping

from bot.core.messages import Attachment, Button, OutgoingMessage
from bot.core.models import ChatRef, PackSummary, Question
from bot.core.text import paragraph


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        assert start.tzinfo is not None
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def set(self, instant: dt.datetime) -> None:
        self.current = instant

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


class FakeBank:
    def __init__(
        self, questions: Iterable[Question], titles: Mapping[str, str] | None = None
    ) -> None:
        self._questions = {q.id: q for q in questions}
        self._titles = dict(titles or {})

    def replace(self, questions: Iterable[Question]) -> None:
        """New content, as after a restart with edited packs."""
        self._questions = {q.id: q for q in questions}

    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._questions))

    def get(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)

    def pack_summaries(self) -> tuple[PackSummary, ...]:
        counts = Counter(q.pack for q in self._questions.values())
        return tuple(PackSummary(p, self._titles.get(p, p), counts[p]) for p in sorted(counts))

    def tag_counts(self, packs: Collection[str] = ()) -> Mapping[str, int]:
        counts = Counter(tag for q in self._questions.values() if not packs or q.pack in packs
                         for tag in set(q.tags))
        return dict(sorted(counts.items()))

    def matching(self, packs: Collection[str] = (), tags: Collection[str] = ()) -> tuple[str, ...]:
        return tuple(q.id for q in sorted(self._questions.values(), key=lambda q: q.id)
                     if (not packs or q.pack in packs)
                     and (not tags or any(tag in tags for tag in q.tags)))

    def __len__(self) -> int:
        return len(self._questions)


def make_questions(n: int) -> list[Question]:
    return [
        Question(
            id=f"q{i:02d}", pack="test", title=f"问题 {i}？", answer=f"**答案 {i}**\n\n- 要点 {i}",
            tags=("attention",), difficulty=1 + i % 3, source="ours", key_points=(f"要点 {i}",),
            title_en=f"Question {i}?", answer_en=f"Answer {i}.", key_points_en=(f"Point {i}",),
        )
        for i in range(n)
    ]


class RecordingMessenger:
    """Records every send; `failures` queues exceptions to raise on the next sends."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform
        self.sent: list[tuple[ChatRef, OutgoingMessage]] = []
        self.failures: list[Exception] = []

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((chat, message))
        return str(len(self.sent))


def tiny_png(width: int, height: int, rgb: tuple[int, int, int] = (40, 160, 80)) -> bytes:
    """A valid one-colour PNG, made by hand so adapter tests need no imaging library."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def picture_message(text: str = "Your week", *, title: str = "Progress",
                    buttons: tuple[tuple[Button, ...], ...] = ()) -> OutgoingMessage:
    """A message carrying a small PNG, as a progress command would send it."""
    return OutgoingMessage(title=title, blocks=(paragraph(text),), buttons=buttons,
                           attachment=Attachment("progress.png", tiny_png(64, 32),
                                                 "image/png", alt="A green square"))


def document_message(text: str = "Your data") -> OutgoingMessage:
    return OutgoingMessage(blocks=(paragraph(text),),
                           attachment=Attachment("export.json", b'{"days": 3}',
                                                 "application/json"))
