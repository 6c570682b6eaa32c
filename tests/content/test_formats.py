from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.content.check import check_content
from bot.content.commands import cmd_export, cmd_import
from bot.content.formats import (
    detect_format,
    export_questions,
    html_to_markdown,
    html_to_text,
    import_file,
    markdown_to_html,
)
from bot.content.packs import load_bank
from bot.content.seed_import import question_id
from bot.core.models import Question
from bot.core.text import parse_markdown

REPO = Path(__file__).resolve().parents[2]

RICH_ANSWER = """**结论：** 解码时保存历史 token 的键和值，避免每步重算 `O(n²)`。

### 细节

1. 第一步 *斜体* 与 snake_case
   - 子要点 a < b & c
   - 子要点 2
2. 第二步

- 项目一
- 项目二，含 **粗体 `code`**

```python
def f(x):
    return x * 2  # <tag> & "quote"
```

最后一段，
换行继续。"""

RICH_FILE = f"""---
id: rich-one
title: "什么是 KV Cache？<b> & \\"引号\\""
title_en: What is a "KV cache"?
tags: [inference, attention]
difficulty: 3
source: ours
key_points:
  - 缓存 K 和 V
  - 用显存换时间, 逗号; 分号
key_points_en:
  - Keep keys and values
---
{RICH_ANSWER}

<!-- en -->
**Short answer:** keep the keys and values.

- Memory grows linearly
"""

PLAIN_FILE = """---
id: plain-two
title: 温度参数对采样有什么影响？
tags: [decoding]
difficulty: 1
source: "示例 #3"
---
温度越低分布越尖锐。
"""

HEADER = "question,answer,tags,difficulty"


def make_pack(root: Path, pack: str = "rich", files: dict[str, str] | None = None) -> Path:
    pack_dir = root / "packs" / pack
    pack_dir.mkdir(parents=True)
    (pack_dir / "pack.toml").write_text(
        f'id = "{pack}"\ntitle = "丰富的题库"\nlanguage = "zh"\n', encoding="utf-8")
    for name, text in (files or {"rich-one.md": RICH_FILE, "plain-two.md": PLAIN_FILE}).items():
        (pack_dir / name).write_text(text, encoding="utf-8")
    return pack_dir


def questions(root: Path, pack: str) -> dict[str, Question]:
    bank, problems = load_bank(root)
    assert problems == []
    return {q.id: q for q in bank.questions if q.pack == pack}


def comparable(q: Question) -> tuple[object, ...]:
    return (q.id, q.title, q.answer, q.tags, q.difficulty, q.source, q.key_points, q.title_en,
            q.answer_en, q.key_points_en)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
            if p.is_file()}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- CSV / TSV ---------------------------------------------------------------------------------


def test_a_csv_with_bom_quoted_multiline_cells_and_mixed_tag_separators_imports_every_field(
    tmp_path: Path,
) -> None:
    csv_file = write(tmp_path / "q.csv", (
        "\ufeffQuestion,answer,tags,question_en,answer_en,difficulty,id,source,key_points\r\n"
        '什么是 KV Cache？,"第一段。\r\n\r\n- 要点一\r\n- 要点二",'
        '"Inference, attention;kv  cache-2",What is a KV cache?,Keep K and V.,3,kv-basics,'
        '我的笔记,"缓存 K 和 V\r\n用显存换时间"\r\n'
    ))

    report = import_file(csv_file, tmp_path / "content", "mine", "csv")

    assert report.problems == ()
    q = questions(tmp_path / "content", "mine")["kv-basics"]
    assert q.title == "什么是 KV Cache？"
    assert q.answer == "第一段。\n\n- 要点一\n- 要点二"
    assert q.tags == ("inference", "attention", "kv", "cache-2")
    assert (q.title_en, q.answer_en) == ("What is a KV cache?", "Keep K and V.")
    assert q.difficulty == 3 and q.source == "我的笔记"
    assert q.key_points == ("缓存 K 和 V", "用显存换时间")
    assert check_content(tmp_path / "content") == []


def test_a_row_without_id_gets_one_from_its_question_text_so_reordering_keeps_ids(
    tmp_path: Path,
) -> None:
    forward = write(tmp_path / "a.csv", f"{HEADER}\n甲问题,答甲,,\n乙问题？,答乙,,\n")
    backward = write(tmp_path / "b.csv", f"{HEADER}\n乙问题,答乙,,\n甲问题,答甲,,\n")

    reports = [import_file(f, tmp_path / "c", "demo", "csv", dry_run=True)
               for f in (forward, backward)]

    ids = [{q.title.rstrip("？"): q.id for q in r.questions} for r in reports]
    assert ids[0] == ids[1] == {"甲问题": question_id("demo", "甲问题"),
                                "乙问题": question_id("demo", "乙问题")}


