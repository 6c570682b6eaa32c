"""Pages of questions in every layout we have met, read the way a person reads them."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.content.check import check_content
from bot.content.commands import cmd_import
from bot.content.packs import Problem, load_bank
from bot.content.seed_import import SeedDocument, import_document, read_document

LAYOUTS = Path(__file__).resolve().parents[1] / "fixtures" / "content" / "layouts"
MANIFEST: list[dict[str, Any]] = tomllib.loads(
    (LAYOUTS / "layouts.toml").read_text(encoding="utf-8"))["layout"]
# Words that only occur in the fixtures' boilerplate: none may reach a question or an answer.
LEAKS = ("点赞", "收藏", "领取", "图示", "[图片]", "示意", "如何学习", "相关文章", "推荐阅读",
         "首页", "训练营", "评论", "Spring Boot", "版权", "Python 入门教程")


def read(name: str) -> SeedDocument:
    document = read_document(LAYOUTS / name, "html" if name.endswith(".html") else "seed")
    assert not isinstance(document, Problem), document
    return document


def answers(name: str) -> dict[str, str]:
    return {item.title: item.answer for item in read(name).items}


@pytest.mark.parametrize("layout", MANIFEST, ids=[layout["file"] for layout in MANIFEST])
def test_every_layout_yields_exactly_the_questions_a_person_sees(layout: dict[str, Any]) -> None:
    assert [item.title for item in read(layout["file"]).items] == layout["questions"]


@pytest.mark.parametrize("layout", MANIFEST, ids=[layout["file"] for layout in MANIFEST])
def test_every_layout_drops_and_counts_exactly_its_boilerplate_blocks(
    layout: dict[str, Any],
) -> None:
    document = read(layout["file"])

    assert document.structure is not None
    assert document.structure.dropped_count() == layout["boilerplate"]
    for item in document.items:
        assert not any(leak in item.answer or leak in item.title for leak in LEAKS), item.title


@pytest.mark.parametrize("layout", MANIFEST, ids=[layout["file"] for layout in MANIFEST])
def test_every_layout_imports_into_a_pack_the_checker_accepts_without_warnings(
    layout: dict[str, Any], tmp_path: Path
) -> None:
    report = import_document(LAYOUTS / layout["file"], tmp_path, "pack",
                             allow_empty=layout.get("allow_empty", False),
                             fmt="html" if layout["file"].endswith(".html") else "seed")

    assert report.problems == ()
    assert report.warnings == ()
    assert len(report.written) == len(layout["questions"])
    assert check_content(tmp_path) == []


def test_an_answer_s_own_list_in_the_heading_style_stays_inside_the_answer() -> None:
    found = answers("every-trap.txt")

    attention = found["什么是注意力机制?"]
    assert "计算相似度" in attention and "加权求和" in attention
    assert attention.endswith("融合了整句话中与它相关的信息。")
    # The list numbered on where the next question would be (`4.`) is the answer's, too.
    assert "温度为 0 的情形" in found["温度参数对采样有什么影响?"]


def test_numbered_section_headings_inside_an_answer_stay_in_the_answer() -> None:
    found = answers("every-trap.txt")

    assert "### 一、数据" in found["一个大模型从零训练要经过哪些环节?"]
    assert "\n\n2. 模型选择\n\n" in found["如何从零搭建一个问答模型?"]
    assert found["如何从零搭建一个问答模型?"].endswith("针对错误类型补充数据后迭代。")


def test_numbering_that_restarts_in_each_section_keeps_every_question_with_its_section(
    tmp_path: Path,
) -> None:
    report = import_document(LAYOUTS / "sections-restart.txt", tmp_path, "two")
    bank, _ = load_bank(tmp_path)

    sources = sorted(q.source for q in bank.questions)
    assert "大模型面试题汇总(基础篇 + 进阶篇) · 一、基础篇 #10" in sources
    assert "大模型面试题汇总(基础篇 + 进阶篇) · 二、进阶篇 #8" in sources
    assert len(report.written) == 18
    assert not any("进阶篇" in q.answer for q in bank.questions)


def test_a_section_heading_with_latin_words_becomes_a_tag(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# 题集\n\n## RAG 篇\n\n### 1. 什么是检索增强生成?\n\n"
                    "先检索相关文档,再让模型依据它们作答,减少幻觉。\n", encoding="utf-8")

    import_document(page, tmp_path / "c", "demo")
    [question] = load_bank(tmp_path / "c")[0].questions

    assert question.tags == ("imported", "rag")


def test_lines_inside_fenced_code_are_never_headings_or_boilerplate() -> None:
    precision = answers("md-headings.md")["混合精度训练是怎么做的?"]

    assert "```python" in precision
    assert "# 1. 先放大损失再反向" in precision
    assert precision.endswith("一般不需要损失缩放。")


def test_an_answer_label_like_a_colon_is_not_kept_as_text() -> None:
    assert all(not answer.startswith(("A:", "答:")) for answer in answers("q-colon.txt").values())
    assert all(not answer.startswith("答") for answer in answers("wenti.txt").values())


def test_a_saved_web_page_keeps_lists_code_and_tables_as_markdown() -> None:
    found = answers("page.html")

    assert "1. **不缓存**" in found["KV Cache 为什么能加速解码？"]
    assert "```python\ndef kv_cache_bytes(" in found["如何估算 KV Cache 占用的显存？"]
    assert "| GPTQ | 4 / 8 | 需要 |" in found["常见的权重量化方法有哪些？"]
    assert read("page.html").title == "大模型推理面试题：从 KV Cache 到量化"


def test_a_page_of_titles_is_refused_with_the_count_and_how_to_keep_them(tmp_path: Path) -> None:
    report = import_document(LAYOUTS / "titles-only.txt", tmp_path, "later")

    assert report.problems[-1].message == (
        "10 questions without an answer; --allow-empty keeps them as drafts (draft: true), "
        "never sent until they get one")
    assert not tmp_path.joinpath("packs").exists()


def test_allow_empty_keeps_titles_as_drafts_that_are_never_sent(tmp_path: Path) -> None:
    report = import_document(LAYOUTS / "titles-only.txt", tmp_path, "later", allow_empty=True)

    assert all(item.draft for item in report.written)
    assert "\ndraft: true\n---\n" in report.written[0].path.read_text(encoding="utf-8")
    bank, problems = load_bank(tmp_path)
    assert problems == []
    assert len(bank.drafts) == 10 and len(bank) == 0


def test_dry_run_shows_the_structure_and_every_dropped_block_and_writes_nothing(
    tmp_path: Path,
) -> None:
    out = io.StringIO()

    assert cmd_import(LAYOUTS / "every-trap.txt", tmp_path, "trap", False, True, out) == 0

    lines = out.getvalue().splitlines()
    assert lines[0].endswith("read as text: 7 questions under headings like '1.', in 2 sections")
    assert "  section 二、进阶篇 (line 78)" in lines
    assert any(line.startswith("  #3   line 49 ") and "温度参数对采样有什么影响?" in line
               for line in lines)
    assert ("dropped 13 blocks as boilerplate "
            "(footer 7, promo 2, toc 2, caption 1, image 1)") in lines
    assert any("caption  自注意力图示:" in line for line in lines)
    assert lines[-1] == "7 to write, 0 skipped (dry run: nothing was written)"
    assert list(tmp_path.iterdir()) == []


def test_an_html_page_is_detected_by_its_extension_and_reports_the_page_parts_it_left_out(
    tmp_path: Path,
) -> None:
    out = io.StringIO()

    assert cmd_import(LAYOUTS / "page.html", tmp_path, "web", False, True, out) == 0

    text = out.getvalue()
    assert "read as an HTML page: 5 questions under headings like '### 1.'" in text
    assert "dropped 19 blocks as boilerplate (page 18, footer 1)" in text
    assert "page       page     相关文章" in text


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.html", b"\x00\x01\x02", "not an HTML page that can be read"),
        ("empty.html", b"<html><body><nav><a href='/'>home</a></nav></body></html>",
         "no numbered questions found"),
        ("binary.txt", b"\xff\xfe\x00\x00", "not valid UTF-8"),
        ("prose.txt", "一篇文章\n\n没有任何编号的题目。\n".encode(), "no numbered questions found"),
    ],
)
def test_a_page_that_cannot_be_used_gets_one_clear_line(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    page = tmp_path / name
    page.write_bytes(content)
    out = io.StringIO()

    assert cmd_import(page, tmp_path / "c", "demo", False, False, out) == 1

    [line] = out.getvalue().splitlines()
    assert line.startswith(f"error: {page}") and expected in line
