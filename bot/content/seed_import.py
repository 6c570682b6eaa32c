"""Import a seed document: a web page of numbered interview questions saved as plain text.

The document starts with a title (and maybe an intro), then each question is a heading line like
`1、question` followed by its answer, and the page ends with site boilerplate we must drop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import yaml

from bot.content.check import check_question_file
from bot.content.packs import (
    ID_RE,
    TAG_RE,
    PackInfo,
    Problem,
    parse_pack_toml,
    parse_question_file,
    read_pack,
    read_text,
    scan_content,
    split_lines,
)

# A line starting with any of these ends the document: what follows is the hosting site's footer.
BOILERPLATE_MARKERS: tuple[str, ...] = (
    "本文来自互联网用户投稿",
    "如若转载",
    "如若内容造成侵权",
    "相关文章",
    "版权声明",
    "原文链接",
    "免责声明",
    "转载请注明",
)

# Only unindented lines can be question headings; answers indent their own numbered lists.
_HEADING_RE = re.compile(r"(\d{1,4})(、|\.(?!\d))\s*(\S.*)")
_SECTION_RE = re.compile(r"[一二三四五六七八九十百]+、\s*\S.*")
_NUMBERED_RE = re.compile(r"(\d{1,9})(?:\.(?!\d)|、)\s*(\S.*)")
# `-`, `*` and `+` need a space after them so `-1` or `*args` stay text.
_BULLET_RE = re.compile(r"(?:[•·●▪◦]\s*|[-*+]\s+)(\S.*)")
_INLINE_SPECIALS_RE = re.compile(r"([\\`*_\[\]<>&])")
_LINE_START_NUMBER_RE = re.compile(r"(\d+)([.)])")


class SeedItem(NamedTuple):
    number: int
    title: str
    answer: str  # Markdown in our subset
    line: int  # the heading's line in the document


@dataclass(frozen=True, slots=True)
class SeedDocument:
    title: str
    items: tuple[SeedItem, ...]


@dataclass(frozen=True, slots=True)
class ImportedQuestion:
    number: int
    id: str
    title: str
    path: Path


@dataclass(frozen=True, slots=True)
class ImportReport:
    written: tuple[ImportedQuestion, ...] = ()  # in a dry run: what would be written
    skipped: tuple[ImportedQuestion, ...] = ()  # already there and not forced
    problems: tuple[Problem, ...] = ()  # when not empty, nothing was written
    pack_created: bool = False
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class _Planned:
    item: ImportedQuestion
    text: str
    exists: bool


# --- parsing -----------------------------------------------------------------------------------


def parse_seed_document(text: str) -> SeedDocument:
    lines = split_lines(text)
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if first == len(lines):
        return SeedDocument("", ())
    end = _boilerplate_start(lines, first + 1)
    headings = _headings(lines, first + 1, end)
    items = []
    for k, (index, number, title) in enumerate(headings):
        stop = headings[k + 1][0] if k + 1 < len(headings) else end
        items.append(SeedItem(number, title, to_markdown(lines[index + 1 : stop]), index + 1))
    return SeedDocument(lines[first].strip(), tuple(items))


def _boilerplate_start(lines: Sequence[str], start: int) -> int:
    for index in range(start, len(lines)):
        if lines[index].strip().startswith(BOILERPLATE_MARKERS):
            return index
    return len(lines)


def _headings(lines: Sequence[str], start: int, end: int) -> list[tuple[int, int, str]]:
    """(line index, number, title) of each question heading between start and end."""
    matches = [(i, _HEADING_RE.fullmatch(lines[i].rstrip())) for i in range(start, end)]
    candidates = [(i, m) for i, m in matches if m]
    # `1、` is the usual style; `1.` only counts in documents that never use `1、`, otherwise an
    # answer's own unindented `5.` could pass for the next question.
    style = "、" if any(m[1] == "1" and m[2] == "、" for _, m in candidates) else "."
    found: list[tuple[int, int, str]] = []
    for index, m in candidates:
        if m[2] == style and int(m[1]) == len(found) + 1:
            found.append((index, int(m[1]), m[3].strip()))
    return found


def to_markdown(lines: Iterable[str]) -> str:
    """Turn an answer's plain-text lines into our Markdown subset, keeping all of its text."""
    out: list[str] = []
    previous = ""
    indent = ""
    for raw in lines:
        if not raw.strip():
            continue
        kind, text, number = _classify(raw.strip())
        # Bullets under a numbered point are its sub-points, however the page indented them.
        if kind == "bullet" and previous in ("numbered", "sub"):
            kind = "sub"
        if out and (previous, kind) not in _SAME_LIST:
            out.append("")
        if kind == "numbered":
            marker = f"{number}. "
            indent = " " * len(marker)
            out.append(marker + text)
        elif kind == "sub":
            out.append(f"{indent}- {text}")
        elif kind == "bullet":
            out.append(f"- {text}")
        elif kind == "heading":
            out.append(f"### {text}")
        else:
            out.append(text)
        previous = kind
    return "\n".join(out)


