from __future__ import annotations

import io
import json
from pathlib import Path

from bot.content.commands import cmd_stats
from bot.content.stats import content_stats, format_stats
from bot.core.models import Question


def question(
    qid: str,
    *,
    pack: str = "p",
    answer: str = "答案",
    tags: tuple[str, ...] = ("t",),
    difficulty: int = 2,
    english: str = "",
    language: str = "zh",
) -> Question:
    return Question(
        id=qid, pack=pack, title=f"问题 {qid}", answer=answer, tags=tags, difficulty=difficulty,
        source="ours", title_en=f"Q {qid}" if english else "", answer_en=english,
        language=language,
    )


def write_pack(root: Path, pack: str, questions: dict[str, str]) -> None:
    folder = root / "packs" / pack
    folder.mkdir(parents=True)
    (folder / "pack.toml").write_text(f'id = "{pack}"\ntitle = "T"\nlanguage = "zh"\n')
    for qid, body in questions.items():
        front = f"id: {qid}\ntitle: 问题\ntags: [a, b]\ndifficulty: 1\nsource: ours"
        (folder / f"{qid}.md").write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8")


def test_questions_are_counted_per_pack_tag_and_difficulty() -> None:
    stats = content_stats(
        [
            question("a", tags=("attention", "inference"), difficulty=1),
            question("b", tags=("inference",), difficulty=3),
            question("c", pack="q", tags=("rag",), difficulty=3),
        ],
        pack_ids=["p", "q", "empty"],
    )

    assert stats.total == 3
    assert stats.packs == {"empty": 0, "p": 2, "q": 1}
    assert list(stats.tags.items()) == [("inference", 2), ("attention", 1), ("rag", 1)]
    assert stats.difficulty == {1: 1, 2: 0, 3: 2}


def test_languages_count_the_answers_available_in_each_and_who_has_english() -> None:
    stats = content_stats([
        question("a", english="Answer."),
        question("b"),
        question("c", language="en", answer="Only English."),
    ])

    assert stats.languages == {"en": 2, "zh": 2}
    assert stats.with_english == 1


def test_the_ten_longest_answers_are_listed_per_language_by_visible_characters() -> None:
    many = [question(f"q{n:02}", answer="字" * n, english="e" * (100 - n)) for n in range(1, 13)]
    # Markup is not text a reader sees: this answer shows 4 characters, not 8.
    many.append(question("bold", answer="**粗体字**啊"))

    stats = content_stats(many)

    assert [(a.id, a.chars) for a in stats.longest["zh"][:3]] == [
        ("q12", 12), ("q11", 11), ("q10", 10)]
    assert len(stats.longest["zh"]) == 10
    assert [(a.id, a.chars) for a in stats.longest["zh"][-2:]] == [("bold", 4), ("q04", 4)]
    assert [a.id for a in stats.longest["en"][:2]] == ["q01", "q02"]


def test_the_text_report_has_a_summary_and_a_section_per_count() -> None:
    lines = format_stats(content_stats([question("a", english="Answer.")], pack_ids=["p"]))

    assert lines[0] == "1 question in 1 pack"
    for heading in ("packs:", "difficulty:", "tags:", "languages (answers):",
                    "longest answers (zh, characters):", "longest answers (en, characters):"):
        assert heading in lines
    assert "  with an English version: 1 of 1" in lines


def test_stats_command_prints_json_for_a_content_folder(tmp_path: Path) -> None:
    write_pack(tmp_path, "one", {"q-a": "短", "q-b": "长一点的答案"})
    write_pack(tmp_path, "two", {"q-c": "中等答案"})
    out = io.StringIO()

    assert cmd_stats(tmp_path, True, out, io.StringIO()) == 0

    data = json.loads(out.getvalue())
    assert data["total"] == 3
    assert data["packs"] == {"one": 2, "two": 1}
    assert data["tags"] == {"a": 3, "b": 3}
    assert data["difficulty"] == {"1": 3, "2": 0, "3": 0}
    assert data["languages"] == {"zh": 3} and data["with_english"] == 0
    assert [a["id"] for a in data["longest_answers"]["zh"]] == ["q-b", "q-c", "q-a"]


def test_stats_command_warns_about_broken_files_but_counts_the_rest(tmp_path: Path) -> None:
    write_pack(tmp_path, "one", {"q-a": "答案", "q-b": ""})
    out, err = io.StringIO(), io.StringIO()

    assert cmd_stats(tmp_path, False, out, err) == 0

    assert out.getvalue().startswith("1 question in 1 pack\n")
    assert "warning: 1 problem" in err.getvalue()


def test_stats_command_fails_clearly_for_a_missing_folder(tmp_path: Path) -> None:
    err = io.StringIO()

    assert cmd_stats(tmp_path / "nowhere", False, io.StringIO(), err) == 1

    assert err.getvalue().strip() == f"error: {tmp_path / 'nowhere'}: no such folder"
