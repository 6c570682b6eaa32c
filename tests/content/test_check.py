from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.content.check import check_bank_with_warnings, check_content
from bot.content.commands import cmd_check
from bot.content.packs import Problem, load_bank

REPO = Path(__file__).resolve().parents[2]

PACK_TOML = 'id = "demo"\ntitle = "Demo"\nlanguage = "zh"\ndescription = "tests"\n'

# Line numbers in the tests below refer to this layout.
GOOD_ANSWER = "答案的第一段，完整地说明了这个问题的要点和理由。\n"
GOOD = """\
---
id: q-one
title: 示例问题
tags: [demo]
difficulty: 2
source: ours
---
答案的第一段，完整地说明了这个问题的要点和理由。
"""


def make_pack(root: Path, files: dict[str, str], *, name: str = "demo",
              pack_toml: str | None = PACK_TOML) -> Path:
    pack = root / "packs" / name
    pack.mkdir(parents=True)
    if pack_toml is not None:
        (pack / "pack.toml").write_text(pack_toml.replace('"demo"', f'"{name}"'))
    for stem, text in files.items():
        (pack / f"{stem}.md").write_text(text)
    return pack


def problems_for(tmp_path: Path, text: str, stem: str = "q-one") -> list[tuple[int, str]]:
    make_pack(tmp_path, {stem: text})
    return [(p.line, p.message) for p in check_content(tmp_path)]


def one_problem(tmp_path: Path, text: str, stem: str = "q-one") -> tuple[int, str]:
    found = problems_for(tmp_path, text, stem)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_question_has_no_problems(tmp_path: Path) -> None:
    assert problems_for(tmp_path, GOOD) == []


def test_a_file_without_front_matter_is_reported_at_line_1(tmp_path: Path) -> None:
    line, message = one_problem(tmp_path, "id: q-one\n答案\n")

    assert line == 1
    assert "missing front matter" in message


def test_front_matter_without_a_closing_fence_is_reported(tmp_path: Path) -> None:
    line, message = one_problem(tmp_path, GOOD.replace("---\n答案", "答案"))

    assert line == 1
    assert "not closed" in message


def test_invalid_yaml_is_reported_at_the_line_of_the_error(tmp_path: Path) -> None:
    line, message = one_problem(tmp_path, GOOD.replace("title: 示例问题", "title: 问题: 冒号"))

    assert line == 3
    assert message.startswith("invalid YAML in front matter")


@pytest.mark.parametrize("value", ["!!int abc", "2024-13-45", "a\x07b"])
def test_a_value_yaml_cannot_build_is_reported_at_its_line(tmp_path: Path, value: str) -> None:
    line, message = one_problem(tmp_path, GOOD.replace("source: ours", f"source: {value}"))

    assert line == 6
    assert message.startswith("invalid YAML in front matter")


def test_front_matter_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    line, message = one_problem(tmp_path, "---\n- a\n- b\n---\n答案\n")

    assert (line, message) == (2, "front matter must be a mapping of 'key: value' lines")


def test_a_missing_required_field_is_reported(tmp_path: Path) -> None:
    line, message = one_problem(tmp_path, GOOD.replace("source: ours\n", ""))

    assert (line, message) == (1, "missing required field 'source'")


@pytest.mark.parametrize(
    ("old", "new", "line", "start"),
    [
        ("difficulty: 2", "difficulty: 5", 5, "difficulty: must be 1, 2 or 3"),
        ("difficulty: 2", "difficulty: true", 5, "difficulty: must be 1, 2 or 3"),
        ("difficulty: 2", 'difficulty: "2"', 5, "difficulty: must be 1, 2 or 3"),
        ("tags: [demo]", "tags: [Demo, ok]", 4, "tags: tags must match"),
        ("tags: [demo]", "tags: []", 4, "tags: must be a non-empty list"),
        ("tags: [demo]", "tags: demo", 4, "tags: must be a non-empty list"),
        ("title: 示例问题", "title: 42", 3, "title: must be a non-empty string"),
        ("source: ours", "source: ''", 6, "source: must be a non-empty string"),
    ],
)
def test_a_field_of_the_wrong_type_or_range_is_reported_at_its_line(
    tmp_path: Path, old: str, new: str, line: int, start: str
) -> None:
    found_line, message = one_problem(tmp_path, GOOD.replace(old, new))

    assert found_line == line
    assert message.startswith(start)


