"""The transcript and the hand-overs, on every backend: lines trimmed to the newest per
conversation, one open hand-over per conversation, claims and closes compare-and-set, each
officer change queued for the citizen's channel in the same transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.handoffs import CLOSED_ALREADY, TAKEN, HandoffRepository, Thread, write_thread
from storage.outbox import OutboxRepository, handoff_topic

KEY = ConversationKey("zalo", "u1", "u1")
OTHER = ConversationKey("telegram", "9", "9")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


async def _write(
    sessions: async_sessionmaker[AsyncSession],
    key: ConversationKey,
    thread: Thread,
    at: datetime = NOW,
) -> None:
    async with sessions.begin() as session:
        await write_thread(session, [(key, "10642", at, thread)])


async def test_the_transcript_keeps_the_newest_lines_of_each_conversation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = HandoffRepository(sessions)
    for n in range(40):
        await _write(sessions, KEY, Thread((("citizen", f"câu {n}"),)))
    await _write(sessions, OTHER, Thread((("citizen", "cũ"),)), at=NOW - timedelta(days=40))
    await _write(sessions, OTHER, Thread((("citizen", "mới"),)))
    removed = await repo.trim(NOW, keep=30)
    assert removed == 11  # ten of KEY's, and OTHER's line older than 30 days
    kept = await repo.lines(KEY, limit=100)
    assert [line.text for line in kept] == [f"câu {n}" for n in range(10, 40)]
    assert [line.text for line in await repo.lines(OTHER)] == ["mới"]


async def test_one_open_hand_over_per_conversation_and_officer_changes_are_queued(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = HandoffRepository(sessions)
    outbox = OutboxRepository(sessions)
    await _write(sessions, KEY, Thread((("citizen", "gặp cán bộ"),), "open"))
    await _write(sessions, KEY, Thread((("citizen", "alo"),), "open"))  # asked twice
    [opened] = await repo.list(None)
    assert opened.key == KEY and opened.unread == 2 and not opened.waiting
    # Two officers claim at once: one has it, the other is told.
    first, second = await asyncio.gather(
        repo.claim(opened.id, "lan"), repo.claim(opened.id, "minh")
    )
    assert sorted([first, second], key=str) == sorted([None, TAKEN], key=str)
    holder = (await repo.get(opened.id)).claimed_by  # type: ignore[union-attr]
    other = "minh" if holder == "lan" else "lan"
    assert await repo.answer(opened.id, other, "tôi đây", NOW) == TAKEN
    line = await repo.answer(opened.id, str(holder), "Chào bác", NOW)
    assert not isinstance(line, str) and line.officer == holder
    assert (await repo.get(opened.id)).unread == 0  # type: ignore[union-attr]
    # Idle by version: a change since it was read (the answer) is not overwritten.
    assert await repo.close_idle(NOW + timedelta(hours=1), timedelta(minutes=30)) == 1
    assert not await repo.close(opened.id, str(holder), NOW)
    assert await repo.answer(opened.id, str(holder), "còn nữa", NOW) == CLOSED_ALREADY
    queued = await outbox.pending(handoff_topic("zalo"))
    assert [item.payload["kind"] for item in queued] == ["answer", "close"]
    assert queued[1].payload["by"] == "idle"
    # The next request opens a new one.
    await _write(sessions, KEY, Thread((("citizen", "lại gặp cán bộ"),), "open"))
    assert [h.id != opened.id and h.is_open for h in await repo.list(None)] == [True]


async def test_a_message_left_out_of_hours_waits_and_does_not_time_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = HandoffRepository(sessions)
    await _write(sessions, KEY, Thread((("citizen", "nhắn lại cho cán bộ"),), "wait"))
    [waiting] = await repo.list(("10642",))
    assert waiting.waiting and waiting.unread == 1
    assert await repo.close_idle(NOW + timedelta(days=2), timedelta(minutes=30)) == 0
    assert await repo.list(("10660",)) == []
    # The citizen closes it from the chat.
    await _write(sessions, KEY, Thread((), "close"))
    closed = await repo.get(waiting.id)
    assert closed is not None and not closed.is_open and closed.closed_by == "citizen"
