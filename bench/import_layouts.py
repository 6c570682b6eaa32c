"""How well the page importer reads each layout we keep a fixture of.

For every page in tests/fixtures/content/layouts/layouts.toml: the questions a person sees in it,
how many the importer found, how many of those have exactly the right title, and the blocks it
dropped as boilerplate (expected in brackets). The shared seed document is added when present.

    .venv/bin/python bench/import_layouts.py
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.content.packs import Problem  # noqa: E402
from bot.content.seed_import import SeedDocument, read_document  # noqa: E402

LAYOUTS = ROOT / "tests" / "fixtures" / "content" / "layouts"
SEED = ROOT.parent / "shared" / "seed" / "llm-interview-questions-13.txt"
SEED_QUESTIONS = [  # read off the seed page by hand
    "领域模型词表扩增是不是有必要的?", "如何训练自己的大模型", "训练中文大模型有啥经验",
    "指令微调的好处", "预训练和微调哪个阶段注入知识的", "多轮对话任务如何微调模型",
]


def rows() -> list[tuple[str, str, int, int, int, str]]:
    manifest = tomllib.loads((LAYOUTS / "layouts.toml").read_text(encoding="utf-8"))
    pages = [(layout["layout"], LAYOUTS / layout["file"], layout["questions"],
              str(layout["boilerplate"])) for layout in manifest["layout"]]
    if SEED.is_file():
        pages.append(("the shared seed page", SEED, SEED_QUESTIONS, "?"))
    table = []
    for name, path, questions, expected in pages:
        found = _read(path)
        titles = [item.title for item in found.items]
        right = sum(1 for got, want in zip(titles, questions, strict=False) if got == want)
        dropped = found.structure.dropped_count() if found.structure else 0
        table.append((name, path.name, len(questions), len(titles), right,
                      f"{dropped} ({expected})"))
    return table


def _read(path: Path) -> SeedDocument:
    document = read_document(path, "html" if path.suffix == ".html" else "seed")
    if isinstance(document, Problem):
        raise SystemExit(str(document))  # a fixture that cannot be read is a broken checkout
    return document


def main() -> None:
    header = ("layout", "file", "in page", "found", "right", "boilerplate (expected)")
    table = [header, *[tuple(map(str, row)) for row in rows()]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if k == 0:
            print("-|-".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
