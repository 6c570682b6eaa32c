"""Import and export of question packs in exchange formats: CSV, TSV, JSON Lines, Anki's plain-text
notes and our own Markdown question files.

Every reader turns its input into `Entry` values; the importer renders each one as a question file
and validates that text exactly as `content check` would, so an import either writes a pack that
passes the checker or writes nothing at all.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from bot.content.check import check_question_file
from bot.content.packs import (
    EN_MARKER,
    ID_RE,
    PackInfo,
    Problem,
    parse_pack_toml,
    parse_question_file,
    read_pack,
    read_text,
    sort_problems,
    split_lines,
)
from bot.content.seed_import import (
    ids_in_use,
    option_problems,
    parse_seed_document,
    question_id,
    to_markdown,
    toml_string,
    validate_question_text,
    write_atomically,
    yaml_string,
)
from bot.core.models import Question

# What an Anki package holds: the pack's language, English, or both.
Language = Literal["zh", "en", "both"]
LANGUAGES: tuple[Language, ...] = ("zh", "en", "both")
IMPORT_FORMATS = ("auto", "seed", "html", "markdown", "csv", "tsv", "jsonl", "anki")
EXPORT_FORMATS = ("csv", "tsv", "jsonl", "anki", "apkg")
# The columns of a CSV/TSV file and the keys of a JSON Lines object, in export order.
COLUMNS = (
    "question", "answer", "tags", "question_en", "answer_en",
    "key_points", "key_points_en", "difficulty", "id", "source",
)
DEFAULT_TAGS = ("imported",)
DEFAULT_DIFFICULTY = 2

_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".html": "html", ".htm": "html", ".xhtml": "html",
}
# A `.md` file is one of our question files when it opens with front matter, else a page.
_MARKDOWN_SUFFIXES = (".md", ".markdown")
_TAG_SPLIT_RE = re.compile(r"[\s,;，；]+")
_ANKI_HEADER_RE = re.compile(r"#([a-z ]+):(.*)")
_ANKI_SEPARATORS = {
    "tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|", "colon": ":",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One question read from an import file, with defaults filled in, before it is rendered."""

    path: Path  # where it was read, for error messages
    line: int
    id: str
    title: str
    answer: str
    tags: tuple[str, ...]
    difficulty: int
    source: str
    key_points: tuple[str, ...] = ()
    title_en: str = ""
    answer_en: str = ""
    key_points_en: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a row that leaves a field empty gets."""

    pack_id: str
    source: str
    tags: tuple[str, ...] = DEFAULT_TAGS
    difficulty: int = DEFAULT_DIFFICULTY


@dataclass(frozen=True, slots=True)
class Source:
    """Everything a reader found in one import file or folder."""

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    title: str  # the title a new pack gets
    language: str = "zh"


Status = Literal["new", "changed", "unchanged"]


@dataclass(frozen=True, slots=True)
class PlannedQuestion:
    id: str
    title: str
    path: Path
    status: Status
    written: bool  # in a dry run: whether it would be written


@dataclass(frozen=True, slots=True)
class FormatImportReport:
    format: str
    questions: tuple[PlannedQuestion, ...] = ()
    problems: tuple[Problem, ...] = ()  # when not empty, nothing was written
    pack_toml: Path | None = None  # the pack.toml created (or that would be)
    dry_run: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for q in self.questions if q.status == status)

    @property
    def written(self) -> int:
        return sum(1 for q in self.questions if q.written)


# --- choosing a format -------------------------------------------------------------------------


def detect_format(path: Path) -> str:
    """The format of `path` from its extension, else from its first lines; `seed` when unsure."""
    if path.is_dir():
        return "markdown"
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    text = read_text(path)
    if isinstance(text, Problem):
        return "seed"  # the seed importer reports unreadable files the way it always has
    first = next((line.strip() for line in split_lines(text) if line.strip()), "")
    if path.suffix.lower() in _MARKDOWN_SUFFIXES:
        return "markdown" if first == "---" or not first else "seed"
    if first.lower().startswith(("<!doctype html", "<html")):
        return "html"
    if _ANKI_HEADER_RE.fullmatch(first) and first.split(":")[0] in _ANKI_HEADER_NAMES:
        return "anki"
    if first.startswith("{"):
        return "jsonl"
    if first == "---":
        return "markdown"
    if parse_seed_document(text).items:
        return "seed"
    header = {cell.strip().lower() for cell in re.split(r"[\t,]", first)}
    if {"question", "answer"} <= header:
        return "tsv" if "\t" in first else "csv"
    # Anki's older exports have no header lines: just tab-separated fields.
    return "anki" if "\t" in first else "seed"


_ANKI_HEADER_NAMES = frozenset({
    "#separator", "#html", "#tags column", "#deck column", "#notetype column", "#guid column",
    "#columns", "#deck", "#notetype", "#tags", "#if matches",
})


# --- fields shared by all row formats ----------------------------------------------------------


class _FieldError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _entry(
    path: Path, fields: Mapping[str, object], line_of: Callable[[str], int], defaults: Defaults
) -> tuple[Entry | None, list[Problem]]:
    """Check one record's fields and fill in the defaults; `line_of(key)` locates a field."""
    try:
        title = _text(fields, "question")
        answer = _block_text(fields, "answer")
        title_en = _text(fields, "question_en")
        answer_en = _block_text(fields, "answer_en")
        tags = tuple(tag.lower().replace("::", "-") for tag in _list(fields, "tags", _TAG_SPLIT_RE))
        difficulty = _difficulty(fields, defaults.difficulty)
        qid = _text(fields, "id")
        source = _text(fields, "source")
        key_points = _list(fields, "key_points", re.compile(r"\n"))
        key_points_en = _list(fields, "key_points_en", re.compile(r"\n"))
    except _FieldError as error:
        return None, [Problem(path, line_of(error.key), f"{error.key}: {error}")]
    problems = []
    if not title:
        problems.append(Problem(path, line_of("question"), "the question is empty"))
    if not answer:
        problems.append(Problem(path, line_of("answer"), "the answer is empty"))
    # The bot only shows English when both halves exist; half of it would be dead text.
    if title_en and not answer_en:
        problems.append(Problem(path, line_of("question_en"), "question_en needs an answer_en"))
    if answer_en and not title_en:
        problems.append(Problem(path, line_of("answer_en"), "answer_en needs a question_en"))
    if problems:
        return None, problems
    entry = Entry(
        path=path,
        line=line_of(""),
        id=qid or question_id(defaults.pack_id, title),
        title=title,
        answer=answer,
        tags=tags or defaults.tags,
        difficulty=difficulty,
        source=source or defaults.source,
        key_points=key_points,
        title_en=title_en,
        answer_en=answer_en,
        key_points_en=key_points_en,
    )
    return entry, []


