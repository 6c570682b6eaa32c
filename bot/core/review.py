"""The review loop: every grade makes or updates the user's FSRS card for that question, and
`/review` in the private chat walks through the cards that are due.

Cards belong to the user, not to the chat: a member of three study groups has one deck. The
scheduling is the `fsrs` package's (its default parameters); only the desired retention is ours
to set. A review graded in the private chat counts that chat's study day, never a group's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fsrs import Card, Rating, Scheduler, State

from bot.core import streaks
from bot.core.actions import Action, Kind
from bot.core.events import Actor, Command
from bot.core.i18n import t
from bot.core.messages import Button, OutgoingMessage, Response, say
from bot.core.models import Chat, ChatDay, ChatKind, Grade, Question
from bot.core.review_model import CardWrite, LedgerDay, ReviewCard
from bot.core.study import _text
from bot.core.text import paragraph

log = logging.getLogger(__name__)

RATING_OF_GRADE = {Grade.KNEW: Rating.Good, Grade.PARTLY: Rating.Hard, Grade.NOT_YET: Rating.Again}
GRADE_OF_REVIEW_KIND = {Kind.REVIEW_KNEW: Grade.KNEW, Kind.REVIEW_PARTLY: Grade.PARTLY,
                        Kind.REVIEW_NOT_YET: Grade.NOT_YET}
REVIEW_KIND_OF_GRADE = {g: k for k, g in GRADE_OF_REVIEW_KIND.items()}
# A review button names its card and which showing of it (the card's review count, mod 100), so
# a button left over from an earlier showing cannot grade the card a second time.
SHOWINGS = 100
MAX_SCANNED = 1000  # due cards looked at per /review; a deck this far behind shows "1000+"


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    retention: float = 0.9  # FSRS desired retention
    daily_limit: int = 20  # cards a user reviews per study day at most
    fuzz: bool = True  # FSRS interval fuzzing (spreads cards graded together); off in tests


class ReviewStore(Protocol):
    """What the review loop needs of the store beyond the study service's Store."""

    async def ensure_user(self, user: Any) -> int: ...

    async def get_card(self, user_pk: int, question_id: str) -> ReviewCard | None: ...

    async def get_card_by_pk(self, card_pk: int) -> ReviewCard | None: ...

    async def put_card(self, user_pk: int, question_id: str, values: Mapping[str, Any],
                       now: dt.datetime, ledger: LedgerDay | None = None) -> ReviewCard: ...

    async def cards_due(self, user_pk: int, until: dt.datetime,
                        limit: int) -> list[ReviewCard]: ...

    async def cards_after(self, user_pk: int, after: dt.datetime,
                          limit: int) -> list[ReviewCard]: ...

    async def reviews_on(self, user_pk: int, day: dt.date) -> int: ...

    async def study_days(self, chat_pk: int, user_pk: int) -> tuple[dt.date, ...]: ...

    async def user_zone(self, user_pk: int) -> str | None: ...

    async def remember_private_chat(self, user_pk: int, chat_pk: int,
                                    now: dt.datetime) -> None: ...


class StudyParts(Protocol):
    """The parts of the study service the review loop shares (bank, clock, codec, texts)."""

    bank: Any
    clock: Any
    codec: Any
    config: Any

    def answer_blocks(self, question: Question, language: str) -> tuple[Any, ...]: ...