def test_rows_without_tags_difficulty_or_source_get_the_import_defaults(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "bare.csv", "question,answer\n问题一,答案一\n")

    import_file(csv_file, tmp_path / "c", "demo", "csv")

    [q] = questions(tmp_path / "c", "demo").values()
    assert (q.tags, q.difficulty, q.source) == (("imported",), 2, "bare.csv")
    assert load_bank(tmp_path / "c")[0].packs[0].title == "bare"


def test_reimporting_the_same_file_reports_unchanged_and_touches_no_file(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "q.csv", f"{HEADER}\n问题一,答案一,a,1\n问题二,答案二,b,2\n")
    first = import_file(csv_file, tmp_path / "c", "demo", "csv")
    before = snapshot(tmp_path / "c")

    again = import_file(csv_file, tmp_path / "c", "demo", "csv")

    assert [q.status for q in first.questions] == ["new", "new"]
    assert [q.status for q in again.questions] == ["unchanged", "unchanged"]
    assert again.written == 0 and again.pack_toml is None
    assert snapshot(tmp_path / "c") == before


def test_a_dry_run_tells_new_changed_and_unchanged_apart_and_writes_nothing(
    tmp_path: Path,
) -> None:
    import_file(write(tmp_path / "q.csv", f"{HEADER}\n问题一,答案一,a,1\n问题二,答案二,b,2\n"),
                tmp_path / "c", "demo", "csv")
    before = snapshot(tmp_path / "c")
    # The same file name: a row's default source is the name of the file it came from.
    rows = "问题一,答案一,a,1\n问题二,新答案,b,2\n问题三,答三,c,3\n"
    edited = write(tmp_path / "q.csv", f"{HEADER}\n{rows}")

    report = import_file(edited, tmp_path / "c", "demo", "csv", dry_run=True, force=True)

    assert [(q.title, q.status, q.written) for q in report.questions] == [
        ("问题一", "unchanged", False), ("问题二", "changed", True), ("问题三", "new", True)]
    assert snapshot(tmp_path / "c") == before


def test_a_changed_question_is_only_overwritten_with_force(tmp_path: Path) -> None:
    import_file(write(tmp_path / "q.csv", f"{HEADER}\n问题一,答案一,a,1\n"), tmp_path / "c",
                "demo", "csv")
    edited = write(tmp_path / "q.csv", f"{HEADER}\n问题一,改过的答案,a,1\n")

    kept = import_file(edited, tmp_path / "c", "demo", "csv")
    assert [(q.status, q.written) for q in kept.questions] == [("changed", False)]
    assert questions(tmp_path / "c", "demo")[kept.questions[0].id].answer == "答案一"

    forced = import_file(edited, tmp_path / "c", "demo", "csv", force=True)
    assert [(q.status, q.written) for q in forced.questions] == [("changed", True)]
    assert questions(tmp_path / "c", "demo")[kept.questions[0].id].answer == "改过的答案"


def test_one_bad_record_writes_nothing_and_names_the_line_its_record_starts_on(
    tmp_path: Path,
) -> None:
    csv_file = write(tmp_path / "q.csv", (
        f"{HEADER}\n"
        '问题一,"多行\n答案\n\n结束",a,1\n'  # lines 2-5
        "问题二,答案二,b,7\n"  # line 6: bad difficulty
        '问题三,"",c,1\n'  # line 7: empty answer
        "问题四,答案四,Bad_Tag,1\n"  # line 8: a tag outside [a-z0-9-]
    ))

    report = import_file(csv_file, tmp_path / "c", "demo", "csv")

    assert [str(p) for p in report.problems] == [
        f"{csv_file}:6: difficulty: must be 1, 2 or 3, not '7'",
        f"{csv_file}:7: the answer is empty",
        f"{csv_file}:8: tags: tags must match [a-z0-9-]+: bad_tag",
    ]
    assert not (tmp_path / "c").exists()


