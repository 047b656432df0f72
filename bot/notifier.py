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
4. pushes, and marks the row done as soon as the write lock is free (group commit: the rows
   sent during one commit are marked by the next, in one transaction): a kill -9 loses nothing
   (the lease brings the row back) and sends again only the notices in flight at that moment
   (pushed, their commit not finished: at most ``concurrency`` plus one commit's worth).
   When ``prepare`` has no words (an announcement to a chat that opted out since), the row is
   marked done unsent. Words the channel keeps for the citizen's next visit (a web chat with
   no page open) are done too, and the row's payload names where they wait (``"kept"``), so
   the console tells them from those read (storage.announcements).

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

Logs name what a row carries by its ids (:func:`describe`): a dossier by code, an announcement
and its subscription, a volunteer's message, a hand-over: never names, phone numbers or ID
numbers (nor chat ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from typing_extensions import Unpack

from bot.outbox import LoopOptions, OutboxLoop
from bot.pacing import Pacer, QuietHours
from bot.push import Attempt, Delivery
from dialogs.model import ConversationKey, Reply
from storage.announcements import ANNOUNCEMENT
from storage.outbox import NOTIFY_TOPIC, OutboxItem, notify_topic
from storage.volunteers import VOLUNTEER_NOTICE

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

    async def mark_done_many(self, item_ids: Sequence[int], now: datetime) -> None: ...

    async def mark_kept(self, item_id: int, kept: int, now: datetime) -> None: ...

    async def mark_failed(self, item_id: int, error: str, next_attempt_at: datetime) -> None: ...

    async def defer(self, item_id: int, until: datetime) -> None: ...


class PushDoor(Protocol):
    def channels(self) -> tuple[str, ...]: ...

    async def attempt(self, key: ConversationKey, replies: Sequence[Reply]) -> Attempt: ...


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


def describe(payload: Mapping[str, object]) -> str:
    """What a row carries, for the logs, by ids only: the same topics carry the office's
    notices, a volunteer's messages (storage.volunteers), announcements (storage.announcements)
    and an officer's words in a hand-over (storage.handoffs)."""
    kind = payload.get("kind")
    code = payload.get("code")
    if kind == ANNOUNCEMENT:
        return (
            f"announcement {payload.get('announcement_id', '?')}"
            f" to subscription {payload.get('subscription_id', '?')}"
        )
    if kind == VOLUNTEER_NOTICE:
        about = f" for dossier {code}" if isinstance(code, str) else ""
        return f"volunteer message {payload.get('message', '?')}{about}"
    if "handoff_id" in payload:
        return f"hand-over {payload['handoff_id']} {kind or 'message'}"
    return f"notice {payload.get('event_id', '?')} for dossier {code or '?'}"


class Notifier(OutboxLoop):
    """Works the ``notify:<channel>`` rows: quiet hours, prepare, pace, push, mark done.

    :meth:`run` keeps a pipeline going: it claims the next batch while the last one is still
    being sent (up to ``in_flight`` rows held at once), so a chat that must wait for its pacer
    does not hold up the others. Each chat's rows form a chain worked in queue order, also
    across batches. :meth:`run_once` claims one batch and works it to the end (tests, one-shot
    runs).
    """

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
        in_flight: int | None = None,
        hold_for: timedelta = HOLD_FOR,
        topic: Callable[[str], str] = notify_topic,
        **options: Unpack[LoopOptions],
    ) -> None:
        """``topic``: the outbox topic of a channel's rows (the office's notices by default;
        bot.handoffs uses the officers' answers in a handed-over conversation)."""
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
        # Pushes (and prepares) going at once; a row waiting for its pacer holds no slot.
        self._slots = asyncio.Semaphore(concurrency)
        self._hold_for = hold_for
        self._topic = topic
        # Rows claimed and not finished, at most: a few batches, well inside the lease.
        self._cap = max(in_flight if in_flight is not None else 4 * self._batch, self._batch)
        self._held = 0
        self._progress = asyncio.Event()
        self._chains: dict[str, asyncio.Task[None]] = {}
        # One outbox write at a time from this process: on SQLite concurrent writers queue on
        # busy_timeout, whose sleeps grow to 100 ms, and the rate falls to a tenth. The rows
        # sent while one commit runs are marked done together by the next (group commit).
        self._writes = asyncio.Lock()
        self._marks: list[tuple[int, asyncio.Future[None]]] = []

    async def run_once(self) -> int:
        claimed = await self._claim()
        await self._finish()
        return claimed

    async def _round(self) -> int:
        while self._held > self._cap - self._batch:
            self._progress.clear()
            await self._progress.wait()
        return await self._claim()

    async def _finish(self) -> None:
        while self._chains:
            await asyncio.wait(list(self._chains.values()))

    async def _claim(self) -> int:
        claimed = 0
        for channel in self._push.channels():
            room = min(self._batch, self._cap - self._held)
            if room <= 0:
                break
            async with self._writes:
                items = await self._notices.claim_due(
                    self._clock(), room, self._lease, topic=self._topic(channel)
                )
            claimed += len(items)
            for item in items:
                self._chain(item)
        return claimed

    def _chain(self, item: OutboxItem) -> None:
        """Work ``item`` after the rows of its chat already going."""
        chat = f"{item.topic}:{item.payload.get('chat_id', '')}"
        before = self._chains.get(chat)
        self._held += 1
        task = asyncio.create_task(self._after(before, item))
        self._chains[chat] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._chains.get(chat) is done:
                del self._chains[chat]

        task.add_done_callback(forget)

    async def _after(self, before: asyncio.Task[None] | None, item: OutboxItem) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])
            await self._send(item)
        except Exception:
            # The database or prepare failed: the row's lease brings it back later.
            log.exception("notice row %d (%s) failed", item.id, describe(item.payload))
        finally:
            self._held -= 1
            self._progress.set()

    def _about(self, item: OutboxItem) -> str:
        return describe(item.payload)

    async def _send(self, item: OutboxItem) -> None:
        morning = self._quiet.next_allowed(self._clock())
        if morning is not None:
            async with self._writes:
                await self._notices.defer(item.id, morning)
            return
        async with self._slots:
            prepared = await self._prepare(item)
        if prepared is None:
            payload = item.payload
            unknown = (
                f"dossier {payload.get('code', '?')} or event {payload['event_id']!r} unknown"
                if "event_id" in payload
                else f"{describe(payload)} unknown"
            )
            async with self._writes:
                await self._park(item, unknown)
            return
        if not prepared.replies:  # nothing owed any more (an announcement's chat opted out)
            await self._mark_done(item.id)
            return
        channel = prepared.key.channel
        pacer = self._pacers.get(channel)
        async with contextlib.AsyncExitStack() as paced:
            if pacer is not None:
                await paced.enter_async_context(pacer.turn(prepared.key.chat_id))
            async with self._slots:
                attempt = await self._push.attempt(prepared.key, prepared.replies)
        outcome = attempt.delivery
        if outcome is Delivery.SENT:
            await self._mark_done(item.id)
            log.info("%s sent on %s", describe(item.payload), channel)
            return
        if outcome is Delivery.KEPT and attempt.kept is not None:
            # Done (never pushed again), and the row says where it waits to be read.
            async with self._writes:
                await self._notices.mark_kept(item.id, attempt.kept, self._clock())
            log.info("%s kept on %s for the next visit", describe(item.payload), channel)
            return
        async with self._writes:
            await self._record(item, outcome, channel)

    async def _mark_done(self, item_id: int) -> None:
        """Group commit: whoever gets the write lock marks every row sent so far."""
        mark: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((item_id, mark))
        async with self._writes:
            if not mark.done():
                batch, self._marks = self._marks, []
                try:
                    await self._notices.mark_done_many([i for i, _ in batch], self._clock())
                except BaseException as exc:
                    failure = exc if isinstance(exc, Exception) else RuntimeError("cancelled")
                    for _, waiting in batch:
                        if not waiting.done():
                            waiting.set_exception(failure)
                    if failure is not exc:
                        mark.exception()  # retrieved: only the cancellation goes on
                        raise
                else:
                    for _, waiting in batch:
                        waiting.set_result(None)
        mark.result()

    async def _record(self, item: OutboxItem, outcome: Delivery, channel: str) -> None:
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
    "describe",
    "notice_dedupe_key",
    "notice_payload",
]
