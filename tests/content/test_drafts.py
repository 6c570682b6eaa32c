"""Drafts: questions kept for later (`draft: true`), loaded apart and never sent."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from bot.content.commands import cmd_check, cmd_export, cmd_list
from bot.content.packs import load_bank
from bot.core.actions import ActionCodec
from bot.core.models import ChatKind, ChatRef
from bot.core.study import StudyConfig, StudyService
from bot.storage.sql import SqlStore
from tests.fakes import FakeClock

PACK_TOML = 'id = "demo"\ntitle = "Demo"\nlanguage = "zh"\n'


def question(qid: str, answer: str, *, draft: str = "") -> str:
    extra = f"draft: {draft}\n" if draft else ""
    return (f"---\nid: {qid}\ntitle: 问题 {qid} 是什么?\ntags: [demo]\ndifficulty: 1\n"
            f"source: ours\n{extra}---\n{answer}\n")


def make_pack(root: Path, files: dict[str, str]) -> Path:
    pack = root / "packs" / "demo"
    pack.mkdir(parents=True)
    (pack / "pack.toml").write_text(PACK_TOML, encoding="utf-8")
    for qid, text in files.items():
        (pack / f"{qid}.md").write_text(text, encoding="utf-8")
    return root


ANSWER = "这是一个完整的答案，说明了原因，也给出了例子。"


def test_a_draft_without_an_answer_loads_apart_from_the_questions_that_are_sent(
    tmp_path: Path,
) -> None:
    make_pack(tmp_path, {"q-one": question("q-one", ANSWER),
                         "q-two": question("q-two", "", draft="true")})

    bank, problems = load_bank(tmp_path)

    assert problems == []
    assert bank.ids() == ("q-one",)
    assert [q.id for q in bank.drafts] == ["q-two"]
    assert bank.get("q-two") is None
    assert bank.matching(tags=["demo"]) == ("q-one",)
    assert [s.questions for s in bank.pack_summaries()] == [1]


def test_an_empty_answer_without_draft_is_still_an_error(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": question("q-one", "")})

    bank, problems = load_bank(tmp_path)

    assert len(bank) == 0 and bank.drafts == ()
    assert [p.message for p in problems] == ["the answer is empty"]


def test_draft_must_be_true_or_false(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": question("q-one", ANSWER, draft="maybe")})

    _, problems = load_bank(tmp_path)

    assert [(p.line, p.message) for p in problems] == [
        (7, "draft: must be true or false, not 'maybe'")]


def test_check_counts_drafts_and_warns_about_one_that_already_has_an_answer(
    tmp_path: Path,
) -> None:
    make_pack(tmp_path, {"q-one": question("q-one", ANSWER),
                         "q-two": question("q-two", "", draft="true"),
                         "q-three": question("q-three", ANSWER, draft="true")})
    out = io.StringIO()

    assert cmd_check(tmp_path, out) == 0

    assert out.getvalue().splitlines() == [
        f"warning: {tmp_path}/packs/demo/q-three.md:9: a draft with an answer: "
        "remove 'draft: true' so it can be sent",
        "1 question and 2 drafts in 1 pack: ok (1 warning)",
    ]


def test_export_leaves_drafts_out_and_says_so(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": question("q-one", ANSWER),
                         "q-two": question("q-two", "", draft="true")})
    out, err = io.StringIO(), io.StringIO()

    assert cmd_export(tmp_path, "demo", "jsonl", None, out, err) == 0

    assert len(out.getvalue().splitlines()) == 1
    assert "1 draft without an answer left out" in err.getvalue()


async def test_the_daily_question_is_never_a_draft(
    tmp_path: Path, store: SqlStore, clock: FakeClock
) -> None:
    files = {f"q-{n}": question(f"q-{n}", ANSWER) for n in range(3)}
    files |= {f"d-{n}": question(f"d-{n}", "", draft="true") for n in range(5)}
    bank, _ = load_bank(make_pack(tmp_path, files))
    service = StudyService(store, bank, clock, ActionCodec(await store.payload_secret()),
                           StudyConfig(default_timezone="UTC"))
    chat = await store.ensure_chat(ChatRef("console", "c1"), ChatKind.PRIVATE, language="zh",
                                   timezone="UTC")

    chosen = set()
    for day in range(12):  # four full cycles through the three questions
        picked = await service.question_of_day(chat, dt.date(2026, 3, 2) + dt.timedelta(day))
        assert picked is not None
        chosen.add(picked.question_id)

    assert chosen == {"q-0", "q-1", "q-2"}


def test_content_list_shows_drafts_after_the_questions_and_marks_them(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": question("q-one", ANSWER),
                         "a-two": question("a-two", "", draft="true")})
    out = io.StringIO()

    assert cmd_list(tmp_path, False, out) == 0

    lines = out.getvalue().splitlines()
    assert lines[1].startswith("q-one ") and lines[2].startswith("a-two ")
    assert lines[2].endswith("问题 a-two 是什么?  (draft)")
    out = io.StringIO()
    assert cmd_list(tmp_path, True, out) == 0
    assert [(q["id"], q["draft"]) for q in json.loads(out.getvalue())] == [
        ("q-one", False), ("a-two", True)]
