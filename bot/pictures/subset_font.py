"""Rebuild the bundled CJK font: `python -m bot.pictures.subset_font NotoSansCJK-Regular.ttc`.

Pictures carry Chinese labels, and neither the slim Docker image nor a pip install brings a CJK
font. A whole Noto Sans CJK face is 16 MB; the picture labels come from the catalog and Babel's
month and weekday names, so a subset of the glyphs they use (plus ASCII and common punctuation)
is about a hundredth of that and ships inside the package. The subset is renamed, as the SIL Open
Font License asks of modified fonts, so it never passes for the full Noto face.

Run it again after adding picture labels with new characters (Debian's fonts-noto-cjk has the
source collection at /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

FAMILY = "Studybot CJK Subset"
POSTSCRIPT = "StudybotCJKSubset-Regular"
TARGET = Path(__file__).with_name("fonts") / f"{POSTSCRIPT}.otf"
SIMPLIFIED_CHINESE = 2  # the face's index in Noto Sans CJK's collection
PUNCTUATION = "·—–…“”‘’•→←↑↓✓✔×°％（）：；，。、？！《》「」【】～"


def characters() -> str:
    """Every character a picture label may use."""
    from babel.dates import format_date, get_day_names

    from bot.core.i18n import _CATALOG, LANGUAGES

    chars = {chr(c) for c in range(0x20, 0x7F)} | set(PUNCTUATION)
    for entry in _CATALOG.values():  # the raw sentences, every plural form of each
        for text in entry.values():
            chars |= set("".join(text.values()) if isinstance(text, dict) else text)
    for lang in LANGUAGES:
        for month in range(1, 13):
            chars |= set(format_date(dt.date(2026, month, 1), "MMM", locale=lang))
        for names in ("abbreviated", "narrow", "short"):
            chars |= {ch for name in get_day_names(names, locale=lang).values() for ch in name}
    return "".join(sorted(ch for ch in chars if ch.isprintable() and ord(ch) < 0x10000))


def build(source: Path, target: Path = TARGET) -> int:
    """Write the subset of `source` to `target`; the number of characters it covers."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    collection = source.suffix.lower() == ".ttc"
    font = TTFont(source, fontNumber=SIMPLIFIED_CHINESE if collection else -1)
    text = characters()
    options = subset.Options()
    options.layout_features = ["kern", "liga", "locl", "palt", "vert"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True  # a visible box for a missing glyph, as tests look for it
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 4, 16):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID,
                          record.langID)
        elif record.nameID == 6:
            names.setName(POSTSCRIPT, 6, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            names.setName(f"{POSTSCRIPT};subset of Noto Sans CJK SC", 3, record.platformID,
                          record.platEncID, record.langID)
    font["CFF "].cff.fontNames = [POSTSCRIPT]
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)
    return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path,
                        help="NotoSansCJK-Regular.ttc, or NotoSansCJKsc-Regular.otf")
    args = parser.parse_args()
    count = build(args.source)
    print(f"{TARGET}: {count} characters, {TARGET.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