def test_validation_messages_use_the_column_names_of_the_file(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "q.csv", f"{HEADER}\n{'长' * 300},答案,a,1\n")

    [problem] = import_file(csv_file, tmp_path / "c", "demo", "csv").problems

    assert (problem.line, problem.message) == (
        2, "question has 300 characters, at most 256 allowed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("question,answer,notes\n", "1: unknown column 'notes'; known columns: question,"),
        ("question,tags\n", "1: the header row needs the column(s) answer"),
        ("question,answer,answer\n", "1: column 'answer' repeated"),
        (f'{HEADER}\nq,a,b,1\n"unclosed,a,b,1\n', '3: malformed row: unexpected end of data'),
        (f"{HEADER}\nq,a,b,1,extra\n", "2: 5 cells, but the header has 4 columns"),
        ("", "the file is empty: expected a header row"),
        ("question,answer\nq,a\nq,b\n", "3: id demo-"),
        ("question,answer,\nq,a,stray\n", "2: a value in a column without a header"),
    ],
)
def test_a_broken_csv_is_reported_with_its_line(tmp_path: Path, text: str, expected: str) -> None:
    csv_file = write(tmp_path / "q.csv", text)

    report = import_file(csv_file, tmp_path / "c", "demo", "csv")

    assert any(str(p).startswith(f"{csv_file}:{expected}") or str(p) == f"{csv_file}: {expected}"
               for p in report.problems), report.problems
    assert not (tmp_path / "c").exists()


def test_empty_unnamed_columns_that_spreadsheets_add_are_ignored(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "q.csv", "question,answer,,\n问题,答案,,\n,,,\n")

    report = import_file(csv_file, tmp_path / "c", "demo", "csv")

    assert report.problems == () and len(report.questions) == 1


def test_a_tsv_file_reads_like_a_csv_with_tabs(tmp_path: Path) -> None:
    tsv = write(tmp_path / "q.tsv", 'question\tanswer\ttags\n问题, 含逗号\t"两行\n答案"\tx y\n')

    report = import_file(tsv, tmp_path / "c", "demo", "tsv")

    assert report.problems == ()
    [q] = questions(tmp_path / "c", "demo").values()
    assert (q.title, q.answer, q.tags) == ("问题, 含逗号", "两行\n答案", ("x", "y"))


def test_an_id_already_used_by_another_pack_blocks_the_import(tmp_path: Path) -> None:
    make_pack(tmp_path / "c", "other")
    csv_file = write(tmp_path / "q.csv", "question,answer,id\n问题,答案,plain-two\n")

    [problem] = import_file(csv_file, tmp_path / "c", "demo", "csv").problems

    assert problem.line == 2
    assert problem.message == (
        f"id plain-two is already used by {tmp_path / 'c' / 'packs' / 'other' / 'plain-two.md'}")


def test_an_invalid_pack_id_is_refused_before_reading(tmp_path: Path) -> None:
    report = import_file(tmp_path / "missing.csv", tmp_path / "c", "Bad Pack", "csv")

    assert "invalid pack id 'Bad Pack'" in report.problems[0].message


# --- JSON Lines --------------------------------------------------------------------------------


def test_jsonl_records_take_lists_numbers_and_strings(tmp_path: Path) -> None:
    records = [
        {"question": "问题一", "answer": "答案一", "tags": ["a", "b"], "difficulty": 3,
         "key_points": ["要点"], "question_en": "Q1", "answer_en": "A1", "key_points_en": ["P"]},
        {"question": "问题二", "answer": "答案二", "tags": "c, d", "difficulty": "1", "id": "q-two",
         "source": None},
    ]
    jsonl = write(tmp_path / "q.jsonl",
                  "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n\n")

    report = import_file(jsonl, tmp_path / "c", "demo", "jsonl")

    assert report.problems == ()
    found = questions(tmp_path / "c", "demo")
    one = found[question_id("demo", "问题一")]
    assert (one.tags, one.difficulty, one.key_points, one.title_en, one.key_points_en) == (
        ("a", "b"), 3, ("要点",), "Q1", ("P",))
    assert (found["q-two"].tags, found["q-two"].difficulty) == (("c", "d"), 1)


def test_jsonl_errors_name_the_line_of_each_bad_record(tmp_path: Path) -> None:
    jsonl = write(tmp_path / "q.jsonl", "\n".join([
        '{"question": "好", "answer": "好"}',
        '{"question": "坏", "answer": ',
        '["not", "an", "object"]',
        '{"question": "问", "answer": "答", "tags": 5}',
        '{"question": "问", "answer": "答", "colour": "red"}',
        '{"question": "问", "answer": "答", "difficulty": true}',
        '{"question": "问", "answer": "答", "question_en": "Q"}',
    ]))

    report = import_file(jsonl, tmp_path / "c", "demo", "jsonl")

    assert [(p.line, p.message.split(":")[0]) for p in report.problems] == [
        (2, "invalid JSON"),
        (3, "each line must be a JSON object"),
        (4, "tags"),
        (5, "unknown key 'colour'; known keys"),
        (6, "difficulty"),
        (7, "question_en needs an answer_en"),
    ]
    assert not (tmp_path / "c").exists()