def _text(fields: Mapping[str, object], key: str) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _FieldError(key, f"must be text, not {type(value).__name__}")
    return value.strip()


def _block_text(fields: Mapping[str, object], key: str) -> str:
    # Spreadsheets write CRLF inside quoted cells.
    return _text(fields, key).replace("\r\n", "\n").replace("\r", "\n")


def _list(fields: Mapping[str, object], key: str, separator: re.Pattern[str]) -> tuple[str, ...]:
    value = fields.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(separator.split(value.replace("\r\n", "\n")))
    elif isinstance(value, list):
        items = list(value)
    else:
        raise _FieldError(key, f"must be text or a list, not {type(value).__name__}")
    if not all(isinstance(item, str) for item in items):
        raise _FieldError(key, "every item must be text")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _difficulty(fields: Mapping[str, object], default: int) -> int:
    value = fields.get("difficulty")
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip() in ("1", "2", "3"):
        return int(value)
    if type(value) is int and 1 <= value <= 3:  # not bool, though it is an int
        return value
    raise _FieldError("difficulty", f"must be 1, 2 or 3, not {value!r}")


def _unknown_keys(keys: Sequence[str]) -> list[str]:
    return [key for key in keys if key and key not in COLUMNS]


def _known_list() -> str:
    return ", ".join(COLUMNS)


# --- CSV and TSV -------------------------------------------------------------------------------


