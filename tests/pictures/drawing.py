"""Drawing a picture the way a test checks it: no glyph may be missing from the font."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import TypeVar

import numpy as np

Spec = TypeVar("Spec")


def draw_cleanly(draw: Callable[[Spec], bytes], spec: Spec) -> np.ndarray:
    """The picture as an array of pixels; fails if any character fell back to a box."""
    from matplotlib.image import imread

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw(spec)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing
    return imread(io.BytesIO(png), format="png")
