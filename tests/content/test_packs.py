from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import pytest

from bot.content.commands import cmd_list
from bot.content.packs import ContentBank, PackInfo, Problem, load_bank

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "content"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURES / "valid", root)
    return root


def test_a_valid_pack_loads_with_its_english_half_split_off(content: Path) -> None:
    bank, problems = load_bank(content)

    assert problems == []
    q = bank.get("kv-cache-basics")
    assert q is not None
    assert q.pack == "demo"
    assert q.language == "zh"
    assert q.title == "什么是 KV Cache？"
    assert q.title_en == "What is a KV cache?"
    assert q.answer.startswith("**结论：**")
    assert q.answer.endswith("- 显存随序列长度线性增长")
    assert "<!-- en -->" not in q.answer
    assert q.answer_en.startswith("**Short answer:**")
    assert q.answer_en.endswith("- Memory grows linearly with the sequence length")
    assert q.tags == ("inference", "attention")
    assert q.difficulty == 1
    assert q.key_points == ("缓存历史 token 的 K 和 V", "用显存换时间")
    assert q.key_points_en[1] == "Trades memory for speed"


def test_a_question_without_english_has_empty_english_fields(content: Path) -> None:
    bank, _ = load_bank(content)

    q = bank.get("sampling-temperature")
    assert q is not None
    assert (q.title_en, q.answer_en, q.key_points, q.key_points_en) == ("", "", (), ())
    assert q.source == "示例面试题合集(一) #3"


def test_the_bank_is_sorted_by_id_and_answers_lookups(content: Path) -> None:
    bank, _ = load_bank(content)

    assert bank.ids() == ("kv-cache-basics", "sampling-temperature")
    assert [q.id for q in bank.questions] == list(bank.ids())
    assert len(bank) == 2
    assert bank.get("no-such-question") is None
    assert bank.packs == (
        PackInfo("demo", "测试题库", "zh", "checker and loader tests", content / "packs" / "demo"),
    )


def test_the_bank_cannot_be_changed(content: Path) -> None:
    bank, _ = load_bank(content)

    with pytest.raises(dataclasses.FrozenInstanceError):
        bank.questions = ()  # type: ignore[misc]
    assert isinstance(bank.questions, tuple)


def test_a_bank_built_from_unsorted_questions_sorts_them(content: Path) -> None:
    loaded, _ = load_bank(content)

    bank = ContentBank(tuple(reversed(loaded.questions)), loaded.packs)

    assert bank.ids() == loaded.ids()


def test_a_broken_file_is_skipped_and_reported_while_the_rest_loads(content: Path) -> None:
    pack = content / "packs" / "demo"
    (pack / "broken-yaml.md").write_text("---\nid: broken-yaml\ntitle: [unclosed\n---\nbody\n")
    (pack / "not-utf8.md").write_bytes(b"---\nid: not-utf8\n\xff\xfe\n---\n")

    bank, problems = load_bank(content)

    assert bank.ids() == ("kv-cache-basics", "sampling-temperature")
    assert {p.path.name for p in problems} == {"broken-yaml.md", "not-utf8.md"}
    assert Problem(pack / "not-utf8.md", 3, "not valid UTF-8 (byte 17)") in problems


def test_a_single_pack_folder_can_be_loaded_directly(content: Path) -> None:
    bank, problems = load_bank(content / "packs" / "demo")

    assert problems == []
    assert len(bank) == 2


def test_questions_of_a_pack_without_pack_toml_are_not_served(content: Path) -> None:
    (content / "packs" / "demo" / "pack.toml").unlink()

    bank, problems = load_bank(content)

    assert len(bank) == 0
    assert [str(p) for p in problems] == [f"{content}/packs/demo/pack.toml: pack.toml is missing"]


def test_of_two_files_with_the_same_id_the_first_is_served(content: Path) -> None:
    other = content / "packs" / "other"
    other.mkdir()
    (other / "pack.toml").write_text('id = "other"\ntitle = "Other"\nlanguage = "en"\n')
    source = (content / "packs" / "demo" / "sampling-temperature.md").read_text()
    (other / "sampling-temperature.md").write_text(source.replace("温度", "Temperature"))

    bank, problems = load_bank(content)

    q = bank.get("sampling-temperature")
    assert q is not None and q.pack == "demo"
    assert len(problems) == 2


def test_a_problem_prints_as_path_line_message() -> None:
    assert str(Problem(Path("a/b.md"), 7, "bad")) == "a/b.md:7: bad"
    assert str(Problem(Path("a"), 0, "no such folder")) == "a: no such folder"


def test_a_missing_content_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    bank, problems = load_bank(tmp_path / "nowhere")

    assert len(bank) == 0
    assert [p.message for p in problems] == ["no such folder"]


def test_list_prints_a_table_with_one_row_per_question(content: Path) -> None:
    out = io.StringIO()

    assert cmd_list(content, False, out) == 0

    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["id", "pack", "difficulty", "tags", "title"]
    assert lines[1].split()[:4] == ["kv-cache-basics", "demo", "1", "inference,attention"]
    assert lines[1].endswith("什么是 KV Cache？")
    assert lines[2].startswith("sampling-temperature")
    assert len(lines) == 3


def test_list_as_json_gives_one_object_per_question(content: Path) -> None:
    out = io.StringIO()

    assert cmd_list(content, True, out) == 0

    items = json.loads(out.getvalue())
    assert items[0] == {
        "id": "kv-cache-basics",
        "pack": "demo",
        "title": "什么是 KV Cache？",
        "title_en": "What is a KV cache?",
        "tags": ["inference", "attention"],
        "difficulty": 1,
        "source": "ours",
        "has_english": True,
        "draft": False,
    }
    assert items[1]["has_english"] is False


def test_list_warns_about_problems_without_spoiling_the_json(content: Path) -> None:
    (content / "packs" / "demo" / "junk.md").write_text("no front matter\n")
    out, err = io.StringIO(), io.StringIO()

    assert cmd_list(content, True, out, err) == 0

    assert len(json.loads(out.getvalue())) == 2
    assert "1 problem" in err.getvalue()