def test_an_id_breaking_the_pattern_is_reported(tmp_path: Path) -> None:
    found = problems_for(tmp_path, GOOD.replace("id: q-one", "id: Q_One"))

    assert (2, "id: must match [a-z0-9][a-z0-9-]{1,63}") in found


def test_an_id_that_differs_from_the_file_name_is_reported(tmp_path: Path) -> None:
    line, message = one_problem(tmp_path, GOOD, stem="q-two")

    assert (line, message) == (2, "id 'q-one' must equal the file name 'q-two'")


def test_key_points_must_be_one_to_eight_strings(tmp_path: Path) -> None:
    nine = "key_points:\n" + "".join(f"  - 要点 {i}\n" for i in range(9))
    line, message = one_problem(tmp_path, GOOD.replace("source: ours\n", "source: ours\n" + nine))
    assert (line, message) == (7, "key_points: must be a list of 1 to 8 strings")


def test_a_key_point_that_is_not_a_string_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("source: ours\n", "source: ours\nkey_points_en:\n  - fine\n  - [1, 2]\n")

    line, message = one_problem(tmp_path, text)

    assert (line, message) == (7, "key_points_en: every key point must be a non-empty string")


def test_an_unknown_or_repeated_field_is_reported_at_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("source: ours\n", "source: ours\nkey_point: typo\ntags: [again]\n")

    assert problems_for(tmp_path, text) == [
        (7, "unknown field 'key_point'"),
        (8, "field 'tags' is given more than once"),
    ]


