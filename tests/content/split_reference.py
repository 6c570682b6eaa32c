"""The splitter as it was before it summed per-block steps: it renders the whole chunk again for
every block it tries to add. Kept as the reference the linear one must agree with (tests) and be
timed against (bench/render_answer.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.text import Block, Span, _cut_point

Measure = Callable[[Sequence[Block]], int]


def split_rerendering(blocks: Sequence[Block], measure: Measure, limit: int) -> list[list[Block]]:
    chunks: list[list[Block]] = []
    current: list[Block] = []
    for block in blocks:
        for piece in _fit(block, measure, limit):
            if current and measure([*current, piece]) > limit:
                chunks.append(current)
                current = []
            current.append(piece)
    if current:
        chunks.append(current)
    return chunks


def _fit(block: Block, measure: Measure, limit: int) -> list[Block]:
    if measure([block]) <= limit:
        return [block]
    text = block.plain
    mid = _cut_point(text)
    style = block.spans[0] if block.spans else Span("")

    def make(part: str) -> Block:
        return Block(block.kind, (Span(part, style.bold, style.italic, style.code),),
                     block.number, block.level, block.language)

    return [*_fit(make(text[:mid]), measure, limit), *_fit(make(text[mid:]), measure, limit)]
