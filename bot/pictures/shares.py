"""A week's questions as stacked bars of knew / partly / not-yet shares, PNG bytes; the hardest
question's bar is outlined. Drawn like the heatmap: matplotlib on first use, one at a time."""

from __future__ import annotations

from dataclasses import dataclass

from bot.pictures.canvas import DRAWING, INK, MUTED, figure, font, legend, png

WIDTH = 640
LEFT, RIGHT, TOP, BOTTOM = 96, 24, 56, 44
ROW = 34  # pixels per question
COLOURS = ("#2da44e", "#d4a72c", "#cf222e")  # knew, partly, not yet
TRACK = "#ebedf0"


@dataclass(frozen=True, slots=True)
class WeekShares:
    """What to draw; every label already in the reader's language."""

    title: str
    rows: tuple[tuple[str, int, int, int], ...]  # (date label, knew %, partly %, not yet %)
    legend: tuple[str, str, str]  # knew, partly, not yet
    hardest: int | None = None  # the row to outline


def size(rows: int) -> tuple[int, int]:
    return WIDTH, TOP + max(1, rows) * ROW + BOTTOM


def draw(week: WeekShares) -> bytes:
    """The bars as a PNG of `size(len(week.rows))` pixels."""
    with DRAWING:
        return _draw(week)


def _draw(week: WeekShares) -> bytes:
    from matplotlib.patches import Rectangle

    width, height = size(len(week.rows))
    drawn = figure(width, height)
    rows = max(1, len(week.rows))
    axes = drawn.add_axes((LEFT / width, BOTTOM / height, (width - LEFT - RIGHT) / width,
                           rows * ROW / height))
    axes.set_xlim(0, 100)
    axes.set_ylim(rows, 0)
    axes.axis("off")
    for row, (label, *percents) in enumerate(week.rows):
        # A grey track under each bar, so a question nobody graded still shows its row.
        axes.add_patch(Rectangle((0, row + 0.18), 100, 0.64, facecolor=TRACK, edgecolor="none"))
        left = 0
        for colour, share in zip(COLOURS, percents, strict=True):
            if share:
                axes.add_patch(Rectangle((left, row + 0.18), share, 0.64, facecolor=colour,
                                         edgecolor="white", linewidth=1))
            left += share
        if row == week.hardest:
            axes.add_patch(Rectangle((0, row + 0.14), 100, 0.72, fill=False, edgecolor=INK,
                                     linewidth=1.5))
        axes.text(-2, row + 0.5, label, fontproperties=font(10), color=MUTED, ha="right",
                  va="center")
    drawn.text(LEFT / width, 1 - 16 / height, week.title, fontproperties=font(14), color=INK,
               ha="left", va="top")
    legend(drawn, tuple(zip(COLOURS, week.legend, strict=True)), width, height, RIGHT)
    return png(drawn)
