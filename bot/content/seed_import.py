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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, NamedTuple

import yaml

from bot.content.check import answer_warnings, check_question_file
from bot.content.html_page import PageError, page_to_markdown
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
from bot.content.structure import FENCE_RE, Structure, parse_structure

_SECTION_RE = re.compile(r"[一二三四五六七八九十百]+、\s*\S.*")
_NUMBERED_RE = re.compile(r"(\d{1,9})(?:\.(?!\d)|、)\s*(\S.*)")
# `-`, `*` and `+` need a space after them so `-1` or `*args` stay text.
_BULLET_RE = re.compile(r"(?:[•·●▪◦]\s*|[-*+]\s+)(\S.*)")
_INLINE_SPECIALS_RE = re.compile(r"([\\`*_\[\]<>&])")
_LINE_START_NUMBER_RE = re.compile(r"(\d+)([.)])")


DocumentFormat = Literal["seed", "html"]


class SeedItem(NamedTuple):
    number: int
    title: str
    answer: str  # Markdown in our subset; empty for a title without an answer
    line: int  # the heading's line in the document
    section: str = ""  # the section heading the question sits under, as written


@dataclass(frozen=True, slots=True)
class SeedDocument:
    title: str
    items: tuple[SeedItem, ...]
    structure: Structure | None = None  # how the page was read, for --dry-run


@dataclass(frozen=True, slots=True)
class ImportedQuestion:
    number: int
    id: str
    title: str
    path: Path
    draft: bool = False


@dataclass(frozen=True, slots=True)
class ImportReport:
    written: tuple[ImportedQuestion, ...] = ()  # in a dry run: what would be written
    skipped: tuple[ImportedQuestion, ...] = ()  # already there and not forced
    problems: tuple[Problem, ...] = ()  # when not empty, nothing was written
    pack_created: bool = False
    dry_run: bool = False
    document: SeedDocument | None = None  # what the parser found, for --dry-run
    warnings: tuple[Problem, ...] = ()  # answers that look cut short; they don't stop the import


@dataclass(frozen=True, slots=True)
class _Planned:
    item: ImportedQuestion
    text: str
    exists: bool


# --- parsing -----------------------------------------------------------------------------------


def parse_seed_document(text: str, default_title: str = "") -> SeedDocument:
    return document_from_structure(parse_structure(split_lines(text), default_title))


def document_from_structure(structure: Structure, *, markdown: bool | None = None) -> SeedDocument:
    """The questions of a parsed page, answers in our Markdown subset.

    A page that is Markdown already (from HTML, or written with `###`/`**` headings or code fences)
    keeps its markup; plain text is escaped so the reader sees exactly the page's characters.
    """
    if markdown is None:
        markdown = structure.markdown
    convert = markdown_answer if markdown else to_markdown
    items = tuple(
        SeedItem(item.number, item.title, convert(item.body), item.line,
                 item.section.title if item.section else "")
        for item in structure.items
    )
    return SeedDocument(structure.title, items, structure)


def markdown_answer(lines: Sequence[str]) -> str:
    """An answer that is Markdown already, tidied: no trailing spaces, one blank line at most."""
    out: list[str] = []
    fence = ""
    for raw in lines:
        line = raw.rstrip()
        opened = FENCE_RE.match(line)
        if opened and (not fence or line.strip().startswith(fence)):
            fence = "" if fence else opened[1]
        elif not line and out and not out[-1] and not fence:
            continue
        out.append(line)
    if fence:
        out.append(fence)  # an unclosed fence would swallow whatever follows it in the file
    return "\n".join(out).strip("\n")


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
    qid: str,
    item: SeedItem,
    document_title: str,
    tags: Sequence[str],
    difficulty: int,
    *,
    draft: bool = False,
) -> str:
    # Numbering restarts in every section, so the section is part of where a question comes from.
    where = f"{document_title} · {item.section}" if item.section else document_title
    tag = section_tag(item.section)
    lines = [
        "---",
        f"id: {qid}",
        f"title: {yaml_string(item.title)}",
        f"tags: [{', '.join([*tags, tag] if tag and tag not in tags else tags)}]",
        f"difficulty: {difficulty}",
        f"source: {yaml_string(f'{where} #{item.number}')}",
    ]
    if draft:
        lines.append("draft: true")
    return "\n".join([*lines, "---", item.answer, ""])


