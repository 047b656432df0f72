"""Engines and sessions for the two supported databases: SQLite (default) and PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
PRIVATE_FILE = 0o600
READ_ONLY = "motcua_read_only"  # execution option: this unit of work writes nothing


def _json_dumps(value: Any) -> str:
    # Vietnamese stays readable in the database instead of \u escapes.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs.

    A SQLite file's parent directory is created, so ``var/motcua.sqlite3`` works on a fresh
    checkout. The file holds names, ID numbers and phone numbers: it is kept private to the
    service's user (0600, in a 0700 folder when motcua creates it), like the file store.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_sqlite_file(Path(database).expanduser())
        engine = _create_async_engine(url, echo=echo, json_serializer=_json_dumps)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return _create_async_engine(url, echo=echo, json_serializer=_json_dumps, pool_pre_ping=True)
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)}")


def _private_sqlite_file(path: Path) -> None:
    """Create the database file (and its folder) readable by this user only; tighten an
    existing one. SQLite gives its -wal and -shm files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    for found in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if found.stat().st_mode & 0o077:
                found.chmod(PRIVATE_FILE)
        except FileNotFoundError:
            continue
        except PermissionError:  # another user's file: the operator's choice
            continue


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is switched off so that _on_begin decides how a
        # transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns. With NORMAL a power loss could roll
            # back a filing whose receipt the citizen already holds, or a Telegram update
            # already confirmed; the outbox and notifier commit in groups, so the cost is small.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # SQLite has one writer. A deferred transaction that reads and then writes fails at once
        # with SQLITE_BUSY when another writer got in between (WAL snapshots cannot be
        # upgraded), and busy_timeout does not help. Taking the write lock up front makes
        # concurrent units of work queue on busy_timeout instead; they are short. A unit of
        # work that only reads (read_only(), a turn's load) begins deferred: under WAL it
        # reads its snapshot at once, without queueing behind the writers.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


async def read_only(session: AsyncSession) -> AsyncSession:
    """Mark ``session``'s unit of work as reading only, before its first statement: on SQLite it
    then does not take the write lock (on PostgreSQL nothing changes)."""
    await session.connection(execution_options={READ_ONLY: True})
    return session


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose loaded values stay readable after commit (repositories copy them out)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def writable(engine: AsyncEngine) -> bool:
    """Whether the database takes writes now: a real write, rolled back. A read-only file,
    a full disk or a read-only PostgreSQL transaction all answer False (reads would still
    pass, which is why a health check that only reads says "ok" while every turn fails)."""
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = version_num")
                )
            finally:
                await transaction.rollback()
    except (SQLAlchemyError, OSError):
        return False
    return True
