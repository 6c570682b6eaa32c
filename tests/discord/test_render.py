"""Neutral messages in, Discord embeds and buttons out: markup, escaping and Discord's limits."""

from __future__ import annotations

import re

import discord

from bot.adapters.discord import render as r
from bot.core.messages import Button, OutgoingMessage
from bot.core.text import Block, Span, paragraph, parse_markdown


def daily() -> OutgoingMessage:
    return OutgoingMessage(
        title="📘 每日一题 · 2026-03-02",
        blocks=(paragraph("什么是 KV cache？", bold=True),
                paragraph("标签：inference · 难度：★★☆")),
        buttons=((Button("👀 查看答案", "r12_AAAAAAAAAAA"),),
                 (Button("✅ 会了", "k12_AAAAAAAAAAA"), Button("🟡 部分会", "p12_AAAAAAAAAAA"),
                  Button("❌ 还不会", "n12_AAAAAAAAAAA"))))


def descriptions(parts: list[r.DiscordMessage]) -> str:
    return "\n".join(e.description or "" for part in parts for e in part.embeds)


def assert_within_limits(parts: list[r.DiscordMessage]) -> None:
    for part in parts:
        assert 1 <= len(part.embeds) <= r.EMBEDS_PER_MESSAGE
        assert r.embed_total(part.embeds) <= r.MESSAGE_EMBED_TOTAL
        for embed in part.embeds:
            assert len(embed.description or "") <= r.DESCRIPTION_LIMIT
            assert len(embed.title or "") <= r.TITLE_LIMIT
            assert embed.title or embed.description


async def test_a_daily_question_becomes_one_embed_with_a_reveal_row_and_a_grade_row() -> None:
    [part] = r.render(daily())
    [embed] = part.embeds
    assert embed.title == "📘 每日一题 · 2026-03-02"
    assert embed.description == "**什么是 KV cache？**\n\n标签：inference · 难度：★★☆"
    view = part.view()
    assert view is not None and view.timeout is None  # persistent: survives restarts
    rows = view.to_components()
    assert [len(row["components"]) for row in rows] == [1, 3]
    reveal = rows[0]["components"][0]
    assert reveal["custom_id"] == "sb:r12_AAAAAAAAAAA" and reveal["label"] == "👀 查看答案"
    assert reveal["style"] == discord.ButtonStyle.primary.value
    assert rows[1]["components"][0]["custom_id"] == "sb:k12_AAAAAAAAAAA"


def test_markdown_characters_in_plain_text_are_escaped() -> None:
    text = "a*b*c _d_ ~~e~~ |f| `g` [h](http://x.y) 1. not a list"
    out = r.render_blocks([paragraph(text)])
    for raw in ("*b*", "_d_", "~~e~~", "|f|", "`g`"):
        assert raw not in out
    assert out.startswith(r"a\*b\*c \_d\_ \~\~e\~\~ \|f\| \`g\`")
    assert r.render_blocks([paragraph("1. not a list")]) == r"1\. not a list"
    assert r.render_blocks([paragraph("# not a heading")]) == r"\# not a heading"
    assert r.render_blocks([paragraph("> not a quote")]).startswith("\\>")


def test_bold_italic_and_code_spans_are_marked_up_and_code_is_left_unescaped() -> None:
    block = Block("paragraph", (Span("plain "), Span("bold", bold=True), Span(" "),
                                Span("it", italic=True), Span(" "),
                                Span("both", bold=True, italic=True), Span(" "),
                                Span("a_b*c", code=True)))
    assert r.render_blocks([block]) == "plain **bold** *it* ***both*** `a_b*c`"


def test_markers_hug_the_text_so_discord_applies_them() -> None:
    block = Block("paragraph", (Span("x"), Span(" bold ", bold=True), Span("y")))
    assert r.render_blocks([block]) == "x **bold** y"


