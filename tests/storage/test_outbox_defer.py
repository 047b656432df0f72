"""OutboxRepository.defer: a claimed row put back for later without using up an attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.outbox import OutboxRepository, notify_topic

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 22:00 in Hà Nội
MORNING = NOW + timedelta(hours=9)
LEASE = timedelta(minutes=5)


async def test_a_deferred_row_comes_back_later_with_its_attempt_given_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = OutboxRepository(sessions)
    topic = notify_topic("telegram")
    assert topic == "notify:telegram"
    await outbox.enqueue(topic, {"code": "X", "event_id": 1}, "notify:1:telegram:1:1", NOW)

    (first,) = await outbox.claim_due(NOW, 10, LEASE, topic=topic)
    assert first.attempts == 1
    await outbox.defer(first.id, MORNING)

    deferred = await outbox.get(first.id)
    assert deferred is not None
    assert (deferred.attempts, deferred.next_attempt_at, deferred.done_at) == (0, MORNING, None)
    # Not due before the morning, even once the lease would have run out.
    assert await outbox.claim_due(NOW + LEASE * 2, 10, LEASE, topic=topic) == []
    (again,) = await outbox.claim_due(MORNING, 10, LEASE, topic=topic)
    assert again.attempts == 1


async def test_defer_keeps_earlier_failures_and_leaves_done_rows_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = OutboxRepository(sessions)
    topic = notify_topic("zalo")
    await outbox.enqueue(topic, {"code": "X"}, "a", NOW)
    await outbox.enqueue(topic, {"code": "Y"}, "b", NOW)
    failing, done = await outbox.claim_due(NOW, 10, LEASE, topic=topic)
    await outbox.mark_failed(failing.id, "unreachable", NOW)
    await outbox.mark_done(done.id, NOW)

    (failing,) = await outbox.claim_due(NOW, 10, LEASE, topic=topic)
    assert failing.attempts == 2
    await outbox.defer(failing.id, MORNING)
    await outbox.defer(done.id, MORNING)

    after = await outbox.get(failing.id)
    assert after is not None
    assert (after.attempts, after.last_error) == (1, "unreachable")
    finished = await outbox.get(done.id)
    assert finished is not None
    assert finished.done_at == NOW and finished.next_attempt_at != MORNING
