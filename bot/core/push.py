"""The daily push as a pipeline: claim a batch, send at each platform's own pace, write marks
in batches through an outbox that outlives a database that cannot write for a while.

Each platform has a lane: it claims what is due for that platform only (runs whose time has
come, retries whose time has come, claims left by an instance that died) and hands the posts
to that platform's workers, so one platform's outage or rate limits never slow another.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.core import schedule
from bot.core.messages import OutgoingMessage
from bot.core.models import ChatDay, Subscription
from bot.core.ports import (
    ChatGone,
    ChatMoved,
    Clock,
    DeliveryError,
    MessageGone,
    Messenger,
    PushStore,
    SendTimedOut,
)
from bot.core.push_model import Claim, Due, History, Mark, Retake, SendRetake
from bot.core.review_model import Reminder, ReminderClaim, ReminderDue
from bot.core.together_model import ChatJob, JobClaim, JobDue, JobSend

if TYPE_CHECKING:
    from bot.core.study import StudyService

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PushConfig:
    grace: dt.timedelta = dt.timedelta(hours=6)  # a post later than this is missed, not sent
    batch: int = 200  # posts claimed per transaction
    retry_base: dt.timedelta = dt.timedelta(seconds=5)  # first retry after about this long
    retry_cap: dt.timedelta = dt.timedelta(minutes=5)  # retries never further apart than this
    lease: dt.timedelta = dt.timedelta(seconds=30)  # an instance unseen this long has died
    heartbeat: dt.timedelta = dt.timedelta(seconds=10)
    idle: dt.timedelta = dt.timedelta(seconds=20)  # longest wait between looks at the store
    retention: dt.timedelta = dt.timedelta(days=90)  # deliveries older than this are pruned


@dataclass(slots=True)
class PushReport:
    sent: int = 0
    failed: int = 0
    paused: int = 0
    missed: int = 0
    moved: int = 0
    uncertain: int = 0
    retry: int = 0
    quiet: int = 0  # reminders with nothing to say: claimed, not sent
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True, slots=True)
class Post:
    """A claimed post, ready to send."""

    delivery_pk: int
    subscription: Subscription
    day: ChatDay | None
    due_at: dt.datetime
    attempts: int
    kind = "post"

    @property
    def pk(self) -> int:
        return self.delivery_pk

    @property
    def owner(self) -> Subscription:
        return self.subscription


@dataclass(frozen=True, slots=True)
class ReminderPost:
    """A claimed reminder send: the user's reminder, said or not at send time."""

    pk: int
    owner: Reminder
    due_at: dt.datetime
    attempts: int
    kind = "reminder"


@dataclass(frozen=True, slots=True)
class JobPost:
    """A claimed group send of a chat: its answer, digest or leaderboard, for `period`."""

    pk: int
    owner: ChatJob
    period: str
    due_at: dt.datetime
    attempts: int
    kind = "job"


AnyPost = Post | ReminderPost | JobPost
Owner = Subscription | Reminder | ChatJob


class ReminderSource(Protocol):
    """Says what a reminder says when it is due; None when there is nothing to do."""

    async def reminder_message(self, reminder: Reminder,
                               now: dt.datetime) -> OutgoingMessage | None: ...


class JobSource(Protocol):
    """Plans a chat's group sends and says what each does when it is due."""

    def plan(self, job: ChatJob, now: dt.datetime) -> JobClaim:
        """The send a due job makes (its period) and the job's next run."""
        ...

    async def job_send(self, job: ChatJob, period: str, now: dt.datetime) -> JobSend | None:
        """What to post or edit; None when there is nothing to say."""
        ...

    async def board_posted(self, job: ChatJob, message_id: str, week: str,
                           now: dt.datetime) -> None:
        """A new leaderboard message went out: edits go to it from now on."""
        ...


SentKind = TypeVar("SentKind", "ReminderPost", "JobPost")


def _key(post: AnyPost | Mark) -> tuple[str, int]:
    """Deliveries and reminder sends number their rows apart: a kind tells them apart."""
    return (post.kind, post.delivery_pk if isinstance(post, Mark) else post.pk)


class MarkJournal(Protocol):
    """Marks kept outside the database until it has them, so a restart never loses one."""

    def append(self, marks: Sequence[Mark]) -> None: ...

    def replay(self) -> list[Mark]: ...

    def clear(self) -> None: ...