def test_a_duplicate_id_is_reported_in_both_files(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": GOOD}, name="first")
    make_pack(tmp_path, {"q-one": GOOD}, name="second")

    problems = check_content(tmp_path)

    first, second = (tmp_path / "packs" / n / "q-one.md" for n in ("first", "second"))
    assert problems == [
        Problem(first, 2, f"duplicate id 'q-one', also in {second}:2"),
        Problem(second, 2, f"duplicate id 'q-one', also in {first}:2"),
    ]


def test_an_empty_answer_is_reported_at_the_start_of_the_body(tmp_path: Path) -> None:
    text = GOOD.replace(GOOD_ANSWER, "\n")

    assert one_problem(tmp_path, text) == (8, "the answer is empty")


def test_an_empty_english_answer_is_reported_at_the_marker(tmp_path: Path) -> None:
    text = GOOD.replace("source: ours", "source: ours\ntitle_en: A question") + "\n<!-- en -->\n\n"

    line, message = one_problem(tmp_path, text)

    assert line == 11
    assert message == "the English answer after '<!-- en -->' is empty"


def test_title_en_without_an_english_answer_is_reported_at_title_en(tmp_path: Path) -> None:
    text = GOOD.replace("source: ours", "source: ours\ntitle_en: A question")

    line, message = one_problem(tmp_path, text)

    assert line == 7
    assert message.startswith("title_en is set but there is no English answer")


def test_an_english_answer_without_title_en_is_reported_at_the_marker(tmp_path: Path) -> None:
    text = GOOD + "\n<!-- en -->\nThe answer.\n"

    assert one_problem(tmp_path, text) == (10, "an English answer needs a title_en")


def test_a_second_english_marker_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("source: ours", "source: ours\ntitle_en: Q")
    text += "<!-- en -->\nA\n<!-- en -->\nB\n"

    line, message = one_problem(tmp_path, text)

    assert line == 12
    assert message.startswith("a second '<!-- en -->' line")


def test_a_title_over_256_characters_is_reported(tmp_path: Path) -> None:
    line, message = one_problem(tmp_path, GOOD.replace("示例问题", "问" * 257))

    assert (line, message) == (3, "title has 257 characters, at most 256 allowed")


def test_a_paragraph_too_long_for_one_message_is_reported_where_it_starts(tmp_path: Path) -> None:
    body = "短的一段。\n\n- 列表项\n\n" + "很长的段落" * 701 + "\n\n结尾。\n"
    text = GOOD.replace(GOOD_ANSWER, body)

    line, message = one_problem(tmp_path, text)

    assert line == 12
    assert message == "answer: this paragraph has 3505 characters, at most 3500 fit in one message"


def test_an_english_list_item_too_long_is_reported_at_its_line(tmp_path: Path) -> None:
    english = "Intro.\n\n1. short\n2. **Bold** " + "word " * 720 + "\n"
    text = GOOD.replace("source: ours", "source: ours\ntitle_en: Q") + "<!-- en -->\n" + english

    line, message = one_problem(tmp_path, text)

    assert line == 14
    assert message.startswith("English answer: this list item has 3604 characters")


def test_an_answer_needing_more_than_four_messages_is_reported(tmp_path: Path) -> None:
    body = "\n\n".join(f"第{i}段" + "内容" * 1500 for i in range(5)) + "\n"

    line, message = one_problem(tmp_path, GOOD.replace(GOOD_ANSWER, "\n" + body))

    assert line == 9
    assert message == "answer needs 5 messages of 4096 characters, at most 4 allowed"


def test_a_missing_pack_toml_is_reported(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": GOOD}, pack_toml=None)

    assert [str(p) for p in check_content(tmp_path)] == [
        f"{tmp_path}/packs/demo/pack.toml: pack.toml is missing"
    ]


def test_invalid_toml_is_reported_at_its_line(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": GOOD}, pack_toml='id = "demo"\ntitle = oops\n')

    [problem] = check_content(tmp_path)

    assert problem.line == 2
    assert problem.message.startswith("invalid TOML")


@pytest.mark.parametrize(
    ("pack_toml", "line", "message"),
    [
        ('title = "T"\nid = "other"\nlanguage = "zh"\n', 2,
         "id: 'other' must equal the folder name 'demo'"),
        ('id = "demo"\ntitle = "T"\nlanguage = "fr"\n', 3, "language: must be one of zh, en"),
        ('id = "demo"\nlanguage = "zh"\n', 1, "title: missing required key"),
    ],
)
def test_a_wrong_pack_toml_field_is_reported_at_its_line(
    tmp_path: Path, pack_toml: str, line: int, message: str
) -> None:
    make_pack(tmp_path, {"q-one": GOOD}, pack_toml=pack_toml)

    found = [(p.path.name, p.line, p.message) for p in check_content(tmp_path)]

    assert found == [("pack.toml", line, message)]


def test_question_files_are_checked_even_when_pack_toml_is_broken(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": GOOD.replace("difficulty: 2", "difficulty: 9")}, pack_toml=None)

    assert {p.path.name for p in check_content(tmp_path)} == {"pack.toml", "q-one.md"}


def test_a_single_pack_folder_can_be_checked(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, {"q-one": GOOD.replace("difficulty: 2", "difficulty: 0")})

    assert [p.line for p in check_content(pack)] == [5]


def test_the_checker_reports_everything_the_loader_reports(tmp_path: Path) -> None:
    make_pack(tmp_path, {
        "q-one": GOOD.replace("tags: [demo]", "tags: [Bad]"),
        "q-two": "---\nid: [\n---\n",
        "q-three": GOOD.replace("q-one", "q-three").replace("示例问题", "长" * 300),
    })

    _, loader_problems = load_bank(tmp_path)
    checker_problems = check_content(tmp_path)

    assert set(loader_problems) < set(checker_problems)


def test_check_command_prints_each_problem_and_a_count(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": GOOD.replace("difficulty: 2", "difficulty: 4")})
    out = io.StringIO()

    assert cmd_check(tmp_path, out) == 1

    assert out.getvalue().splitlines() == [
        f"{tmp_path}/packs/demo/q-one.md:5: difficulty: must be 1, 2 or 3, not 4",
        "1 problem",
    ]


def test_check_command_says_ok_for_clean_content(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": GOOD, "q-two": GOOD.replace("q-one", "q-two")})
    out = io.StringIO()

    assert cmd_check(tmp_path, out) == 0

    assert out.getvalue() == "2 questions in 1 pack: ok\n"


def test_the_shipped_content_passes_the_checker() -> None:
    content = REPO / "content"
    if not content.is_dir():
        pytest.skip("this checkout has no content/ folder")

    assert [str(p) for p in check_content(content)] == []


# --- warnings: answers that look cut short -----------------------------------------------------


def warnings_for(tmp_path: Path, answer: str, title: str = "示例问题") -> list[tuple[int, str]]:
    text = GOOD.replace(GOOD_ANSWER, answer + "\n").replace("title: 示例问题", f"title: {title}")
    make_pack(tmp_path, {"q-one": text})
    _, problems, warnings = check_bank_with_warnings(tmp_path)
    assert problems == []
    return [(w.line, w.message) for w in warnings]


def test_a_one_character_answer_is_flagged_with_its_line(tmp_path: Path) -> None:
    assert warnings_for(tmp_path, "是") == [
        (8, "answer ends mid-sentence: '…是'"),
        (8, "answer has only 1 character, short for its question: is it cut off?"),
    ]


def test_an_answer_shorter_than_its_long_question_is_flagged(tmp_path: Path) -> None:
    title = "为什么自注意力里要除以根号 d_k，不除会怎样，请结合方差推导说明？"

    assert warnings_for(tmp_path, "因为方差会变大，所以要缩放。", title) == [
        (8, "answer has only 14 characters, short for its question: is it cut off?")]


@pytest.mark.parametrize(
    "answer",
    [
        "领域模型词表扩增是否必要,取决于多个因素,主要包括以下几个方面:",
        "KV Cache 把每一层的键和值保存下来，下一步只需要计算新 token，例如",
        "Scaling the dot product keeps the softmax out of its flat region, so that",
        "- 第一条要点写完整了。\n- 第二条要点写到一半，",
    ],
)
def test_an_answer_that_stops_mid_sentence_is_flagged_at_its_last_line(
    tmp_path: Path, answer: str
) -> None:
    found = warnings_for(tmp_path, f"第一段是完整的一句话，说明了背景。\n\n{answer}")

    last = answer.split("\n")[-1].removeprefix("- ")
    line = 10 + answer.count("\n")
    assert found == [(line, f"answer ends mid-sentence: '…{last[-20:]}'")]


@pytest.mark.parametrize(
    "answer",
    [
        "要点如下，每一条都是短语：\n\n- 缓存键和值\n- 用显存换时间",
        "示例代码如下，运行即可复现：\n\n```python\nprint(1)\n```",
        "对比如下，见表中各列的说明：\n\n| 方法 | 显存 |\n|---|---|\n| MQA | 小 |",
        "完整的一句话结束于句号，说明了问题的全部要点。",
        "English answers end with a full stop and are long enough to count.",
    ],
)
def test_complete_answers_are_not_flagged(tmp_path: Path, answer: str) -> None:
    assert warnings_for(tmp_path, answer) == []


def test_warnings_print_with_file_and_line_and_fail_only_with_strict(tmp_path: Path) -> None:
    make_pack(tmp_path, {"q-one": GOOD.replace(GOOD_ANSWER, "是\n")})
    out = io.StringIO()

    assert cmd_check(tmp_path, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[1].startswith(f"warning: {tmp_path}/packs/demo/q-one.md:8: answer has only 1 ")
    assert lines[-1] == "1 question in 1 pack: ok (2 warnings)"

    out = io.StringIO()
    assert cmd_check(tmp_path, out, strict=True) == 1
    assert out.getvalue().splitlines()[-1] == "0 problems, 2 warnings (--strict)"


def test_the_shipped_bank_has_no_warnings_even_with_strict() -> None:
    out = io.StringIO()

    assert cmd_check(REPO / "content", out, strict=True) == 0, out.getvalue()
