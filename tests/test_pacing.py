"""Pacer (rate limits for messages written first) and QuietHours, on a fake clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.pacing import REMEMBER_CHATS, Pacer, QuietHours

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


class FakeTime:
    """Virtual time: sleepers wake in order of their wake-up time, which becomes the clock."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sends: list[tuple[float, str]] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._count += 1
        heapq.heappush(self._sleepers, (self.now + seconds, self._count, future))
        await future

    async def run(self, *aws: Awaitable[None]) -> None:
        tasks = [asyncio.ensure_future(a) for a in aws]
        while not all(t.done() for t in tasks):
            for _ in range(5):
                await asyncio.sleep(0)
            if self._sleepers and not all(t.done() for t in tasks):
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        for task in tasks:
            task.result()


def _pacer(t: FakeTime, *, fresh: bool = False, **kwargs: float) -> Pacer:
    """A pacer made an hour ago (past its fresh start), or now if ``fresh``."""
    now = t.now
    if not fresh:
        t.now -= 3600
    pacer = Pacer(kwargs.pop("per_second", 30), kwargs.pop("per_chat_seconds", 1.0),
                  clock=t.clock, sleep=t.sleep, margin=0.0, **kwargs)  # fmt: skip
    t.now = now
    return pacer


async def test_a_new_pacer_treats_every_chat_as_just_written_to() -> None:
    """After a restart (a kill -9 included) the pacer cannot know which chats the process
    before it wrote to a moment ago: the first message to any chat waits one interval from
    the start, and the overall rate applies from the first message."""
    t = FakeTime()
    pacer = _pacer(t, fresh=True, per_second=10, per_chat_seconds=1.0)
    await t.run(*(_send(pacer, t, chat) for chat in ["a", "b", "a"]))
    times = sorted(at - 100.0 for at, _ in t.sends)
    assert times == [pytest.approx(1.0), pytest.approx(1.1), pytest.approx(2.0)]
    # Later, a chat not written to yet goes at once.
    t.now = 200.0
    await t.run(_send(pacer, t, "c"))
    assert t.sends[-1][0] == pytest.approx(200.0)


async def _send(pacer: Pacer, t: FakeTime, chat: str) -> None:
    await pacer.wait_turn(chat)
    t.sends.append((t.now, chat))


async def test_overall_rate_spaces_messages_to_different_chats() -> None:
    t = FakeTime()
    pacer = _pacer(t, per_second=10)
    await t.run(*(_send(pacer, t, str(chat)) for chat in range(30)))
    times = [at for at, _ in t.sends]
    assert times[-1] - times[0] == pytest.approx(2.9)
    assert all(b - a == pytest.approx(0.1) for a, b in itertools.pairwise(times))


async def test_one_chat_waits_its_interval_while_others_go_on() -> None:
    t = FakeTime()
    pacer = _pacer(t, per_second=10, per_chat_seconds=1.0)
    await t.run(*(_send(pacer, t, chat) for chat in ["a", "a", "b", "c"]))
    at = {}
    for moment, chat in t.sends:
        at.setdefault(chat, []).append(moment - 100.0)
    assert at["a"] == [pytest.approx(0.0), pytest.approx(1.0)]
    # "a" waiting for its interval does not hold "b" and "c" back.
    assert at["b"] == [pytest.approx(0.1)] and at["c"] == [pytest.approx(0.2)]


async def test_scale_multiplies_the_limits_and_margin_stays_under_them() -> None:
    t = FakeTime()
    assert _pacer(t, per_second=30, scale=20).rate == pytest.approx(600)
    assert Pacer(30, 1.0).rate == pytest.approx(28.5)
    pacer = _pacer(t, per_second=30, per_chat_seconds=1.0, scale=20)
    await t.run(_send(pacer, t, "a"))
    await t.run(_send(pacer, t, "a"))
    assert t.sends[1][0] - t.sends[0][0] == pytest.approx(0.05)


