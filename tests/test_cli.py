"""The `studybot` command's content and db subcommands, called as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage.sql import HEAD
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STUDYBOT_CONFIG", "")
    monkeypatch.setenv("STUDYBOT_CONTENT", str(REPO / "content"))
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")


def test_content_check_passes_on_the_shipped_bank(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")


def test_content_check_prints_file_and_line_and_exits_1_on_a_broken_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "mine" / "packs" / "p"
    pack.mkdir(parents=True)
    (pack / "pack.toml").write_text('id = "p"\ntitle = "P"\nlanguage = "zh"\n', encoding="utf-8")
    (pack / "q-one.md").write_text(
        "---\nid: q-one\ntitle: 问题\ntags: [attention]\ndifficulty: 7\nsource: ours\n---\n答案\n",
        encoding="utf-8")
    assert main(["content", "check", str(tmp_path / "mine")]) == 1
    out = capsys.readouterr().out
    assert f"{pack / 'q-one.md'}:5:" in out and "difficulty" in out


def test_content_list_json_lists_every_shipped_question(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["content", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) >= 36
    assert {"seed13-domain-vocab-expansion", "kv-cache"} <= {q["id"] for q in listed}
    assert all(q["has_english"] for q in listed)


def test_content_import_writes_a_pack_and_a_second_run_skips_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDYBOT_CONTENT", str(tmp_path / "content"))
    document = REPO / "tests" / "fixtures" / "content" / "seed-sample.txt"
    assert main(["content", "import", str(document), "--pack", "sample"]) == 0
    first = capsys.readouterr().out
    assert main(["content", "import", str(document), "--pack", "sample"]) == 0
    second = capsys.readouterr().out
    assert "4 written, 0 skipped" in first and "0 written, 4 skipped" in second
    assert main(["content", "check", str(tmp_path / "content")]) == 0


def test_db_migrate_reports_the_schema_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "migrate"]) == 0
    assert f"empty -> {HEAD}" in capsys.readouterr().out
    assert main(["db", "migrate"]) == 0
    assert f"{HEAD} -> {HEAD}" in capsys.readouterr().out


def test_an_unsupported_database_url_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", "mysql://user:hunter2secret@db/bot")
    assert main(["db", "migrate"]) == 1
    err = capsys.readouterr().err
    assert "unsupported database 'mysql'" in err and "hunter2secret" not in err


def test_content_export_then_import_with_auto_format_copies_a_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = REPO / "tests" / "fixtures" / "content" / "valid"
    monkeypatch.setenv("STUDYBOT_CONTENT", str(source))
    exported = tmp_path / "demo.jsonl"
    assert main(["content", "export", "demo", "-o", str(exported)]) == 0
    monkeypatch.setenv("STUDYBOT_CONTENT", str(tmp_path / "copy"))

    assert main(["content", "import", str(exported), "--pack", "copy", "--dry-run"]) == 0
    assert "2 new, 0 changed, 0 unchanged; 2 to write (dry run" in capsys.readouterr().out
    assert not (tmp_path / "copy").exists()
    assert main(["content", "import", str(exported), "--pack", "copy"]) == 0
    assert main(["content", "import", str(exported), "--pack", "copy", "--format", "jsonl"]) == 0
    assert "0 new, 0 changed, 2 unchanged; 0 written" in capsys.readouterr().out
    assert main(["content", "check", str(tmp_path / "copy")]) == 0


def test_content_export_to_stdout_needs_a_format(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDYBOT_CONTENT", str(REPO / "tests" / "fixtures" / "content" / "valid"))

    assert main(["content", "export", "demo"]) == 2
    assert "give --format" in capsys.readouterr().err
    assert main(["content", "export", "demo", "--format", "anki"]) == 0
    assert capsys.readouterr().out.startswith("#separator:tab\n#html:true\n#tags column:3\n")


def test_content_import_of_a_bad_csv_exits_1_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDYBOT_CONTENT", str(tmp_path / "content"))
    table = tmp_path / "q.csv"
    table.write_text("question,answer,difficulty\n好问题,好答案,1\n坏问题,坏答案,hard\n",
                     encoding="utf-8")

    assert main(["content", "import", str(table), "--pack", "mine"]) == 1
    out = capsys.readouterr().out
    assert f"error: {table}:3: difficulty: must be 1, 2 or 3, not 'hard'" in out
    assert not (tmp_path / "content").exists()


def test_content_stats_json_counts_the_shipped_bank(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["total"] >= 36 and stats["packs"]["default"] == stats["total"]
    assert sum(stats["difficulty"].values()) == stats["total"]
    assert len(stats["longest_answers"]["zh"]) == 10


def test_content_stats_of_a_given_folder_prints_a_text_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["content", "stats", str(REPO / "tests" / "fixtures" / "content" / "valid")]) == 0
    assert capsys.readouterr().out.startswith("2 questions in 1 pack\n")
