"""The use cases: everything a chat can ask for, and the daily push. Platform-neutral."""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from bot.core import schedule, streaks
from bot.core.actions import KIND_OF_GRADE, Action, ActionCodec, Kind
from bot.core.events import Actor, ButtonPress, Command
from bot.core.i18n import normalize_language, t
from bot.core.messages import Button, OutgoingMessage, Response, say
from bot.core.models import Chat, ChatDay, ChatKind, ChatRef, Grade, GradeOutcome, Question
from bot.core.ports import Clock, MembershipCheck, Messenger, QuestionBank, Store
from bot.core.push import PushConfig, PushPipeline, PushReport
from bot.core.push_model import History
from bot.core.review_model import CardWrite
from bot.core.text import Block, bullet, card, paragraph, parse_markdown

log = logging.getLogger(__name__)

MAX_INPUT = 4096  # longest command text we process; Telegram's own message limit
DEFAULT_TIME = dt.time(9, 0)
MAX_CHOICES = 20  # /pack and /tags arguments considered; more is a paste accident, not a choice
MAX_LISTED = 80  # rows in a /pack or /tags listing, to stay well inside one chat message
_RESET = frozenset({"all", "全部"})
_TOP_CHOICES = {"hide": True, "隐藏": True, "show": False, "显示": False}  # /top hide|show
# Commas, including the Chinese ones, separate choices as well as spaces do.
_SEPARATORS = re.compile(r"[,，、;；]+")


