"""Zalo's webhook answered at once, the turn taken after, and no message lost between.

Zalo waits about 2 s for the webhook's answer and counts a slow one as a failure, while a turn
(Zalo's own API calls included) can take longer. So the webhook checks the signature and the
timestamp (``ZaloChannel.accept``), records the event in the outbox (``zalo_inbound``, deduped
on its message id, so Zalo's retries are one row), answers 200 and wakes this loop, which takes
the turn and sends the replies (``ZaloChannel.process``). The event is committed before the
200: a worker that dies after answering leaves the row, which another worker (or this one
restarted) takes back and handles; the conversation's seen-message check makes a turn that was
already saved a no-op.

A user's messages are handled in the order they came; different users' at the same time.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from typing_extensions import Unpack

from bot.outbox import LoopOptions, OutboxLoop
from dialogs.model import Inbound
from handlers.zalo import inbound_from_event
from storage.outbox import OutboxItem, OutboxRepository

log = logging.getLogger(__name__)

TOPIC = "zalo_inbound"
MAX_ATTEMPTS = 5


class Turns(Protocol):
    """What takes a Zalo message's turn and sends its replies (``ZaloChannel``)."""

    async def process(self, inbound: Inbound) -> None: ...


class ZaloInbox(OutboxLoop):
    def __init__(
        self,
        outbox: OutboxRepository,
        channel: Turns,
        clock: Callable[[], datetime],
        **options: Unpack[LoopOptions],
    ) -> None:
        options.setdefault("poll_interval", 1.0)
        super().__init__(outbox, clock, **options)
        self._queue = outbox
        self._channel = channel

    async def record(self, raw_body: bytes) -> None:
        """Keep an accepted event (``ZaloChannel.accept`` said 200) until it is handled."""
        event: dict[str, Any] = json.loads(raw_body)
        now = self._clock()
        inbound = inbound_from_event(event, now)
        if inbound is None:
            return  # an event that is no message (a read receipt): nothing to keep
        fresh = await self._queue.enqueue(
            TOPIC,
            {"event": event, "received_at": now.isoformat()},
            f"{TOPIC}:{inbound.message_id}",
            now,
        )
        if fresh:
            self.poke()

    async def run_once(self) -> int:
        items = await self._outbox.claim_due(self._clock(), self._batch, self._lease, topic=TOPIC)
        by_user: dict[str, list[OutboxItem]] = {}
        for item in items:
            sender = (item.payload.get("event") or {}).get("sender") or {}
            by_user.setdefault(str(sender.get("id", "")), []).append(item)

        async def in_order(mine: list[OutboxItem]) -> None:
            for item in mine:
                await self._handle(item)

        await asyncio.gather(*(in_order(mine) for mine in by_user.values()))
        return len(items)

    async def _handle(self, item: OutboxItem) -> None:
        received_at = datetime.fromisoformat(str(item.payload.get("received_at")))
        inbound = inbound_from_event(item.payload.get("event") or {}, received_at)
        try:
            if inbound is not None:
                await self._channel.process(inbound)
        except Exception as exc:
            log.warning("Zalo message not handled yet (%s)", type(exc).__name__)
            if item.attempts >= MAX_ATTEMPTS:
                await self._park(item, f"not handled: {type(exc).__name__}")
            else:
                await self._retry_later(item, type(exc).__name__)
            return
        await self._outbox.mark_done(item.id, self._clock())

    async def settled(self) -> None:
        """Until every recorded message is handled (tests)."""
        while await self._queue.pending(topic=TOPIC):  # noqa: ASYNC110 - the database
            await asyncio.sleep(0.02)
