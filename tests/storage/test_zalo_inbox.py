"""Zalo's webhook is answered before the turn, and the message is recorded before the answer:
a worker that dies after answering 200 loses nothing (bot/zalo_inbox.py). Before, the webhook
was answered only after the whole turn, Zalo's own API calls included."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.zalo_inbox import TOPIC, ZaloInbox
from dialogs.model import Inbound
from storage.outbox import OutboxRepository


def _event(msg_id: str, text: str, user: str = "2468458835296197922") -> bytes:
    return json.dumps(
        {
            "app_id": "1",
            "event_name": "user_send_text",
            "sender": {"id": user},
            "recipient": {"id": "9"},
            "message": {"text": text, "msg_id": msg_id},
            "timestamp": str(int(datetime.now(UTC).timestamp() * 1000)),
        }
    ).encode()


class Turns:
    def __init__(self, fail: int = 0) -> None:
        self.taken: list[Inbound] = []
        self.fail = fail

    async def process(self, inbound: Inbound) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("Zalo unreachable")
        self.taken.append(inbound)


def _clock() -> datetime:
    return datetime.now(UTC)


async def test_a_message_recorded_by_a_worker_that_died_is_handled_by_the_next(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The first worker records the event, answers 200, and dies before taking the turn.
    dead = ZaloInbox(OutboxRepository(sessions, owner="dead"), Turns(), _clock)
    await dead.record(_event("a1", "Xin chào"))
    await dead.record(_event("a1", "Xin chào"))  # Zalo's retry of the same event: one row
    assert len(await OutboxRepository(sessions).pending(topic=TOPIC)) == 1

    turns = Turns()
    alive = ZaloInbox(OutboxRepository(sessions, owner="alive"), turns, _clock)
    assert await alive.run_once() == 1
    assert [(i.message_id, i.text) for i in turns.taken] == [("a1", "Xin chào")]
    assert await OutboxRepository(sessions).pending(topic=TOPIC) == []
    await asyncio.wait_for(alive.settled(), 5)


async def test_messages_are_taken_in_order_and_a_failed_turn_comes_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    turns = Turns(fail=1)
    inbox = ZaloInbox(OutboxRepository(sessions), turns, _clock, base_backoff=timedelta(0))
    for n in range(3):
        await inbox.record(_event(f"m{n}", f"tin {n}"))
    await inbox.record(_event("o1", "người khác", user="111"))
    assert await inbox.run_once() == 4
    # The first message's turn failed (Zalo unreachable): it is kept and taken again.
    assert [i.text for i in turns.taken if i.key.user_id != "111"] == ["tin 1", "tin 2"]
    assert await inbox.run_once() == 1
    assert [i.text for i in turns.taken][-1] == "tin 0"
    assert await OutboxRepository(sessions).pending(topic=TOPIC) == []
