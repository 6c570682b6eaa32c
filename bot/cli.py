"""`studybot`: console, content check|import|list, db migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studybot", description="A daily LLM interview question, with streaks.")
    parser.add_argument("--version", action="version", version=f"studybot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("console", help="chat with the bot in this terminal (no token needed)")

    content = commands.add_parser("content", help="check, import and list question packs")
    content_commands = content.add_subparsers(dest="content_command", required=True,
                                              metavar="SUBCOMMAND")
    check = content_commands.add_parser("check", help="validate question packs")
    check.add_argument("dir", nargs="?", type=Path,
                       help="content folder or one pack (default: STUDYBOT_CONTENT)")
    imp = content_commands.add_parser("import", help="import a document of numbered questions")
    imp.add_argument("file", type=Path)
    imp.add_argument("--pack", required=True, help="pack id to import into, e.g. llm-13")
    imp.add_argument("--force", action="store_true", help="overwrite questions that exist")
    imp.add_argument("--dry-run", action="store_true", help="show what would be written")
    listing = content_commands.add_parser("list", help="list the questions")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_commands.add_parser("migrate", help="upgrade the database schema to the latest version")
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
    secrets = [s.get_secret_value() for s in (settings.telegram_token, settings.discord_token)
               if s is not None]
    try:
        if args.command == "content":
            return _content(args, settings.content)
        if args.command == "db":
            setup_logging(settings.log_level, secrets)
            return asyncio.run(_migrate(settings.database_url))
        # In the console the terminal is the chat: only problems are logged, to stderr.
        setup_logging("WARNING", secrets)
        from bot.app import run_console

        asyncio.run(run_console(settings))
        return 0
    except KeyboardInterrupt:
        print("\nbye", file=sys.stderr)
        return 130
    except Exception as error:
        from bot.storage.sql import StoreError

        if isinstance(error, StoreError | OSError):
            print(f"studybot: {error}", file=sys.stderr)
            return 1
        raise


def _content(args: argparse.Namespace, content_root: Path) -> int:
    from bot.content.commands import cmd_check, cmd_import, cmd_list

    if args.content_command == "check":
        return cmd_check(args.dir or content_root, sys.stdout)
    if args.content_command == "import":
        return cmd_import(args.file, content_root, args.pack, args.force, args.dry_run, sys.stdout)
    return cmd_list(content_root, args.json, sys.stdout)


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
