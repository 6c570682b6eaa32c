"""Splitting the longest shipped answer into Telegram messages, before and after, in one process.

    .venv/bin/python bench/render_answer.py [ROUNDS]

Takes the longest answer in content/ (in characters) and the one with the most blocks, and
times, per call (best of ROUNDS, median too): `split_blocks` as the renderers call it now (one
step per block), the splitter that re-rendered the chunk for every block
(tests/content/split_reference.py), the whole Telegram render of the answer message, and as the
anchor markdown-it parsing the same answer (the bare library the answers go through anyway).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import html
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from markdown_it import MarkdownIt  # noqa: E402

from bot.adapters.telegram import render as telegram  # noqa: E402
from bot.content.packs import load_bank  # noqa: E402
from bot.core.messages import OutgoingMessage  # noqa: E402
from bot.core.text import parse_markdown, split_blocks  # noqa: E402
from tests.content.split_reference import split_rerendering  # noqa: E402


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Best and median milliseconds per call."""
    times = []
    for _ in range(rounds):
        begun = time.perf_counter()
        call()
        times.append((time.perf_counter() - begun) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    bank, _ = load_bank(REPO / "content")
    answers = [(q.id, language, q.localized(language)[1]) for q in bank.questions
               for language in ("zh", "en")]
    longest = max(answers, key=lambda a: len(a[2]))
    most_blocks = max(answers, key=lambda a: len(parse_markdown(a[2])))
    for qid, language, answer in dict.fromkeys((longest, most_blocks)):
        one(qid, language, answer, rounds)


def one(qid: str, language: str, answer: str, rounds: int) -> None:
    blocks = parse_markdown(answer)
    limit = telegram.MAX_TEXT
    visible = lambda bs: telegram.utf16_len(  # noqa: E731
        html.unescape(telegram._strip_tags(telegram.render_blocks(bs))))
    chunks = split_blocks(blocks, telegram._visible_step, limit)
    assert chunks == split_rerendering(blocks, visible, limit)
    bare = MarkdownIt("commonmark")
    anchor = timed(lambda: bare.parse(answer), rounds)
    now = timed(lambda: split_blocks(blocks, telegram._visible_step, limit), rounds)
    before = timed(lambda: split_rerendering(blocks, visible, limit), rounds)
    whole = timed(lambda: telegram.render(OutgoingMessage(title=qid, blocks=blocks)), rounds)
    print(f"longest answer: {qid} ({language}), {len(answer)} characters, {len(blocks)} blocks, "
          f"{len(chunks)} message(s)")
    for name, (best, median) in (("split_blocks, one step per block", now),
                                 ("split, re-rendering per block (before)", before),
                                 ("whole Telegram render of the answer", whole),
                                 ("anchor: markdown-it parse of the answer", anchor)):
        print(f"{name:41} best {best:6.3f} ms  median {median:6.3f} ms  "
              f"({median / anchor[1]:.2f}× the anchor)")


if __name__ == "__main__":
    main()
