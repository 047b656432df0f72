"""Leases: what one worker at a time may do (poll Telegram, run a periodic job).

A lease is a row naming its owner and when it runs out. :meth:`LeaseRepository.claim` takes it
when it is free or run out, or renews it for its owner, in one statement (insert, or update
where the owner is the caller or the lease has expired), so two workers asking at once cannot
both win, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.models import LeaseRow

# Each worker holds "worker:<its id>" while it runs: who is alive (storage/outbox.py).
WORKER_LEASE_PREFIX = "worker:"


class LeaseRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def claim(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew lease ``name`` for ``owner`` until ``now + ttl``; False when another
        owner holds it and it has not run out."""
        now = _aware(now, "now")
        until = now + ttl
        async with self._sessions.begin() as session:
            statement = _insert(session, LeaseRow).values(
                name=name, owner=owner, expires_at=until, updated_at=now
            )
            won = await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["name"],
                    set_={"owner": owner, "expires_at": until, "updated_at": now},
                    where=or_(LeaseRow.owner == owner, LeaseRow.expires_at < now),
                ).returning(LeaseRow.name)
            )
            return won.first() is not None

    async def release(self, name: str, owner: str) -> None:
        """Give the lease up now (a clean shutdown), if ``owner`` still holds it."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.owner == owner)
            )

    async def holder(self, name: str, now: datetime) -> str | None:
        """Who holds ``name`` now, if anyone."""
        async with self._sessions() as session:
            row = await session.get(LeaseRow, name)
            if row is None or _aware(row.expires_at, "expires_at") < _aware(now, "now"):
                return None
            return row.owner

    async def forget_dead_workers(self, host: str, alive: Callable[[int], bool]) -> int:
        """Drop the alive-leases of this host's workers whose process is gone (owner ids are
        ``host:pid:...``), so their claims come back at once, not when the lease runs out."""
        prefix = f"{WORKER_LEASE_PREFIX}{host}:"
        async with self._sessions() as session:
            owners = (
                await session.scalars(
                    select(LeaseRow.owner).where(LeaseRow.name.startswith(prefix))
                )
            ).all()
        dead = [o for o in owners if not _pid_alive(o, alive)]
        if dead:
            async with self._sessions.begin() as session:
                await session.execute(
                    delete(LeaseRow).where(
                        LeaseRow.name.in_([WORKER_LEASE_PREFIX + o for o in dead])
                    )
                )
        return len(dead)


def _pid_alive(owner: str, alive: Callable[[int], bool]) -> bool:
    parts = owner.split(":")
    return not (len(parts) >= 2 and parts[1].isdigit()) or alive(int(parts[1]))
