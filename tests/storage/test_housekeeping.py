"""Bookkeeping rows are forgotten on time, and nothing that still matters is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.housekeeping import Housekeeping
from dialogs.model import ConversationKey
from storage.conversations import ConversationRepository
from storage.outbox import OutboxRepository

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
KEY = ConversationKey(channel="zalo", chat_id="u-1", user_id="u-1")


async def test_old_message_ids_and_old_delivered_rows_go_waiting_rows_stay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    conversations = ConversationRepository(sessions)
    outbox = OutboxRepository(sessions)
    await conversations.save(
        KEY, {"version": 1}, "10642", NOW - timedelta(days=8), revision=0, seen_message="old"
    )
    await conversations.save(
        KEY, {"version": 1}, "10642", NOW - timedelta(days=2), revision=1, seen_message="new"
    )
    for name, created in (("delivered", 40), ("recent", 2), ("waiting", 40)):
        await outbox.enqueue("notify", {"n": name}, name, NOW - timedelta(days=created))
    for item in await outbox.pending():
        if item.payload["n"] != "waiting":
            done_at = NOW - timedelta(days=35 if item.payload["n"] == "delivered" else 1)
            await outbox.mark_done(item.id, done_at)

    assert await Housekeeping(conversations, outbox, lambda: NOW).run_once() == (1, 1)

    assert not await conversations.was_seen("zalo", "old")  # a week after: forgotten
    assert await conversations.was_seen("zalo", "new")  # a redelivery now is still caught
    assert [i.payload["n"] for i in await outbox.pending()] == ["waiting"]  # never dropped
    assert await conversations.load(KEY) is not None  # the conversation itself stays
