"""Leases on every backend: one holder at a time, renewed by its owner, free once run out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.leases import LeaseRepository

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=90)


async def test_many_workers_asking_at_once_one_wins(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    leases = LeaseRepository(sessions)
    won = await asyncio.gather(
        *(leases.claim("telegram:poll", f"worker-{n}", NOW, TTL) for n in range(12))
    )
    assert won.count(True) == 1
    winner = f"worker-{won.index(True)}"
    assert await leases.holder("telegram:poll", NOW) == winner


async def test_the_owner_renews_others_wait_until_it_runs_out_or_is_released(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    leases = LeaseRepository(sessions)
    assert await leases.claim("reminders", "a", NOW, TTL)
    assert await leases.claim("reminders", "a", NOW + timedelta(seconds=60), TTL)  # renewed
    assert not await leases.claim("reminders", "b", NOW + timedelta(seconds=120), TTL)
    assert await leases.claim("reminders", "b", NOW + timedelta(seconds=151), TTL)  # ran out
    assert await leases.holder("reminders", NOW + timedelta(seconds=151)) == "b"
    await leases.release("reminders", "a")  # not a's any more: nothing happens
    assert await leases.holder("reminders", NOW + timedelta(seconds=152)) == "b"
    await leases.release("reminders", "b")
    assert await leases.holder("reminders", NOW + timedelta(seconds=152)) is None
    assert await leases.claim("reminders", "c", NOW + timedelta(seconds=152), TTL)
    assert await leases.claim("other", "a", NOW, TTL)  # leases are independent
