"""The heatmap picture: its size, and Chinese labels drawn with real glyphs, never boxes."""

from __future__ import annotations

import datetime as dt
import io
import warnings

import numpy as np
import pytest
from babel.dates import format_date, get_day_names
from fontTools.ttLib import TTFont

from bot.core.i18n import LANGUAGES, t
from bot.core.progress import ProgressService
from bot.pictures import heatmap
from tests.fakes import FakeBank, FakeClock
from tests.pictures.drawing import draw_cleanly

TODAY = dt.date(2026, 3, 20)
KNOWN_CHINESE = "学习日历最近周一三五没学了当前连续最长本月累计天"
MISSING = "龘"  # a real character the bundled subset does not carry: drawn as the box


def glyph(text: str) -> np.ndarray:
    """`text` drawn alone in the bundled font, as a grey-level bitmap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    figure = Figure(figsize=(0.6, 0.6), dpi=100)
    canvas = FigureCanvasAgg(figure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing glyph warns; that is the point
        figure.text(0.5, 0.5, text, fontproperties=FontProperties(fname=heatmap.FONT, size=28),
                    ha="center", va="center")
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0].copy()


def labels(lang: str) -> heatmap.Heatmap:
    service = ProgressService(store=None, bank=FakeBank([]),  # type: ignore[arg-type]
                              clock=FakeClock(dt.datetime(2026, 3, 20, tzinfo=dt.UTC)))
    numbers = " · ".join((t(lang, "stats_streaks", current=t(lang, "stats_days", n=3),
                            longest=t(lang, "stats_days", n=12)),
                          t(lang, "stats_month", month=t(lang, "stats_days", n=1),
                            total=t(lang, "stats_days", n=40))))
    days = {TODAY - dt.timedelta(days=n) for n in (0, 1, 2, 9, 30, 100)}
    return service.calendar(days, TODAY, 52, lang, numbers)


def test_the_font_holds_no_box_where_a_known_chinese_string_is_drawn() -> None:
    box = glyph(MISSING)
    assert (box < 128).any(), "the missing glyph should draw the font's box"
    for char in KNOWN_CHINESE:
        drawn = glyph(char)
        assert (drawn < 128).sum() > 20, f"{char!r} drew nothing"
        assert not np.array_equal(drawn, box), f"{char!r} fell back to the box"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_character_the_picture_labels_use_is_in_the_bundled_font(lang: str) -> None:
    spec = labels(lang)
    text = "".join((spec.title, spec.subtitle, *spec.weekdays, *spec.legend,
                    *(label for _, label in spec.months)))
    # Every month's and weekday's name, not only those this window shows.
    text += "".join(format_date(dt.date(2026, m, 1), "MMM", locale=lang) for m in range(1, 13))
    text += "".join(get_day_names("abbreviated", locale=lang).values())
    covered = TTFont(heatmap.FONT).getBestCmap()
    missing = sorted({ch for ch in text if ord(ch) not in covered and not ch.isspace()})
    assert not missing, f"run python -m bot.pictures.subset_font; missing {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_drawing_in_either_language_never_falls_back_to_a_missing_glyph(lang: str) -> None:
    image = draw_cleanly(heatmap.draw, labels(lang))
    width, height = heatmap.size(52)
    assert image.shape[:2] == (height, width)


def test_the_picture_marks_studied_days_in_green_and_others_in_grey() -> None:
    from matplotlib.image import imread

    spec = labels("en")
    image = (imread(io.BytesIO(heatmap.draw(spec)), format="png")[..., :3] * 255).round()

    def colour_at(day: dt.date) -> tuple[int, ...]:
        column, row = divmod((day - spec.start).days, 7)
        x = heatmap.LEFT + int((column + 0.5) * heatmap.CELL)
        y = heatmap.TOP + int((row + 0.5) * heatmap.CELL)
        return tuple(int(v) for v in image[y, x])

    green = tuple(int(heatmap.STUDIED[i:i + 2], 16) for i in (1, 3, 5))
    grey = tuple(int(heatmap.IDLE[i:i + 2], 16) for i in (1, 3, 5))
    assert colour_at(TODAY - dt.timedelta(days=9)) == green
    assert colour_at(TODAY - dt.timedelta(days=8)) == grey