def read_delimited(path: Path, text: str, delimiter: str, defaults: Defaults) -> Source:
    """A CSV or TSV file whose first row names the columns."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    header: list[str] | None = None
    for line, row in _records(path, text, delimiter, problems):
        if header is None:
            header = [cell.strip().lower() for cell in row]
            problems += _header_problems(path, line, header)
            if problems:
                break
            continue
        if len(row) > len(header):
            message = f"{len(row)} cells, but the header has {len(header)} columns"
            problems.append(Problem(path, line, message))
            continue
        # Spreadsheets often carry unnamed, empty columns at the right; data there would be lost.
        if any(cell.strip() for name, cell in zip(header, row, strict=False) if not name):
            problems.append(Problem(path, line, "a value in a column without a header"))
            continue
        fields = {name: cell for name, cell in zip(header, row, strict=False) if name}
        entry, found = _entry(path, fields, lambda _key, at=line: at, defaults)
        problems += found
        if entry is not None:
            entries.append(entry)
    if header is None and not problems:
        problems.append(Problem(path, 0, "the file is empty: expected a header row"))
    return Source(tuple(entries), tuple(problems), path.stem)


def _header_problems(path: Path, line: int, header: Sequence[str]) -> list[Problem]:
    problems = []
    unknown = _unknown_keys(header)
    if unknown:
        message = f"unknown column {', '.join(map(repr, unknown))}; known columns: {_known_list()}"
        problems.append(Problem(path, line, message))
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        problems.append(Problem(path, line, f"column {', '.join(map(repr, repeated))} repeated"))
    missing = [name for name in ("question", "answer") if name not in header]
    if missing:
        message = f"the header row needs the column(s) {', '.join(missing)}"
        problems.append(Problem(path, line, message))
    return problems


def _records(
    path: Path, text: str, delimiter: str, problems: list[Problem], first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """Non-empty rows with the line each starts on; a malformed row ends the reading."""
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + first_line
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # After a quoting error the reader can't tell where the next record starts.
            problems.append(Problem(path, start, f"malformed row: {error}"))
            return
        if any(cell.strip() for cell in row):
            yield start, row


# --- JSON Lines --------------------------------------------------------------------------------


def read_jsonl(path: Path, text: str, defaults: Defaults) -> Source:
    entries: list[Entry] = []
    problems: list[Problem] = []
    for index, raw in enumerate(split_lines(text)):
        line = index + 1
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            message = f"invalid JSON: {error.msg} (column {error.colno})"
            problems.append(Problem(path, line, message))
            continue
        except RecursionError:
            problems.append(Problem(path, line, "invalid JSON: nested too deeply"))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(path, line, "each line must be a JSON object"))
            continue
        unknown = _unknown_keys(list(record))
        if unknown:
            message = f"unknown key {', '.join(map(repr, unknown))}; known keys: {_known_list()}"
            problems.append(Problem(path, line, message))
            continue
        entry, found = _entry(path, record, lambda _key, at=line: at, defaults)
        problems += found
        if entry is not None:
            entries.append(entry)
    return Source(tuple(entries), tuple(problems), path.stem)


# --- Anki "Notes in Plain Text" ----------------------------------------------------------------


@dataclass(slots=True)
class _AnkiHeader:
    separator: str = "\t"
    html: bool = True
    tags_column: int = 0  # 1-based; 0 when the file has none
    skip_columns: set[int] = field(default_factory=set)  # guid, notetype and deck columns
    tags: tuple[str, ...] = ()
    lines: int = 0


def read_anki(path: Path, text: str, defaults: Defaults) -> Source:
    header, problems = _anki_header(path, text)
    if problems:
        return Source((), tuple(problems), path.stem)
    body = "\n".join(split_lines(text)[header.lines:])
    entries: list[Entry] = []
    for line, row in _records(path, body, header.separator, problems, header.lines + 1):
        fields, tags = [], list(header.tags)
        for number, cell in enumerate(row, start=1):
            if number == header.tags_column:
                tags += cell.split()
            elif number not in header.skip_columns:
                fields.append(cell)
        if len(fields) < 2:
            problems.append(Problem(path, line, "a note needs a front and a back field"))
            continue
        front, back, *extra = fields
        if header.html:
            title = html_to_text(front)
            parts = [html_to_markdown(cell) for cell in [back, *extra]]
        else:
            title = " ".join(front.split())
            parts = [to_markdown(split_lines(cell)) for cell in [back, *extra]]
        # Fields beyond front and back (other note types) are kept as more answer paragraphs.
        answer = "\n\n".join(part for part in parts if part)
        record = {"question": title, "answer": answer, "tags": tags}
        entry, found = _entry(path, record, lambda _key, at=line: at, defaults)
        problems += found
        if entry is not None:
            entries.append(entry)
    return Source(tuple(entries), tuple(problems), path.stem)


def _anki_header(path: Path, text: str) -> tuple[_AnkiHeader, list[Problem]]:
    header = _AnkiHeader()
    problems: list[Problem] = []
    for index, raw in enumerate(split_lines(text)):
        found = _ANKI_HEADER_RE.fullmatch(raw.strip())
        if not raw.startswith("#") or not found:
            break
        header.lines = index + 1
        key, value = found[1].strip(), found[2].strip()
        message = _apply_anki_header(header, key, value)
        if message:
            problems.append(Problem(path, index + 1, message))
    return header, problems


def _apply_anki_header(header: _AnkiHeader, key: str, value: str) -> str | None:
    if key == "separator":
        separator = _ANKI_SEPARATORS.get(value.lower(), value if len(value) == 1 else "")
        if not separator:
            names = ", ".join(name.capitalize() for name in _ANKI_SEPARATORS)
            return f"unknown separator {value!r}: use {names} or a single character"
        header.separator = separator
    elif key == "html":
        if value.lower() not in ("true", "false"):
            return f"#html must be true or false, not {value!r}"
        header.html = value.lower() == "true"
    elif key.endswith(" column"):
        if not value.isdigit() or int(value) < 1:
            return f"#{key} must be a column number from 1, not {value!r}"
        if key == "tags column":
            header.tags_column = int(value)
        else:
            header.skip_columns.add(int(value))
    elif key == "tags":
        header.tags = tuple(value.split())
    # Other headers (#deck, #notetype, #columns, ...) say nothing about our questions.
    return None


# --- HTML to Markdown --------------------------------------------------------------------------


def html_to_markdown(source: str) -> str:
    """An Anki field's HTML as our Markdown subset; unknown tags are dropped, their text kept."""
    converter = _HtmlToMarkdown()
    converter.feed(source)
    converter.close()
    return converter.result()


