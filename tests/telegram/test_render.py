"""Telegram rendering on its own: neutral message in, exact HTML and keyboard out."""

from __future__ import annotations

import pytest

from bot.adapters.telegram.render import MAX_TEXT, render, utf16_len, visible_text
from bot.core.messages import Button, OutgoingMessage
from bot.core.text import Block, Span, paragraph, parse_markdown


def test_a_question_post_renders_as_exact_html_with_its_keyboard() -> None:
    message = OutgoingMessage(
        title="每日一题 · 2026-03-02",
        blocks=(paragraph("为什么 <b> & 1 < 2？", bold=True), paragraph("tags · ★★☆")),
        buttons=((Button("查看答案", "r1_abc"),),
                 (Button("会", "k1_a"), Button("部分", "p1_b"), Button("不会", "n1_c"))),
        footer="共 3 题",
    )
    [chunk] = render(message)
    assert chunk.html == ("<b>每日一题 · 2026-03-02</b>\n\n"
                          "<b>为什么 &lt;b&gt; &amp; 1 &lt; 2？</b>\n\n"
                          "tags · ★★☆\n\n<i>共 3 题</i>")
    assert [[b.label for b in row] for row in chunk.keyboard] == [
        ["查看答案"], ["会", "部分", "不会"]]
    assert chunk.keyboard[0][0].payload == "r1_abc"


def test_markdown_blocks_become_telegram_tags() -> None:
    blocks = parse_markdown(
        "### 标题 <x>\n\n**粗** *斜* `a<b`\n\n- 一\n- 二\n\n1. 甲\n2. 乙\n\n> 引用 &\n\n"
        "```python\nprint('<&>')\n```\n")
    [chunk] = render(OutgoingMessage(blocks=blocks))
    assert chunk.html == (
        "<b>标题 &lt;x&gt;</b>\n\n<b>粗</b> <i>斜</i> <code>a&lt;b</code>\n\n• 一\n• 二\n"
        "1. 甲\n2. 乙\n\n<blockquote>引用 &amp;</blockquote>\n\n"
        "<pre><code class=\"language-python\">print('&lt;&amp;&gt;')</code></pre>")


def test_a_code_block_with_an_odd_language_name_drops_the_class() -> None:
    block = Block("code", (Span('x" onclick="y', code=True),), language='py"><b>')
    [chunk] = render(OutgoingMessage(blocks=(block,)))
    assert chunk.html == "<pre>x\" onclick=\"y</pre>"


def test_a_long_message_splits_between_blocks_and_only_the_last_chunk_has_buttons() -> None:
    blocks = tuple(paragraph(f"{i:02d} " + "字" * 995) for i in range(10))
    chunks = render(OutgoingMessage(title="答案", blocks=blocks,
                                    buttons=((Button("会", "k1_a"),),)))
    assert len(chunks) == 3
    assert all(utf16_len(visible_text(c.html)) <= MAX_TEXT for c in chunks)
    assert [c.keyboard for c in chunks[:-1]] == [(), ()] and chunks[-1].keyboard
    assert chunks[0].html.startswith("<b>答案</b>")
    joined = "\n\n".join(visible_text(c.html) for c in chunks)
    assert all(f"{i:02d} " + "字" * 995 in joined for i in range(10))


def test_one_block_longer_than_the_limit_is_cut_into_well_formed_pieces() -> None:
    huge = Block("paragraph", (Span("长句子。" * 3000, bold=True),))
    chunks = render(OutgoingMessage(blocks=(huge,)))
    assert len(chunks) >= 3
    for chunk in chunks:
        assert chunk.html.startswith("<b>") and chunk.html.endswith("</b>")
        assert chunk.html.count("<b>") == chunk.html.count("</b>")
        assert utf16_len(visible_text(chunk.html)) <= MAX_TEXT
    text = "".join(visible_text(c.html) for c in chunks)
    assert "".join(text.split()) == "长句子。" * 3000  # pieces sit a paragraph apart


def test_limits_count_utf16_units_so_emoji_count_twice() -> None:
    blocks = tuple(paragraph("😀" * 900) for _ in range(3))
    chunks = render(OutgoingMessage(blocks=blocks))
    assert len(chunks) == 2  # 5400 units of text do not fit one message, 2700 characters would


def test_an_empty_message_still_has_text_because_telegram_rejects_empty_ones() -> None:
    [chunk] = render(OutgoingMessage(buttons=((Button("x", "r1_a"),),)))
    assert chunk.html.strip() and chunk.keyboard


def test_long_button_labels_are_clipped_and_oversized_payloads_refused() -> None:
    [chunk] = render(OutgoingMessage(title="t", buttons=((Button("长" * 100, "r1_a"),),)))
    assert len(chunk.keyboard[0][0].label) == 64 and chunk.keyboard[0][0].label.endswith("…")
    with pytest.raises(ValueError, match="64 bytes"):
        render(OutgoingMessage(title="t", buttons=((Button("x", "字" * 30),),)))
