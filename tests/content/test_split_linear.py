"""Splitting a long answer into messages sums per-block sizes, and cuts exactly where re-rendering
the whole chunk for every block did, for every answer shipped in content/."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from bot.adapters.discord import render as discord
from bot.adapters.telegram import render as telegram
from bot.content.packs import load_bank
from bot.core.text import (
    Block,
    Span,
    Step,
    parse_markdown,
    plain_step,
    plain_text,
    split_blocks,
)
from tests.content.split_reference import split_rerendering

CONTENT = Path(__file__).resolve().parents[2] / "content"


def _answers() -> list[tuple[str, tuple[Block, ...]]]:
    bank, _ = load_bank(CONTENT)
    out = []
    for question in bank.questions:
        for language in ("zh", "en"):
            _, answer, key_points = question.localized(language)
            blocks = (*parse_markdown(answer), *(Block("bullet", (Span(p),))
                                                 for p in key_points))
            out.append((f"{question.id}/{language}", blocks))
    return out


ANSWERS = _answers()

# The whole-chunk measures the renderers used before, each beside its step.
RENDERERS: dict[str, tuple[Callable[[Sequence[Block]], int], Step]] = {
    "telegram": (lambda bs: telegram.utf16_len(html.unescape(
        telegram._strip_tags(telegram.render_blocks(bs)))), telegram._visible_step),
    "discord": (lambda bs: len(discord.render_blocks(bs)), discord._step),
    "plain": (lambda bs: len(plain_text(bs)), plain_step),
}


def test_the_shipped_content_has_answers_to_split() -> None:
    assert len(ANSWERS) > 100


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize("limit", [256, 700, 2000, 4096])
def test_every_shipped_answer_is_cut_where_rerendering_cut_it(renderer: str, limit: int) -> None:
    measure, step = RENDERERS[renderer]
    differing = [name for name, blocks in ANSWERS
                 if split_blocks(blocks, step, limit) != split_rerendering(blocks, measure, limit)]
    assert differing == []


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_a_chunks_summed_steps_are_its_rendered_size(renderer: str) -> None:
    measure, step = RENDERERS[renderer]
    for _, blocks in ANSWERS:
        for chunk in split_blocks(blocks, step, 700):
            state, total = None, 0
            for block in chunk:
                state, grown = step(state, block)
                total += grown
            assert total == measure(chunk) <= 700


def test_the_counted_text_of_every_shipped_block_is_what_telegram_shows_of_its_html() -> None:
    differing = [(name, block) for name, blocks in ANSWERS for block in blocks
                 if telegram._shown(block) != telegram.visible_text(telegram._block(block))]
    assert differing == []
