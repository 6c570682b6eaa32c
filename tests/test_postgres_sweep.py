"""Test databases left on the PostgreSQL server by a killed run are dropped by the next run on the
same machine; a live run's, another machine's, and anything not made by the tests are kept."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg

from tests.postgres import HOST, PREFIX, Databases, _asyncpg_dsn


async def _create(databases: Databases, name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(databases.server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _names(databases: Databases) -> set[str]:
    admin = await asyncpg.connect(_asyncpg_dsn(databases.server))
    try:
        return {row["datname"] for row in await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'studybot%'")}
    finally:
        await admin.close()


async def test_a_killed_runs_databases_are_dropped_and_no_one_elses(
        postgres_databases: Databases) -> None:
    dead_pid = _finished_pid()
    dead = f"{PREFIX}{HOST}_{dead_pid}_feedc0de"
    live = f"{PREFIX}{HOST}_{os.getpid()}_feedc0de"
    elsewhere = f"{PREFIX}0000beef_{dead_pid}_feedc0de"
    unrelated = "studybot_sweep_keep_me"
    for name in (dead, live, elsewhere, unrelated):
        await _create(postgres_databases, name)
    try:
        assert await postgres_databases.sweep() == [dead]
        left = await _names(postgres_databases)
        assert dead not in left
        assert {live, elsewhere, unrelated} <= left
    finally:
        for name in (live, elsewhere):
            await postgres_databases.drop(name)
        admin = await asyncpg.connect(_asyncpg_dsn(postgres_databases.server))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{unrelated}"')
        finally:
            await admin.close()


def _finished_pid() -> int:
    """The id of a process that has ended (a killed test run's, as far as the sweep can tell)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
