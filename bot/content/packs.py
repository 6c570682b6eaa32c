"""Question packs on disk, read into an immutable bank.

The loader is strict about what a `Question` needs to be served (structure, types, required fields)
and skips any file that falls short. Editorial rules that don't stop a question from being sent
(title length, English pairing, message-size limits) are left to `bot.content.check`.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import cast

import yaml

from bot.core.models import PackSummary, Question

ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
TAG_RE = re.compile(r"[a-z0-9-]+")
EN_MARKER = "<!-- en -->"
LANGUAGES = ("zh", "en")
MAX_KEY_POINTS = 8
FRONT_MATTER_FENCE = "---"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the content, located so an editor can jump to it."""

    path: Path
    line: int  # 1-based; 0 when it concerns a whole file or folder rather than a line
    message: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class PackInfo:
    id: str
    title: str
    language: str
    description: str
    path: Path


@dataclass(frozen=True, slots=True)
class Section:
    """One language's answer inside a question file."""

    text: str
    start: int  # file line right after the delimiter that opens the section


@dataclass(frozen=True, slots=True)
class QuestionFile:
    """A question file whose front matter could be read, valid or not."""

    path: Path
    lines: tuple[str, ...]
    meta: Mapping[str, object]
    key_lines: Mapping[str, int]
    repeated_keys: tuple[tuple[str, int], ...]
    answer: Section
    answer_en: Section | None  # None when the file has no `<!-- en -->` line
    en_marker_lines: tuple[int, ...]
    question: Question | None  # None when the file can't be served

    def line_of(self, key: str) -> int:
        # A missing key has no line of its own; the opening fence is the closest place.
        return self.key_lines.get(key, 1)


@dataclass(frozen=True, slots=True)
class ContentBank:
    """Every servable question, sorted by id, and the packs they come from.

    Drafts (`draft: true`, usually a title still waiting for its answer) are kept apart in
    `drafts`: nothing that chooses or counts questions sees them, so they are never sent.
    """

    questions: tuple[Question, ...] = ()
    packs: tuple[PackInfo, ...] = ()
    drafts: tuple[Question, ...] = ()
    _by_id: Mapping[str, Question] = field(init=False, repr=False, compare=False)
    _ids: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.questions, key=lambda q: q.id))
        object.__setattr__(self, "questions", ordered)
        object.__setattr__(self, "drafts", tuple(sorted(self.drafts, key=lambda q: q.id)))
        object.__setattr__(self, "_by_id", MappingProxyType({q.id: q for q in ordered}))
        # Asked once per post by the push: worked out once, not per call.
        object.__setattr__(self, "_ids", tuple(q.id for q in ordered))

    def get(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def ids(self) -> tuple[str, ...]:
        return self._ids

    def pack_summaries(self) -> tuple[PackSummary, ...]:
        """Every pack with its question count, ordered by id; an empty pack counts 0."""
        counts = Counter(q.pack for q in self.questions)
        titles = {info.id: info.title for info in self.packs}
        return tuple(PackSummary(pack, titles.get(pack, pack), counts[pack])
                     for pack in sorted(counts.keys() | titles.keys()))

    def tag_counts(self, packs: Collection[str] = ()) -> Mapping[str, int]:
        """Questions per tag within `packs` (empty: every pack), ordered by tag."""
        in_packs = frozenset(packs)
        counts = Counter(tag for q in self.questions if not in_packs or q.pack in in_packs
                         for tag in set(q.tags))
        return MappingProxyType(dict(sorted(counts.items())))

    def matching(self, packs: Collection[str] = (), tags: Collection[str] = ()) -> tuple[str, ...]:
        """Ids of the questions in any of `packs` with any of `tags`; empty means no limit."""
        in_packs, wanted = frozenset(packs), frozenset(tags)
        return tuple(q.id for q in self.questions
                     if (not in_packs or q.pack in in_packs)
                     and (not wanted or not wanted.isdisjoint(q.tags)))

    def __len__(self) -> int:
        return len(self.questions)


@dataclass(frozen=True, slots=True)
class ContentScan:
    """Everything read under a content root, before duplicates are resolved."""

    packs: tuple[PackInfo, ...]
    files: tuple[QuestionFile, ...]
    problems: tuple[Problem, ...]


def load_bank(root: Path) -> tuple[ContentBank, list[Problem]]:
    """Load every valid question under `root`; bad files are reported and skipped."""
    return build_bank(scan_content(root))


def build_bank(scan: ContentScan) -> tuple[ContentBank, list[Problem]]:
    problems = list(scan.problems)
    by_id: dict[str, list[QuestionFile]] = {}
    for qf in scan.files:
        qid = qf.meta.get("id")
        if isinstance(qid, str):
            by_id.setdefault(qid, []).append(qf)
    questions: list[Question] = []
    drafts: list[Question] = []
    for qid, copies in by_id.items():
        if len(copies) > 1:
            problems.extend(_duplicate_problems(qid, copies))
        # The first servable copy in pack/file order wins, so the choice is stable across runs.
        first = next((qf for qf in copies if qf.question is not None), None)
        if first is not None and first.question is not None:
            (drafts if is_draft(first) else questions).append(first.question)
    return ContentBank(tuple(questions), scan.packs, tuple(drafts)), sort_problems(problems)


def is_draft(qf: QuestionFile) -> bool:
    return qf.meta.get("draft") is True


def _duplicate_problems(qid: str, copies: Sequence[QuestionFile]) -> list[Problem]:
    problems = []
    for qf in copies:
        others = ", ".join(f"{o.path}:{o.line_of('id')}" for o in copies if o is not qf)
        message = f"duplicate id '{qid}', also in {others}"
        problems.append(Problem(qf.path, qf.line_of("id"), message))
    return problems


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (str(p.path), p.line, p.message))


