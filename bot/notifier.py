"""The notifier: the office's status notices, carried to the citizen's chat at least once.

The office queues one ``notify:<channel>`` outbox row per event and recipient (the filer, and a
volunteer who filed for them, are two rows), with the payload ``{"code", "event_id", "channel",
"chat_id", "user_id"}`` and the dedupe key :func:`notice_dedupe_key`, so an event queued again
is not sent twice. :class:`Notifier` claims the rows of the channels this process can reach
(like the receipt courier) and, for each:

1. in quiet hours puts the row back until the morning, without using up an attempt;
2. asks ``prepare`` for the conversation and the replies (the conversation service's
   ``notify``, run under the conversation's lock and idempotent per event id); None, the
   dossier or event is unknown: the row is parked for a person;
3. waits for the channel's :class:`~bot.pacing.Pacer` (Telegram: 30/s, 1/s per chat);
4. pushes, and marks that one row done at once: a kill -9 loses nothing (the lease brings the
   row back) and sends again only the notices that were in flight (at most ``concurrency``).

A failed push is retried with backoff; after ``max_attempts`` the row is parked. Different
chats are worked side by side (``concurrency``); the rows of one chat go in queue order.

Zalo may be written to first only within 7 days of the citizen's last interaction (protocols.md
§3.4): outside it the push answers :attr:`~bot.push.Delivery.CLOSED` and the row is held a day
at a time, not counted as a failed try, until ``hold_for`` after it was queued, then parked.
Reaching those citizens needs Zalo's template messages (ZNS / "ZBS Template Message"): an
approved ``template_id`` from config (``zalo.status_template_id``), the citizen's phone as
``84xxxxxxxxx``, the template's named parameters (e.g. ``ma_ho_so``, ``trang_thai``) filled from
the dossier code and status rather than the rendered text, a ``tracking_id`` per row (e.g. the
dedupe key) so a retry can be matched to a delivery receipt, no sending 22:00-06:00, and a
daily quota to read from the answer. ``ZaloChannel.notify`` has that path; using it here means
``prepare`` handing over the template data as well as the replies.

Logs name dossiers by code only: never names, phone numbers or ID numbers (nor chat ids).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from typing_extensions import Unpack

from bot.outbox import LoopOptions, OutboxLoop
from bot.pacing import Pacer, QuietHours
from bot.push import Delivery
from dialogs.model import ConversationKey, Reply
from storage.outbox import NOTIFY_TOPIC, OutboxItem, notify_topic

log = logging.getLogger(__name__)

# With backoff from 5 s doubling to 15 min, 12 attempts span about an hour and a half.
MAX_ATTEMPTS = 12
# How long a notice waits for a closed window (Zalo) before a person is asked to look: as long
# as an unfinished draft is kept (drafts.expire_days' default).
HOLD_FOR = timedelta(days=30)
HOLD_STEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Whom to write to and what, as the conversation service rendered the event."""

    key: ConversationKey
    replies: tuple[Reply, ...]


Prepare = Callable[[OutboxItem], Awaitable[Prepared | None]]


class NoticeQueue(Protocol):
    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, *, topic: str | None = None
    ) -> list[OutboxItem]: ...

    async def mark_done(self, item_id: int, now: datetime) -> None: ...

    async def mark_failed(self, item_id: int, error: str, next_attempt_at: datetime) -> None: ...

    async def defer(self, item_id: int, until: datetime) -> None: ...


class PushDoor(Protocol):
    def channels(self) -> tuple[str, ...]: ...

    async def deliver(self, key: ConversationKey, replies: Sequence[Reply]) -> Delivery: ...


def notice_dedupe_key(event_id: int, channel: str, chat_id: str, user_id: str) -> str:
    """One row per event and recipient: queued again, the same event is not doubled."""
    return f"{NOTIFY_TOPIC}:{event_id}:{channel}:{chat_id}:{user_id}"