# --- Anki --------------------------------------------------------------------------------------

ANKI_EXPORT = (
    "#separator:tab\n"
    "#html:true\n"
    "#guid column:1\n"
    "#tags column:4\n"
    "a1B2c3\t什么是 <b>KV Cache</b>？\t<div>解码时缓存键和值。</div><div><br></div>"
    "<div><b>要点：</b>&nbsp;显存换时间</div><ul><li>一</li><li>二 <code>x&lt;y</code></li></ul>"
    "\tInference Attention\n"
    'd4E5f6\t"温度 ""T"" 的作用"\t"第一行<br>第二行"\tdecoding\n'
)


def test_an_anki_notes_export_becomes_markdown_questions_with_their_tags(tmp_path: Path) -> None:
    anki = write(tmp_path / "deck.txt", ANKI_EXPORT)

    report = import_file(anki, tmp_path / "c", "deck", "anki")

    assert report.problems == ()
    found = {q.title: q for q in questions(tmp_path / "c", "deck").values()}
    kv = found["什么是 KV Cache？"]
    assert kv.answer == "解码时缓存键和值。\n\n**要点：** 显存换时间\n\n- 一\n- 二 `x<y`"
    assert kv.tags == ("inference", "attention")
    assert found['温度 "T" 的作用'].answer == "第一行\n第二行"
    assert found['温度 "T" 的作用'].tags == ("decoding",)


def test_anki_plain_text_fields_are_escaped_into_markdown(tmp_path: Path) -> None:
    anki = write(tmp_path / "plain.txt", "#separator:Semicolon\n#html:false\n问题;用 *argmax* 选\n")

    import_file(anki, tmp_path / "c", "deck", "anki")

    [q] = questions(tmp_path / "c", "deck").values()
    assert [b.plain for b in parse_markdown(q.answer)] == ["用 *argmax* 选"]


def test_anki_errors_name_the_line_of_the_note(tmp_path: Path) -> None:
    anki = write(tmp_path / "deck.txt", "#separator:tab\n#html:true\n正面\t背面\n只有正面\n")

    [problem] = import_file(anki, tmp_path / "c", "deck", "anki").problems

    assert str(problem) == f"{anki}:4: a note needs a front and a back field"


def test_an_unknown_anki_separator_is_reported_at_its_header_line(tmp_path: Path) -> None:
    anki = write(tmp_path / "deck.txt", "#html:true\n#separator:Sometimes\n正面\t背面\n")

    [problem] = import_file(anki, tmp_path / "c", "deck", "anki").problems

    assert problem.line == 2 and "unknown separator 'Sometimes'" in problem.message


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<div>一</div><div>二</div>", "一\n\n二"),
        ("a<br>b<br><br>c", "a\nb\n\nc"),
        ("<b>粗</b>&nbsp;<i>斜</i> &amp; <code>a &lt; b</code>", "**粗** *斜* & `a < b`"),
        ("<strong> 空格 </strong>在外", "**空格** 在外"),
        ("<ol start=\"3\"><li>三</li><li>四<ul><li>子</li></ul></li></ol>",
         "3. 三\n4. 四\n   - 子"),
        ("<pre><code class=\"language-py\">x = 1<br>  y = '&lt;'</code></pre>",
         "```py\nx = 1\n  y = '<'\n```"),
        ("<h2>标题</h2>正文", "### 标题\n\n正文"),
        ("1. 不是列表 *星号* _下划线_ snake_case",
         "1\\. 不是列表 \\*星号\\* \\_下划线\\_ snake_case"),
        ("# 不是标题", "\\# 不是标题"),
        ("[链接](不是)", "[链接\\](不是)"),
        ("<code>a`b</code>", "``a`b``"),
        ("<script>alert(1)</script><style>p{}</style>留下", "留下"),
        ("<span style=\"color:red\">红</span><img src=x>字", "红字"),
    ],
)
def test_anki_html_becomes_our_markdown_subset(html: str, markdown: str) -> None:
    assert html_to_markdown(html) == markdown