def test_backticks_inside_code_cannot_close_the_code_span_or_block() -> None:
    assert r.code_span("a`b") == "`` a`b ``"
    span = r.code_span("a``b")
    assert span.startswith("`` ") and span.endswith(" ``") and "``" not in span[3:-3]
    block = r.code_block("x = '```'\ny = 1", "python")
    assert block.startswith("```python\n") and block.endswith("\n```")
    assert block[3:-3].count("```") == 0
    assert r.code_block("x", "bad lang`") == "```\nx\n```"  # nothing can break out of the fence


def test_headings_become_bold_lines_and_lists_keep_their_markers_and_numbers() -> None:
    blocks = parse_markdown("## Why *it* works\n\n- one\n- two\n  - deeper\n\n3. third\n4. fourth")
    assert r.render_blocks(blocks) == (
        "**Why it works**\n\n- one\n- two\n  - deeper\n\n3. third\n4. fourth")


def test_a_code_block_keeps_its_language_and_its_text_verbatim() -> None:
    blocks = parse_markdown("```python\nx = a_b * c  # *not* italic\n```")
    assert r.render_blocks(blocks) == "```python\nx = a_b * c  # *not* italic\n```"


def test_a_long_answer_is_split_over_embeds_and_messages_within_discord_limits() -> None:
    paragraphs = [f"第 {i} 段：" + "注意力机制把查询和键做点积。" * 40 for i in range(60)]
    message = OutgoingMessage(title="答案：很长的题目",
                              blocks=tuple(paragraph(p) for p in paragraphs),
                              buttons=daily().buttons[1:], footer="footer text")
    parts = r.render(message)
    assert len(parts) > 1
    assert_within_limits(parts)
    text = descriptions(parts)
    for i in range(60):
        assert f"第 {i} 段：" in text  # nothing lost, order kept
    assert text.index("第 10 段") < text.index("第 50 段")
    assert parts[0].embeds[0].title == "答案：很长的题目"
    assert all(e.title is None for part in parts for e in part.embeds[1:])
    assert [bool(p.buttons) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].embeds[-1].footer.text == "footer text"


def test_one_paragraph_longer_than_an_embed_is_cut_without_losing_text() -> None:
    words = " ".join(f"w{i}" for i in range(3000))  # ~17 000 characters, no block boundary
    parts = r.render(OutgoingMessage(blocks=(paragraph(words),)))
    assert_within_limits(parts)
    assert re.sub(r"\s+", " ", descriptions(parts)).count(" w2999") == 1


def test_rows_of_more_than_five_buttons_are_wrapped_and_labels_are_clipped_to_80() -> None:
    buttons = tuple(Button("x" * 100 if i == 0 else f"b{i}", f"k{i}_AAAAAAAAAAA") for i in range(7))
    [part] = r.render(OutgoingMessage(title="t", buttons=(buttons,)))
    view = part.view()
    assert view is not None
    rows = view.to_components()
    assert [len(row["components"]) for row in rows] == [5, 2]
    label = rows[0]["components"][0]["label"]
    assert len(label) == r.LABEL_LIMIT and label.endswith("…")


def test_button_custom_ids_fit_discord_and_unusable_payloads_are_left_out() -> None:
    buttons = ((Button("ok", "r1_AAAAAAAAAAA"), Button("bad", "has spaces!"),
                Button("long", "x" * 65)),)
    [part] = r.render(OutgoingMessage(title="t", buttons=buttons))
    view = part.view()
    assert view is not None
    ids = [c["custom_id"] for row in view.to_components() for c in row["components"]]
    assert ids == ["sb:r1_AAAAAAAAAAA"]
    assert all(len(i) <= r.CUSTOM_ID_LIMIT for i in ids)
    assert re.fullmatch(r.CUSTOM_ID_TEMPLATE, "sb:" + "A" * 64)


def test_a_title_longer_than_256_characters_is_clipped() -> None:
    [part] = r.render(OutgoingMessage(title="题" * 300, blocks=(paragraph("x"),)))
    assert len(part.embeds[0].title or "") == r.TITLE_LIMIT


def test_a_message_with_nothing_to_show_still_makes_a_valid_embed() -> None:
    [part] = r.render(OutgoingMessage())
    assert part.embeds[0].description and part.view() is None
