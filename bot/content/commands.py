"""Bodies of the `studybot content ...` commands; argument parsing lives in the CLI."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO, cast

from bot.content.check import check_bank_with_warnings
from bot.content.formats import (
    EXPORT_FORMATS,
    LANGUAGES,
    FormatImportReport,
    Language,
    detect_format,
    export_questions,
    import_file,
)
from bot.content.packs import PackInfo, load_bank
from bot.content.seed_import import ImportedQuestion, import_document, write_atomically
from bot.content.stats import content_stats, format_stats
from bot.content.structure import BOILERPLATE_KINDS, Structure
from bot.core.models import Question


def cmd_check(path: Path, out: TextIO, strict: bool = False) -> int:
    """Errors always fail; warnings (answers that look cut short) fail only when `strict`."""
    bank, problems, warnings = check_bank_with_warnings(path)
    for problem in problems:
        print(problem, file=out)
    for warning in warnings:
        print(f"warning: {warning}", file=out)
    failed = len(problems) + (len(warnings) if strict else 0)
    if failed:
        counts = [_plural(len(problems), "problem")]
        if warnings:
            counts.append(_plural(len(warnings), "warning") + (" (--strict)" if strict else ""))
        print(", ".join(counts), file=out)
        return 1
    drafts = f" and {_plural(len(bank.drafts), 'draft')}" if bank.drafts else ""
    note = f" ({_plural(len(warnings), 'warning')})" if warnings else ""
    print(f"{_plural(len(bank), 'question')}{drafts} in {_plural(len(bank.packs), 'pack')}: "
          f"ok{note}", file=out)
    return 0


def cmd_import(
    file: Path,
    content_root: Path,
    pack_id: str,
    force: bool,
    dry_run: bool,
    out: TextIO,
    fmt: str = "auto",
    allow_empty: bool = False,
) -> int:
    if fmt == "auto":
        fmt = detect_format(file)
    if fmt not in ("seed", "html"):
        return _import_format(file, content_root, pack_id, fmt, force, dry_run, out)
    try:
        report = import_document(file, content_root, pack_id, force=force, dry_run=dry_run,
                                 allow_empty=allow_empty, fmt="html" if fmt == "html" else "seed")
    except OSError as exc:
        print(f"error: cannot write to {content_root}: {exc}", file=out)
        return 1
    if dry_run and report.document is not None and report.document.structure is not None:
        for line in describe_structure(file, report.document.structure, fmt == "html"):
            print(line, file=out)
    for problem in report.problems:
        print(f"error: {problem}", file=out)
    if report.problems:
        return 1
    for warning in report.warnings:
        print(f"warning: {warning}", file=out)
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
    *,
    language: str | None = None,
    bom: bool = True,
) -> int:
    """Write a pack in `fmt`. CSV gets a UTF-8 BOM unless `bom` is off, since Excel reads a CSV
    without one in the system's legacy code page and garbles Chinese. `language` picks what an
    Anki package holds: zh (the pack's language), en or both."""
    err = err or sys.stderr
    if fmt not in EXPORT_FORMATS:
        print(f"error: unknown export format '{fmt}': use {', '.join(EXPORT_FORMATS)}", file=err)
        return 1
    if language is not None and fmt != "apkg":
        print("error: --lang is for --format apkg; the other formats carry every language",
              file=err)
        return 1
    bank, problems = load_bank(content_root)
    packs = {pack.id: pack for pack in bank.packs}
    if pack_id not in packs:
        known = ", ".join(sorted(packs)) or "none"
        print(f"error: no pack '{pack_id}' in {content_root} (packs: {known})", file=err)
        return 1
    if problems:
        print(
            f"warning: {_plural(len(problems), 'problem')} in {content_root}; broken questions "
            "are left out (run `studybot content check` for details)",
            file=err,
        )
    questions = [q for q in bank.questions if q.pack == pack_id]
    drafts = sum(1 for q in bank.drafts if q.pack == pack_id)
    if drafts:
        print(f"note: {_plural(drafts, 'draft')} without an answer left out", file=err)
    if fmt == "apkg":
        if output is None:
            print("error: an Anki package is a binary file: give -o FILE.apkg", file=err)
            return 1
        return _export_package(questions, packs[pack_id], language or "zh", output, err)
    text = export_questions(questions, fmt)
    if fmt == "csv" and bom:
        text = "\ufeff" + text
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


def _export_package(
    questions: list[Question], pack: PackInfo, language: str, output: Path, err: TextIO
) -> int:
    from bot.content.anki_package import write_package  # genanki is only needed here

    if language not in LANGUAGES:
        print(f"error: unknown language '{language}': use {', '.join(LANGUAGES)}", file=err)
        return 1
    lang = cast(Language, language)
    try:
        write_package(questions, pack.id, pack.title, lang, output)
    except OSError as exc:
        print(f"error: cannot write {output}: {exc.strerror or exc}", file=err)
        return 1
    if lang != "zh":
        missing = sum(1 for q in questions if not (q.title_en and q.answer_en))
        if missing and pack.language != "en":
            shown = "in the pack's language only" if lang == "both" else "in the pack's language"
            print(f"note: {_plural(missing, 'question')} without English {shown}", file=err)
    print(f"wrote {_plural(len(questions), 'question')} of pack '{pack.id}' to {output} "
          f"(Anki deck '{pack.title}', {lang})", file=err)
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
    # Drafts are listed after the questions that are sent, so they are easy to find and finish.
    listed = [(q, False) for q in bank.questions] + [(q, True) for q in bank.drafts]
    if as_json:
        json.dump([_as_json(q, draft) for q, draft in listed], out, ensure_ascii=False, indent=2)
        print(file=out)
    else:
        _print_table(listed, out)
    return 0


def _describe(item: ImportedQuestion) -> str:
    return f"{item.id}  {item.title}" + ("  (draft: no answer yet)" if item.draft else "")


def describe_structure(file: Path, structure: Structure, html: bool) -> list[str]:
    """What the page parser found, for a person deciding whether to import: each question with
    its answer's length and first words, each section, and every block left out and why."""
    kind = "an HTML page" if html else "text"
    sections = f", in {_plural(len(structure.sections), 'section')}" if structure.sections else ""
    style = f" under headings like '{structure.style}'" if structure.style else ""
    lines = [f"{file} read as {kind}: {_plural(len(structure.items), 'question')}{style}{sections}"]
    section = None
    for item in structure.items:
        if item.section is not None and item.section != section:
            section = item.section
            lines.append(f"  section {section.title} (line {section.line})")
        answer = " ".join(" ".join(item.body).split())
        first = f"{answer[:30]}…" if len(answer) > 30 else answer
        lines.append(f"  #{item.number:<3} line {item.line:<5} {len(answer):>5} chars  "
                     f"{item.title}  | {first or '(no answer)'}")
    boilerplate = structure.dropped_count()
    kinds = Counter(d.kind for d in structure.dropped if d.kind in BOILERPLATE_KINDS)
    detail = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
    intro = structure.dropped_count(("intro",))
    lines.append(f"dropped {_plural(boilerplate, 'block')} as boilerplate"
                 + (f" ({detail})" if detail else "")
                 + (f", and {_plural(intro, 'intro block')} before the first question"
                    if intro else ""))
    for dropped in structure.dropped:
        where = f"line {dropped.line:<5}" if dropped.line else "page      "
        text = f"{dropped.text[:40]}…" if len(dropped.text) > 40 else dropped.text
        lines.append(f"  {where} {dropped.kind:<7}  {text}")
    return lines


def _as_json(question: Question, draft: bool) -> dict[str, object]:
    return {
        "id": question.id,
        "pack": question.pack,
        "title": question.title,
        "title_en": question.title_en,
        "tags": list(question.tags),
        "difficulty": question.difficulty,
        "source": question.source,
        "has_english": bool(question.title_en and question.answer_en),
        "draft": draft,
    }


def _print_table(questions: list[tuple[Question, bool]], out: TextIO) -> None:
    header = ("id", "pack", "difficulty", "tags", "title")
    rows = [
        (q.id, q.pack, str(q.difficulty), ",".join(q.tags), q.title + ("  (draft)" * draft))
        for q, draft in questions
    ]
    # Titles are CJK and go last, so only the ASCII columns need padding.
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]), file=out)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