def scan_content(root: Path) -> ContentScan:
    """Read every pack under `root`: a content folder holding packs/, or a single pack folder."""
    pack_dirs, problems = _pack_dirs(root)
    packs: list[PackInfo] = []
    files: list[QuestionFile] = []
    for pack_dir in pack_dirs:
        pack, pack_problems = read_pack(pack_dir)
        problems.extend(pack_problems)
        if pack is not None:
            packs.append(pack)
        # Question files are read even when pack.toml is broken, so one check run shows everything.
        for path in sorted(pack_dir.glob("*.md")):
            qf, file_problems = read_question_file(path, pack)
            problems.extend(file_problems)
            if qf is not None:
                files.append(qf)
    return ContentScan(tuple(packs), tuple(files), tuple(problems))


def _pack_dirs(root: Path) -> tuple[list[Path], list[Problem]]:
    if (root / "packs").is_dir():
        dirs = [d for d in sorted((root / "packs").iterdir()) if d.is_dir()]
        return [d for d in dirs if not d.name.startswith(".")], []
    if (root / "pack.toml").is_file():
        return [root], []
    if not root.is_dir():
        return [], [Problem(root, 0, "no such folder")]
    return [], [Problem(root, 0, "not a content folder: expected a packs/ folder or a pack.toml")]


def read_text(path: Path) -> str | Problem:
    """A file's UTF-8 text, or a problem saying why it can't be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(path, 0, f"cannot read: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(path, line, f"not valid UTF-8 (byte {exc.start})")
    return text.removeprefix("\ufeff")


def split_lines(text: str) -> tuple[str, ...]:
    # str.splitlines also breaks on form feeds and U+2028, which editors don't count as lines.
    return tuple(line.removesuffix("\r") for line in text.split("\n"))


# --- pack.toml ---------------------------------------------------------------------------------


def read_pack(pack_dir: Path) -> tuple[PackInfo | None, list[Problem]]:
    path = pack_dir / "pack.toml"
    if not path.is_file():
        return None, [Problem(path, 0, "pack.toml is missing")]
    text = read_text(path)
    if isinstance(text, Problem):
        return None, [text]
    return parse_pack_toml(path, text)


def parse_pack_toml(path: Path, text: str) -> tuple[PackInfo | None, list[Problem]]:
    """Validate a pack.toml; the pack id must equal its folder's name."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [_toml_error(path, text, exc)]
    problems = [
        Problem(path, _toml_key_line(text, key), f"{key}: {message}")
        for key, message in _pack_field_errors(data, path.parent.name)
    ]
    if problems:
        return None, problems
    info = PackInfo(
        id=str(data["id"]),
        title=str(data["title"]).strip(),
        language=str(data["language"]),
        description=str(data.get("description", "")).strip(),
        path=path.parent,
    )
    return info, []


