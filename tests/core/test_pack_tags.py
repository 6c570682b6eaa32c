"""/pack and /tags: what a chat studies, persisted, and honoured by the daily pick."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.content.packs import ContentBank, PackInfo
from bot.core.events import Actor, Command
from bot.core.messages import Response
from bot.core.models import Chat, ChatKind, ChatRef, PackSummary, Question, UserRef
from bot.core.study import MAX_CHOICES, StudyService
from bot.core.text import plain_text
from bot.storage.sql import SqlStore
from tests.fakes import FakeBank, FakeClock, RecordingMessenger

GROUP = ChatRef("console", "g1")
ALICE = UserRef("console", "alice", "Alice")
BOB = UserRef("console", "bob", "Bob")

# core: c1 attention · c2 attention+inference · c3 alignment · c4 rag
# extra: e1 rag · e2 inference · e3 agents
LAYOUT = {
    "c1": ("core", ("attention",)),
    "c2": ("core", ("attention", "inference")),
    "c3": ("core", ("alignment",)),
    "c4": ("core", ("rag",)),
    "e1": ("extra", ("rag",)),
    "e2": ("extra", ("inference",)),
    "e3": ("extra", ("agents",)),
}
TITLES = {"core": "核心题库", "extra": "Extra pack"}


def question(qid: str) -> Question:
    pack, tags = LAYOUT[qid]
    return Question(id=qid, pack=pack, title=f"{qid} 问题？", answer=f"{qid} 答案", tags=tags,
                    difficulty=2, source="ours", title_en=f"{qid} question?",
                    answer_en=f"{qid} answer")


def questions(*ids: str) -> list[Question]:
    return [question(qid) for qid in ids or LAYOUT]


@pytest.fixture
def bank() -> FakeBank:
    return FakeBank(questions(), TITLES)


def admin(chat: ChatRef = GROUP) -> Actor:
    return Actor(chat, ChatKind.GROUP, ALICE, is_admin=True)


def member(chat: ChatRef = GROUP) -> Actor:
    return Actor(chat, ChatKind.GROUP, BOB, is_admin=False)


async def cmd(service: StudyService, actor: Actor, name: str, *args: str) -> str:
    response: Response = await service.handle_command(Command(actor, name, args))
    return "\n".join(m.title + "\n" + plain_text(m.blocks) for m in response.public)


async def group(store: SqlStore) -> Chat:
    chat = await store.get_chat(GROUP)
    assert chat is not None
    return chat


async def picks(service: StudyService, store: SqlStore, clock: FakeClock, days: int) -> list[str]:
    """The question of the day for `days` days in a row through /today, starting today."""
    chosen = []
    for _ in range(days):
        await cmd(service, member(), "today")
        local = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        day = await store.chat_day((await group(store)).pk, local)
        assert day is not None
        chosen.append(day.question_id)
        clock.advance(days=1)
    return chosen


# ----- /pack ----------------------------------------------------------------------------------


async def test_pack_without_arguments_lists_every_pack_with_its_count_and_all_are_studied(
    service: StudyService,
) -> None:
    reply = await cmd(service, member(), "pack")
    assert "✓ core — 核心题库（4 题）" in reply
    assert "✓ extra — Extra pack（3 题）" in reply
    assert "本聊天学习：全部题库" in reply


async def test_an_admin_chooses_a_pack_and_the_daily_push_only_carries_its_questions(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    reply = await cmd(service, admin(), "pack", "extra")
    assert "extra" in reply and "3" in reply
    assert (await group(store)).packs == ("extra",)
    await cmd(service, admin(), "subscribe", "09:00", "Asia/Shanghai")
    clock.advance(hours=1)
    for _ in range(4):
        await service.push_due()
        clock.advance(days=1)
    assert len(messenger.sent) == 4
    pushed = [plain_text(m.blocks).split()[0] for _, m in messenger.sent]
    assert set(pushed[:3]) == {"e1", "e2", "e3"}  # all of the pack before any repeat
    assert pushed[3] in {"e1", "e2", "e3"}
    listing = await cmd(service, member(), "pack")
    assert "· core" in listing and "✓ extra" in listing and "本聊天学习：extra" in listing


async def test_several_packs_can_be_chosen_and_pack_all_goes_back_to_every_pack(
    service: StudyService, store: SqlStore
) -> None:
    await cmd(service, admin(), "pack", "extra", "core")
    assert (await group(store)).packs == ("core", "extra")
    reply = await cmd(service, admin(), "pack", "all")
    assert "全部题库" in reply and "7" in reply
    assert (await group(store)).packs == ()


async def test_a_member_who_is_not_an_admin_may_look_but_not_choose(
    service: StudyService, store: SqlStore
) -> None:
    assert "管理员" in await cmd(service, member(), "pack", "extra")
    assert "管理员" in await cmd(service, member(), "tags", "rag")
    chat = await group(store)
    assert (chat.packs, chat.tags) == ((), ())
    assert "核心题库" in await cmd(service, member(), "pack")
    assert "rag" in await cmd(service, member(), "tags")


async def test_an_unknown_pack_is_named_and_the_valid_ids_are_listed(
    service: StudyService, store: SqlStore
) -> None:
    reply = await cmd(service, admin(), "pack", "extra", "nope")
    assert "“nope”" in reply and "core, extra" in reply
    assert (await group(store)).packs == ()


async def test_all_together_with_pack_ids_gets_the_usage_instead_of_a_guess(
    service: StudyService, store: SqlStore
) -> None:
    assert "/pack all" in await cmd(service, admin(), "pack", "all", "core")
    assert "/tags all" in await cmd(service, admin(), "tags", "rag", "all")
    assert "/pack all" in await cmd(service, admin(), "pack", ",,，")
    chat = await group(store)
    assert (chat.packs, chat.tags) == ((), ())


# ----- /tags ----------------------------------------------------------------------------------


async def test_tags_lists_counts_within_the_chats_packs_and_the_current_filter(
    service: StudyService,
) -> None:
    everywhere = await cmd(service, member(), "tags")
    assert "· rag（2 题）" in everywhere and "· inference（2 题）" in everywhere
    assert "不限标签" in everywhere and "全部题库" in everywhere
    await cmd(service, admin(), "pack", "core")
    await cmd(service, admin(), "tags", "rag", "attention")
    in_core = await cmd(service, member(), "tags")
    assert "✓ rag（1 题）" in in_core and "✓ attention（2 题）" in in_core
    assert "· inference（1 题）" in in_core and "agents" not in in_core
    assert "attention, rag" in in_core and "统计：core" in in_core


async def test_a_question_qualifies_when_it_has_any_of_the_chosen_tags(
    service: StudyService, store: SqlStore, clock: FakeClock
) -> None:
    reply = await cmd(service, admin(), "tags", "rag", "inference")
    assert "inference, rag" in reply and "4 道" in reply
    assert (await group(store)).tags == ("inference", "rag")
    assert set(await picks(service, store, clock, 4)) == {"c2", "c4", "e1", "e2"}


async def test_packs_and_tags_together_narrow_the_questions_to_both(
    service: StudyService, store: SqlStore, clock: FakeClock
) -> None:
    await cmd(service, admin(), "pack", "core")
    await cmd(service, admin(), "tags", "inference", "rag")
    assert sorted(await picks(service, store, clock, 2)) == ["c2", "c4"]
    assert (await picks(service, store, clock, 1))[0] in {"c2", "c4"}  # a new cycle


async def test_an_unknown_tag_or_one_outside_the_chats_packs_is_named_and_refused(
    service: StudyService, store: SqlStore
) -> None:
    assert "“quantum”" in await cmd(service, admin(), "tags", "quantum")
    await cmd(service, admin(), "pack", "core")
    reply = await cmd(service, admin(), "tags", "agents")  # only the extra pack has it
    assert "“agents”" in reply and "alignment, attention, inference, rag" in reply
    assert (await group(store)).tags == ()


async def test_tags_all_removes_the_filter(service: StudyService, store: SqlStore) -> None:
    await cmd(service, admin(), "tags", "rag")
    reply = await cmd(service, admin(), "tags", "all")
    assert "已取消" in reply and "7" in reply
    assert (await group(store)).tags == ()


async def test_a_combination_of_packs_and_tags_matching_no_question_is_refused(
    service: StudyService, store: SqlStore
) -> None:
    await cmd(service, admin(), "tags", "agents")
    reply = await cmd(service, admin(), "pack", "core")
    assert "没有题目符合" in reply and "core" in reply and "agents" in reply
    chat = await group(store)
    assert (chat.packs, chat.tags) == ((), ("agents",))


async def test_choices_are_read_case_and_width_blind_and_commas_separate_them(
    service: StudyService, store: SqlStore
) -> None:
    await cmd(service, admin(), "tags", "RAG,Inference，ａｇｅｎｔｓ")
    assert (await group(store)).tags == ("agents", "inference", "rag")
    await cmd(service, admin(), "pack", "ALL")
    await cmd(service, admin(), "pack", "Extra")
    assert (await group(store)).packs == ("extra",)


# ----- the cycle under a changing choice ------------------------------------------------------


async def test_questions_seen_before_the_filter_changed_stay_seen_until_a_new_cycle(
    service: StudyService, store: SqlStore, clock: FakeClock
) -> None:
    seen = await picks(service, store, clock, 3)  # no filter yet
    await cmd(service, admin(), "pack", "core")
    remaining = {"c1", "c2", "c3", "c4"} - set(seen)
    next_ones = await picks(service, store, clock, len(remaining))
    assert set(next_ones) == remaining  # nothing from core is repeated in this cycle
    cycle, _ = await store.used_questions((await group(store)).pk)
    assert cycle == 0
    after = await picks(service, store, clock, 1)  # core exhausted: a new cycle in core
    assert after[0] in {"c1", "c2", "c3", "c4"}
    cycle, used = await store.used_questions((await group(store)).pk)
    assert cycle == 1 and used == set(after)


async def test_the_question_already_chosen_for_today_stays_when_the_filter_changes(
    service: StudyService, store: SqlStore, clock: FakeClock
) -> None:
    before = await cmd(service, member(), "today")
    [today] = [q for q in LAYOUT if q in before.split()]
    other_pack = "core" if LAYOUT[today][0] == "extra" else "extra"
    await cmd(service, admin(), "pack", other_pack)
    assert await cmd(service, member(), "today") == before
    clock.advance(days=1)
    tomorrow = await cmd(service, member(), "today")
    assert any(q in tomorrow.split() for q, (pack, _) in LAYOUT.items() if pack == other_pack)


# ----- content that changed under a choice ----------------------------------------------------


async def test_a_chosen_pack_gone_from_the_bank_falls_back_to_all_questions_with_a_warning(
    service: StudyService, store: SqlStore, bank: FakeBank, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await cmd(service, admin(), "pack", "extra")
    bank.replace(questions("c1", "c2", "c3", "c4"))  # the extra pack was deleted
    with caplog.at_level(logging.WARNING, logger="bot.core.study"):
        assert set(await picks(service, store, clock, 4)) == {"c1", "c2", "c3", "c4"}
    assert any("extra" in r.getMessage() for r in caplog.records)
    listing = await cmd(service, member(), "pack")
    assert "已经没有：extra" in listing and "全部题库" in listing


async def test_a_lost_tag_is_ignored_while_the_chats_other_tags_still_filter(
    service: StudyService, store: SqlStore, bank: FakeBank, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await cmd(service, admin(), "tags", "agents", "alignment")
    bank.replace(questions("c1", "c2", "c3", "c4", "e1", "e2"))  # no more "agents"
    with caplog.at_level(logging.WARNING, logger="bot.core.study"):
        assert await picks(service, store, clock, 2) == ["c3", "c3"]
    assert any("agents" in r.getMessage() for r in caplog.records)
    assert "已经没有：agents" in await cmd(service, member(), "tags")


async def test_a_choice_that_matches_nothing_after_a_content_change_sends_from_everything(
    service: StudyService, store: SqlStore, bank: FakeBank, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await cmd(service, admin(), "pack", "extra")
    await cmd(service, admin(), "tags", "agents")
    # Both still exist, but no longer together: e3 lost its place in the extra pack.
    moved = [q if q.id != "e3" else Question(**{**_fields(q), "pack": "core"})
             for q in questions()]
    bank.replace(moved)
    with caplog.at_level(logging.WARNING, logger="bot.core.study"):
        assert len(set(await picks(service, store, clock, 7))) == 7
    assert any("every question" in r.getMessage() for r in caplog.records)


def _fields(q: Question) -> dict[str, object]:
    return {name: getattr(q, name) for name in Question.__slots__}


# ----- help and hostile input -----------------------------------------------------------------


async def test_help_lists_pack_and_tags_in_chinese_and_english(service: StudyService) -> None:
    zh = await cmd(service, member(), "help")
    assert "/pack" in zh and "/tags" in zh and "题库" in zh
    await cmd(service, admin(), "lang", "en")
    en = await cmd(service, member(), "help")
    assert "/pack" in en and "/tags" in en and "question packs" in en


async def test_long_and_odd_arguments_are_clipped_when_quoted_back(
    service: StudyService, store: SqlStore
) -> None:
    hostile = "\x1b[31m\u202e" + "狗" * 500
    for name in ("pack", "tags"):
        reply = await cmd(service, admin(), name, hostile)
        assert "\x1b" not in reply and "\u202e" not in reply and len(reply) < 400
        assert "狗" in reply
    chat = await group(store)
    assert (chat.packs, chat.tags) == ((), ())


async def test_at_most_twenty_arguments_are_considered_and_the_reply_says_so(
    service: StudyService, store: SqlStore
) -> None:
    many = ["rag"] * MAX_CHOICES + ["nonsense"] * 5
    reply = await cmd(service, admin(), "tags", *many)
    assert "前 20 个" in reply and "nonsense" not in reply
    assert (await group(store)).tags == ("rag",)
    pasted = ",".join(f"t{i}" for i in range(5000))
    reply = await cmd(service, admin(), "tags", pasted)
    assert "前 20 个" in reply and len(reply) < 600
    assert (await group(store)).tags == ("rag",)


# ----- the content bank -----------------------------------------------------------------------


def test_the_content_bank_counts_packs_and_tags_and_matches_any_tag(tmp_path: Path) -> None:
    packs = (PackInfo("core", "核心题库", "zh", "", tmp_path / "core"),
             PackInfo("empty", "Nothing yet", "zh", "", tmp_path / "empty"))
    bank = ContentBank(tuple(questions()), packs)
    assert bank.pack_summaries() == (PackSummary("core", "核心题库", 4),
                                     PackSummary("empty", "Nothing yet", 0),
                                     PackSummary("extra", "extra", 3))
    assert dict(bank.tag_counts()) == {"agents": 1, "alignment": 1, "attention": 2,
                                       "inference": 2, "rag": 2}
    assert dict(bank.tag_counts(["extra"])) == {"agents": 1, "inference": 1, "rag": 1}
    assert bank.matching() == bank.ids()
    assert bank.matching(["core"], ["rag", "inference"]) == ("c2", "c4")
    assert bank.matching(["empty"]) == ()
    assert bank.matching(tags=["nothing"]) == ()


async def test_a_pack_without_questions_cannot_be_chosen(
    store: SqlStore, clock: FakeClock, service: StudyService, tmp_path: Path
) -> None:
    packs = (PackInfo("empty", "Nothing yet", "zh", "", tmp_path / "empty"),)
    real = StudyService(store, ContentBank(tuple(questions()), packs), clock, service.codec,
                        service.config)
    assert "（0 题）" in await cmd(real, member(), "pack")
    assert "没有题目符合" in await cmd(real, admin(), "pack", "empty")
    assert (await group(store)).packs == ()
