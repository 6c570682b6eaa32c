"""`studybot content stats`: what a content folder holds, counted several ways."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.models import Question
from bot.core.text import parse_markdown, plain_text

LONGEST = 10


@dataclass(frozen=True, slots=True)
class AnswerLength:
    id: str
    title: str
    chars: int  # characters a reader sees: the plain text, without Markdown markup


@dataclass(frozen=True, slots=True)
class ContentStats:
    total: int
    packs: Mapping[str, int]
    tags: Mapping[str, int]  # most used first
    difficulty: Mapping[int, int]
    languages: Mapping[str, int]  # answers available in each language
    with_english: int  # questions that have a complete English version besides their own
    longest: Mapping[str, tuple[AnswerLength, ...]]  # per language, longest first

    def as_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "packs": dict(self.packs),
            "tags": dict(self.tags),
            "difficulty": {str(level): count for level, count in self.difficulty.items()},
            "languages": dict(self.languages),
            "with_english": self.with_english,
            "longest_answers": {
                language: [{"id": a.id, "title": a.title, "chars": a.chars} for a in answers]
                for language, answers in self.longest.items()
            },
        }


def content_stats(questions: Sequence[Question], pack_ids: Iterable[str] = ()) -> ContentStats:
    """Counts over `questions`; packs in `pack_ids` show up even when they hold none."""
    packs = Counter({pack: 0 for pack in pack_ids})
    packs.update(q.pack for q in questions)
    tags = Counter(tag for q in questions for tag in q.tags)
    answers: dict[str, list[AnswerLength]] = {}
    with_english = 0
    for q in questions:
        answers.setdefault(q.language, []).append(_length(q.id, q.title, q.answer))
        # The bot only offers English when both the title and the answer are there.
        if q.language != "en" and q.title_en and q.answer_en:
            with_english += 1
            answers.setdefault("en", []).append(_length(q.id, q.title_en, q.answer_en))
    return ContentStats(
        total=len(questions),
        packs=dict(sorted(packs.items())),
        tags=dict(sorted(tags.items(), key=lambda item: (-item[1], item[0]))),
        difficulty={level: sum(q.difficulty == level for q in questions) for level in (1, 2, 3)},
        languages={language: len(found) for language, found in sorted(answers.items())},
        with_english=with_english,
        longest={
            language: tuple(sorted(found, key=lambda a: (-a.chars, a.id))[:LONGEST])
            for language, found in sorted(answers.items())
        },
    )


def _length(qid: str, title: str, answer: str) -> AnswerLength:
    return AnswerLength(qid, title, len(plain_text(parse_markdown(answer))))


def format_stats(stats: ContentStats) -> list[str]:
    """The stats as aligned text lines."""
    noun = "question" if stats.total == 1 else "questions"
    pack_noun = "pack" if len(stats.packs) == 1 else "packs"
    lines = [f"{stats.total} {noun} in {len(stats.packs)} {pack_noun}"]
    lines += _section("packs", stats.packs)
    lines += _section("difficulty", {str(k): v for k, v in stats.difficulty.items()})
    lines += _section("tags", stats.tags)
    lines += _section("languages (answers)", stats.languages)
    lines.append(f"  with an English version: {stats.with_english} of {stats.total}")
    for language, answers in stats.longest.items():
        lines.append(f"longest answers ({language}, characters):")
        width = max(len(str(a.chars)) for a in answers)
        id_width = max(len(a.id) for a in answers)
        lines += [f"  {a.chars:>{width}}  {a.id:<{id_width}}  {a.title}" for a in answers]
    return lines


def _section(title: str, counts: Mapping[str, int]) -> list[str]:
    if not counts:
        return [f"{title}: none"]
    width = max(len(name) for name in counts)
    return [f"{title}:", *(f"  {name:<{width}}  {count}" for name, count in counts.items())]
