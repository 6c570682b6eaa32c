"""`studybot`: console, content check|import|export|list|stats, db migrate|backup|copy."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.content.formats import EXPORT_FORMATS, IMPORT_FORMATS, LANGUAGES

if TYPE_CHECKING:
    from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studybot", description="A daily LLM interview question, with streaks.")
    parser.add_argument("--version", action="version", version=f"studybot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("console", help="chat with the bot in this terminal (no token needed)")
    commands.add_parser("run", help="run the bot on Telegram and/or Discord (needs a token)")

    content = commands.add_parser(
        "content", help="check, import, export, list and count question packs")
    content_commands = content.add_subparsers(dest="content_command", required=True,
                                              metavar="SUBCOMMAND")
    check = content_commands.add_parser("check", help="validate question packs")
    check.add_argument("dir", nargs="?", type=Path,
                       help="content folder or one pack (default: STUDYBOT_CONTENT)")
    check.add_argument("--strict", action="store_true",
                       help="fail on warnings too (answers that look cut short)")
    imp = content_commands.add_parser(
        "import", help="import questions from a page (text or HTML), CSV/TSV, JSON Lines, Anki "
                       "or Markdown")
    imp.add_argument("file", type=Path, help="the file (or, for markdown, a folder) to import")
    imp.add_argument("--pack", required=True, help="pack id to import into, e.g. llm-13")
    imp.add_argument("--format", choices=IMPORT_FORMATS, default="auto",
                     help="input format (default: auto, from the extension and the content)")
    imp.add_argument("--force", action="store_true", help="overwrite questions that exist")
    imp.add_argument("--dry-run", action="store_true",
                     help="show the structure found and what would be written; write nothing")
    imp.add_argument("--allow-empty", action="store_true",
                     help="keep questions without an answer as drafts (never sent)")
    export = content_commands.add_parser(
        "export", help="write a pack as CSV, TSV, JSONL, Anki text or an Anki package (.apkg)")
    export.add_argument("pack", help="id of the pack to export")
    export.add_argument("--format", choices=EXPORT_FORMATS,
                        help="output format (default: from the -o file's extension)")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--lang", choices=LANGUAGES,
                        help="apkg only: the pack's language (zh, the default), en, or both")
    export.add_argument("--no-bom", action="store_true",
                        help="csv only: no UTF-8 byte order mark (Excel needs one for Chinese)")
    listing = content_commands.add_parser("list", help="list the questions")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    stats = content_commands.add_parser(
        "stats", help="count questions per pack, tag, difficulty and language")
    stats.add_argument("dir", nargs="?", type=Path,
                       help="content folder or one pack (default: STUDYBOT_CONTENT)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    backup = db_commands.add_parser(
        "backup", help="copy the SQLite database to PATH while the bot runs (online, consistent)")
    backup.add_argument("path", type=Path)
    copy = db_commands.add_parser(
        "copy", help="copy every row from one database to another (e.g. SQLite to PostgreSQL)")
    copy.add_argument("source", metavar="SRC_URL",
                      help="database to read, e.g. sqlite:///data/studybot.db")
    copy.add_argument("target", metavar="DST_URL",
                      help="database to write, e.g. postgresql://studybot@db/studybot; "
                           "migrated to the latest schema first")
    copy.add_argument("--force", action="store_true",
                      help="replace the rows of a target that is not empty")

    commands.add_parser("health", help="ask the running bot's /healthz (STUDYBOT_HTTP_LISTEN); "
                                       "exit 0 when healthy")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.logs import setup_logging
    from bot.settings import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"studybot: configuration error: {error}", file=sys.stderr)
        return 2
    secrets = [s.get_secret_value() for s in (
        settings.telegram_token, settings.discord_token, settings.telegram_webhook_secret)
        if s is not None]
    try:
        if args.command == "content":
            return _content(args, settings.content)
        if args.command == "health":
            return _health(settings.http_listen)
        if args.command == "db":
            setup_logging(settings.log_level, secrets, fmt=settings.log_format)
            if args.db_command == "backup":
                return _backup(settings.database_url, args.path)
            if args.db_command == "copy":
                return asyncio.run(_copy(args.source, args.target, args.force))
            return asyncio.run(_migrate(settings.database_url))
        if args.command == "run":
            setup_logging(settings.log_level, secrets, fmt=settings.log_format)
            return _run(settings)
        # In the console the terminal is the chat: only problems are logged, to stderr.
        setup_logging("WARNING", secrets)
        from bot.app import run_console

        asyncio.run(run_console(settings))
        return 0
    except KeyboardInterrupt:
        print("\nbye", file=sys.stderr)
        return 130
    except Exception as error:
        from bot.storage.sql import DatabaseUnusable, StoreError

        if isinstance(error, DatabaseUnusable):
            # Every way the configured database can fail to open ends here, as one line that
            # names the setting to fix, the same for run, console, db migrate and db backup.
            print(f"studybot: STUDYBOT_DATABASE_URL: {error}", file=sys.stderr)
            return 1
        if isinstance(error, StoreError | OSError):
            print(f"studybot: {error}", file=sys.stderr)
            return 1
        raise


def _run(settings: Settings) -> int:
    from bot.adapters import StartError
    from bot.runner import NoPlatform, run_bot

    try:
        asyncio.run(run_bot(settings))
    except NoPlatform:
        print("studybot: no platform token is set. Set STUDYBOT_TELEGRAM_TOKEN and/or "
              "STUDYBOT_DISCORD_TOKEN (see README), or try `studybot console`.", file=sys.stderr)
        return 2
    except StartError as error:
        print(f"studybot: {error}", file=sys.stderr)
        return 1
    return 0


def _backup(url: str, target: Path) -> int:
    from sqlalchemy.engine import make_url

    from bot.storage.backup import backup_sqlite
    from bot.storage.sql import DatabaseUnusable, database_url_for_driver

    parsed = make_url(database_url_for_driver(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise DatabaseUnusable(
            "db backup copies a SQLite database file; for PostgreSQL use pg_dump")
    size = backup_sqlite(Path(parsed.database).expanduser(), target)
    print(f"backed up {parsed.database} to {target} ({size:,} bytes, integrity ok)")
    return 0


async def _copy(source: str, target: str, force: bool) -> int:
    from bot.storage.copy import copy_database, shown_url

    counts = await copy_database(source, target, force=force)
    print(f"copied {shown_url(source)} -> {shown_url(target)}")
    width = max(len(count.table) for count in counts)
    for count in counts:
        print(f"  {count.table:<{width}}  {count.rows:>9,}")
    print(f"{sum(c.rows for c in counts):,} rows in {len(counts)} tables; every table's count "
          "matches the source")
    return 0


def _health(listen: str) -> int:
    import json
    import urllib.error
    import urllib.request

    from bot.settings import split_listen

    if not listen:
        print("studybot: STUDYBOT_HTTP_LISTEN is not set, so there is no health endpoint",
              file=sys.stderr)
        return 2
    host, port = split_listen(listen)
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            body = answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as error:
        body, status = error.read().decode(), error.code
    except OSError as error:
        print(f"studybot: no answer from {url}: {error}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(json.loads(body), ensure_ascii=False))
    except ValueError:
        print(body[:500])
    return 0 if status == 200 else 1


def _content(args: argparse.Namespace, content_root: Path) -> int:
    from bot.content.commands import cmd_check, cmd_export, cmd_import, cmd_list, cmd_stats

    if args.content_command == "check":
        return cmd_check(args.dir or content_root, sys.stdout, args.strict)
    if args.content_command == "import":
        return cmd_import(args.file, content_root, args.pack, args.force, args.dry_run, sys.stdout,
                          args.format, args.allow_empty)
    if args.content_command == "export":
        fmt = args.format or _export_format(args.output)
        if fmt is None:
            print("studybot: content export: give --format csv|tsv|jsonl|anki|apkg "
                  "(or an -o file ending in .csv, .tsv, .jsonl or .apkg)", file=sys.stderr)
            return 2
        return cmd_export(content_root, args.pack, fmt, args.output, sys.stdout, sys.stderr,
                          language=args.lang, bom=not args.no_bom)
    if args.content_command == "stats":
        return cmd_stats(args.dir or content_root, args.json, sys.stdout, sys.stderr)
    return cmd_list(content_root, args.json, sys.stdout)


def _export_format(output: Path | None) -> str | None:
    if output is None:
        return None
    return {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".apkg": "apkg"}.get(
        output.suffix.lower())


async def _migrate(url: str) -> int:
    from bot.storage.sql import open_store

    store = await open_store(url, migrate=False)
    try:
        before = await store.schema_revision()
        await store.migrate()
        after = await store.schema_revision()
    finally:
        await store.close()
    print(f"database schema: {before or 'empty'} -> {after}")
    return 0