def _pack_field_errors(data: Mapping[str, object], folder: str) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for key in ("id", "title", "language"):
        if key not in data:
            errors.append((key, "missing required key"))
    pack_id = data.get("id")
    if "id" in data and not (isinstance(pack_id, str) and ID_RE.fullmatch(pack_id)):
        errors.append(("id", f"must match {ID_RE.pattern}"))
    elif isinstance(pack_id, str) and pack_id != folder:
        errors.append(("id", f"'{pack_id}' must equal the folder name '{folder}'"))
    if "title" in data and _text_error(data["title"]):
        errors.append(("title", "must be a non-empty string"))
    if "language" in data and data["language"] not in LANGUAGES:
        errors.append(("language", f"must be one of {', '.join(LANGUAGES)}"))
    if not isinstance(data.get("description", ""), str):
        errors.append(("description", "must be a string"))
    return errors


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    # tomllib (3.11) only puts the position into the message text.
    message = str(exc)
    found = re.search(r"\s*\(at line (\d+), column \d+\)", message)
    if found:
        return Problem(path, int(found.group(1)), f"invalid TOML: {message[: found.start()]}")
    return Problem(path, len(split_lines(text)), f"invalid TOML: {message}")


def _toml_key_line(text: str, key: str) -> int:
    found = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else 1


# --- question files ----------------------------------------------------------------------------


def read_question_file(
    path: Path, pack: PackInfo | None
) -> tuple[QuestionFile | None, list[Problem]]:
    text = read_text(path)
    if isinstance(text, Problem):
        return None, [text]
    return parse_question_file(path, text, pack)


def parse_question_file(
    path: Path, text: str, pack: PackInfo | None
) -> tuple[QuestionFile | None, list[Problem]]:
    """Parse a question file; `question` is set only when it has no loading problem and a pack."""
    lines = split_lines(text)
    close = _front_matter_end(path, lines)
    if isinstance(close, Problem):
        return None, [close]
    front = _parse_front_matter(path, lines[1:close])
    if isinstance(front, Problem):
        return None, [front]
    meta, key_lines, repeated = front
    answer, answer_en, markers = _split_body(lines, close + 1)
    problems = [Problem(path, line, message) for line, message in _field_errors(meta, key_lines)]
    if isinstance(meta.get("id"), str) and meta["id"] != path.stem:
        message = f"id '{meta['id']}' must equal the file name '{path.stem}'"
        problems.append(Problem(path, key_lines["id"], message))
    if not answer.text and meta.get("draft") is not True:
        problems.append(Problem(path, min(answer.start, len(lines)), "the answer is empty"))
    qf = QuestionFile(
        path=path,
        lines=lines,
        meta=MappingProxyType(meta),
        key_lines=MappingProxyType(key_lines),
        repeated_keys=repeated,
        answer=answer,
        answer_en=answer_en,
        en_marker_lines=markers,
        question=None,
    )
    if problems or pack is None:
        return qf, problems
    return _with_question(qf, pack), []


