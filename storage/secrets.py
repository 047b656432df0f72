"""Secrets the program itself rotates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.models import (
    SecretRow,
)


class SecretRepository:
    """Secrets the program itself rotates (Zalo's refresh token is single-use)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, name: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(SecretRow, name)
            return None if row is None else row.value

    async def put(self, name: str, value: str, now: datetime) -> None:
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            await session.execute(
                _insert(session, SecretRow)
                .values(name=name, value=value, updated_at=now)
                .on_conflict_do_update(
                    index_elements=["name"], set_={"value": value, "updated_at": now}
                )
            )

    async def get_or_create(
        self, name: str, make: Callable[[], str], now: datetime
    ) -> tuple[str, datetime]:
        """The secret ``name`` and when it was first stored, made with ``make`` if absent.
        Several workers starting at once agree on one value (insert if absent, then read)."""
        now = _aware(now, "now")
        async with self._sessions() as session:
            # Read first: a worker on a database that takes no writes (a replica, a read-only
            # file) still starts, and its health check says what is wrong.
            found = await session.get(SecretRow, name)
            if found is not None:
                return found.value, _aware(found.updated_at, "updated_at")
        async with self._sessions.begin() as session:
            await session.execute(
                _insert(session, SecretRow)
                .values(name=name, value=make(), updated_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        async with self._sessions() as session:
            row = await session.get(SecretRow, name)
            assert row is not None  # inserted above or by another worker
            return row.value, _aware(row.updated_at, "updated_at")
