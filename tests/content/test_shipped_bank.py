"""The shipped question bank: big enough, well spread, and every answer readable on a phone."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from bot.adapters.telegram.render import MAX_TEXT, render, utf16_len, visible_text
from bot.content.packs import ContentBank, load_bank
from bot.core.actions import ActionCodec
from bot.core.models import ChatDay
from bot.core.study import StudyService
from tests.conftest import REPO
from tests.fakes import FakeClock

ALLOWED_TAGS = {
    "tokenization", "architecture", "attention", "position-encoding", "normalization",
    "pretraining", "data", "scaling", "distributed-training", "mixed-precision", "optimization",
    "fine-tuning", "peft", "alignment", "decoding", "inference", "quantization", "long-context",
    "moe", "rag", "agents", "evaluation", "hallucination", "multimodal", "chinese-llm",
    "ml-basics",
}
SEED_IDS = {"seed13-chinese-llm-training", "seed13-domain-vocab-expansion",
            "seed13-instruction-tuning-benefits", "seed13-knowledge-pretrain-vs-finetune",
            "seed13-multi-turn-dialogue-finetuning", "seed13-train-your-own-llm"}


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    loaded, problems = load_bank(REPO / "content")
    assert problems == []
    return loaded


def answer_messages(bank: ContentBank) -> list[tuple[str, str, object]]:
    service = StudyService(None, bank, FakeClock(dt.datetime(2026, 3, 2, tzinfo=dt.UTC)),  # type: ignore[arg-type]
                           ActionCodec(b"k" * 32))
    day = ChatDay(1, 1, dt.date(2026, 3, 2), "")
    out = []
    for qid in bank.ids():
        question = bank.get(qid)
        assert question is not None
        for lang in ("zh", "en"):
            out.append((qid, lang, service.answer_message(day, question, lang)))
    return out


def test_the_default_bank_has_a_year_of_questions_without_a_repeat(
    bank: ContentBank,
) -> None:
    assert len(bank) >= 365
    assert SEED_IDS <= set(bank.ids())


def test_every_tag_has_at_least_eight_questions(bank: ContentBank) -> None:
    tags: Counter[str] = Counter()
    for qid in bank.ids():
        q = bank.get(qid)
        assert q is not None
        tags.update(q.tags)
    assert set(tags) == ALLOWED_TAGS
    assert all(n >= 8 for n in tags.values()), {t: n for t, n in tags.items() if n < 8}


def test_basic_questions_are_quick_recaps_that_read_in_under_a_minute(bank: ContentBank) -> None:
    for qid in bank.ids():
        q = bank.get(qid)
        assert q is not None
        if q.difficulty == 1:
            assert len(q.answer) <= 700 and len(q.answer_en) <= 1600, (
                qid, len(q.answer), len(q.answer_en))


def test_every_question_is_bilingual_with_three_to_six_key_points_each(
    bank: ContentBank,
) -> None:
    for qid in bank.ids():
        q = bank.get(qid)
        assert q is not None
        assert q.title and q.answer and q.title_en and q.answer_en, qid
        assert 3 <= len(q.key_points) <= 6 and 3 <= len(q.key_points_en) <= 6, qid
        assert 1 <= q.difficulty <= 3 and q.source, qid
        assert set(q.tags) <= ALLOWED_TAGS, (qid, q.tags)


def test_the_bank_covers_every_area_interviews_ask_about(bank: ContentBank) -> None:
    tags: Counter[str] = Counter()
    difficulty: Counter[int] = Counter()
    for qid in bank.ids():
        q = bank.get(qid)
        assert q is not None
        tags.update(q.tags)
        difficulty[q.difficulty] += 1
    core = ALLOWED_TAGS - {"ml-basics", "normalization", "mixed-precision", "hallucination",
                           "scaling", "tokenization", "optimization", "multimodal", "chinese-llm"}
    assert all(tags[tag] >= 5 for tag in core), {t: tags[t] for t in core if tags[t] < 5}
    assert all(tags[tag] >= 2 for tag in ALLOWED_TAGS), {
        t: tags[t] for t in ALLOWED_TAGS if tags[t] < 2}
    assert min(difficulty.values()) >= len(bank) // 10


def test_answers_use_no_latex_links_or_html(bank: ContentBank) -> None:
    for qid in bank.ids():
        q = bank.get(qid)
        assert q is not None
        for text in (q.answer, q.answer_en):
            assert not re.search(r"\$[^$\n]+\$", text), qid
            assert "](http" not in text and "<img" not in text and "<br" not in text, qid


def test_every_answer_fits_one_telegram_message_or_splits_at_a_heading(
    bank: ContentBank,
) -> None:
    for qid, lang, message in answer_messages(bank):
        chunks = render(message)  # type: ignore[arg-type]
        for chunk in chunks:
            assert utf16_len(visible_text(chunk.html)) <= MAX_TEXT, (qid, lang)
        for chunk in chunks[1:]:
            assert chunk.html.startswith("<b>"), (qid, lang, "split away from a heading")
        assert len(chunks) == 1, (qid, lang, len(chunks))
