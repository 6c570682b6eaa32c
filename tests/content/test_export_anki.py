"""Export to an Anki package and to a CSV for Excel, read back the way Anki and Excel would."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.content.commands import cmd_export
from bot.content.formats import import_file
from bot.content.packs import load_bank

PACK_TOML = 'id = "rich"\ntitle = "富文本题库"\nlanguage = "zh"\n'
RICH = """---
id: rich-one
title: "什么是 KV Cache？<b>"
title_en: What is a KV cache?
tags: [inference, attention]
difficulty: 2
source: ours
key_points:
  - 缓存 K 和 V
  - 用显存换时间
key_points_en:
  - Keep keys and values
---
**结论：** 解码时保存历史 token 的键和值。

1. 第一步 *斜体*
2. 第二步 `inline`

```python
def f(x):
    return x < 2  # "quote"
```

<!-- en -->
**Short answer:** keep the keys and values.
"""
PLAIN = """---
id: plain-two
title: 温度参数对采样有什么影响？
tags: [decoding]
difficulty: 1
source: ours
---
温度越低，分布越尖锐，输出越确定；温度越高，输出越多样。
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    pack = tmp_path / "content" / "packs" / "rich"
    pack.mkdir(parents=True)
    (pack / "pack.toml").write_text(PACK_TOML, encoding="utf-8")
    (pack / "rich-one.md").write_text(RICH, encoding="utf-8")
    (pack / "plain-two.md").write_text(PLAIN, encoding="utf-8")
    return tmp_path / "content"


def read_package(path: Path) -> tuple[list[str], dict[str, tuple[list[str], list[str]]]]:
    """The note type's field names, and each note's fields and tags by its Id field."""
    with zipfile.ZipFile(path) as package:
        assert "collection.anki2" in package.namelist()
        database = path.parent / "collection.anki2"
        database.write_bytes(package.read("collection.anki2"))
    with sqlite3.connect(database) as db:
        models = json.loads(db.execute("select models from col").fetchone()[0])
        rows = db.execute("select mid, flds, tags from notes").fetchall()
    [model] = models.values()
    names = [field["name"] for field in model["flds"]]
    notes = {}
    for mid, fields, tags in rows:
        assert str(mid) == str(model["id"])
        values = fields.split("\x1f")
        notes[values[names.index("Id")]] = (values, tags.split())
    return names, notes


def export(content: Path, target: Path, *args: str) -> str:
    err = io.StringIO()
    language = args[0] if args else None
    assert cmd_export(content, "rich", "apkg", target, io.StringIO(), err,
                      language=language) == 0, err.getvalue()
    return err.getvalue()


def test_an_apkg_holds_one_note_per_question_with_question_answer_key_points_and_tags(
    content: Path, tmp_path: Path
) -> None:
    target = tmp_path / "rich.apkg"
    assert "wrote 2 questions of pack 'rich'" in export(content, target)

    names, notes = read_package(target)

    assert names == ["Question", "Answer", "Key points", "Tags", "Source", "Id"]
    fields, tags = notes["rich-one"]
    assert fields[0] == "什么是 KV Cache？&lt;b&gt;"
    assert fields[2] == "<ul><li>缓存 K 和 V</li><li>用显存换时间</li></ul>"
    assert fields[3] == "inference attention"
    assert sorted(tags) == ["attention", "inference"]
    assert notes["plain-two"][0][2] == ""


def test_an_apkg_answer_keeps_its_formatting_and_code_block(content: Path, tmp_path: Path) -> None:
    target = tmp_path / "rich.apkg"
    export(content, target)

    answer = read_package(target)[1]["rich-one"][0][1]

    assert "<strong>结论：</strong>" in answer
    assert "<ol><li>第一步 <em>斜体</em></li><li>第二步 <code>inline</code></li></ol>" in answer
    assert ('<pre><code class="language-python">def f(x):<br>    return x &lt; 2  '
            "# &quot;quote&quot;</code></pre>") in answer
    assert "Short answer" not in answer


def test_an_english_apkg_uses_the_english_version_where_there_is_one(
    content: Path, tmp_path: Path
) -> None:
    target = tmp_path / "en.apkg"
    note = export(content, target, "en")

    notes = read_package(target)[1]
    assert notes["rich-one"][0][0] == "What is a KV cache?"
    assert "<strong>Short answer:</strong>" in notes["rich-one"][0][1]
    assert notes["plain-two"][0][0] == "温度参数对采样有什么影响？"
    assert "1 question without English in the pack's language" in note


def test_a_bilingual_apkg_puts_both_languages_on_one_note(content: Path, tmp_path: Path) -> None:
    target = tmp_path / "both.apkg"
    export(content, target, "both")

    names, notes = read_package(target)

    assert names[:6] == ["Question", "Answer", "Key points", "Question (English)",
                         "Answer (English)", "Key points (English)"]
    fields = notes["rich-one"][0]
    assert fields[0] == "什么是 KV Cache？&lt;b&gt;" and fields[3] == "What is a KV cache?"
    assert fields[5] == "<ul><li>Keep keys and values</li></ul>"
    assert notes["plain-two"][0][3:6] == ["", "", ""]


def test_exporting_again_gives_the_same_note_ids_so_anki_updates_instead_of_duplicating(
    content: Path, tmp_path: Path
) -> None:
    guids = []
    for name in ("one.apkg", "two.apkg"):
        export(content, tmp_path / name)
        with zipfile.ZipFile(tmp_path / name) as package:
            (tmp_path / "c.anki2").write_bytes(package.read("collection.anki2"))
        with sqlite3.connect(tmp_path / "c.anki2") as db:
            guids.append(sorted(row[0] for row in db.execute("select guid from notes")))

    assert guids[0] == guids[1]


def test_an_apkg_needs_an_output_file_and_lang_only_goes_with_apkg(content: Path) -> None:
    err = io.StringIO()
    assert cmd_export(content, "rich", "apkg", None, io.StringIO(), err) == 1
    assert err.getvalue() == "error: an Anki package is a binary file: give -o FILE.apkg\n"

    err = io.StringIO()
    assert cmd_export(content, "rich", "csv", None, io.StringIO(), err, language="en") == 1
    assert err.getvalue().startswith("error: --lang is for --format apkg")


def test_csv_export_starts_with_a_bom_for_excel_unless_told_not_to(
    content: Path, tmp_path: Path
) -> None:
    with_bom, without = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cmd_export(content, "rich", "csv", with_bom, io.StringIO(), io.StringIO()) == 0
    assert cmd_export(content, "rich", "csv", without, io.StringIO(), io.StringIO(),
                      bom=False) == 0

    assert with_bom.read_bytes().startswith(b"\xef\xbb\xbfquestion,answer,")
    assert without.read_bytes().startswith(b"question,answer,")
    report = import_file(with_bom, tmp_path / "copy", "copy", "csv")
    assert report.problems == ()
    assert {q.title for q in load_bank(tmp_path / "copy")[0].questions} == {
        "什么是 KV Cache？<b>", "温度参数对采样有什么影响？"}


def test_the_cli_exports_an_apkg_from_its_extension_and_csv_without_bom_on_request(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDYBOT_CONFIG", "")
    monkeypatch.setenv("STUDYBOT_CONTENT", str(content))

    assert main(["content", "export", "rich", "-o", str(tmp_path / "deck.apkg"),
                 "--lang", "both"]) == 0
    assert zipfile.is_zipfile(tmp_path / "deck.apkg")
    assert main(["content", "export", "rich", "-o", str(tmp_path / "x.csv"), "--no-bom"]) == 0
    assert (tmp_path / "x.csv").read_bytes().startswith(b"question,")