def test_a_title_is_html_flattened_to_one_line_of_text() -> None:
    assert html_to_text("<div>什么是</div><b>KV&nbsp;Cache</b>&lt;?&gt;") == "什么是 KV Cache<?>"


def test_markdown_survives_html_and_back_for_every_construct_of_our_subset() -> None:
    html = markdown_to_html(RICH_ANSWER)

    assert "\n" not in html
    assert "&lt;tag&gt; &amp; &quot;quote&quot;" in html
    assert html_to_markdown(html) == RICH_ANSWER


def test_raw_html_in_an_answer_is_escaped_not_passed_through() -> None:
    assert markdown_to_html("<script>x</script> & 1 < 2") == (
        "<p>&lt;script&gt;x&lt;/script&gt; &amp; 1 &lt; 2</p>")


def test_every_shipped_answer_parses_the_same_after_html_and_back() -> None:
    bank, _ = load_bank(REPO / "content")
    answers = [a for q in bank.questions for a in (q.answer, q.answer_en) if a]

    changed = [a[:60] for a in answers
               if parse_markdown(html_to_markdown(markdown_to_html(a))) != parse_markdown(a)]

    assert answers and changed == []


# --- Markdown question files -------------------------------------------------------------------


def test_a_single_question_file_imports_into_a_pack_under_its_own_id(tmp_path: Path) -> None:
    source = write(tmp_path / "draft name.md", RICH_FILE)

    report = import_file(source, tmp_path / "c", "mine", "markdown")

    assert report.problems == ()
    assert (tmp_path / "c" / "packs" / "mine" / "rich-one.md").is_file()
    assert check_content(tmp_path / "c") == []


def test_a_question_file_without_id_or_source_gets_the_defaults(tmp_path: Path) -> None:
    source = write(tmp_path / "draft.md",
                   "---\ntitle: 草稿问题\ntags: [x]\ndifficulty: 1\n---\n答案\n")

    import_file(source, tmp_path / "c", "mine", "markdown")

    [q] = questions(tmp_path / "c", "mine").values()
    assert (q.id, q.source) == (question_id("mine", "草稿问题"), "draft.md")


def test_a_pack_folder_import_keeps_its_title_and_language(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "src")
    (pack / "pack.toml").write_text('id = "rich"\ntitle = "English pack"\nlanguage = "en"\n')

    import_file(pack, tmp_path / "c", "copy", "markdown")

    info = load_bank(tmp_path / "c")[0].packs[0]
    assert (info.id, info.title, info.language) == ("copy", "English pack", "en")


def test_a_broken_question_file_is_reported_at_its_own_line(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "src", files={
        "good.md": PLAIN_FILE.replace("plain-two", "good"),
        "bad.md": PLAIN_FILE.replace("difficulty: 1", "difficulty: 9\ncolour: red"),
    })

    report = import_file(pack, tmp_path / "c", "copy", "markdown")

    assert [str(p) for p in report.problems] == [
        f"{pack / 'bad.md'}:5: difficulty: must be 1, 2 or 3, not 9",
        f"{pack / 'bad.md'}:6: unknown field 'colour'",
    ]
    assert not (tmp_path / "c").exists()


# --- round trips and export --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "markdown"])
def test_export_then_import_into_a_fresh_pack_gives_the_same_questions(
    tmp_path: Path, fmt: str
) -> None:
    pack_dir = make_pack(tmp_path / "src")
    original = questions(tmp_path / "src", "rich")
    if fmt == "markdown":
        exported = pack_dir
    else:
        exported = write(tmp_path / f"rich.{fmt}", export_questions(list(original.values()), fmt))

    report = import_file(exported, tmp_path / "dst", "fresh", fmt)

    assert report.problems == ()
    copied = questions(tmp_path / "dst", "fresh")
    assert {k: comparable(q) for k, q in copied.items()} == {
        k: comparable(q) for k, q in original.items()}
    again = import_file(exported, tmp_path / "dst", "fresh", fmt)
    assert {q.status for q in again.questions} == {"unchanged"}


def test_an_anki_round_trip_keeps_title_answer_and_tags(tmp_path: Path) -> None:
    make_pack(tmp_path / "src")
    original = questions(tmp_path / "src", "rich")
    exported = write(tmp_path / "rich.txt", export_questions(list(original.values()), "anki"))

    report = import_file(exported, tmp_path / "dst", "fresh", "anki")

    assert report.problems == ()
    copied = {q.title: q for q in questions(tmp_path / "dst", "fresh").values()}
    assert {(q.title, q.answer, q.tags) for q in copied.values()} == {
        (q.title, q.answer, q.tags) for q in original.values()}