def _front_matter_end(path: Path, lines: Sequence[str]) -> int | Problem:
    """Index of the closing fence line."""
    if not lines or lines[0].rstrip() != FRONT_MATTER_FENCE:
        return Problem(path, 1, "missing front matter: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FRONT_MATTER_FENCE:
            return index
    return Problem(path, 1, "front matter is not closed by a second '---' line")


FrontMatter = tuple[dict[str, object], dict[str, int], tuple[tuple[str, int], ...]]


def _parse_front_matter(path: Path, yaml_lines: Sequence[str]) -> FrontMatter | Problem:
    """Fields, the file line of each key, and keys given twice (YAML keeps only the last)."""
    source = "\n".join(yaml_lines)
    first_line = 2  # the YAML starts right after the opening fence
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return _yaml_error(path, exc, source, first_line)
    if node is None:
        return Problem(path, 1, "front matter is empty")
    if not isinstance(node, yaml.MappingNode):
        return Problem(path, first_line, "front matter must be a mapping of 'key: value' lines")
    meta: dict[str, object] = {}
    key_lines: dict[str, int] = {}
    repeated: list[tuple[str, int]] = []
    # Values are built one key at a time so a bad value is reported at its own line.
    constructor = yaml.SafeLoader("")
    for key_node, value_node in node.value:
        key, line = str(key_node.value), key_node.start_mark.line + first_line
        if key in key_lines:
            repeated.append((key, line))
        else:
            key_lines[key] = line
        try:
            meta[key] = constructor.construct_object(value_node, deep=True)
        except yaml.YAMLError as exc:
            return _yaml_error(path, exc, source, first_line)
        except (ValueError, TypeError) as exc:  # PyYAML lets int()/date() errors through
            return Problem(path, line, f"invalid YAML in front matter: {key}: {exc}")
    return meta, key_lines, tuple(repeated)


def _yaml_error(path: Path, exc: yaml.YAMLError, source: str, first_line: int) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised before any parsing, so it has a character offset instead of a mark.
        line = source.count("\n", 0, exc.position) + first_line
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        detail = f"{exc.reason} (U+{code:04X})"
    elif isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else 1
        detail = ": ".join(part for part in (exc.context, exc.problem) if part)
    else:
        line, detail = 1, str(exc)
    return Problem(path, line, "invalid YAML in front matter: " + " ".join(str(detail).split()))


def _split_body(
    lines: Sequence[str], body_start: int
) -> tuple[Section, Section | None, tuple[int, ...]]:
    """The answer, the English answer after the first marker, and every marker's file line."""
    markers = [i for i in range(body_start, len(lines)) if lines[i].strip() == EN_MARKER]
    end = markers[0] if markers else len(lines)
    answer = Section("\n".join(lines[body_start:end]).strip(), body_start + 1)
    answer_en = None
    if markers:
        answer_en = Section("\n".join(lines[end + 1 :]).strip(), end + 2)
    return answer, answer_en, tuple(i + 1 for i in markers)


def _text_error(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _id_error(value: object) -> str | None:
    if isinstance(value, str) and ID_RE.fullmatch(value):
        return None
    return f"must match {ID_RE.pattern}"


def _tags_error(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of tags"
    bad = [t for t in value if not (isinstance(t, str) and TAG_RE.fullmatch(t))]
    if bad:
        return f"tags must match {TAG_RE.pattern}: {', '.join(map(str, bad))}"
    return None


def _difficulty_error(value: object) -> str | None:
    # bool is an int subclass; `difficulty: true` must not pass as 1.
    if type(value) is int and 1 <= value <= 3:
        return None
    return f"must be 1, 2 or 3, not {value!r}"


def _bool_error(value: object) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {value!r}"


def _points_error(value: object) -> str | None:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_KEY_POINTS:
        return f"must be a list of 1 to {MAX_KEY_POINTS} strings"
    if any(_text_error(point) for point in value):
        return "every key point must be a non-empty string"
    return None


FIELD_RULES: Mapping[str, tuple[bool, Callable[[object], str | None]]] = MappingProxyType({
    "id": (True, _id_error),
    "title": (True, _text_error),
    "title_en": (False, _text_error),
    "tags": (True, _tags_error),
    "difficulty": (True, _difficulty_error),
    "source": (True, _text_error),
    "key_points": (False, _points_error),
    "key_points_en": (False, _points_error),
    "draft": (False, _bool_error),
})


def _field_errors(
    meta: Mapping[str, object], key_lines: Mapping[str, int]
) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    for key, (required, rule) in FIELD_RULES.items():
        if key not in meta:
            if required:
                errors.append((1, f"missing required field '{key}'"))
            continue
        message = rule(meta[key])
        if message:
            errors.append((key_lines.get(key, 1), f"{key}: {message}"))
    return errors


def _with_question(qf: QuestionFile, pack: PackInfo) -> QuestionFile:
    meta = qf.meta
    question = Question(
        id=str(meta["id"]),
        pack=pack.id,
        title=str(meta["title"]).strip(),
        answer=qf.answer.text,
        tags=_strings(meta["tags"]),
        difficulty=cast(int, meta["difficulty"]),
        source=str(meta["source"]).strip(),
        key_points=_strings(meta.get("key_points", [])),
        title_en=str(meta.get("title_en", "")).strip(),
        answer_en=qf.answer_en.text if qf.answer_en else "",
        key_points_en=_strings(meta.get("key_points_en", [])),
        language=pack.language,
    )
    return replace(qf, question=question)


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(item).strip() for item in value) if isinstance(value, list) else ()