_SAME_LIST = frozenset({
    ("numbered", "numbered"),
    ("numbered", "sub"),
    ("sub", "sub"),
    ("sub", "numbered"),
    ("bullet", "bullet"),
})


def _classify(line: str) -> tuple[str, str, int]:
    if _SECTION_RE.fullmatch(line):
        return "heading", _escape(line), 0
    numbered = _NUMBERED_RE.fullmatch(line)
    if numbered:
        return "numbered", _escape(numbered[2]), int(numbered[1])
    bullet = _BULLET_RE.fullmatch(line)
    if bullet:
        return "bullet", _escape(bullet[1]), 0
    return "paragraph", _escape(line), 0


def _escape(text: str) -> str:
    """Backslash-escape what Markdown would otherwise eat, so the reader sees the page's text."""
    text = _INLINE_SPECIALS_RE.sub(r"\\\1", text)
    number = _LINE_START_NUMBER_RE.match(text)
    if number:
        return f"{number[1]}\\{text[len(number[1]) :]}"
    if text[:1] in ("#", "+", "-", "="):
        return "\\" + text
    return text


# --- ids and files -----------------------------------------------------------------------------


def question_id(pack_id: str, title: str) -> str:
    """An id that follows the question's wording, not its position in the document."""
    normal = " ".join(unicodedata.normalize("NFKC", title).split()).rstrip("?？").strip()
    return f"{pack_id}-{hashlib.sha1(normal.encode('utf-8')).hexdigest()[:10]}"


def render_question(
    qid: str, item: SeedItem, document_title: str, tags: Sequence[str], difficulty: int
) -> str:
    return "\n".join([
        "---",
        f"id: {qid}",
        f"title: {yaml_string(item.title)}",
        f"tags: [{', '.join(tags)}]",
        f"difficulty: {difficulty}",
        f"source: {yaml_string(f'{document_title} #{item.number}')}",
        "---",
        item.answer,
        "",
    ])


def render_pack_toml(pack_id: str, document: SeedDocument) -> str:
    return "\n".join([
        f"id = {toml_string(pack_id)}",
        f"title = {toml_string(document.title)}",
        'language = "zh"',
        f"description = {toml_string(f'从《{document.title}》导入的题目')}",
        "",
    ])


def yaml_string(value: str) -> str:
    return yaml.safe_dump(value, default_style='"', allow_unicode=True, width=2**31).rstrip("\n")


def toml_string(value: str) -> str:
    # JSON string escapes are valid TOML ones; TOML additionally forbids a raw DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


# --- importing ---------------------------------------------------------------------------------


def import_document(
    path: Path,
    content_root: Path,
    pack_id: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    tags: tuple[str, ...] = ("imported",),
    difficulty: int = 2,
) -> ImportReport:
    """Write one question file per question of the document into `content_root/packs/<pack_id>/`.

    Everything is validated first, so a document with any problem writes nothing. Existing files
    are skipped unless `force`. Raises OSError only when writing fails.
    """
    problems = option_problems(path, pack_id, tags, difficulty)
    if problems:
        return ImportReport(problems=tuple(problems), dry_run=dry_run)
    text = read_text(path)
    if isinstance(text, Problem):
        return ImportReport(problems=(text,), dry_run=dry_run)
    document = parse_seed_document(text)
    if not document.items:
        message = "no numbered questions found (expected lines like '1、question')"
        return ImportReport(problems=(Problem(path, 0, message),), dry_run=dry_run)
    pack_dir = content_root / "packs" / pack_id
    pack, pack_text, problems = _plan_pack(pack_dir, pack_id, document)
    used = ids_in_use(content_root)
    planned, plan_problems = _plan_questions(path, document, pack_dir, pack, used, tags, difficulty)
    problems += plan_problems
    if problems:
        return ImportReport(problems=tuple(problems), dry_run=dry_run)
    to_write = [p for p in planned if force or not p.exists]
    if not dry_run:
        _write_all(pack_dir, pack_text, to_write)
    return ImportReport(
        written=tuple(p.item for p in to_write),
        skipped=tuple(p.item for p in planned if p.exists and not force),
        pack_created=pack_text is not None,
        dry_run=dry_run,
    )