def notice_payload(
    code: str, event_id: int, channel: str, chat_id: str, user_id: str
) -> dict[str, object]:
    return {
        "code": code,
        "event_id": event_id,
        "channel": channel,
        "chat_id": chat_id,
        "user_id": user_id,
    }


class Notifier(OutboxLoop):
    """Works the ``notify:<channel>`` rows: quiet hours, prepare, pace, push, mark done."""

    def __init__(
        self,
        outbox: NoticeQueue,
        prepare: Prepare,
        push: PushDoor,
        pacers: Mapping[str, Pacer],
        quiet: QuietHours,
        clock: Callable[[], datetime],
        *,
        max_attempts: int = MAX_ATTEMPTS,
        concurrency: int = 16,
        hold_for: timedelta = HOLD_FOR,
        **options: Unpack[LoopOptions],
    ) -> None:
        options.setdefault("batch", 50)
        super().__init__(outbox, clock, **options)
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._notices = outbox
        self._prepare = prepare
        self._push = push
        self._pacers = dict(pacers)
        self._quiet = quiet
        self._max_attempts = max_attempts
        self._slots = asyncio.Semaphore(concurrency)
        self._hold_for = hold_for
        # One outbox write at a time from this process: on SQLite concurrent writers queue on
        # busy_timeout, whose sleeps grow to 100 ms, and the rate falls to a tenth.
        self._writes = asyncio.Lock()

    async def run_once(self) -> int:
        claimed = 0
        for channel in self._push.channels():
            items = await self._notices.claim_due(
                self._clock(), self._batch, self._lease, topic=notify_topic(channel)
            )
            claimed += len(items)
            by_chat: dict[str, list[OutboxItem]] = {}
            for item in items:
                by_chat.setdefault(str(item.payload.get("chat_id", "")), []).append(item)
            await asyncio.gather(*(self._work_chat(rows) for rows in by_chat.values()))
        return claimed

    async def _work_chat(self, rows: Sequence[OutboxItem]) -> None:
        async with self._slots:
            for item in rows:
                try:
                    await self._send(item)
                except Exception:
                    # The database or prepare failed: the row's lease brings it back later.
                    log.exception(
                        "notice row %d (dossier %s) failed", item.id, item.payload.get("code", "?")
                    )

    async def _send(self, item: OutboxItem) -> None:
        code = str(item.payload.get("code", "?"))
        morning = self._quiet.next_allowed(self._clock())
        if morning is not None:
            async with self._writes:
                await self._notices.defer(item.id, morning)
            return
        prepared = await self._prepare(item)
        if prepared is None:
            async with self._writes:
                await self._park(
                    item, f"dossier {code} or event {item.payload.get('event_id')!r} unknown"
                )
            return
        channel = prepared.key.channel
        pacer = self._pacers.get(channel)
        if pacer is not None:
            await pacer.wait_turn(prepared.key.chat_id)
        outcome = await self._push.deliver(prepared.key, prepared.replies)
        async with self._writes:
            await self._record(item, outcome, channel, code)

    async def _record(self, item: OutboxItem, outcome: Delivery, channel: str, code: str) -> None:
        if outcome is Delivery.SENT:
            await self._notices.mark_done(item.id, self._clock())
            log.info(
                "notice %s for dossier %s sent on %s", item.payload.get("event_id"), code, channel
            )
            return
        if outcome is Delivery.CLOSED:
            if self._clock() - item.created_at < self._hold_for:
                await self._notices.defer(item.id, self._clock() + HOLD_STEP)
                return
            await self._park(item, f"{channel} window closed since the notice was queued")
            return
        if item.attempts >= self._max_attempts:
            await self._park(item, f"{channel} unreachable")
            return
        await self._retry_later(item, f"{channel} unreachable for now")


__all__ = [
    "HOLD_FOR",
    "MAX_ATTEMPTS",
    "Notifier",
    "Prepare",
    "Prepared",
    "notice_dedupe_key",
    "notice_payload",
]