async def test_back_off_holds_everyone_including_those_already_waiting() -> None:
    t = FakeTime()
    pacer = _pacer(t, per_second=1)

    async def scenario() -> None:
        await _send(pacer, t, "a")  # at 100
        waiting = asyncio.ensure_future(_send(pacer, t, "b"))  # its slot would be 101
        await asyncio.sleep(0)
        pacer.back_off(5)  # at 100: nobody before 105
        await waiting
        await _send(pacer, t, "c")

    await t.run(scenario())
    assert [at for at, _ in t.sends] == [100.0, pytest.approx(105.0), pytest.approx(106.0)]


async def test_memory_is_bounded_idle_chats_are_forgotten() -> None:
    t = FakeTime()
    pacer = _pacer(t, per_second=1000, per_chat_seconds=1.0)
    for chat in range(REMEMBER_CHATS * 3):
        await t.run(_send(pacer, t, str(chat)))
        t.now += 0.01
    assert len(pacer) <= REMEMBER_CHATS


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        Pacer(0, 1.0)
    with pytest.raises(ValueError):
        Pacer(30, 1.0, scale=0)


def _at(hour: int, minute: int = 0, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=HANOI)


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (_at(20, 59), None),
        (_at(21, 0), _at(7, 0, day=28)),
        (_at(23, 30), _at(7, 0, day=28)),
        (_at(0, 5), _at(7, 0)),
        (_at(6, 59), _at(7, 0)),
        (_at(7, 0), None),
        (_at(12, 0), None),
    ],
)
def test_quiet_hours_across_midnight(now: datetime, allowed: datetime | None) -> None:
    quiet = QuietHours(time(21, 0), time(7, 0), HANOI)
    assert quiet.next_allowed(now) == allowed
    # The same instant given in UTC gives the same answer.
    assert quiet.next_allowed(now.astimezone(UTC)) == allowed


def test_quiet_hours_within_one_day_and_disabled() -> None:
    lunch = QuietHours(time(11, 30), time(13, 30), HANOI)
    assert lunch.next_allowed(_at(12, 0)) == _at(13, 30)
    assert lunch.next_allowed(_at(13, 30)) is None
    assert lunch.next_allowed(_at(22, 0)) is None
    never = QuietHours(time(7, 0), time(7, 0), HANOI)
    assert never.next_allowed(_at(3, 0)) is None
    assert QuietHours().next_allowed(_at(22, 0)) == _at(7, 0, day=28)


async def test_no_message_leaves_while_answers_and_those_in_flight_fill_the_second() -> None:
    """The even spacing is not enough when requests arrive late: a message counts against the
    messenger's second until a second after it is answered (it may have arrived just before
    the answer), so with slow answers (2 s each here) the eleventh message of a 10-a-second
    limit waits until a second after the first answer."""
    t = FakeTime()
    pacer = _pacer(t, per_second=10, per_chat_seconds=0.0)
    started: list[float] = []

    async def slow(chat: str) -> None:
        async with pacer.turn(chat):
            started.append(t.now)
            await t.sleep(2.0)

    await t.run(*(slow(str(chat)) for chat in range(12)))
    assert started[:10] == [pytest.approx(100.0 + 0.1 * n) for n in range(10)]
    assert started[10] == pytest.approx(103.0)  # the first answer at 102, plus a second
    assert started[11] == pytest.approx(103.1)


async def test_a_chats_interval_counts_from_the_answer_not_the_slot() -> None:
    t = FakeTime()
    pacer = _pacer(t, per_second=10, per_chat_seconds=1.0)
    started: list[float] = []

    async def late(chat: str) -> None:
        async with pacer.turn(chat):
            started.append(t.now)
            await t.sleep(0.5)  # the request is answered half a second after its slot

    await t.run(late("a"), late("a"))
    assert started == [pytest.approx(100.0), pytest.approx(101.5)]
