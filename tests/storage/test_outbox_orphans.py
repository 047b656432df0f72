"""Rows claimed by a worker that died come back at once, not when their 5-minute claim runs
out (after a kill -9 and restart, receipts used to wait those 5 minutes). On every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.leases import WORKER_LEASE_PREFIX, LeaseRepository
from storage.outbox import OutboxRepository

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
CLAIM = timedelta(minutes=5)


async def test_a_dead_workers_rows_are_due_again_and_a_live_ones_are_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    leases = LeaseRepository(sessions)
    dead = OutboxRepository(sessions, owner="host:111:dead")
    live = OutboxRepository(sessions, owner="host:222:live")
    for n in range(4):
        await dead.enqueue("send_receipt", {"n": n}, f"r:{n}", NOW)
    assert await leases.claim(WORKER_LEASE_PREFIX + "host:222:live", "host:222:live", NOW, CLAIM)
    assert await leases.claim(WORKER_LEASE_PREFIX + "host:111:dead", "host:111:dead", NOW, CLAIM)
    held_by_dead = await dead.claim_due(NOW, limit=2, lease=CLAIM)
    held_by_live = await live.claim_due(NOW, limit=1, lease=CLAIM)
    failed = await live.claim_due(NOW, limit=1, lease=CLAIM)
    await live.mark_failed(failed[0].id, "network", NOW + timedelta(minutes=1))

    later = NOW + timedelta(seconds=10)
    assert await live.release_orphans(later) == 0  # both workers are alive
    await leases.release(WORKER_LEASE_PREFIX + "host:111:dead", "host:111:dead")  # it died
    assert await live.release_orphans(later) == 2

    again = await live.claim_due(later, limit=10, lease=CLAIM)
    assert sorted(i.id for i in again) == sorted(i.id for i in held_by_dead)
    assert all(i.attempts == 2 for i in again)
    # The live worker's claim and the failed row's retry time are untouched.
    assert await live.claim_due(later, limit=10, lease=CLAIM) == []
    retried = await live.get(failed[0].id)
    assert held_by_live and retried is not None
    assert retried.next_attempt_at == NOW + timedelta(minutes=1)


async def test_this_hosts_workers_whose_process_is_gone_are_forgotten(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    leases = LeaseRepository(sessions)
    for owner in ("box:100:a", "box:200:b", "other:100:c"):
        assert await leases.claim(WORKER_LEASE_PREFIX + owner, owner, NOW, CLAIM)
    forgotten = await leases.forget_dead_workers("box", alive=lambda pid: pid == 200)
    assert forgotten == 1
    assert await leases.holder(WORKER_LEASE_PREFIX + "box:100:a", NOW) is None
    assert await leases.holder(WORKER_LEASE_PREFIX + "box:200:b", NOW) == "box:200:b"
    assert await leases.holder(WORKER_LEASE_PREFIX + "other:100:c", NOW) == "other:100:c"
