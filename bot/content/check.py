"""`studybot content check`: everything the loader rejects, plus the editorial rules and the
message-size limits that a question must meet before it ships."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.content.packs import (
    EN_MARKER,
    FIELD_RULES,
    ContentBank,
    Problem,
    QuestionFile,
    Section,
    build_bank,
    is_draft,
    scan_content,
    sort_problems,
)
from bot.core.text import Block, parse_markdown, plain_step, plain_text, split_blocks

MAX_TITLE_CHARS = 256
MAX_BLOCK_CHARS = 3500
MESSAGE_CHARS = 4096
MAX_MESSAGES = 4
# An answer shorter than this, or than its own question, is more likely cut off than concise.
MIN_ANSWER_CHARS = 20
_KIND_NAMES = {"bullet": "list item", "numbered": "list item", "code": "code block"}


def check_content(root: Path) -> list[Problem]:
    """Every problem under `root`, a content folder (with packs/) or a single pack folder."""
    return check_bank(root)[1]


def check_bank(root: Path) -> tuple[ContentBank, list[Problem]]:
    """The bank `load_bank` would build, with every problem the checker finds."""
    bank, problems, _ = check_bank_with_warnings(root)
    return bank, problems


def check_bank_with_warnings(root: Path) -> tuple[ContentBank, list[Problem], list[Problem]]:
    """The bank, its problems, and its warnings: answers that look cut short, and drafts that
    already have an answer."""
    scan = scan_content(root)
    bank, problems = build_bank(scan)
    warnings: list[Problem] = []
    for qf in scan.files:
        problems.extend(check_question_file(qf))
        warnings.extend(answer_warnings(qf))
    return bank, sort_problems(problems), sort_problems(warnings)


def answer_warnings(qf: QuestionFile) -> list[Problem]:
    """What a careful reader would query: an answer too short for its question, or one that stops
    mid-sentence. Neither stops the question from being sent."""
    if is_draft(qf):
        if qf.answer.text:
            return [Problem(qf.path, _first_text_line(qf.lines, qf.answer.start),
                            "a draft with an answer: remove 'draft: true' so it can be sent")]
        return []
    warnings = _cut_short(qf, qf.answer, str(qf.meta.get("title", "")), "answer")
    if qf.answer_en is not None:
        warnings += _cut_short(qf, qf.answer_en, str(qf.meta.get("title_en", "")),
                               "English answer")
    return warnings


def _cut_short(qf: QuestionFile, section: Section, title: str, label: str) -> list[Problem]:
    blocks = parse_markdown(section.text)
    if not blocks:
        return []
    warnings = []
    shown = len(" ".join(plain_text(blocks).split()))
    if shown < max(MIN_ANSWER_CHARS, len(title.strip())):
        warnings.append(Problem(
            qf.path, _first_text_line(qf.lines, section.start),
            f"{label} has only {shown} character{'s' * (shown != 1)}, short for its question: "
            "is it cut off?"))
    last = blocks[-1]
    if _ends_mid_sentence(last):
        tail = " ".join(last.plain.split())[-20:]
        warnings.append(Problem(qf.path, _block_line(qf.lines, last, section.start),
                                f"{label} ends mid-sentence: '…{tail}'"))
    return warnings


_SENTENCE_ENDS = frozenset("。．.!！?？…~～")
_CLAUSE_ENDS = frozenset(",，、;；:：")
_CLOSERS = ")）]】」』\"”'’*》>"


def _ends_mid_sentence(block: Block) -> bool:
    if block.kind in ("code", "heading") or not block.spans or block.spans[-1].code:
        return False
    text = block.plain.rstrip().rstrip(_CLOSERS).rstrip()
    if not text or "|" in block.plain.split("\n")[-1]:  # a table row ends without punctuation
        return False
    last = text[-1]
    if last in _CLAUSE_ENDS:
        return True
    # List items are often phrases without a full stop; a paragraph is a sentence.
    return block.kind in ("paragraph", "quote") and last not in _SENTENCE_ENDS and last.isalnum()


def check_question_file(qf: QuestionFile) -> list[Problem]:
    """The rules the loader lets pass because the question can still be sent."""
    problems = [
        *_field_problems(qf),
        *_english_problems(qf),
        *_limit_problems(qf, qf.answer, "answer"),
    ]
    if qf.answer_en is not None:
        problems.extend(_limit_problems(qf, qf.answer_en, "English answer"))
    return problems


def _field_problems(qf: QuestionFile) -> list[Problem]:
    problems = [
        Problem(qf.path, qf.line_of(key), f"unknown field '{key}'")
        for key in qf.meta
        if key not in FIELD_RULES
    ]
    problems += [
        Problem(qf.path, line, f"field '{key}' is given more than once")
        for key, line in qf.repeated_keys
    ]
    for key in ("title", "title_en"):
        value = qf.meta.get(key)
        if isinstance(value, str) and len(value.strip()) > MAX_TITLE_CHARS:
            problems.append(Problem(
                qf.path, qf.line_of(key),
                f"{key} has {len(value.strip())} characters, at most {MAX_TITLE_CHARS} allowed",
            ))
    return problems


def _english_problems(qf: QuestionFile) -> list[Problem]:
    # The English version is only shown when both title_en and answer_en exist, so half of it
    # is dead text.
    problems = [
        Problem(qf.path, line, f"a second '{EN_MARKER}' line; only one English answer is allowed")
        for line in qf.en_marker_lines[1:]
    ]
    has_title_en = bool(qf.meta.get("title_en"))
    marker = qf.en_marker_lines[0] if qf.en_marker_lines else 0
    if qf.answer_en is not None and not qf.answer_en.text:
        message = f"the English answer after '{EN_MARKER}' is empty"
        problems.append(Problem(qf.path, marker, message))
    elif has_title_en and qf.answer_en is None:
        problems.append(Problem(
            qf.path, qf.line_of("title_en"),
            f"title_en is set but there is no English answer (a '{EN_MARKER}' line)",
        ))
    elif qf.answer_en is not None and not has_title_en:
        problems.append(Problem(qf.path, marker, "an English answer needs a title_en"))
    return problems


def _limit_problems(qf: QuestionFile, section: Section, label: str) -> list[Problem]:
    if not section.text:
        return []
    blocks = parse_markdown(section.text)
    problems = []
    cursor = section.start
    for block in blocks:
        if len(block.plain) > MAX_BLOCK_CHARS:
            line = _block_line(qf.lines, block, cursor)
            cursor = line + 1
            problems.append(Problem(
                qf.path, line,
                f"{label}: this {_KIND_NAMES.get(block.kind, block.kind)} has "
                f"{len(block.plain)} characters, "
                f"at most {MAX_BLOCK_CHARS} fit in one message",
            ))
    chunks = split_blocks(blocks, plain_step, MESSAGE_CHARS)
    if len(chunks) > MAX_MESSAGES:
        problems.append(Problem(
            qf.path, _first_text_line(qf.lines, section.start),
            f"{label} needs {len(chunks)} messages of {MESSAGE_CHARS} characters, "
            f"at most {MAX_MESSAGES} allowed",
        ))
    return problems


def _block_line(lines: Sequence[str], block: Block, start: int) -> int:
    """The file line where a parsed block begins, found by its opening words."""
    # Markup (`**`, escapes) splits the source text where the spans split, so after the opening
    # words fall back to the longest run of same-style text, then to the first one.
    longest = max(block.spans, key=lambda span: len(span.text.strip()), default=None)
    needles = [
        _opening(block.plain)[:40],
        _opening(longest.text if longest else "")[:40],
        _opening(block.spans[0].text if block.spans else "")[:12],
    ]
    for needle in filter(None, needles):
        for index in range(start - 1, len(lines)):
            if needle in lines[index]:
                return index + 1
    return _first_text_line(lines, start)


def _opening(text: str) -> str:
    return next((part.strip() for part in text.split("\n") if part.strip()), "")


def _first_text_line(lines: Sequence[str], start: int) -> int:
    for index in range(start - 1, len(lines)):
        if lines[index].strip():
            return index + 1
    return start
