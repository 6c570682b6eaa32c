"""What every picture shares: the bundled font, a white figure of an exact pixel size, PNG out,
and one draw at a time. matplotlib is imported inside these functions, on the first draw."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

# The bundled subset of Noto Sans CJK SC (see fonts/OFL.txt): it holds ASCII, the catalog's
# characters and Babel's month and weekday names, so labels never fall back to boxes.
FONT = Path(__file__).with_name("fonts") / "StudybotCJKSubset-Regular.otf"
DPI = 100
INK = "#1f2328"
MUTED = "#59636e"

# matplotlib's font cache is shared by every figure: pictures are drawn one at a time.
DRAWING = threading.Lock()


def font(points: float) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=FONT, size=points)


def figure(width: int, height: int) -> Figure:
    """A white figure of exactly width × height pixels, on the Agg canvas (no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    made = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(made)
    return made


def png(drawn: Figure) -> bytes:
    out = io.BytesIO()
    drawn.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()


def legend(drawn: Figure, items: tuple[tuple[str, str], ...], width: int, height: int,
           right: int) -> None:
    """Coloured squares with their words, right-aligned along the bottom edge."""
    from matplotlib.patches import Rectangle

    x = 1 - right / width
    y = 14 / height
    for colour, label in reversed(items):
        text = drawn.text(x, y, label, fontproperties=font(9), color=MUTED, ha="right",
                          va="center")
        x -= (text.get_window_extent().width + 6) / width
        drawn.patches.append(Rectangle((x - 12 / width, y - 6 / height), 12 / width,
                                       12 / height, transform=drawn.transFigure, figure=drawn,
                                       facecolor=colour, edgecolor="none"))
        x -= 28 / width
