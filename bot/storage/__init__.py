"""Persistence: one SQL store (SQLite by default) behind the core's Store protocol."""

from bot.storage.sql import SqlStore, database_url_for_driver, open_store

__all__ = ["SqlStore", "database_url_for_driver", "open_store"]