# Other use-case services (review, progress, privacy, ...) answer their own commands and buttons;
# they register here so every adapter reaches them through the one entry point.
CommandHandler = Callable[[Command, Chat], Awaitable[Response]]
ButtonHandler = Callable[[Actor, Action, Chat], Awaitable[Response]]
# Told of every grade of a question of the day: (who, their user pk, the day, the grade, the chat
# the question was posted in). The review loop makes its cards from these.
GradeHook = Callable[[Actor, int, ChatDay, Grade, Chat], Awaitable[None]]
# Makes the user's review card for a grade, written in the grade's own transaction.
CardForGrade = Callable[[Actor, int, ChatDay, Grade, Chat], Awaitable[CardWrite]]
# Told whenever a user writes to the bot in a private chat (a blocked user is back).
PrivateHook = Callable[[Actor], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StudyConfig:
    default_timezone: str = "Asia/Shanghai"
    default_language: str = "zh"
    rollover_hour: int = 4
    grace: dt.timedelta = dt.timedelta(hours=6)  # a push missed by less than this is still sent


@dataclass(frozen=True, slots=True)
class Selection:
    """A chat's packs and tags, split into those the bank still has and those it lost."""

    packs: tuple[str, ...]
    tags: tuple[str, ...]
    gone_packs: tuple[str, ...] = ()
    gone_tags: tuple[str, ...] = ()


class StudyService:
    def __init__(
        self, store: Store, bank: QuestionBank, clock: Clock, codec: ActionCodec,
        config: StudyConfig | None = None, push: PushConfig | None = None,
    ) -> None:
        self.store = store
        self.bank = bank
        self.clock = clock
        self.codec = codec
        self.config = config or StudyConfig()
        self.push = PushPipeline(store, self, clock,  # type: ignore[arg-type]
                                 push or PushConfig(grace=self.config.grace))
        # Told the platform of every button press handled (metrics); None when nobody counts.
        self.on_button: Callable[[str], None] | None = None
        self._memberships: dict[str, MembershipCheck] = {}
        self._commands: dict[str, CommandHandler] = {}
        self._buttons: dict[Kind, ButtonHandler] = {}
        self.grade_hooks: list[GradeHook] = []
        self.card_for_grade: CardForGrade | None = None
        self.private_hooks: list[PrivateHook] = []
        self.help_keys: list[str] = []  # /help lines of the other services' commands
        # Told when a chat's leaderboard changed other than by a grade (a member hid).
        self.board_hooks: list[Callable[[Chat], Awaitable[None]]] = []
        # Told the id of a public message an adapter posted for a Response with `remember`.
        self.remember_hooks: dict[str, Callable[[Chat, str], Awaitable[None]]] = {}

    def register_messenger(self, messenger: Messenger) -> None:
        self.push.register(messenger)

    # ----- events in --------------------------------------------------------------------------

    def add_command(self, name: str, handler: CommandHandler) -> None:
        """Route `/name` to another use-case service."""
        if name in _COMMANDS or name in self._commands:
            raise ValueError(f"command /{name} is already taken")
        self._commands[name] = handler

    def add_button(self, kind: Kind, handler: ButtonHandler) -> None:
        """Route presses of a button kind to another use-case service."""
        if kind in (Kind.REVEAL, *KIND_OF_GRADE.values()) or kind in self._buttons:
            raise ValueError(f"button kind {kind!r} is already taken")
        self._buttons[kind] = handler

    async def handle_command(self, command: Command) -> Response:
        chat = await self._chat(command.actor)
        await self._wrote_in_private(command.actor)
        handler = _COMMANDS.get(command.name)
        if handler is not None:
            return await handler(self, command, chat)
        other = self._commands.get(command.name)
        if other is not None:
            return await other(command, chat)
        return say(_text(t(chat.language, "unknown_command", name=_clip(command.name, 32))))

    async def handle_text(self, actor: Actor, text: str) -> Response:
        """Plain text that is not a command: only answered in private chats, to show the way."""
        chat = await self._chat(actor)
        if actor.chat_kind != ChatKind.PRIVATE:
            return Response()
        await self._wrote_in_private(actor)
        if len(text) > MAX_INPUT:
            return say(_text(t(chat.language, "input_too_long", limit=MAX_INPUT)))
        return say(_text(t(chat.language, "not_a_command")))

    async def handle_button(self, press: ButtonPress) -> Response:
        if self.on_button is not None:
            self.on_button(press.actor.chat.platform)
        action = self.codec.decode(press.payload)
        here = await self._chat(press.actor)
        if action is None:
            return Response(toast=t(here.language, "stale_button"))
        other = self._buttons.get(action.kind)
        if other is not None:
            return await other(press.actor, action, here)
        if action.kind is not Kind.REVEAL and action.grade is None:
            return Response(toast=t(here.language, "stale_button"))  # a kind nobody serves
        return await self._act(press.actor, action, here.language)

    async def _act(self, actor: Actor, action: Action, fallback_language: str) -> Response:
        day = await self.store.get_chat_day(action.chat_day)
        question = self.bank.get(day.question_id) if day else None
        origin = await self.store.get_chat_by_pk(day.chat_pk) if day else None
        if day is None or question is None or origin is None:
            return Response(toast=t(fallback_language, "stale_button"))
        user_pk = await self.store.ensure_user(actor.user)
        now = self.clock.now()
        lang = origin.language
        if action.kind is Kind.REVEAL:
            await self.store.record_reveal(day.pk, user_pk, now)
            return Response(
                private=(self.answer_message(day, question, lang),),
                toast=t(lang, "revealed_toast"),
                deep_link=self.codec.encode(action),
            )
        grade = action.grade
        assert grade is not None
        ledger = origin
        if await self._outsider(actor, origin):
            # A forwarded link: the answer was shared with them, the group's board was not.
            ledger = await self._chat(actor)
        today = streaks.study_day(now, ledger.timezone, self.config.rollover_hour)
        card = None if self.card_for_grade is None else await self.card_for_grade(
            actor, user_pk, day, grade, origin)
        outcome = await self.store.record_grade(
            day.pk, user_pk, grade, now, today, ledger.timezone, chat_pk=ledger.pk, card=card)
        for hook in self.grade_hooks:
            await hook(actor, user_pk, day, grade, origin)
        status = streaks.compute(await self.store.study_days(ledger.pk, user_pk), today)
        key = {GradeOutcome.COUNTED: "graded", GradeOutcome.ALREADY_COUNTED: "regraded",
               GradeOutcome.CHANGED: "grade_changed"}[outcome]
        text = t(lang, key, grade=t(lang, f"grade_{grade.value}"), n=status.current)
        if ledger is not origin:
            text = f"{text} {t(lang, 'graded_outside')}"
        return Response(toast=text)

    async def _outsider(self, actor: Actor, origin: Chat) -> bool:
        """Whether a grade from a private chat comes from someone outside the group the
        question was posted in (they opened a forwarded link)."""
        if actor.chat_kind is not ChatKind.PRIVATE or origin.kind is ChatKind.PRIVATE:
            return False
        checker = self._memberships.get(origin.ref.platform)
        if checker is None:
            return False
        return not await checker.is_member(origin.ref, actor.user)

    async def _wrote_in_private(self, actor: Actor) -> None:
        if actor.chat_kind is ChatKind.PRIVATE:
            for hook in self.private_hooks:
                await hook(actor)

    async def posted(self, ref: ChatRef, key: str, message_id: str) -> None:
        """An adapter posted the public answer of a Response that asked to be remembered."""
        hook = self.remember_hooks.get(key)
        chat = await self.store.get_chat(ref) if hook else None
        if hook is not None and chat is not None:
            await hook(chat, message_id)

    def register_membership(self, checker: MembershipCheck) -> None:
        """A platform that can tell whether a user belongs to a group."""
        self._memberships[checker.platform] = checker

    # ----- commands ---------------------------------------------------------------------------

    async def _start(self, command: Command, chat: Chat) -> Response:
        if command.args:
            action = self.codec.decode(command.args[0])
            if action is not None and action.kind is Kind.REVEAL:
                return await self._act(command.actor, action, chat.language)
            if action is not None and action.kind in self._buttons:  # another service's link
                return await self._buttons[action.kind](command.actor, action, chat)
            if action is None and command.args[0].strip():
                return Response(public=(_text(t(chat.language, "stale_button")),))
        return say(_text(t(chat.language, "welcome")), self._help_message(chat))

    async def _help(self, command: Command, chat: Chat) -> Response:
        return say(self._help_message(chat))

    def _help_message(self, chat: Chat) -> OutgoingMessage:
        lang = chat.language
        lines = ["help_subscribe", "help_unsubscribe", "help_today", "help_pack", "help_tags",
                 "help_streak", "help_top", "help_stats", "help_lang", "help_export",
                 "help_forgetme", *self.help_keys, "help_help"]
        blocks = [bullet(t(lang, key, zone=self.config.default_timezone)) for key in lines]
        blocks.append(paragraph(t(lang, "help_admin_note")))
        return OutgoingMessage(title=t(lang, "help_title"), blocks=tuple(blocks))

    async def _subscribe(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        if not command.actor.is_admin:
            return say(_text(t(lang, "admins_only")))
        at, zone = DEFAULT_TIME, chat.timezone
        if len(command.args) > 2:
            return say(_text(t(lang, "subscribe_usage")))
        for arg in command.args:
            value = _clip(arg, 40)
            if schedule.looks_like_time(arg) or any(ch.isdigit() for ch in arg[:2]):
                parsed = schedule.parse_time(arg)
                if parsed is None:
                    return say(_text(t(lang, "bad_time", value=value)))
                at = parsed
            else:
                found = schedule.canonical_zone(arg)
                if found is None:
                    return say(_text(t(lang, "bad_zone", value=value)))
                zone = found
        now = self.clock.now()
        next_at = schedule.next_run(at, zone, now)
        await self.store.set_chat_timezone(chat.pk, zone)
        await self.store.subscribe(chat.pk, at, zone, next_at)
        self.push.wake()
        return say(_text(t(lang, "subscribed", time=at.strftime("%H:%M"), zone=zone,
                           when=self._when(next_at, zone, now, lang))))

    async def _unsubscribe(self, command: Command, chat: Chat) -> Response:
        if not command.actor.is_admin:
            return say(_text(t(chat.language, "admins_only")))
        removed = await self.store.unsubscribe(chat.pk)
        return say(_text(t(chat.language, "unsubscribed" if removed else "not_subscribed")))

    async def _today(self, command: Command, chat: Chat) -> Response:
        local_date = self.clock.now().astimezone(ZoneInfo(chat.timezone)).date()
        day = await self.question_of_day(chat, local_date)
        if day is None:
            return say(_text(t(chat.language, "no_questions")))
        return say(self.question_message(day, chat.language))

    async def _streak(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        user_pk = await self.store.ensure_user(command.actor.user)
        now = self.clock.now()
        today = streaks.study_day(now, chat.timezone, self.config.rollover_hour)
        status = streaks.compute(await self.store.study_days(chat.pk, user_pk), today)
        # One compact card: the lines sit one under the other, not a paragraph each.
        lines = [
            t(lang, "streak_current", n=status.current),
            t(lang, "streak_longest", n=status.longest),
            t(lang, "streak_total", n=status.total_days),
        ]
        if status.done_today:
            lines.append(t(lang, "streak_done"))
        else:
            left = streaks.day_ends_at(today, chat.timezone, self.config.rollover_hour) - now
            lines.append(t(lang, "streak_todo", left=_duration(left, lang)))
        lines.append(t(lang, "streak_freezes", n=status.freezes))
        if status.frozen_days:
            lines.append(t(lang, "streak_frozen", n=status.frozen_days))
        name = _display(command.actor.user.display_name or command.actor.user.user_id)
        return say(OutgoingMessage(title=t(lang, "streak_title", name=name),
                                   blocks=(card(*lines, bold_first=True),)))

    async def _top(self, command: Command, chat: Chat) -> Response:
        if command.args:
            return await self._top_visibility(command, chat)
        return Response(public=(await self.leaderboard(chat),), remember="board")

    async def leaderboard(self, chat: Chat) -> OutgoingMessage:
        """The chat's board: by current streak, then days this week, then days in total."""
        lang = chat.language
        today = streaks.study_day(self.clock.now(), chat.timezone, self.config.rollover_hour)
        rows = []
        for user, days in await self.store.chat_members_days(chat.pk):
            status = streaks.compute(days, today)
            rows.append((status.current, streaks.week_days(days, today), status.total_days,
                         _display(user.display_name or user.user_id)))
        rows.sort(key=lambda r: (-r[0], -r[1], -r[2], r[3]))
        if not rows:
            return OutgoingMessage(title=t(lang, "top_title"),
                                   blocks=(paragraph(t(lang, "top_empty")),))
        board = card(*(t(lang, "top_row", rank=i, name=name, current=t(lang, "n_days", n=cur),
                         week=t(lang, "n_days", n=week), total=t(lang, "n_days", n=total))
                       for i, (cur, week, total, name) in enumerate(rows[:10], start=1)))
        return OutgoingMessage(title=t(lang, "top_title"), blocks=(board,))

    async def _top_visibility(self, command: Command, chat: Chat) -> Response:
        """/top hide and /top show: a member keeps off the chat's board, or comes back."""
        lang = chat.language
        choice = _TOP_CHOICES.get(command.args[0].casefold())
        if choice is None or len(command.args) > 1:
            return say(_text(t(lang, "top_usage")))
        user_pk = await self.store.ensure_user(command.actor.user)
        changed = await self.store.set_board_hidden(chat.pk, user_pk, choice, self.clock.now())
        if changed:
            for hook in self.board_hooks:
                await hook(chat)
        key = ("top_hidden" if choice else "top_shown") + ("" if changed else "_already")
        return say(_text(t(lang, key)))

    async def _lang(self, command: Command, chat: Chat) -> Response:
        if not command.args:
            return say(_text(t(chat.language, "lang_usage")))
        if not command.actor.is_admin:
            return say(_text(t(chat.language, "admins_only")))
        language = normalize_language(_clip(command.args[0], 16))
        if language is None:
            return say(_text(t(chat.language, "lang_usage")))
        await self.store.set_chat_language(chat.pk, language)
        return say(_text(t(language, "lang_set")))

    async def _pack(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        if not command.args:
            return say(self._packs_message(chat))
        if not command.actor.is_admin:
            return say(_text(t(lang, "admins_only")))
        items, capped = _choices(command.args)
        notes = [t(lang, "only_first", n=MAX_CHOICES)] if capped else []
        if not items or (len(items) > 1 and not _RESET.isdisjoint(items)):
            return _say(t(lang, "pack_usage"), *notes)
        if items[0] in _RESET:
            await self.store.set_chat_selection(chat.pk, packs=())
            pool = self._pool(self.selection((), chat.tags))
            return _say(t(lang, "pack_reset", n=len(pool)), *notes)
        known = [p.id for p in self.bank.pack_summaries()]
        unknown = [p for p in items if p not in known]
        if unknown:
            return _say(t(lang, "pack_unknown", value=_quoted(unknown),
                          valid=_listed(known)), *notes)
        packs = tuple(sorted(items))
        # The packs as given, so a pack without questions is refused rather than set aside.
        tags = self.selection((), chat.tags).tags
        ids = self.bank.matching(packs, tags)
        if not ids:
            shown = ", ".join(tags) or t(lang, "selection_all_tags")
            return _say(t(lang, "selection_empty", packs=", ".join(packs), tags=shown), *notes)
        await self.store.set_chat_selection(chat.pk, packs=packs)
        return _say(t(lang, "pack_set", packs=", ".join(packs), n=len(ids)), *notes)

    def _packs_message(self, chat: Chat) -> OutgoingMessage:
        lang = chat.language
        summaries = self.bank.pack_summaries()
        chosen = self.selection(chat.packs, chat.tags)
        studied = set(chosen.packs) or {p.id for p in summaries}
        blocks = [
            bullet(t(lang, "pack_row", mark="✓" if p.id in studied else "·", id=p.id,
                     title=p.title, n=p.questions))
            for p in summaries[:MAX_LISTED]
        ]
        if len(summaries) > MAX_LISTED:
            blocks.append(bullet("…"))
        if chosen.packs:
            blocks.append(paragraph(t(lang, "pack_studies", packs=", ".join(chosen.packs)),
                                    bold=True))
        else:
            blocks.append(paragraph(t(lang, "pack_studies_all"), bold=True))
        if chosen.gone_packs:
            blocks.append(paragraph(t(lang, "selection_gone", ids=", ".join(chosen.gone_packs))))
        blocks.append(paragraph(t(lang, "pack_hint")))
        return OutgoingMessage(title=t(lang, "pack_title"), blocks=tuple(blocks))

    async def _tags(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        if not command.args:
            return say(self._tags_message(chat))
        if not command.actor.is_admin:
            return say(_text(t(lang, "admins_only")))
        items, capped = _choices(command.args)
        notes = [t(lang, "only_first", n=MAX_CHOICES)] if capped else []
        if not items or (len(items) > 1 and not _RESET.isdisjoint(items)):
            return _say(t(lang, "tags_usage"), *notes)
        if items[0] in _RESET:
            await self.store.set_chat_selection(chat.pk, tags=())
            pool = self._pool(self.selection(chat.packs, ()))
            return _say(t(lang, "tags_reset", n=len(pool)), *notes)
        chosen = self.selection(chat.packs, ())
        valid = self.bank.tag_counts(chosen.packs)
        unknown = [tag for tag in items if tag not in valid]
        if unknown:
            return _say(t(lang, "tags_unknown", value=_quoted(unknown),
                          valid=_listed(list(valid))), *notes)
        tags = tuple(sorted(items))
        ids = self.bank.matching(chosen.packs, tags)
        if not ids:  # every tag has questions in these packs, so only a bank bug gets here
            packs = ", ".join(chosen.packs) or t(lang, "selection_all_packs")
            return _say(t(lang, "selection_empty", packs=packs, tags=", ".join(tags)), *notes)
        await self.store.set_chat_selection(chat.pk, tags=tags)
        return _say(t(lang, "tags_set", tags=", ".join(tags), n=len(ids)), *notes)

    def _tags_message(self, chat: Chat) -> OutgoingMessage:
        lang = chat.language
        chosen = self.selection(chat.packs, chat.tags)
        counts = list(self.bank.tag_counts(chosen.packs).items())
        blocks = [
            bullet(t(lang, "tags_row", mark="✓" if tag in chosen.tags else "·", tag=tag, n=n))
            for tag, n in counts[:MAX_LISTED]
        ]
        if len(counts) > MAX_LISTED:
            blocks.append(bullet("…"))
        if chosen.tags:
            blocks.append(paragraph(t(lang, "tags_filter", tags=", ".join(chosen.tags)),
                                    bold=True))
        else:
            blocks.append(paragraph(t(lang, "tags_filter_none"), bold=True))
        if chosen.packs:
            blocks.append(paragraph(t(lang, "tags_in_packs", packs=", ".join(chosen.packs))))
        else:
            blocks.append(paragraph(t(lang, "tags_in_packs_all")))
        if chosen.gone_tags:
            blocks.append(paragraph(t(lang, "selection_gone", ids=", ".join(chosen.gone_tags))))
        blocks.append(paragraph(t(lang, "tags_hint")))
        return OutgoingMessage(title=t(lang, "tags_title"), blocks=tuple(blocks))

    # ----- questions --------------------------------------------------------------------------

    def selection(self, packs: Sequence[str], tags: Sequence[str]) -> Selection:
        """A chat's choice against the bank as it is now: lost packs and tags are set aside.

        A pack left without questions counts as lost, so it cannot narrow the choice to nothing.
        """
        live = {p.id for p in self.bank.pack_summaries() if p.questions}
        known_tags = self.bank.tag_counts()
        return Selection(
            packs=tuple(p for p in packs if p in live),
            tags=tuple(tag for tag in tags if tag in known_tags),
            gone_packs=tuple(p for p in packs if p not in live),
            gone_tags=tuple(tag for tag in tags if tag not in known_tags),
        )

    def _pool(self, chosen: Selection) -> tuple[str, ...]:
        """The questions a selection allows; all of them when it allows none."""
        if not chosen.packs and not chosen.tags:
            return self.bank.ids()
        return self.bank.matching(chosen.packs, chosen.tags) or self.bank.ids()

    def candidates(self, chat: Chat) -> tuple[str, ...]:
        """The question ids the chat studies now; never empty while the bank has questions."""
        if not chat.packs and not chat.tags:
            return self.bank.ids()
        chosen = self.selection(chat.packs, chat.tags)
        if chosen.gone_packs or chosen.gone_tags:
            # The content changed under the chat's choice: keep sending from what is left.
            log.warning("chat %s chose packs/tags the bank no longer has; ignoring: %s",
                        chat.pk, " ".join((*chosen.gone_packs, *chosen.gone_tags)))
        if not chosen.packs and not chosen.tags:
            return self.bank.ids()
        ids = self.bank.matching(chosen.packs, chosen.tags)
        if not ids:
            log.warning("no question matches the packs/tags of chat %s; using every question",
                        chat.pk)
            return self.bank.ids()
        return ids

    async def question_of_day(self, chat: Chat, local_date: dt.date) -> ChatDay | None:
        """The chat's question for a local date: chosen once, then the same for push and /today."""
        existing = await self.store.chat_day(chat.pk, local_date)
        if existing is not None:
            return existing
        cycle, used = await self.store.used_questions(chat.pk)
        picked = self.pick_question(chat, History(cycle, used))
        if picked is None:
            return None
        return await self.store.add_chat_day(chat.pk, local_date, *picked)

    def question_message(self, day: ChatDay, language: str) -> OutgoingMessage:
        question = self.bank.get(day.question_id)
        if question is None:
            return _text(t(language, "stale_button"))
        title, _, _ = question.localized(language)
        stars = "★" * question.difficulty + "☆" * (3 - question.difficulty)
        reveal = self.codec.encode(Action(Kind.REVEAL, day.pk))
        return OutgoingMessage(
            title=t(language, "daily_title", date=day.local_date.isoformat()),
            blocks=(
                paragraph(title, bold=True),
                paragraph(t(language, "meta", tags=" · ".join(question.tags), stars=stars)),
            ),
            buttons=((Button(t(language, "btn_reveal"), reveal),), self.grade_row(day, language)),
        )

    def grade_row(self, day: ChatDay, language: str) -> tuple[Button, ...]:
        return tuple(
            Button(t(language, f"btn_{grade.value}"),
                   self.codec.encode(Action(KIND_OF_GRADE[grade], day.pk)))
            for grade in Grade
        )

    def answer_message(self, day: ChatDay, question: Question, language: str) -> OutgoingMessage:
        title, _, _ = question.localized(language)
        return OutgoingMessage(
            title=t(language, "answer_title", title=title),
            blocks=self.answer_blocks(question, language),
            buttons=(self.grade_row(day, language),),
        )

    def answer_blocks(self, question: Question, language: str) -> tuple[Block, ...]:
        """The answer, its key points and the prompt to grade (the daily and review answers)."""
        _, answer, key_points = question.localized(language)
        blocks: list[Block] = list(parse_markdown(answer))
        if key_points:
            blocks.append(Block("heading", paragraph(t(language, "key_points")).spans))
            blocks.extend(bullet(p) for p in key_points)
        blocks.append(paragraph(t(language, "grade_prompt")))
        return tuple(blocks)

    # ----- the daily push ---------------------------------------------------------------------

    async def push_due(self) -> PushReport:
        """Send every post due now and write the marks: one pass of the push pipeline."""
        return await self.push.run_once()

    def pick_question(self, chat: Chat, history: History) -> tuple[str, int] | None:
        """The chat's next question and its cycle, given what it had; the history is updated so
        a second pick in the same batch never repeats the first."""
        ids = self.candidates(chat)
        if not ids:
            return None
        cycle = history.cycle
        pick = _next_in_order(ids, history.used, chat.ref.key, cycle)
        if pick is None:  # every question shown: start a new order
            cycle += 1
            history.cycle, history.used = cycle, set()
            pick = _next_in_order(ids, set(), chat.ref.key, cycle)
        assert pick is not None
        history.used.add(pick)
        return pick, cycle

    # ----- platform notices -------------------------------------------------------------------

    async def chat_gone(self, ref: ChatRef, reason: str) -> None:
        """The bot was removed from a chat or server: pause its subscriptions."""
        count = await self.store.pause_chat(ref, reason)
        if count:
            log.warning("paused %d subscription(s) of %s:%s: %s", count, ref.platform,
                        ref.chat_id, reason)

    async def chat_moved(self, old: ChatRef, new: ChatRef) -> None:
        await self.store.move_chat(old, new)

    # ----- helpers ----------------------------------------------------------------------------

    async def _chat(self, actor: Actor) -> Chat:
        title = _clip(actor.chat_title, 128)
        chat = await self.store.ensure_chat(
            actor.chat, actor.chat_kind, language=self.config.default_language,
            timezone=self.config.default_timezone, title=title)
        if title and title != chat.title:  # written only when the group was renamed
            await self.store.set_chat_title(chat.pk, title)
            chat = replace(chat, title=title)
        return chat

    def _when(self, at: dt.datetime, zone: str, now: dt.datetime, lang: str) -> str:
        local = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        return t(lang, "when_in", local=local, delta=_duration(at - now, lang))


def _next_in_order(ids: Sequence[str], used: set[str], chat_key: str, cycle: int) -> str | None:
    """The chat's next unseen question: a per-chat, per-cycle shuffle, stable across restarts.

    The shuffle is drawn from the front only as far as needed (Fisher-Yates one step at a
    time), so a chat early in its cycle costs a step or two, not a shuffle of the whole bank.
    """
    order = sorted(ids)
    rng = random.Random(f"{chat_key}#{cycle}")
    for i in range(len(order)):
        j = rng.randrange(i, len(order))
        order[i], order[j] = order[j], order[i]
        if order[i] not in used:
            return order[i]
    return None


def _text(text: str) -> OutgoingMessage:
    return OutgoingMessage(blocks=(paragraph(text),))


def _say(*lines: str) -> Response:
    return say(OutgoingMessage(blocks=tuple(paragraph(line) for line in lines)))


def _choices(args: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    """Pack ids or tags as typed, and whether some were left out for being too many.

    Case and full-width forms are folded so `/tags RAG` and `/tags ｒａｇ` mean `rag`.
    """
    items: dict[str, None] = {}
    for arg in args[:MAX_CHOICES]:
        for part in _SEPARATORS.split(unicodedata.normalize("NFKC", arg).casefold()):
            if part.strip():
                items[part.strip()] = None
            if len(items) > MAX_CHOICES:
                return tuple(items)[:MAX_CHOICES], True
    return tuple(items), len(args) > MAX_CHOICES


def _quoted(values: Sequence[str]) -> str:
    shown = ", ".join(f"“{_clip(v, 32)}”" for v in values[:3])
    return shown + (", …" if len(values) > 3 else "")


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values[:MAX_LISTED]) + (", …" if len(values) > MAX_LISTED else "")


def _duration(delta: dt.timedelta, lang: str) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    return t(lang, "duration_hm", h=minutes // 60, m=minutes % 60)


def _clip(text: str, limit: int) -> str:
    """User text quoted back: printable characters only, and short."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _display(name: str) -> str:
    return _clip(name, 64) or "?"


_COMMANDS = {
    "start": StudyService._start,
    "help": StudyService._help,
    "subscribe": StudyService._subscribe,
    "unsubscribe": StudyService._unsubscribe,
    "today": StudyService._today,
    "streak": StudyService._streak,
    "top": StudyService._top,
    "lang": StudyService._lang,
    "pack": StudyService._pack,
    "tags": StudyService._tags,
}
