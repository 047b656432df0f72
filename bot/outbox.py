"""The outbox loop: work that must follow a commit (a receipt's PDFs, a status notice), done
at least once and never lost.

A row is written in the same transaction as what caused it. A loop claims due rows (a lease
hides them from other claims, and brings them back if the process dies), does the work, and
only then marks them done. Failures are retried with exponential backoff and jitter (5 s,
10 s, 20 s, ... at most 15 min); a row nobody can handle is parked far in the future with the
reason in ``last_error`` and an error in the log, for a person to look at. No row is dropped.

Logs name dossiers by code only: no names, ID numbers or phone numbers.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypedDict

from typing_extensions import Unpack

from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

BASE_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=15)
PARKED_FOR = timedelta(days=30)
# Longer than a whole batch can take (batch x client timeout), or a slow round would see its
# own rows claimed again by another worker.
LEASE = timedelta(minutes=5)
JITTER = 0.2  # a retry comes up to 20% early, so a queue that failed together spreads out


class DeliveryQueue(Protocol):
    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, *, topic: str | None = None
    ) -> list[OutboxItem]: ...

    async def mark_done(self, item_id: int, now: datetime) -> None: ...

    async def mark_failed(self, item_id: int, error: str, next_attempt_at: datetime) -> None: ...


def backoff(
    attempt: int,
    sample: float,
    base: timedelta = BASE_BACKOFF,
    cap: timedelta = MAX_BACKOFF,
) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1 for the first), given a random
    ``sample`` in [0, 1): base, 2 x base, 4 x base, ... never more than ``cap``."""
    exponent = min(max(attempt - 1, 0), 32)  # 2**32 x 5 s is already centuries
    seconds = min(base.total_seconds() * 2.0**exponent, cap.total_seconds())
    return timedelta(seconds=seconds * (1 - JITTER * sample))


class LoopOptions(TypedDict, total=False):
    """How an outbox loop paces itself; each has a default fit for production."""

    batch: int  # rows claimed per round (20)
    lease: timedelta  # how long a claimed row stays hidden from other claims (LEASE)
    base_backoff: timedelta  # the first wait after a failure, doubling after (BASE_BACKOFF)
    max_backoff: timedelta  # the longest wait (MAX_BACKOFF)
    parked_for: timedelta  # how long a row nobody can handle waits for a person (PARKED_FOR)
    poll_interval: float  # seconds between looks when not poked (1.0)
    random_sample: Callable[[], float]  # jitter source in [0, 1) (random.random)


class OutboxLoop(abc.ABC):
    """Claims due outbox rows of one topic and works through them until stopped.

    Subclasses say what one round does (:meth:`run_once`); the loop, the wake-up on
    :meth:`poke`, the backoff and the parking of rows nobody can handle are shared.
    """

    def __init__(
        self, outbox: DeliveryQueue, clock: Callable[[], datetime], **options: Unpack[LoopOptions]
    ) -> None:
        batch = options.get("batch", 20)
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._outbox = outbox
        self._clock = clock
        self._batch = batch
        self._lease = options.get("lease", LEASE)
        self._base_backoff = options.get("base_backoff", BASE_BACKOFF)
        self._max_backoff = options.get("max_backoff", MAX_BACKOFF)
        self._parked_for = options.get("parked_for", PARKED_FOR)
        self._poll_interval = options.get("poll_interval", 1.0)
        self._random = options.get("random_sample", random.random)
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """New work was just queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    @abc.abstractmethod
    async def run_once(self) -> int:
        """Claim one batch of due rows and work through it; returns how many were claimed."""

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; a failed round is logged and the loop goes on."""
        while not stop.is_set():
            try:
                claimed = await self._round()
            except Exception:
                # The database may be busy or gone for a moment; leased rows come back.
                log.exception("outbox round failed (%s)", type(self).__name__)
                claimed = 0
            if claimed >= self._batch:
                continue  # more may be waiting
            await self._sleep(stop)
        await self._finish()

    async def _round(self) -> int:
        """One round of :meth:`run`: by default a whole :meth:`run_once`. A loop that keeps
        work going between rounds (the notifier) claims here and finishes in :meth:`_finish`."""
        return await self.run_once()

    async def _finish(self) -> None:
        """Called once when :meth:`run` stops: wait for work still going (none by default)."""
        return None

    async def _sleep(self, stop: asyncio.Event) -> None:
        waiters = {
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(stop.wait()),
        }
        try:
            await asyncio.wait(
                waiters, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
            for waiter in waiters:
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
        self._wake.clear()

    async def _retry_later(self, item: OutboxItem, error: str) -> None:
        delay = backoff(item.attempts, self._random(), self._base_backoff, self._max_backoff)
        await self._outbox.mark_failed(item.id, error, self._clock() + delay)

    def _about(self, item: OutboxItem) -> str:
        """What the row carries, for the logs: ids only, never a name, phone or chat id."""
        return f"dossier {item.payload.get('code', '?')}"

    async def _park(self, item: OutboxItem, error: str) -> None:
        log.error(
            "outbox row %d (%s) parked for %d days: %s",
            item.id,
            self._about(item),
            max(1, round(self._parked_for.total_seconds() / 86400)),
            error,
        )
        await self._outbox.mark_failed(item.id, error, self._clock() + self._parked_for)


__all__ = [
    "BASE_BACKOFF",
    "MAX_BACKOFF",
    "PARKED_FOR",
    "DeliveryQueue",
    "OutboxLoop",
    "backoff",
]