def html_to_text(source: str) -> str:
    """HTML as one line of plain text, for a question title."""
    converter = _HtmlToText()
    converter.feed(source)
    converter.close()
    return " ".join("".join(converter.parts).split())


_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template"})
_BREAKING_TAGS = frozenset({
    "p", "div", "section", "article", "header", "footer", "blockquote", "table", "thead",
    "tbody", "tr", "hr", "dl", "dt", "dd", "figure", "figcaption", "center",
})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class _HtmlToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip += 1
        elif tag == "br" or tag in _BREAKING_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BREAKING_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data.replace("\xa0", " "))


@dataclass(frozen=True, slots=True)
class _Run:
    text: str
    bold: bool
    italic: bool
    code: bool


@dataclass(slots=True)
class _OpenList:
    numbered: bool
    number: int
    indent: str  # what goes before this list's markers
    marker: str = ""  # the current item's marker, once its first line is out

    @property
    def content_indent(self) -> str:
        return self.indent + " " * len(self.marker or ("1. " if self.numbered else "- "))


class _HtmlToMarkdown(HTMLParser):
    """Streams HTML into Markdown: inline runs collect until a block boundary flushes them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.runs: list[_Run] = []
        self.bold = self.italic = self.code = self.skip = 0
        self.heading = False
        self.lists: list[_OpenList] = []
        self.list_lines: list[str] = []
        self.pre: list[str] | None = None
        self.pre_language = ""

    def result(self) -> str:
        if self.pre is not None:  # an unclosed <pre> still holds its code
            self.handle_endtag("pre")
        self._flush()
        while self.lists:
            self._close_list()
        return "\n\n".join(self.blocks)

    # parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip += 1
        elif self.pre is not None:
            if tag == "br":
                self.pre.append("\n")
            elif tag == "code":
                self.pre_language = _language(attrs) or self.pre_language
        elif tag == "br":
            self.runs.append(_Run("\n", False, False, False))
        elif tag in ("b", "strong"):
            self.bold += 1
        elif tag in ("i", "em"):
            self.italic += 1
        elif tag in ("code", "kbd", "samp", "tt"):
            self.code += 1
        elif tag == "pre":
            self._flush()
            self.pre, self.pre_language = [], ""
        elif tag in _HEADINGS:
            self._flush()
            self.heading = True
        elif tag in ("ul", "ol"):
            self._flush()
            indent = self.lists[-1].content_indent if self.lists else ""
            self.lists.append(_OpenList(tag == "ol", _start(attrs), indent))
        elif tag == "li":
            self._flush()
            if self.lists:
                self.lists[-1].marker = ""
        elif tag in _BREAKING_TAGS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<br/>` and friends have no content, so no end tag will balance a depth counter.
        if tag in ("br", "hr") or tag in _BREAKING_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag == "pre" and self.pre is not None:
            self._emit_code("".join(self.pre), self.pre_language)
            self.pre = None
        elif self.pre is not None:
            return
        elif tag in ("b", "strong"):
            self.bold = max(0, self.bold - 1)
        elif tag in ("i", "em"):
            self.italic = max(0, self.italic - 1)
        elif tag in ("code", "kbd", "samp", "tt"):
            self.code = max(0, self.code - 1)
        elif tag in _HEADINGS:
            self._flush()
            self.heading = False
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self._close_list()
        elif tag == "li" or tag in _BREAKING_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre is not None:
            # A newline right after <pre> is not content, as in a browser.
            if not self.pre and data.startswith("\n"):
                data = data[1:]
            self.pre.append(data.replace("\xa0", " "))
            return
        if self.code:
            text = data.replace("\n", " ")
        else:
            # Source formatting (newlines, indentation) is not text; runs of plain spaces are.
            text = re.sub(r"[ \t\r\n\f]*[\t\r\n\f][ \t\r\n\f]*", " ", data)
        self.runs.append(_Run(text.replace("\xa0", " "), self.bold > 0, self.italic > 0,
                              self.code > 0))

    # building blocks

    def _flush(self) -> None:
        runs, self.runs = self.runs, []
        lines = _render_lines(runs)
        if not any(lines):
            return
        if self.heading:
            self._emit_block("### " + " ".join(line for line in lines if line))
        elif self.lists:
            # Paragraphs inside one item become its continuation lines, as the bot shows them.
            for line in filter(None, lines):
                self._emit_item_line(line)
        else:
            paragraph: list[str] = []
            for line in [*lines, ""]:
                if line:
                    paragraph.append(line)
                elif paragraph:
                    self.blocks.append("\n".join(paragraph))
                    paragraph = []

    def _emit_item_line(self, line: str) -> None:
        current = self.lists[-1]
        if current.marker:
            self.list_lines.append(current.content_indent + line)
            return
        current.marker = f"{current.number}. " if current.numbered else "- "
        current.number += current.numbered
        self.list_lines.append(current.indent + current.marker + line)

    def _emit_block(self, block: str) -> None:
        if not self.lists:
            self.blocks.append(block)
            return
        # A heading or code block inside a list item is indented under the item's text.
        for line in block.split("\n"):
            if self.lists[-1].marker:
                self.list_lines.append(self.lists[-1].content_indent + line if line else "")
            else:
                self._emit_item_line(line)

    def _emit_code(self, code: str, language: str) -> None:
        code = code.rstrip("\n")
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        fence = "`" * max(3, longest + 1)
        self._emit_block("\n".join([fence + language, *code.split("\n"), fence]))

    def _close_list(self) -> None:
        self.lists.pop()
        if not self.lists and self.list_lines:
            self.blocks.append("\n".join(self.list_lines))
            self.list_lines = []


def _language(attrs: list[tuple[str, str | None]]) -> str:
    for name, value in attrs:
        if name == "class" and value:
            for cls in value.split():
                if cls.startswith("language-"):
                    return cls.removeprefix("language-")
    return ""


def _start(attrs: list[tuple[str, str | None]]) -> int:
    value = dict(attrs).get("start") or "1"
    return int(value) if value.isdigit() else 1


def _render_lines(runs: Sequence[_Run]) -> list[str]:
    """Runs as Markdown lines; an empty string stands for a blank line between paragraphs."""
    lines: list[list[_Run]] = [[]]
    for run in runs:
        for k, part in enumerate(run.text.split("\n")):
            if k:
                lines.append([])
            if part:
                lines[-1].append(replace(run, text=part))
    return [_render_line(_merge_runs(line)) for line in lines]


def _merge_runs(runs: Sequence[_Run]) -> list[_Run]:
    merged: list[_Run] = []
    for run in runs:
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].code) == (
            run.bold, run.italic, run.code
        ):
            merged[-1] = replace(run, text=merged[-1].text + run.text)
        else:
            merged.append(run)
    # Whitespace at the line's ends is not content, and it would break emphasis markers.
    while merged and not merged[0].text.strip() and not merged[0].code:
        merged.pop(0)
    while merged and not merged[-1].text.strip() and not merged[-1].code:
        merged.pop()
    if merged and not merged[0].code:
        merged[0] = replace(merged[0], text=merged[0].text.lstrip())
    if merged and not merged[-1].code:
        merged[-1] = replace(merged[-1], text=merged[-1].text.rstrip())
    return merged


def _render_line(runs: Sequence[_Run]) -> str:
    out = []
    # Runs that share bold/italic go inside one pair of markers, code spans included.
    for (bold, italic), group in groupby(runs, key=lambda run: (run.bold, run.italic)):
        inner = "".join(
            _code_span(run.text) if run.code else _escape_inline(run.text) for run in group)
        body = inner.strip()
        if not body or not (bold or italic):
            out.append(inner)
            continue
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()):]
        if out and out[-1].endswith(" "):
            lead = ""  # HTML shows one space where a text's and an element's spaces meet
        marker = "**" * bold + "*" * italic
        out.append(f"{lead}{marker}{body}{marker}{trail}")
    line = "".join(out)
    if runs and not (runs[0].code or runs[0].bold or runs[0].italic):
        line = _escape_line_start(line)
    return line


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    # CommonMark strips one space from each side when both are there, and a backtick at either
    # end would merge with the fence.
    padded = text.startswith("`") or text.endswith("`") or (
        text.startswith(" ") and text.endswith(" ") and text.strip())
    return f"{ticks} {text} {ticks}" if padded else f"{ticks}{text}{ticks}"


_ASCII_PUNCTUATION = frozenset(string.punctuation)


def _escape_inline(text: str) -> str:
    """Backslash-escape only what Markdown would read as markup here, so the text reads as typed."""
    out = []
    for i, ch in enumerate(text):
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if ch in "`*":
            out.append("\\" + ch)
        elif ch == "\\" and (after in _ASCII_PUNCTUATION or not after):
            out.append("\\\\")
        elif ch == "_" and not (before.isalnum() and after.isalnum()):
            out.append("\\_")
        elif ch == "]" and after in ("(", ":"):
            out.append("\\]")
        elif ch == "<" and (after.isalpha() or after in "/!?"):
            out.append("\\<")
        elif ch == "&" and re.match(r"&#?[A-Za-z0-9]+;", text[i:]):
            out.append("\\&")
        else:
            out.append(ch)
    return "".join(out)


def _escape_line_start(line: str) -> str:
    number = re.match(r"(\d{1,9})([.)])(?=\s|$)", line)
    if number:
        return f"{number[1]}\\{line[len(number[1]):]}"
    if line[:1] in ("#", "+", "-", "=", ">") or line.startswith("~~~"):
        return "\\" + line
    return line


# --- Markdown to HTML --------------------------------------------------------------------------


def _code_block_html(self: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    language = (token.info or "").strip().split(" ")[0]
    # Anki keeps a note on one line, so the code's newlines become <br>, which <pre> shows alike.
    code = escapeHtml(token.content.rstrip("\n")).replace("\n", "<br>")
    cls = f' class="language-{escapeHtml(language)}"' if language else ""
    return f"<pre><code{cls}>{code}</code></pre>"


# Tables are not part of what the chat shows, but pages bring them and Anki can show them.
_to_html = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": False}).disable(
    ["image"]).enable("table")
_to_html.add_render_rule("fence", _code_block_html)
_to_html.add_render_rule("code_block", _code_block_html)


def markdown_to_html(source: str) -> str:
    """An answer as simple HTML on one line (the only newlines left are inside code, as <br>)."""
    return _to_html.render(source).replace("\n", "")


# --- Markdown question files -------------------------------------------------------------------

# Problems of a source file that don't matter once it is re-rendered under its id in a new pack.
_REPAIRED_ON_IMPORT = re.compile(
    r"missing required field '(id|tags|difficulty|source)'|id '.*' must equal the file name .*")


def read_markdown(path: Path, defaults: Defaults) -> Source:
    """One question file, or every `*.md` in a folder (a pack folder keeps its title/language)."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.md") if not p.name.startswith("."))
        pack, problems = read_pack(path) if (path / "pack.toml").is_file() else (None, [])
        title = pack.title if pack else path.name
        language = pack.language if pack else "zh"
        if not files:
            hint = "; import one pack folder, packs/<id>" if (path / "packs").is_dir() else ""
            problems.append(Problem(path, 0, f"no question files (*.md) in this folder{hint}"))
    else:
        files, problems, title, language = [path], [], path.stem, "zh"
    entries: list[Entry] = []
    for file in files:
        entry, found = _markdown_entry(file, defaults)
        problems += found
        if entry is not None:
            entries.append(entry)
    return Source(tuple(entries), tuple(problems), title, language)