class RepeatedErrorLog:
    """One ERROR line per kind of failure per minute, then a count of the repeats."""

    def __init__(self, what: str, every: float = 60.0) -> None:
        self.what = what
        self.every = every
        self._kinds: dict[str, tuple[float, int]] = {}

    def error(self, error: BaseException) -> None:
        kind = _kind(error)
        now = time.monotonic()
        started, repeats = self._kinds.get(kind, (0.0, -1))
        if repeats < 0 or now - started >= self.every:
            more = f" ({repeats} more time(s) in the last minute)" if repeats > 0 else ""
            log.error("%s failed: %s%s", self.what, kind, more)
            self._kinds[kind] = (now, 0)
        else:
            self._kinds[kind] = (started, repeats + 1)

    def recovered(self) -> None:
        if self._kinds:
            repeats = sum(max(0, n) for _, n in self._kinds.values())
            log.warning("%s works again (%d failure(s) since the last report)", self.what,
                        repeats)
        self._kinds.clear()


class Outbox:
    """Marks of finished posts on their way to the database.

    A mark is journaled the moment the platform answers, then written with the others in one
    transaction. While the database refuses writes (disk full, read-only, locked) the marks stay
    here and in the journal, and their claims are never sent again by this process.
    """

    def __init__(self, store: PushStore, journal: MarkJournal | None = None) -> None:
        self.store = store
        self.journal = journal
        self.pending: list[Mark] = []
        self._held: set[tuple[str, int]] = set()
        self.writable = True
        self.last_error = ""
        self._errors = RepeatedErrorLog("writing push marks to the database")
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def add(self, mark: Mark) -> None:
        self.pending.append(mark)
        self._held.add(_key(mark))
        if self.journal is not None:
            try:
                self.journal.append([mark])
            except OSError as error:  # the journal's disk is in trouble too: memory still has it
                log.debug("outbox journal: %s", error)
        self._wake.set()

    def holds(self, delivery_pk: int, kind: str = "post") -> bool:
        return (kind, delivery_pk) in self._held

    async def flush(self) -> bool:
        """Write what is pending; False (and everything kept) when the database refuses."""
        async with self._lock:
            batch, self.pending = self.pending, []
            if not batch:
                return True
            try:
                await self.store.write_marks(batch)
            except Exception as error:
                self.pending = batch + self.pending
                self.writable = False
                self.last_error = _kind(error)
                self._errors.error(error)
                return False
            self._held.difference_update(_key(m) for m in batch)
            if not self.writable:
                self._errors.recovered()
            self.writable = True
            self.last_error = ""
            if not self.pending and self.journal is not None:
                try:
                    self.journal.clear()
                except OSError as error:
                    log.debug("outbox journal: %s", error)
            return True

    async def run(self, sleep: Sleep, retry_every: float = 1.0) -> None:
        """Flush whenever marks arrive; while the database refuses, try again every so often."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while not await self.flush():
                await sleep(retry_every)


class PushPipeline:
    def __init__(
        self, store: PushStore, study: StudyService, clock: Clock,
        config: PushConfig | None = None, *, run_id: str | None = None,
        journal: MarkJournal | None = None, rng: random.Random | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.store = store
        self.study = study
        self.clock = clock
        self.config = config or PushConfig()
        self.run_id = run_id or str(uuid.uuid4())
        self.outbox = Outbox(store, journal)
        self.messengers: dict[str, Messenger] = {}
        self.report = PushReport()  # everything since start, for logs and health
        self.last_look: dt.datetime | None = None  # when a lane last asked the store
        self.database_error = ""  # the last write failure outside the outbox, "" when fine
        # Told (platform, outcome) of every post that ended; None when nobody counts.
        self.on_outcome: Callable[[str, str], None] | None = None
        # Told when the earliest due instant may have changed (a subscription, a lane idle).
        self.on_change: Callable[[], None] | None = None
        self._rng = rng or random.Random()
        self._sleep = sleep or asyncio.sleep
        self._events: dict[str, asyncio.Event] = {}
        self._claim_errors = RepeatedErrorLog("claiming due posts")
        self._tasks: list[asyncio.Task[None]] = []
        # Claimed by this process and not finished; of those, the ones a platform call is out
        # for. Keyed (kind, pk): deliveries and reminder sends are numbered apart.
        self._in_flight: set[tuple[str, int]] = set()
        self._sending: set[tuple[str, int]] = set()
        # Says what a due reminder says; None: this pipeline carries no reminders.
        self.reminders: ReminderSource | None = None
        # Plans and words the chats' group sends; None: this pipeline carries none.
        self.jobs: JobSource | None = None
        self._stopping = False
        self._claiming = asyncio.Lock()
        self._settled = asyncio.Event()
        # True when the store guarantees no other instance runs (a locked SQLite file): then
        # every claim another run left open was cut off, and is sent again without waiting.
        self.sole_instance = False
        # Per platform, the instances sending on it for this bot (this one included), as last
        # counted: the platforms' limits are per bot, so each instance sends at its share.
        self.instances: dict[str, int] = {}
        self._recount: asyncio.Task[None] | None = None
        self._recount_again = False
        self._draining: set[str] = set()

    def register(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger
        self._events.setdefault(messenger.platform, asyncio.Event())

    @property
    def running(self) -> bool:
        return bool(self._tasks) and all(not t.done() for t in self._tasks)

    @property
    def busy(self) -> bool:
        return bool(self._sending) or bool(self.outbox.pending)

    # ----- one pass: tests, the console, `push_due` -------------------------------------------

    async def run_once(self) -> PushReport:
        """Claim and send everything due now, platform by platform, and write the marks."""
        report = PushReport()
        if not self.messengers:
            return report
        await self._beat_quietly()
        for platform, messenger in list(self.messengers.items()):
            gate = asyncio.Semaphore(_concurrency(messenger))

            async def one(post: AnyPost, gate: asyncio.Semaphore = gate) -> None:
                async with gate:
                    await self.deliver(post, report)

            while posts := await self.claim(platform, self.config.batch, report):
                await asyncio.gather(*(one(p) for p in posts))
        await self.outbox.flush()
        return report

    # ----- claiming ---------------------------------------------------------------------------

    async def claim(self, platform: str, limit: int, report: PushReport) -> list[AnyPost]:
        """Claim up to `limit` posts for one platform in one transaction (and the reminders
        due, in a second one, when there is room)."""
        # One claim at a time in this process: two would read the same due rows, and both
        # would take the winner's rows for their own (same instance, same instant).
        async with self._claiming:
            posts: list[AnyPost] = list(await self._claim(platform, limit, report))
            if self.reminders is not None and len(posts) < limit:
                posts += await self._claim_reminders(platform, limit - len(posts), report)
            if self.jobs is not None and len(posts) < limit:
                posts += await self._claim_jobs(platform, limit - len(posts), report)
            return posts

    def _alive_since(self, now: dt.datetime) -> dt.datetime:
        """Claims of instances heard from since then are left to them; older ones are taken
        over. When this process alone runs the bot, every claim it did not send is its own."""
        return dt.datetime.max.replace(tzinfo=dt.UTC) if self.sole_instance else (
            now - self.config.lease)

    def _retakable(self, kind: str, send_pk: int) -> bool:
        """A claimed send may be taken again unless it is being sent here or its outcome is
        still waiting to be written."""
        return (kind, send_pk) not in self._in_flight and not self.outbox.holds(send_pk, kind)

    def _taken(self, posts: list[SentKind], expired: Sequence[SendRetake],
               retaken: Collection[int], owners: Mapping[int, Owner], report: PushReport,
               kind: str) -> list[SentKind]:
        """After a reminder or group-send claim: the expired retakes it took are missed, and
        what it will send is in flight."""
        for r in expired:
            if r.send_pk in retaken:
                self._finish(owners[r.send_pk], r.send_pk, "missed", report,
                             error="missed the grace window", kind=kind)
        for post in posts:
            self._in_flight.add(_key(post))
        return posts

    async def _claim(self, platform: str, limit: int, report: PushReport) -> list[Post]:
        now = self.clock.now()
        self.last_look = now
        work = await self.store.due_work(platform, now, limit, self.run_id,
                                         self._alive_since(now))
        work = [d for d in work
                if d.retake is None or self._retakable("post", d.retake.delivery_pk)]
        if not work:
            return []
        claims, skips, retakes, expired = self._decide(work, now)
        histories = await self.store.histories(
            [(c.chat_pk, c.local_date) for c in claims]
            + [(d.subscription.chat.pk, d.retake.local_date) for d in work if d.retake])
        owners = {d.retake.delivery_pk: d.subscription for d in work if d.retake is not None}
        claims = [self._pick(c, histories) for c in claims]
        retakes = [self._pick_retake(r, owners[r.delivery_pk], histories) for r in retakes]
        result = await self.store.claim_batch(claims, retakes + expired, skips, self.run_id, now)
        for skip in skips:
            self._count(report, skip.subscription, "missed")
            log.info("skipped a post missed by more than the grace window: chat %s, %s",
                     skip.subscription.chat.pk, skip.local_date)
        posts: list[Post] = []
        for c in claims:
            pk = result.claimed.get((c.subscription.pk, c.local_date))
            if pk is not None:
                day = histories[c.chat_pk].days.get(c.local_date) or result.days.get(
                    (c.chat_pk, c.local_date))
                posts.append(Post(pk, c.subscription, day, c.due_at, 1))
        for r in retakes:
            if r.delivery_pk in result.retaken:
                chat_pk = owners[r.delivery_pk].chat.pk
                day = histories[chat_pk].days.get(r.local_date) or result.days.get(
                    (chat_pk, r.local_date))
                posts.append(Post(r.delivery_pk, owners[r.delivery_pk], day, r.due_at,
                                  r.attempts + 1))
        for r in expired:
            if r.delivery_pk in result.retaken:
                self._finish(owners[r.delivery_pk], r.delivery_pk, "missed", report,
                             error="missed the grace window")
        for post in posts:
            self._in_flight.add(_key(post))
        return posts

    async def _claim_reminders(self, platform: str, limit: int,
                               report: PushReport) -> list[ReminderPost]:
        """Claim the reminders due on one platform: a send per user and local date, claimed in
        the database before it is sent, like a daily post."""
        now = self.clock.now()
        work = await self.store.due_reminders(platform, now, limit, self.run_id,
                                              self._alive_since(now))
        work = [d for d in work
                if d.retake is None or self._retakable("reminder", d.retake.send_pk)]
        if not work:
            return []
        claims, skips, retakes, expired = self._decide_reminders(work, now)
        claimed, retaken = await self.store.claim_reminders(claims, retakes + expired, skips,
                                                            self.run_id, now)
        owners = {d.retake.send_pk: d.reminder for d in work if d.retake is not None}
        for skip in skips:
            self._count(report, skip.reminder, "missed")
        posts = [ReminderPost(claimed[c.reminder.user_pk], c.reminder, c.due_at, 1)
                 for c in claims if c.reminder.user_pk in claimed]
        posts += [ReminderPost(r.send_pk, owners[r.send_pk], r.due_at, r.attempts + 1)
                  for r in retakes if r.send_pk in retaken]
        return self._taken(posts, expired, retaken, owners, report, "reminder")

    async def _claim_jobs(self, platform: str, limit: int, report: PushReport) -> list[JobPost]:
        """Claim the chats' group sends due on one platform, once per chat, kind and period."""
        assert self.jobs is not None
        now = self.clock.now()
        work = await self.store.due_jobs(platform, now, limit, self.run_id,
                                         self._alive_since(now))
        work = [d for d in work
                if d.retake is None or self._retakable("job", d.retake.send_pk)]
        if not work:
            return []
        claims, skips, retakes, expired = self._decide_jobs(work, now)
        claimed, retaken = await self.store.claim_jobs(claims, retakes + expired, skips,
                                                       self.run_id, now)
        owners = {d.retake.send_pk: d.job for d in work if d.retake is not None}
        for skip in skips:
            self._count(report, skip.job, "missed")
        posts = [JobPost(claimed[(c.job.chat.pk, c.job.kind.value)], c.job, c.period, c.due_at, 1)
                 for c in claims if (c.job.chat.pk, c.job.kind.value) in claimed]
        posts += [JobPost(r.send_pk, owners[r.send_pk], r.period, r.due_at, r.attempts + 1)
                  for r in retakes if r.send_pk in retaken]
        return self._taken(posts, expired, retaken, owners, report, "job")

    def _decide_jobs(
        self, work: Sequence[JobDue], now: dt.datetime
    ) -> tuple[list[JobClaim], list[JobClaim], list[SendRetake], list[SendRetake]]:
        assert self.jobs is not None
        claims: list[JobClaim] = []
        skips: list[JobClaim] = []
        retakes: list[SendRetake] = []
        expired: list[SendRetake] = []
        for due in work:
            if due.retake is not None:
                late = now - due.retake.due_at > self.config.grace
                (expired if late else retakes).append(due.retake)
                continue
            claim = self.jobs.plan(due.job, now)
            late = not claim.late_ok and now - claim.due_at > self.config.grace
            (skips if late else claims).append(claim)
        return claims, skips, retakes, expired

    def _decide_reminders(
        self, work: Sequence[ReminderDue], now: dt.datetime
    ) -> tuple[list[ReminderClaim], list[ReminderClaim], list[SendRetake],
               list[SendRetake]]:
        claims: list[ReminderClaim] = []
        skips: list[ReminderClaim] = []
        retakes: list[SendRetake] = []
        expired: list[SendRetake] = []
        for due in work:
            if due.retake is not None:
                late = now - due.retake.due_at > self.config.grace
                (expired if late else retakes).append(due.retake)
                continue
            r = due.reminder
            claim = ReminderClaim(
                r, schedule.local_date_of_run(r.next_run_at, r.timezone), r.next_run_at,
                schedule.next_run(r.local_time, r.timezone, max(now, r.next_run_at)))
            (skips if now - r.next_run_at > self.config.grace else claims).append(claim)
        return claims, skips, retakes, expired

    def _decide(
        self, work: Sequence[Due], now: dt.datetime
    ) -> tuple[list[Claim], list[Claim], list[Retake], list[Retake]]:
        claims: list[Claim] = []
        skips: list[Claim] = []
        retakes: list[Retake] = []
        expired: list[Retake] = []
        for due in work:
            sub = due.subscription
            if due.retake is not None:
                late = now - due.retake.due_at > self.config.grace
                (expired if late else retakes).append(due.retake)
                continue
            zone = sub.chat.timezone
            claim = Claim(sub, schedule.local_date_of_run(sub.next_run_at, zone),
                          sub.next_run_at,
                          schedule.next_run(sub.local_time, zone, max(now, sub.next_run_at)),
                          chat_pk=sub.chat.pk)
            (skips if now - sub.next_run_at > self.config.grace else claims).append(claim)
        return claims, skips, retakes, expired

    def _pick(self, claim: Claim, histories: dict[int, History]) -> Claim:
        history = histories.setdefault(claim.chat_pk, History())
        if claim.local_date in history.days:
            return claim
        picked = self.study.pick_question(claim.subscription.chat, history)
        if picked is None:
            return claim
        question_id, cycle = picked
        return replace(claim, question_id=question_id, cycle=cycle)

    def _pick_retake(self, retake: Retake, sub: Subscription,
                     histories: dict[int, History]) -> Retake:
        history = histories.setdefault(sub.chat.pk, History())
        if retake.local_date in history.days:
            return replace(retake, chat_pk=sub.chat.pk)
        picked = self.study.pick_question(sub.chat, history)
        if picked is None:
            return replace(retake, chat_pk=sub.chat.pk)
        return replace(retake, chat_pk=sub.chat.pk, question_id=picked[0], cycle=picked[1])

    # ----- sending ----------------------------------------------------------------------------

    async def deliver(self, post: AnyPost, report: PushReport) -> None:
        """Send one claimed post and leave its mark in the outbox, whatever happens."""
        self._sending.add(_key(post))
        try:
            if isinstance(post, ReminderPost):
                await self._deliver_reminder(post, report)
            elif isinstance(post, JobPost):
                await self._deliver_job(post, report)
            else:
                await self._deliver(post, report)
        except Exception as error:
            # One broken chat must not stop the others: retried like a temporary failure.
            log.exception("push to chat %s failed unexpectedly", post.owner.chat.pk)
            report.errors.append(repr(error)[:200])
            self._retry_or_miss(post, report, repr(error)[:200])
        finally:
            self._in_flight.discard(_key(post))
            self._sending.discard(_key(post))

    async def _deliver_reminder(self, post: ReminderPost, report: PushReport) -> None:
        reminder = post.owner
        assert self.reminders is not None
        message = await self.reminders.reminder_message(reminder, self.clock.now())
        if message is None:  # nothing to do, nothing sent; the day's send is used up
            self._finish(reminder, post.pk, "quiet", report, kind="reminder")
            return
        try:
            message_id = await self.messengers[reminder.chat.ref.platform].send(
                reminder.chat.ref, message)
        except ChatGone as gone:
            # Blocked: not reminded again until they write to the bot.
            await self._quietly(self.store.pause_reminder(reminder.user_pk, f"gone: {gone}"))
            log.warning("paused the reminder of user %s: %s", reminder.user_pk, gone)
            self._finish(reminder, post.pk, "failed", report, error=str(gone),
                         outcome="paused", kind="reminder")
        except SendTimedOut as timeout:
            self._finish(reminder, post.pk, "uncertain", report, error=str(timeout),
                         kind="reminder")
        except (DeliveryError, OSError) as error:
            report.errors.append(str(error)[:200])
            self._retry_or_miss(post, report, str(error)[:200])
        else:
            self._finish(reminder, post.pk, "sent", report, message_id=message_id,
                         kind="reminder")

    async def _deliver_job(self, post: JobPost, report: PushReport) -> None:
        job = post.owner
        assert self.jobs is not None
        now = self.clock.now()
        send = await self.jobs.job_send(job, post.period, now)
        if send is None:  # nothing to say (no question was posted that day, a quiet week)
            self._finish(job, post.pk, "quiet", report, kind="job")
            return
        messenger = self.messengers[job.chat.ref.platform]
        try:
            message_id = await self._send_job(messenger, job, send, now)
        except ChatGone as gone:
            await self._quietly(self.store.pause_chat_jobs(job.chat.pk))
            log.warning("stopped the group sends of chat %s: %s", job.chat.pk, gone)
            self._finish(job, post.pk, "failed", report, error=str(gone), outcome="paused",
                         kind="job")
        except SendTimedOut as timeout:
            self._finish(job, post.pk, "uncertain", report, error=str(timeout), kind="job")
        except (DeliveryError, OSError) as error:
            report.errors.append(str(error)[:200])
            self._retry_or_miss(post, report, str(error)[:200])
        else:
            self._finish(job, post.pk, "sent", report, message_id=message_id, kind="job")

    async def _send_job(self, messenger: Messenger, job: ChatJob, send: JobSend,
                        now: dt.datetime) -> str:
        assert self.jobs is not None
        ref = job.chat.ref
        message_id = ""
        if send.edit:
            try:
                await messenger.edit(ref, send.edit, send.message)
                message_id = send.edit
            except MessageGone:
                # Someone deleted the board: post it anew rather than fail at every grade.
                log.info("the leaderboard of chat %s was deleted; posting a new one", job.chat.pk)
        if not message_id:
            message_id = await messenger.send(ref, send.message, reply_to=send.reply_to)
        if send.board_week:  # the next edit waits a minute from this one
            await self._quietly(self.jobs.board_posted(job, message_id, send.board_week, now))
        return message_id

    async def _deliver(self, post: Post, report: PushReport) -> None:
        sub = post.subscription
        chat = sub.chat
        if post.day is None:
            self._finish(sub, post.delivery_pk, "failed", report, error="no questions")
            return
        message = self.study.question_message(post.day, chat.language)
        messenger = self.messengers[chat.ref.platform]
        target = chat.ref
        for _ in range(2):  # a second round only after the chat moved
            try:
                message_id = await messenger.send(target, message)
            except ChatMoved as moved:
                await self._quietly(self.store.move_chat(target, moved.new_chat))
                log.info("chat %s moved to %s; delivering there", chat.pk,
                         moved.new_chat.chat_id)
                self._count(report, sub, "moved")
                target = moved.new_chat
                continue
            except ChatGone as gone:
                await self._quietly(self.store.pause_subscription(sub.pk, f"gone: {gone}"))
                log.warning("paused the subscription of chat %s: %s", chat.pk, gone)
                self._finish(sub, post.delivery_pk, "failed", report, error=str(gone),
                             outcome="paused")
            except SendTimedOut as timeout:
                # It may have arrived: posting again could duplicate it, so we don't.
                log.warning("push to chat %s timed out; not retried", chat.pk)
                self._finish(sub, post.delivery_pk, "uncertain", report, error=str(timeout))
            except (DeliveryError, OSError) as error:
                report.errors.append(str(error)[:200])
                self._retry_or_miss(post, report, str(error)[:200])
            else:
                self._finish(sub, post.delivery_pk, "sent", report, message_id=message_id)
            return

    def _retry_or_miss(self, post: AnyPost, report: PushReport, error: str) -> None:
        """Back off with jitter for as long as the grace window allows; then it is missed."""
        now = self.clock.now()
        base = self.config.retry_base.total_seconds() * 2 ** max(0, post.attempts - 1)
        delay = min(base, self.config.retry_cap.total_seconds()) * self._rng.uniform(0.5, 1.5)
        retry_at = now + dt.timedelta(seconds=delay)
        if retry_at - post.due_at > self.config.grace:
            log.warning("push to chat %s failed and the grace window is over: %s",
                        post.owner.chat.pk, error)
            self._finish(post.owner, post.pk, "missed", report, error=error, kind=post.kind)
            return
        log.info("push to chat %s failed, again in %.0f s: %s", post.owner.chat.pk,
                 delay, error)
        report.failed += 1
        self._finish(post.owner, post.pk, "retry", report, error=error,
                     retry_at=retry_at, outcome="retry", kind=post.kind)

    def _finish(
        self, sub: Owner, delivery_pk: int, state: str, report: PushReport,
        *, message_id: str = "", error: str = "", retry_at: dt.datetime | None = None,
        outcome: str | None = None, kind: str = "post",
    ) -> None:
        self.outbox.add(Mark(delivery_pk, state, self.clock.now(), message_id, error, retry_at,
                             kind))
        self._count(report, sub, outcome or state)

    def _count(self, report: PushReport, sub: Owner, outcome: str) -> None:
        report.add(outcome)
        self.report.add(outcome)
        if self.on_outcome is not None:
            self.on_outcome(sub.chat.ref.platform, outcome)

    async def _quietly(self, write: Awaitable[object]) -> None:
        """A side write of a send (pause, move) that must not lose the send's own mark."""
        try:
            await write
        except Exception as error:
            self.database_error = _kind(error)
            log.warning("could not record a chat change: %s", _kind(error))

    # ----- running continuously ---------------------------------------------------------------

    async def recover(self) -> int:
        """Write the marks a previous run journaled but could not write (before anything is
        claimed, so a post it delivered is never taken for cut off)."""
        journal = self.outbox.journal
        if journal is None:
            return 0
        marks = journal.replay()
        if marks:
            await self.store.write_marks(marks)
            log.info("wrote %d push mark(s) kept from the previous run", len(marks))
        journal.clear()
        return len(marks)

    def start(self) -> None:
        """Start a lane per platform, the outbox writer and the heartbeat (needs a loop)."""
        if self._tasks:
            return
        for platform in self.messengers:
            self._tasks.append(asyncio.create_task(self._lane(platform),
                                                   name=f"push-{platform}"))
        self._tasks.append(asyncio.create_task(self.outbox.run(self._sleep), name="push-marks"))
        self._tasks.append(asyncio.create_task(self._keep_alive(), name="push-heartbeat"))
        self.wake()

    def wake(self) -> None:
        """Look for due posts now (a subscription changed, or a due time came)."""
        if self._tasks:
            self._settled.clear()
        for event in self._events.values():
            event.set()

    async def settled(self) -> None:
        """Wait until every lane has looked and found nothing more to do."""
        if self._tasks:
            await self._settled.wait()

    async def stop(self, within: float = 30.0) -> None:
        """Let the sends under way finish and their marks be written, then stop. Claimed posts
        not yet sent stay claimed: the next run (or another instance) sends them."""
        if not self._tasks:
            return
        deadline = time.monotonic() + within
        self._stopping = True
        for event in self._events.values():
            event.set()
        while self.busy and time.monotonic() < deadline:
            if self.outbox.pending and not self._sending:
                if not await self.outbox.flush():
                    break
            await asyncio.sleep(0.05)
        if self._sending:
            log.warning("%d send(s) still under way at stop; they count as cut off",
                        len(self._sending))
        left = len(self._in_flight) - len(self._sending)
        if left:
            log.info("%d claimed post(s) left for the next run", left)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.outbox.pending:
            log.error("%d push mark(s) could not be written (%s); they stay in the journal",
                      len(self.outbox.pending), self.outbox.last_error)
        else:
            await self._quietly(self.store.end_instance(self.run_id))

    async def _lane(self, platform: str) -> None:
        messenger = self.messengers[platform]
        queue: asyncio.Queue[AnyPost] = asyncio.Queue()
        room = asyncio.Event()
        room.set()
        limit = self.config.batch

        async def worker() -> None:
            while True:
                post = await queue.get()
                try:
                    if not self._stopping:
                        await self.deliver(post, PushReport())
                finally:
                    queue.task_done()
                    if queue.qsize() <= limit // 2:
                        room.set()

        workers = [asyncio.create_task(worker()) for _ in range(_concurrency(messenger))]
        event = self._events[platform]
        failures = 0
        try:
            while not self._stopping:
                await event.wait()
                event.clear()
                self._draining.add(platform)
                while not self._stopping:
                    await room.wait()
                    try:
                        posts = await self.claim(platform, limit - queue.qsize(),
                                                 PushReport())
                    except Exception as error:
                        self.database_error = _kind(error)
                        self._claim_errors.error(error)
                        failures += 1
                        await self._sleep(min(10.0, 0.5 * 2 ** min(failures, 5)))
                        continue
                    if failures:
                        self._claim_errors.recovered()
                        failures = 0
                    if not posts:
                        break
                    for post in posts:
                        queue.put_nowait(post)
                    if queue.qsize() > limit // 2:
                        room.clear()
                self._draining.discard(platform)
                if not self._draining and not any(e.is_set() for e in self._events.values()):
                    self._settled.set()
                if self.on_change is not None:
                    self.on_change()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _keep_alive(self) -> None:
        last_prune = -float("inf")
        while True:
            await self._beat_quietly()
            if time.monotonic() - last_prune > 3600:
                last_prune = time.monotonic()
                await self.prune()
            await self._sleep(self.config.heartbeat.total_seconds())

    async def beat(self) -> None:
        """Show this instance is alive, and count the live ones; raises when the database
        cannot write."""
        now = self.clock.now()
        await self.store.heartbeat(self.run_id, now, tuple(self.messengers))
        if not self.sole_instance:
            self._share_among(await self.store.live_instances(self._alive_since(now)))

    def _share_among(self, live: Sequence[frozenset[str]]) -> None:
        # An instance that did not say its platforms (an older version) counts on every one.
        self.instances = {platform: max(1, sum(1 for p in live if platform in p or not p))
                          for platform in self.messengers}

    def instances_changed(self) -> None:
        """Another instance started or stopped: count again now, not at the next heartbeat,
        so that the bot as a whole never sends faster than a platform allows for long."""
        if self.sole_instance:
            return
        self._recount_again = True  # a count under way may have read before the change
        if self._recount is None or self._recount.done():
            self._recount = asyncio.create_task(self._count_instances(), name="push-recount")

    async def _count_instances(self) -> None:
        while self._recount_again:
            self._recount_again = False
            try:
                self._share_among(await self.store.live_instances(
                    self._alive_since(self.clock.now())))
            except Exception as error:  # the heartbeat counts again within 10 s
                log.debug("counting instances: %s", error)
                return

    def rate_share(self, platform: str) -> int:
        """By how many instances a platform's rate is divided (for the adapters' limiters)."""
        return self.instances.get(platform, 1)

    async def _beat_quietly(self) -> None:
        try:
            await self.beat()
        except Exception as error:
            self.database_error = _kind(error)
            log.debug("heartbeat: %s", error)
        else:
            self.database_error = ""

    async def prune(self) -> tuple[int, int]:
        """Delete push history older than the retention period, a slice at a time."""
        before = self.clock.now() - self.config.retention
        total = (0, 0)
        for _ in range(100):
            try:
                deliveries, days = await self.store.prune(before)
            except Exception as error:
                log.warning("pruning old push history failed: %s", _kind(error))
                break
            total = (total[0] + deliveries, total[1] + days)
            if not deliveries and not days:
                break
        if any(total):
            log.info("pruned %d deliveries and %d unused days older than %s", *total,
                     before.date())
        return total

    async def next_wake(self) -> dt.datetime | None:
        """The earliest due instant for the lanes that are idle (a draining lane keeps going
        on its own), or None when nothing is scheduled."""
        idle = tuple(p for p in self.messengers if p not in self._draining)
        return await self.store.next_due_at(idle) if idle else None


def _concurrency(messenger: Messenger) -> int:
    return max(1, int(getattr(messenger, "concurrency", 8)))


def _kind(error: BaseException) -> str:
    """A failure's kind for logs and health: its class and the first line of its text."""
    text = str(getattr(error, "orig", None) or error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:160]}" if text else type(error).__name__
