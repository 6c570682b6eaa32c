"""A calendar heatmap of study days as PNG bytes: weeks as columns, weekdays as rows.

matplotlib is imported on the first draw, not at import, so the bot starts without it; drawing
uses the object API (no pyplot state) and one draw at a time, since matplotlib's font cache is
shared. Callers run `draw` in a worker thread so a picture never blocks the event loop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.pictures.canvas import DRAWING, FONT, INK, MUTED, figure, font, legend, png

__all__ = ["FONT", "Heatmap", "draw", "size"]

CELL = 26  # pixels per day square, gap included
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 96, 44
STUDIED = "#2da44e"
IDLE = "#ebedf0"


@dataclass(frozen=True, slots=True)
class Heatmap:
    """What to draw; every label already in the reader's language."""

    start: dt.date  # a Monday: the first column's first row
    today: dt.date  # the last day shown; later days of its week stay blank
    days: frozenset[dt.date]  # the days studied
    title: str
    subtitle: str  # the numbers: streaks, days this month
    weekdays: tuple[str, ...]  # seven labels, Monday first; "" leaves a row unlabelled
    months: tuple[tuple[int, str], ...]  # (column, label) where a month starts
    legend: tuple[str, str]  # studied, not studied

    @property
    def weeks(self) -> int:
        return (self.today - self.start).days // 7 + 1


def size(weeks: int) -> tuple[int, int]:
    """The picture's width and height in pixels for a number of weeks."""
    return LEFT + weeks * CELL + RIGHT, TOP + 7 * CELL + BOTTOM


def draw(heatmap: Heatmap) -> bytes:
    """The heatmap as a PNG of `size(heatmap.weeks)` pixels."""
    with DRAWING:
        return _draw(heatmap)


def _draw(h: Heatmap) -> bytes:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    width, height = size(h.weeks)
    drawn = figure(width, height)
    grid_w, grid_h = h.weeks * CELL, 7 * CELL
    axes = drawn.add_axes((LEFT / width, BOTTOM / height, grid_w / width, grid_h / height))
    axes.set_xlim(0, h.weeks)
    axes.set_ylim(7, 0)  # Monday on top
    axes.axis("off")

    squares, colours = [], []
    today_square = None
    for offset in range((h.today - h.start).days + 1):
        day = h.start + dt.timedelta(days=offset)
        column, row = divmod(offset, 7)
        squares.append(Rectangle((column + 0.08, row + 0.08), 0.84, 0.84))
        colours.append(STUDIED if day in h.days else IDLE)
        if day == h.today:
            today_square = (column + 0.08, row + 0.08)
    axes.add_collection(PatchCollection(squares, facecolors=colours, edgecolors="none"))
    if today_square is not None:
        axes.add_patch(Rectangle(today_square, 0.84, 0.84, fill=False, edgecolor=INK,
                                 linewidth=1.5))

    for column, label in h.months:
        axes.text(column + 0.1, -0.35, label, fontproperties=font(9), color=MUTED,
                  ha="left", va="bottom")
    for row, label in enumerate(h.weekdays):
        if label:
            axes.text(-0.3, row + 0.5, label, fontproperties=font(9), color=MUTED,
                      ha="right", va="center")
    drawn.text(LEFT / width, 1 - 16 / height, h.title, fontproperties=font(15), color=INK,
               ha="left", va="top")
    drawn.text(LEFT / width, 1 - 46 / height, h.subtitle, fontproperties=font(11), color=INK,
               ha="left", va="top")
    legend(drawn, tuple(zip((STUDIED, IDLE), h.legend, strict=True)), width, height, RIGHT)
    return png(drawn)