def _markdown_entry(path: Path, defaults: Defaults) -> tuple[Entry | None, list[Problem]]:
    text = read_text(path)
    if isinstance(text, Problem):
        return None, [text]
    qf, problems = parse_question_file(path, text, None)
    if qf is None:
        return None, problems
    problems = [p for p in problems if not _REPAIRED_ON_IMPORT.fullmatch(p.message)]
    problems += check_question_file(qf)
    if problems:
        return None, problems
    meta = qf.meta
    fields = {
        "id": meta.get("id"),
        "question": meta.get("title"),
        "question_en": meta.get("title_en"),
        "answer": qf.answer.text,
        "answer_en": qf.answer_en.text if qf.answer_en else None,
        "tags": meta.get("tags"),
        "difficulty": meta.get("difficulty"),
        "source": meta.get("source"),
        "key_points": meta.get("key_points"),
        "key_points_en": meta.get("key_points_en"),
    }
    names = {"question": "title", "question_en": "title_en"}
    return _entry(path, fields, lambda key: qf.line_of(names.get(key, key)) if key else 1,
                  defaults)


def render_entry(entry: Entry) -> str:
    """The question file for `entry`: the same layout for every format, so re-imports compare."""
    lines = ["---", f"id: {entry.id}", f"title: {yaml_string(entry.title)}"]
    if entry.title_en:
        lines.append(f"title_en: {yaml_string(entry.title_en)}")
    lines += [
        f"tags: [{', '.join(entry.tags)}]",
        f"difficulty: {entry.difficulty}",
        f"source: {yaml_string(entry.source)}",
    ]
    for key, points in (("key_points", entry.key_points), ("key_points_en", entry.key_points_en)):
        if points:
            lines += [f"{key}:", *(f"  - {yaml_string(point)}" for point in points)]
    lines += ["---", entry.answer]
    if entry.answer_en:
        lines += ["", EN_MARKER, entry.answer_en]
    return "\n".join([*lines, ""])


