"""Bodies of the `studybot content ...` commands; argument parsing lives in the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from bot.content.check import check_bank
from bot.content.formats import (
    EXPORT_FORMATS,
    FormatImportReport,
    detect_format,
    export_questions,
    import_file,
)
from bot.content.packs import load_bank
from bot.content.seed_import import ImportedQuestion, import_document, write_atomically
from bot.content.stats import content_stats, format_stats
from bot.core.models import Question


def cmd_check(path: Path, out: TextIO) -> int:
    bank, problems = check_bank(path)
    for problem in problems:
        print(problem, file=out)
    if problems:
        print(_plural(len(problems), "problem"), file=out)
        return 1
    print(f"{_plural(len(bank), 'question')} in {_plural(len(bank.packs), 'pack')}: ok", file=out)
    return 0


def cmd_import(
    file: Path,
    content_root: Path,
    pack_id: str,
    force: bool,
    dry_run: bool,
    out: TextIO,
    fmt: str = "auto",
) -> int:
    if fmt == "auto":
        fmt = detect_format(file)
    if fmt != "seed":
        return _import_format(file, content_root, pack_id, fmt, force, dry_run, out)
    try:
        report = import_document(file, content_root, pack_id, force=force, dry_run=dry_run)
    except OSError as exc:
        print(f"error: cannot write to {content_root}: {exc}", file=out)
        return 1
    for problem in report.problems:
        print(f"error: {problem}", file=out)
    if report.problems:
        return 1
    verb = "would write" if dry_run else "wrote"
    if report.pack_created:
        print(f"{verb} {content_root / 'packs' / pack_id / 'pack.toml'}", file=out)
    for item in report.written:
        print(f"{verb} {_describe(item)}", file=out)
    for item in report.skipped:
        print(f"skipped {_describe(item)} (already there; --force overwrites)", file=out)
    summary = f"{len(report.written)} to write" if dry_run else f"{len(report.written)} written"
    note = " (dry run: nothing was written)" if dry_run else ""
    print(f"{summary}, {len(report.skipped)} skipped{note}", file=out)
    return 0


def _import_format(
    file: Path,
    content_root: Path,
    pack_id: str,
    fmt: str,
    force: bool,
    dry_run: bool,
    out: TextIO,
) -> int:
    try:
        report = import_file(file, content_root, pack_id, fmt, force=force, dry_run=dry_run)
    except OSError as exc:
        print(f"error: cannot write to {content_root}: {exc}", file=out)
        return 1
    for problem in report.problems:
        print(f"error: {problem}", file=out)
    if report.problems:
        print(f"nothing was written ({_plural(len(report.problems), 'problem')} "
              f"in {file}, read as {fmt})", file=out)
        return 1
    _print_import(report, force, out)
    return 0


def _print_import(report: FormatImportReport, force: bool, out: TextIO) -> None:
    verb = "would write" if report.dry_run else "wrote"
    if report.pack_toml is not None:
        print(f"{verb} {report.pack_toml}", file=out)
    width = max((len(q.id) for q in report.questions), default=0)
    for q in report.questions:
        note = ""
        if q.status == "changed" and not force:
            note = "  (kept; --force overwrites)"
        print(f"{q.status:<9}  {q.id:<{width}}  {q.title}{note}", file=out)
    counts = ", ".join(
        f"{report.count(status)} {status}" for status in ("new", "changed", "unchanged"))
    if report.dry_run:
        print(f"{counts}; {report.written} to write (dry run: nothing was written)", file=out)
    else:
        print(f"{counts}; {report.written} written", file=out)


def cmd_export(
    content_root: Path,
    pack_id: str,
    fmt: str,
    output: Path | None,
    out: TextIO,
    err: TextIO | None = None,
) -> int:
    err = err or sys.stderr
    if fmt not in EXPORT_FORMATS:
        print(f"error: unknown export format '{fmt}': use {', '.join(EXPORT_FORMATS)}", file=err)
        return 1
    bank, problems = load_bank(content_root)
    packs = sorted(pack.id for pack in bank.packs)
    if pack_id not in packs:
        known = ", ".join(packs) or "none"
        print(f"error: no pack '{pack_id}' in {content_root} (packs: {known})", file=err)
        return 1
    if problems:
        print(
            f"warning: {_plural(len(problems), 'problem')} in {content_root}; broken questions "
            "are left out (run `studybot content check` for details)",
            file=err,
        )
    questions = [q for q in bank.questions if q.pack == pack_id]
    text = export_questions(questions, fmt)
    if output is None:
        out.write(text)
        return 0
    try:
        write_atomically(output, text)
    except OSError as exc:
        print(f"error: cannot write {output}: {exc.strerror or exc}", file=err)
        return 1
    print(f"wrote {_plural(len(questions), 'question')} of pack '{pack_id}' to {output}", file=err)
    return 0


def cmd_stats(path: Path, as_json: bool, out: TextIO, err: TextIO | None = None) -> int:
    err = err or sys.stderr
    bank, problems = load_bank(path)
    if not bank.packs and problems:
        for problem in problems:
            print(f"error: {problem}", file=err)
        return 1
    if problems:
        print(
            f"warning: {_plural(len(problems), 'problem')} in {path}; broken questions are not "
            "counted (run `studybot content check` for details)",
            file=err,
        )
    stats = content_stats(bank.questions, (pack.id for pack in bank.packs))
    if as_json:
        json.dump(stats.as_json(), out, ensure_ascii=False, indent=2)
        print(file=out)
    else:
        for line in format_stats(stats):
            print(line, file=out)
    return 0


def cmd_list(content_root: Path, as_json: bool, out: TextIO, err: TextIO | None = None) -> int:
    bank, problems = load_bank(content_root)
    if problems:
        # Keep stdout clean for JSON consumers; the listing still shows every loadable question.
        print(
            f"warning: {_plural(len(problems), 'problem')} in {content_root}; "
            "run `studybot content check` for details",
            file=err or sys.stderr,
        )
    if as_json:
        json.dump([_as_json(q) for q in bank.questions], out, ensure_ascii=False, indent=2)
        print(file=out)
    else:
        _print_table(bank.questions, out)
    return 0


def _describe(item: ImportedQuestion) -> str:
    return f"{item.id}  {item.title}"


def _as_json(question: Question) -> dict[str, object]:
    return {
        "id": question.id,
        "pack": question.pack,
        "title": question.title,
        "title_en": question.title_en,
        "tags": list(question.tags),
        "difficulty": question.difficulty,
        "source": question.source,
        "has_english": bool(question.title_en and question.answer_en),
    }


def _print_table(questions: tuple[Question, ...], out: TextIO) -> None:
    header = ("id", "pack", "difficulty", "tags", "title")
    rows = [
        (q.id, q.pack, str(q.difficulty), ",".join(q.tags), q.title) for q in questions
    ]
    # Titles are CJK and go last, so only the ASCII columns need padding.
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]), file=out)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