def section_tag(section: str) -> str:
    """A tag from a section heading's ASCII words (`二、RAG 篇` → `rag`); empty when it has none."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*|\d+[A-Za-z]+", section)
    return "-".join(word.lower() for word in words)[:40].strip("-")


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


def read_document(path: Path, fmt: DocumentFormat = "seed") -> SeedDocument | Problem:
    """A page of questions: plain text (`seed`) or a saved web page (`html`)."""
    if fmt == "html":
        try:
            page = page_to_markdown(path.read_bytes())
        except OSError as exc:
            return Problem(path, 0, f"cannot read: {exc.strerror or exc}")
        except PageError as exc:
            return Problem(path, 0, str(exc))
        structure = parse_structure(split_lines(page.markdown), page.title or path.stem)
        structure = replace(structure, dropped=page.dropped + structure.dropped)
        return document_from_structure(structure, markdown=True)
    text = read_text(path)
    if isinstance(text, Problem):
        return text
    return parse_seed_document(text, path.stem)


def import_document(
    path: Path,
    content_root: Path,
    pack_id: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    tags: tuple[str, ...] = ("imported",),
    difficulty: int = 2,
    allow_empty: bool = False,
    fmt: DocumentFormat = "seed",
) -> ImportReport:
    """Write one question file per question of the document into `content_root/packs/<pack_id>/`.

    Everything is validated first, so a document with any problem writes nothing. Existing files
    are skipped unless `force`. A question without an answer is refused unless `allow_empty`,
    which keeps it as a draft. Raises OSError only when writing fails.
    """
    problems = option_problems(path, pack_id, tags, difficulty)
    if problems:
        return ImportReport(problems=tuple(problems), dry_run=dry_run)
    document = read_document(path, fmt)
    if isinstance(document, Problem):
        return ImportReport(problems=(document,), dry_run=dry_run)
    if not document.items:
        message = ("no numbered questions found "
                   "(expected headings like '1、', '1.', 'Q1:', '问题1：' or '### 1.')")
        return ImportReport(problems=(Problem(path, 0, message),), document=document,
                            dry_run=dry_run)
    pack_dir = content_root / "packs" / pack_id
    pack, pack_text, problems = _plan_pack(pack_dir, pack_id, document)
    used = ids_in_use(content_root)
    planned, plan_problems, warnings = _plan_questions(
        path, document, pack_dir, pack, used, tags, difficulty, allow_empty)
    problems += plan_problems
    empty = sum(1 for item in document.items if not item.answer)
    if empty and not allow_empty:
        problems.append(Problem(path, 0, f"{_count(empty, 'question')} without an answer; "
                                         "--allow-empty keeps them as drafts (draft: true), "
                                         "never sent until they get one"))
    if problems:
        return ImportReport(problems=tuple(problems), document=document, dry_run=dry_run)
    to_write = [p for p in planned if force or not p.exists]
    if not dry_run:
        _write_all(pack_dir, pack_text, to_write)
    return ImportReport(
        written=tuple(p.item for p in to_write),
        skipped=tuple(p.item for p in planned if p.exists and not force),
        pack_created=pack_text is not None,
        dry_run=dry_run,
        document=document,
        warnings=tuple(warnings),
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


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
    allow_empty: bool,
) -> tuple[list[_Planned], list[Problem], list[Problem]]:
    """What to write, the problems that stop the import, and the warnings that don't."""
    planned: list[_Planned] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    seen: dict[str, SeedItem] = {}
    for item in document.items:
        qid = question_id(pack_dir.name, item.title)
        target = pack_dir / f"{qid}.md"
        # Without `draft: true` an empty answer fails validation, at the question's own line.
        draft = allow_empty and not item.answer
        text = render_question(qid, item, document.title, tags, difficulty, draft=draft)
        qf, found_problems = parse_question_file(target, text, pack)
        if qf is not None and not found_problems:
            found_problems = check_question_file(qf)
            warnings += [Problem(path, item.line, f"question {item.number}: {w.message}")
                         for w in answer_warnings(qf)]
        found = [p.message for p in found_problems]
        if qid in seen:
            found.append(f"same question as #{seen[qid].number} (line {seen[qid].line})")
        if qid in used and used[qid] != target:
            found.append(f"id {qid} is already used by {used[qid]}")
        problems += [Problem(path, item.line, f"question {item.number}: {m}") for m in found]
        seen.setdefault(qid, item)
        question = ImportedQuestion(item.number, qid, item.title, target, draft)
        planned.append(_Planned(question, text, target.exists()))
    return planned, problems, warnings


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
    with replacing(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` to write; it becomes `path` when the block succeeds."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; content files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
