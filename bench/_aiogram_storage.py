"""Durable aiogram FSM storages for the turn benchmark's baseline: a simple durable bot.

aiogram 3 ships MemoryStorage (lost on restart), Redis and MongoDB storages; a bot that must
not lose a citizen's answers on a power cut commits every state change to a database. These
two do that the plain way, one committed statement per ``set_state``/``set_data``:

- :class:`SqliteStorage`: one aiosqlite connection, WAL with ``synchronous=FULL``, as
  ``storage.db`` sets ours, so a returned commit is on disk.
- :class:`PostgresStorage`: an asyncpg pool; each write is its own autocommitted statement
  (the server's default ``synchronous_commit=on``: flushed before it returns).

Reads are plain SELECTs. One row per FSM key holds both the state and the data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

TABLE = "bench_aiogram_fsm"


def _key(key: StorageKey) -> str:
    return (
        f"{key.bot_id}:{key.chat_id}:{key.user_id}:{key.thread_id or ''}:"
        f"{key.business_connection_id or ''}:{key.destiny}"
    )


def _state(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


def _dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))


class SqliteStorage(BaseStorage):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    @classmethod
    async def open(cls, path: Path) -> SqliteStorage:
        connection = await aiosqlite.connect(path)
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=FULL")  # as storage/db.py sets ours
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(key TEXT PRIMARY KEY, state TEXT, data TEXT NOT NULL DEFAULT '{}')"
        )
        await connection.commit()
        return cls(connection)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._db.execute(
            f"INSERT INTO {TABLE} (key, state) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state",
            (_key(key), _state(state)),
        )
        await self._db.commit()

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._db.execute(f"SELECT state FROM {TABLE} WHERE key = ?", (_key(key),)) as c:
            row = await c.fetchone()
        return None if row is None else row[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._db.execute(
            f"INSERT INTO {TABLE} (key, data) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data",
            (_key(key), _dumps(data)),
        )
        await self._db.commit()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._db.execute(f"SELECT data FROM {TABLE} WHERE key = ?", (_key(key),)) as c:
            row = await c.fetchone()
        return {} if row is None else dict(json.loads(row[0]))

    async def close(self) -> None:
        await self._db.close()


class PostgresStorage(BaseStorage):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, max_size: int = 10, empty: bool = True) -> PostgresStorage:
        """``url``: a SQLAlchemy ``postgresql+asyncpg://`` URL or a plain one. The table is
        created, and emptied unless ``empty`` is false: the benchmark's database is one it may
        empty."""
        plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        pool = await asyncpg.create_pool(plain, min_size=1, max_size=max_size)
        async with pool.acquire() as connection:
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} "
                "(key TEXT PRIMARY KEY, state TEXT, data TEXT NOT NULL DEFAULT '{}')"
            )
            if empty:
                await connection.execute(f"TRUNCATE {TABLE}")
        return cls(pool)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._pool.execute(
            f"INSERT INTO {TABLE} (key, state) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state",
            _key(key),
            _state(state),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        value = await self._pool.fetchval(f"SELECT state FROM {TABLE} WHERE key = $1", _key(key))
        return None if value is None else str(value)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._pool.execute(
            f"INSERT INTO {TABLE} (key, data) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data",
            _key(key),
            _dumps(data),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        value = await self._pool.fetchval(f"SELECT data FROM {TABLE} WHERE key = $1", _key(key))
        return {} if value is None else dict(json.loads(value))

    async def close(self) -> None:
        await self._pool.close()