def test_the_anki_export_has_its_headers_one_note_per_line_and_escaped_titles(
    tmp_path: Path,
) -> None:
    make_pack(tmp_path / "src")
    text = export_questions(list(questions(tmp_path / "src", "rich").values()), "anki")

    lines = text.splitlines()
    assert lines[:3] == ["#separator:tab", "#html:true", "#tags column:3"]
    assert len(lines) == 5
    assert lines[4].startswith("什么是 KV Cache？&lt;b&gt; &amp; &quot;")
    assert lines[4].endswith("\tinference attention")
    assert "Short answer" not in text


def test_the_csv_export_has_the_english_columns_and_one_key_point_per_line(
    tmp_path: Path,
) -> None:
    make_pack(tmp_path / "src")
    text = export_questions(list(questions(tmp_path / "src", "rich").values()), "csv")

    assert text.splitlines()[0] == (
        "question,answer,tags,question_en,answer_en,key_points,key_points_en,difficulty,id,source")
    assert '"缓存 K 和 V\n用显存换时间, 逗号; 分号"' in text


def test_export_command_writes_stdout_or_a_file_and_rejects_an_unknown_pack(
    tmp_path: Path,
) -> None:
    make_pack(tmp_path / "src")
    out, err = io.StringIO(), io.StringIO()

    assert cmd_export(tmp_path / "src", "rich", "jsonl", None, out, err) == 0
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [
        "plain-two", "rich-one"]

    target = tmp_path / "out.tsv"
    assert cmd_export(tmp_path / "src", "rich", "tsv", target, io.StringIO(), err) == 0
    assert target.read_text(encoding="utf-8").startswith("question\tanswer\t")
    assert "wrote 2 questions of pack 'rich'" in err.getvalue()

    err = io.StringIO()
    assert cmd_export(tmp_path / "src", "nope", "csv", None, io.StringIO(), err) == 1
    assert err.getvalue().strip() == f"error: no pack 'nope' in {tmp_path / 'src'} (packs: rich)"


# --- format detection and the import command ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("q.csv", "question,answer\n", "csv"),
        ("q.TSV", "question\tanswer\n", "tsv"),
        ("q.jsonl", "{}\n", "jsonl"),
        ("q.md", "---\n", "markdown"),
        ("deck.txt", "#separator:tab\n#html:true\na\tb\n", "anki"),
        ("old-deck.txt", "front\tback\n", "anki"),
        ("seed.txt", "题集\n\n1、问题\n答案\n", "seed"),
        ("table.txt", "Question,Answer,Tags\n", "csv"),
        ("lines.txt", '{"question": "q"}\n', "jsonl"),
        ("article.txt", "没有编号的文章\n", "seed"),
    ],
)
def test_auto_detection_uses_the_extension_then_the_content(
    tmp_path: Path, name: str, text: str, fmt: str
) -> None:
    assert detect_format(write(tmp_path / name, text)) == fmt


def test_a_folder_is_read_as_markdown(tmp_path: Path) -> None:
    assert detect_format(make_pack(tmp_path)) == "markdown"


def test_import_command_lists_each_question_with_its_status(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "q.csv", f"{HEADER}\n问题一,答案一,a,1\n")
    out = io.StringIO()

    assert cmd_import(csv_file, tmp_path / "c", "demo", False, True, out) == 0
    assert out.getvalue().splitlines() == [
        f"would write {tmp_path / 'c' / 'packs' / 'demo' / 'pack.toml'}",
        f"new        {question_id('demo', '问题一')}  问题一",
        "1 new, 0 changed, 0 unchanged; 1 to write (dry run: nothing was written)",
    ]


def test_import_command_says_nothing_was_written_after_errors(tmp_path: Path) -> None:
    jsonl = write(tmp_path / "q.jsonl", '{"question": "问"}\n')
    out = io.StringIO()

    assert cmd_import(jsonl, tmp_path / "c", "demo", False, False, out) == 1

    assert out.getvalue().splitlines() == [
        f"error: {jsonl}:1: the answer is empty",
        f"nothing was written (1 problem in {jsonl}, read as jsonl)",
    ]


def test_a_non_markdown_format_refuses_a_folder(tmp_path: Path) -> None:
    report = import_file(make_pack(tmp_path / "src"), tmp_path / "c", "demo", "csv")

    assert "only --format markdown reads folders" in report.problems[0].message
