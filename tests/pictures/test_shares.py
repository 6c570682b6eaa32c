"""The week's bars: their size, and labels in either language drawn without a missing glyph."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from babel.dates import format_skeleton

from bot.core.i18n import LANGUAGES, t
from bot.pictures import shares
from tests.pictures.drawing import draw_cleanly


def week(lang: str) -> shares.WeekShares:
    days = [dt.date(2026, month, 28 - month) for month in range(1, 13)]  # every month's name
    return shares.WeekShares(
        title=t(lang, "stats_group_chart_title"),
        rows=tuple((format_skeleton("MMMd", day, locale=lang), 50, 25, 25) for day in days),
        legend=(t(lang, "grade_knew"), t(lang, "grade_partly"), t(lang, "grade_not_yet")),
        hardest=3)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_bars_draw_every_label_with_a_real_glyph_at_their_size(lang: str) -> None:
    width, height = shares.size(12)
    assert draw_cleanly(shares.draw, week(lang)).shape[:2] == (height, width)


def test_each_share_takes_its_colour_across_the_bar() -> None:
    from matplotlib.image import imread

    drawn = shares.WeekShares("", (("a", 50, 25, 25),), ("k", "p", "n"))
    image = (imread(io.BytesIO(shares.draw(drawn)), format="png")[..., :3] * 255).round()
    y = shares.TOP + shares.ROW // 2
    bar = shares.WIDTH - shares.LEFT - shares.RIGHT

    def colour(fraction: float) -> str:
        r, g, b = (int(v) for v in image[y, shares.LEFT + int(bar * fraction)])
        return f"#{r:02x}{g:02x}{b:02x}"

    assert [colour(0.25), colour(0.62), colour(0.88)] == list(shares.COLOURS)
