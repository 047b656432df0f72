"""The shared outbox loop: retries wait longer each time (never past 15 min, jitter only ever
early), and run() wakes when poked, stops when asked and outlives a failing round."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.outbox import MAX_BACKOFF, OutboxLoop, backoff
from storage.outbox import OutboxItem

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_waits_double_from_5_seconds_up_to_15_minutes() -> None:
    waits = [backoff(attempt, 0.0).total_seconds() for attempt in range(1, 11)]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert backoff(10_000, 0.0) == MAX_BACKOFF == timedelta(minutes=15)
    assert backoff(0, 0.0) == timedelta(seconds=5)  # a row never tried counts as the first


def test_jitter_only_ever_brings_a_retry_forward() -> None:
    for attempt in (1, 3, 9, 10_000):
        plain = backoff(attempt, 0.0)
        for sample in (0.001, 0.5, 0.999):
            jittered = backoff(attempt, sample)
            assert plain * 0.8 <= jittered < plain
    assert backoff(3, 0.5) == timedelta(seconds=18)


class Queue:
    """Records what the loop marks; nothing is ever due."""

    def __init__(self) -> None:
        self.failed: list[tuple[int, str, datetime]] = []

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, *, topic: str | None = None
    ) -> list[OutboxItem]:
        return []

    async def mark_done(self, item_id: int, now: datetime) -> None:
        raise AssertionError("not used")

    async def mark_failed(self, item_id: int, error: str, next_attempt_at: datetime) -> None:
        self.failed.append((item_id, error, next_attempt_at))


class Counting(OutboxLoop):
    """A round counts itself; ``fail`` rounds raise first; ``claims`` says what each returns."""

    def __init__(self, queue: Queue, *, fail: int = 0, claims: int = 0, **options: object) -> None:
        super().__init__(queue, lambda: NOW, **options)  # type: ignore[arg-type]
        self.rounds = 0
        self._fail = fail
        self._claims = claims
        self.ran = asyncio.Event()
        self.fifth = asyncio.Event()

    async def run_once(self) -> int:
        await asyncio.sleep(0)  # a real round waits on the database
        self.rounds += 1
        self.ran.set()
        if self.rounds == 5:
            self.fifth.set()
        if self.rounds <= self._fail:
            raise RuntimeError("database gone for a moment")
        return self._claims

    async def retry(self, item: OutboxItem) -> None:
        await self._retry_later(item, "down")


def item(attempts: int) -> OutboxItem:
    return OutboxItem(
        id=7,
        topic="notify:zalo",
        payload={"code": "000.00.31.H26-261127-0001"},
        dedupe_key="k",
        attempts=attempts,
        next_attempt_at=NOW,
        created_at=NOW,
        done_at=None,
        last_error=None,
    )


async def test_a_failed_row_is_retried_after_the_backoff() -> None:
    queue = Queue()
    loop = Counting(queue, random_sample=lambda: 0.0)
    for attempts in (1, 4, 50):
        await loop.retry(item(attempts))
    assert [at - NOW for _, _, at in queue.failed] == [
        timedelta(seconds=5),
        timedelta(seconds=40),
        timedelta(minutes=15),
    ]


async def test_run_wakes_at_once_when_poked_and_stops_when_asked() -> None:
    loop = Counting(Queue(), poll_interval=60.0)
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    async with asyncio.timeout(5):
        await loop.ran.wait()
    await asyncio.sleep(0.05)
    assert loop.rounds == 1  # the first round found nothing and went to sleep

    loop.ran.clear()
    loop.poke()
    async with asyncio.timeout(5):  # far less than the 60 s poll interval
        await loop.ran.wait()
    assert loop.rounds == 2

    stop.set()
    async with asyncio.timeout(5):
        await running
    assert loop.rounds == 2


async def test_run_survives_failing_rounds() -> None:
    loop = Counting(Queue(), fail=3, poll_interval=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    async with asyncio.timeout(5):
        await loop.fifth.wait()
    assert not running.done()
    stop.set()
    async with asyncio.timeout(5):
        await running


async def test_a_full_batch_goes_straight_to_the_next_round() -> None:
    loop = Counting(Queue(), claims=2, batch=2, poll_interval=60.0)
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    async with asyncio.timeout(5):
        await loop.fifth.wait()  # no 60 s poll between full batches
    stop.set()
    async with asyncio.timeout(5):
        await running