def option_problems(
    path: Path, pack_id: str, tags: Sequence[str], difficulty: int
) -> list[Problem]:
    problems = []
    # The question ids add 11 characters to the pack id and must still fit the id pattern.
    if not ID_RE.fullmatch(pack_id) or not ID_RE.fullmatch(question_id(pack_id, "")):
        problems.append(Problem(path, 0, f"invalid pack id '{pack_id}': use {ID_RE.pattern}, "
                                         "at most 53 characters"))
    if not tags or not all(TAG_RE.fullmatch(tag) for tag in tags):
        problems.append(Problem(path, 0, f"invalid tags {list(tags)}: use {TAG_RE.pattern}"))
    if difficulty not in (1, 2, 3):
        problems.append(Problem(path, 0, f"invalid difficulty {difficulty}: use 1, 2 or 3"))
    return problems


def _plan_pack(
    pack_dir: Path, pack_id: str, document: SeedDocument
) -> tuple[PackInfo | None, str | None, list[Problem]]:
    """The pack, the pack.toml text to create (None if it exists), and its problems."""
    if (pack_dir / "pack.toml").exists():
        pack, problems = read_pack(pack_dir)
        return pack, None, problems
    text = render_pack_toml(pack_id, document)
    pack, problems = parse_pack_toml(pack_dir / "pack.toml", text)
    return pack, text, problems


def _plan_questions(
    path: Path,
    document: SeedDocument,
    pack_dir: Path,
    pack: PackInfo | None,
    used: Mapping[str, Path],
    tags: Sequence[str],
    difficulty: int,
) -> tuple[list[_Planned], list[Problem]]:
    planned: list[_Planned] = []
    problems: list[Problem] = []
    seen: dict[str, SeedItem] = {}
    for item in document.items:
        qid = question_id(pack_dir.name, item.title)
        target = pack_dir / f"{qid}.md"
        text = render_question(qid, item, document.title, tags, difficulty)
        found = [p.message for p in validate_question_text(target, text, pack)]
        if qid in seen:
            found.append(f"same question as #{seen[qid].number} (line {seen[qid].line})")
        if qid in used and used[qid] != target:
            found.append(f"id {qid} is already used by {used[qid]}")
        problems += [Problem(path, item.line, f"question {item.number}: {m}") for m in found]
        seen.setdefault(qid, item)
        planned.append(
            _Planned(ImportedQuestion(item.number, qid, item.title, target), text, target.exists())
        )
    return planned, problems


def validate_question_text(target: Path, text: str, pack: PackInfo | None) -> list[Problem]:
    # The file is checked exactly as `content check` would check it once written.
    qf, problems = parse_question_file(target, text, pack)
    return problems + (check_question_file(qf) if qf is not None else [])


def ids_in_use(content_root: Path) -> dict[str, Path]:
    if not (content_root / "packs").is_dir():
        return {}
    used: dict[str, Path] = {}
    for qf in scan_content(content_root).files:
        qid = qf.meta.get("id")
        if isinstance(qid, str):
            used.setdefault(qid, qf.path)
    return used


def _write_all(pack_dir: Path, pack_text: str | None, planned: Sequence[_Planned]) -> None:
    pack_dir.mkdir(parents=True, exist_ok=True)
    if pack_text is not None:
        write_atomically(pack_dir / "pack.toml", pack_text)
    for plan in planned:
        write_atomically(plan.item.path, plan.text)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step, so a crash leaves either the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; content files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