# --- importing ---------------------------------------------------------------------------------


def read_source(path: Path, fmt: str, defaults: Defaults) -> Source:
    """Read `path` in format `fmt` (not auto, not seed)."""
    if fmt == "markdown":
        return read_markdown(path, defaults)
    if path.is_dir():
        message = f"is a folder; only --format markdown reads folders, not {fmt}"
        return Source((), (Problem(path, 0, message),), path.name)
    text = read_text(path)
    if isinstance(text, Problem):
        return Source((), (text,), path.stem)
    if fmt == "jsonl":
        return read_jsonl(path, text, defaults)
    if fmt == "anki":
        return read_anki(path, text, defaults)
    return read_delimited(path, text, "\t" if fmt == "tsv" else ",", defaults)


def import_file(
    path: Path,
    content_root: Path,
    pack_id: str,
    fmt: str,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> FormatImportReport:
    """Import `path` (any format but seed) into `content_root/packs/<pack_id>/`.

    Every question is validated before anything is written, so one bad record writes nothing.
    A question whose file exists with other content is only overwritten with `force`. Raises
    OSError only when writing fails.
    """
    problems = option_problems(path, pack_id, DEFAULT_TAGS, DEFAULT_DIFFICULTY)
    if problems:
        return FormatImportReport(fmt, problems=tuple(problems), dry_run=dry_run)
    source = read_source(path, fmt, Defaults(pack_id, path.name))
    if not source.entries:
        problems = list(source.problems) or [Problem(path, 0, "no questions found")]
        return FormatImportReport(fmt, problems=tuple(problems), dry_run=dry_run)
    pack_dir = content_root / "packs" / pack_id
    pack, pack_text, problems = _plan_pack(pack_dir, source, path.name)
    # Records that read fine are still checked, so one run lists every problem in the file.
    planned, plan_problems = _plan(source.entries, pack_dir, pack, ids_in_use(content_root),
                                   force, translate=fmt != "markdown")
    problems += sort_problems([*source.problems, *plan_problems])
    if problems:
        return FormatImportReport(fmt, problems=tuple(problems), dry_run=dry_run)
    if not dry_run:
        pack_dir.mkdir(parents=True, exist_ok=True)
        if pack_text is not None:
            write_atomically(pack_dir / "pack.toml", pack_text)
        for question, text in planned:
            if question.written:
                write_atomically(question.path, text)
    return FormatImportReport(
        fmt,
        questions=tuple(question for question, _ in planned),
        pack_toml=pack_dir / "pack.toml" if pack_text is not None else None,
        dry_run=dry_run,
    )


def _plan_pack(
    pack_dir: Path, source: Source, file_name: str
) -> tuple[PackInfo | None, str | None, list[Problem]]:
    """The pack, the pack.toml text to create (None if it exists), and its problems."""
    if (pack_dir / "pack.toml").exists():
        pack, problems = read_pack(pack_dir)
        return pack, None, problems
    text = "\n".join([
        f"id = {toml_string(pack_dir.name)}",
        f"title = {toml_string(source.title or pack_dir.name)}",
        f"language = {toml_string(source.language)}",
        f"description = {toml_string(f'Imported from {file_name}')}",
        "",
    ])
    pack, problems = parse_pack_toml(pack_dir / "pack.toml", text)
    return pack, text, problems


def _plan(
    entries: Sequence[Entry],
    pack_dir: Path,
    pack: PackInfo | None,
    used: Mapping[str, Path],
    force: bool,
    *,
    translate: bool,
) -> tuple[list[tuple[PlannedQuestion, str]], list[Problem]]:
    planned: list[tuple[PlannedQuestion, str]] = []
    problems: list[Problem] = []
    seen: dict[str, Entry] = {}
    for entry in entries:
        target = pack_dir / f"{entry.id}.md"
        text = render_entry(entry)
        # The file is named after the id, so a name mismatch only echoes an invalid id.
        found = [p.message for p in validate_question_text(target, text, pack)
                 if not _REPAIRED_ON_IMPORT.fullmatch(p.message)]
        if translate:
            found = [_column_names(message) for message in found]
        if entry.id in seen:
            first = seen[entry.id]
            where = f"{first.path.name}:{first.line}"
            found.append(f"id {entry.id} again: the same question as {where}")
        if entry.id in used and used[entry.id] != target:
            found.append(f"id {entry.id} is already used by {used[entry.id]}")
        problems += [Problem(entry.path, entry.line, message) for message in found]
        seen.setdefault(entry.id, entry)
        status = _status(target, text)
        written = status == "new" or (status == "changed" and force)
        planned.append((PlannedQuestion(entry.id, entry.title, target, status, written), text))
    return planned, problems


def _status(target: Path, text: str) -> Status:
    # An id that fails validation may point anywhere (`../x`); don't even look there.
    if not ID_RE.fullmatch(target.stem) or not target.exists():
        return "new"
    current = read_text(target)
    return "unchanged" if current == text else "changed"


def _column_names(message: str) -> str:
    # Rendered files call them title/title_en; the person fixing a CSV knows them as columns.
    return re.sub(r"\btitle(_en)?\b", r"question\1", message)


# --- exporting ---------------------------------------------------------------------------------


def export_questions(questions: Sequence[Question], fmt: str) -> str:
    """The questions as one file's text in `fmt` (csv, tsv, jsonl or anki; apkg is binary)."""
    if fmt == "jsonl":
        return "".join(
            json.dumps(_record(q), ensure_ascii=False) + "\n" for q in questions)
    buffer = io.StringIO()
    delimiter = "," if fmt == "csv" else "\t"
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    if fmt == "anki":
        buffer.write("#separator:tab\n#html:true\n#tags column:3\n")
        for q in questions:
            writer.writerow([html.escape(q.title), markdown_to_html(q.answer), " ".join(q.tags)])
        return buffer.getvalue()
    writer.writerow(COLUMNS)
    for q in questions:
        record = _record(q)
        writer.writerow([_cell(column, record[column]) for column in COLUMNS])
    return buffer.getvalue()


def _record(q: Question) -> dict[str, object]:
    return {
        "question": q.title,
        "answer": q.answer,
        "tags": list(q.tags),
        "question_en": q.title_en,
        "answer_en": q.answer_en,
        "key_points": list(q.key_points),
        "key_points_en": list(q.key_points_en),
        "difficulty": q.difficulty,
        "id": q.id,
        "source": q.source,
    }


def _cell(column: str, value: object) -> str:
    if isinstance(value, list):
        # Tags are single words; key points are sentences, so they go one per line.
        return (" " if column == "tags" else "\n").join(map(str, value))
    return str(value)