class ReviewService:
    def __init__(self, study: StudyParts, store: ReviewStore,
                 config: ReviewConfig | None = None) -> None:
        self.study = study
        self.store = store
        self.config = config or ReviewConfig()
        self.scheduler = Scheduler(desired_retention=self.config.retention,
                                   enable_fuzzing=self.config.fuzz)

    # ----- the user's day ---------------------------------------------------------------------

    async def zone_of(self, user_pk: int, chat: Chat) -> str:
        """The user's own zone; until they set one, the zone of the chat they act in."""
        return await self.store.user_zone(user_pk) or chat.timezone

    def today(self, zone: str, now: dt.datetime) -> dt.date:
        return streaks.study_day(now, zone, self.study.config.rollover_hour)

    # ----- every grade makes a card -----------------------------------------------------------

    async def card_for_grade(self, actor: Actor, user_pk: int, day: ChatDay, grade: Grade,
                             origin: Chat) -> CardWrite:
        """A question of the day is being graded (any chat, any platform): the user's card as
        it will be, written with the grade. Grading the same day's question again replaces
        that day's rating."""
        now = self.study.clock.now()
        today = self.today(await self.zone_of(user_pk, origin), now)
        card = await self.store.get_card(user_pk, day.question_id)
        again = card is not None and card.review_day == today and card.source == "daily"
        return CardWrite(day.question_id, self._scheduled(card, grade, now, today, "daily",
                                                          day.pk, replace=again))

    async def _schedule(self, user_pk: int, question_id: str, card: ReviewCard | None,
                        grade: Grade, now: dt.datetime, today: dt.date, source: str,
                        chat_day_pk: int, *, replace: bool,
                        ledger: LedgerDay | None = None) -> ReviewCard:
        values = self._scheduled(card, grade, now, today, source, chat_day_pk, replace=replace)
        return await self.store.put_card(user_pk, question_id, values, now, ledger)

    def _scheduled(self, card: ReviewCard | None, grade: Grade, now: dt.datetime,
                   today: dt.date, source: str, chat_day_pk: int, *,
                   replace: bool) -> dict[str, Any]:
        """The card's columns after this grade, from the card before it (or from the one before
        today's rating, when `replace`)."""
        if replace and card is not None:
            prior = card.prior
            base, reps = _from_json(prior, now)
        else:
            prior = _to_json(card) if card is not None else ""
            base, reps = (_fsrs_card(card), card.reps) if card is not None else (
                Card(card_id=1, due=now), 0)
        reviewed, _ = self.scheduler.review_card(base, RATING_OF_GRADE[grade], now)
        return {
            "state": int(reviewed.state), "step": reviewed.step,
            "stability": reviewed.stability, "difficulty": reviewed.difficulty,
            "due": reviewed.due, "last_review": reviewed.last_review, "reps": reps + 1,
            "review_day": today, "source": source, "prior": prior, "chat_day_pk": chat_day_pk,
        }

    # ----- what is due ------------------------------------------------------------------------

    async def due(self, user_pk: int, zone: str, now: dt.datetime,
                  ) -> list[tuple[ReviewCard, Question]]:
        """The user's due cards with their questions, earliest first. A card in review is due
        on its FSRS due day (the user's study day); a card still learning at its due minute.
        A card whose question left the bank is skipped and logged."""
        today = self.today(zone, now)
        until = streaks.day_ends_at(today, zone, self.study.config.rollover_hour)
        found: list[tuple[ReviewCard, Question]] = []
        for card in await self.store.cards_due(user_pk, until, MAX_SCANNED):
            if not _is_due(card, now, until):
                continue
            question = self.study.bank.get(card.question_id)
            if question is None:
                log.warning("review card %s of user %s: question %s is no longer in the bank; "
                            "skipped", card.pk, user_pk, card.question_id)
                continue
            found.append((card, question))
        return found

    async def left_today(self, user_pk: int, today: dt.date) -> int:
        return max(0, self.config.daily_limit - await self.store.reviews_on(user_pk, today))

    async def _next_due_at(self, user_pk: int, now: dt.datetime) -> dt.datetime | None:
        for card in await self.store.cards_after(user_pk, now, 50):
            if self.study.bank.get(card.question_id) is not None:
                return card.due
        return None

    # ----- /review ----------------------------------------------------------------------------

    async def review_command(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        if command.actor.chat_kind is not ChatKind.PRIVATE:
            # The session is private: the group sees nothing, the user gets the way there (and
            # a platform that cannot reach them yet offers a link that opens it).
            return Response(private=(_text(t(lang, "review_in_private")),),
                            deep_link=self.study.codec.encode(Action(Kind.REVIEW_OPEN, 0)))
        user_pk = await self.store.ensure_user(command.actor.user)
        await self.store.remember_private_chat(user_pk, chat.pk, self.study.clock.now())
        return say(await self._next(user_pk, chat, await self.zone_of(user_pk, chat)))

    async def _next(self, user_pk: int, chat: Chat, zone: str) -> OutgoingMessage:
        """The next due card, or why there is none."""
        lang = chat.language
        now = self.study.clock.now()
        due = await self.due(user_pk, zone, now)
        if not due:
            following = await self._next_due_at(user_pk, now)
            if following is None:
                return _text(t(lang, "review_no_cards"))
            return _text(t(lang, "review_all_done", when=wait_text(following - now, lang)))
        left = await self.left_today(user_pk, self.today(zone, now))
        count = t(lang, "review_due", n=len(due))
        if left == 0:
            return _text(t(lang, "review_limit", n=self.config.daily_limit, due=count))
        card, question = due[0]
        return self._card_message(card, question, lang,
                                  f"{count} · {t(lang, 'review_left', n=left)}")

    def _card_message(self, card: ReviewCard, question: Question, language: str,
                      status: str) -> OutgoingMessage:
        title, _, _ = question.localized(language)
        show = self.study.codec.encode(Action(Kind.REVIEW_SHOW, _target(card)))
        return OutgoingMessage(
            title=t(language, "review_title"),
            blocks=(paragraph(status), paragraph(title, bold=True),
                    paragraph(t(language, "meta", tags=" · ".join(question.tags),
                                stars=_stars(question)))),
            buttons=((Button(t(language, "btn_reveal"), show),),),
        )

    def _answer_message(self, card: ReviewCard, question: Question,
                        language: str) -> OutgoingMessage:
        title, _, _ = question.localized(language)
        row = tuple(
            Button(t(language, f"btn_{grade.value}"),
                   self.study.codec.encode(Action(REVIEW_KIND_OF_GRADE[grade], _target(card))))
            for grade in Grade)
        return OutgoingMessage(title=t(language, "answer_title", title=title),
                               blocks=self.study.answer_blocks(question, language),
                               buttons=(row,))

    # ----- review buttons ---------------------------------------------------------------------

    async def on_button(self, actor: Actor, action: Action, chat: Chat) -> Response:
        lang = chat.language
        if actor.chat_kind is not ChatKind.PRIVATE:
            return Response(toast=t(lang, "review_in_private"))
        if action.kind is Kind.REVIEW_OPEN:
            return await self.review_command(Command(actor, "review"), chat)
        card_pk, showing = divmod(action.target, SHOWINGS)
        user_pk = await self.store.ensure_user(actor.user)
        card = await self.store.get_card_by_pk(card_pk)
        question = self.study.bank.get(card.question_id) if card is not None else None
        if card is None or card.user_pk != user_pk or question is None:
            # Someone else's card, a forged number, or a question gone from the bank.
            if card is not None and question is None:
                log.warning("review card %s: question %s is no longer in the bank",
                            card.pk, card.question_id)
            return Response(toast=t(lang, "review_stale"))
        now = self.study.clock.now()
        zone = await self.zone_of(user_pk, chat)
        today = self.today(zone, now)
        current = card.reps % SHOWINGS == showing
        if action.kind is Kind.REVIEW_SHOW:
            if not current:
                return Response(toast=t(lang, "review_stale"))
            return Response(public=(self._answer_message(card, question, lang),),
                            toast=t(lang, "revealed_toast"))
        grade = GRADE_OF_REVIEW_KIND[action.kind]
        # The showing graded just now, graded again (a changed mind, a double tap): replace.
        again = (not current and (card.reps - 1) % SHOWINGS == showing
                 and card.review_day == today and card.source == "review")
        if not current and not again:
            return Response(toast=t(lang, "review_stale"))
        if current:
            until = streaks.day_ends_at(today, zone, self.study.config.rollover_hour)
            if not _is_due(card, now, until):
                return Response(toast=t(lang, "review_not_due"))
            reviewed_today = card.review_day == today and card.source == "review"
            if not reviewed_today and not await self.left_today(user_pk, today):
                due = len(await self.due(user_pk, zone, now))
                return Response(toast=t(lang, "review_limit", n=self.config.daily_limit,
                                        due=t(lang, "review_due", n=due)))
        # The private chat's ledger, in the user's own day (a group's streak never moves),
        # written with the card in one transaction.
        await self._schedule(user_pk, card.question_id, card, grade, now, today, "review",
                             card.chat_day_pk, replace=again,
                             ledger=LedgerDay(chat.pk, today, zone, card.chat_day_pk))
        status = streaks.compute(await self.store.study_days(chat.pk, user_pk), today)
        toast = t(lang, "review_graded", grade=t(lang, f"grade_{grade.value}"), n=status.current)
        if again:
            return Response(toast=toast)
        return Response(public=(await self._next(user_pk, chat, zone),), toast=toast)


def _is_due(card: ReviewCard, now: dt.datetime, day_end: dt.datetime) -> bool:
    if card.state == State.Review:
        return card.due < day_end
    return card.due <= now


def _target(card: ReviewCard) -> int:
    return card.pk * SHOWINGS + card.reps % SHOWINGS


def _fsrs_card(card: ReviewCard) -> Card:
    return Card(card_id=card.pk, state=State(card.state), step=card.step,
                stability=card.stability, difficulty=card.difficulty, due=card.due,
                last_review=card.last_review)


def _to_json(card: ReviewCard) -> str:
    return json.dumps({
        "state": card.state, "step": card.step, "stability": card.stability,
        "difficulty": card.difficulty, "due": card.due.isoformat(), "reps": card.reps,
        "last_review": card.last_review.isoformat() if card.last_review else None})


def _from_json(prior: str, now: dt.datetime) -> tuple[Card, int]:
    """The card as it was before the day's review ("" for one that had none), and its count."""
    if not prior:
        return Card(card_id=1, due=now), 0
    raw = json.loads(prior)
    last = raw.get("last_review")
    return Card(card_id=1, state=State(raw["state"]), step=raw["step"],
                stability=raw["stability"], difficulty=raw["difficulty"],
                due=dt.datetime.fromisoformat(raw["due"]),
                last_review=dt.datetime.fromisoformat(last) if last else None), int(raw["reps"])


def _stars(question: Question) -> str:
    return "★" * question.difficulty + "☆" * (3 - question.difficulty)


def wait_text(delta: dt.timedelta, lang: str) -> str:
    """How long until something, in the largest whole unit: "2 days", "3 h", "5 min"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 86400:
        return t(lang, "n_days", n=round(seconds / 86400))
    if seconds >= 3600:
        return t(lang, "n_hours", n=round(seconds / 3600))
    return t(lang, "n_minutes", n=max(1, round(seconds / 60)))
