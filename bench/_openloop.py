"""Open-loop load for the turn benchmarks: citizens arrive by a Poisson process and think
between turns; what decides a result (the percentile, the measured window, the highest
sustained load) lives here, apart from any system under test, so that it can be tested.

A citizen arrives at a time drawn from a Poisson process and sends the first turn of a chat
then; each later turn is sent an exponentially drawn think time after the previous turn's
replies came. The arrivals do not wait for the system: a slow system gets more chats open at
once, not fewer turns (that is what makes the load open, unlike a fixed pool of clients).
The offered load is the steady-state turn rate, ``chats/s × turns a chat``: reached once the
first chats have finished, which is why only the turns sent after a warm-up are counted.

Every turn is timed from when its citizen sent it (its due time), not from when the busy
event loop got round to it: a late start is latency too (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

P99_LIMIT_MS = 100.0  # issue 12's target: p99 ≤ 100 ms, sustained


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of all values at
    or below it (p99 of 100 values is the 99th smallest, not the largest)."""
    if not values:
        raise ValueError("no values")
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def arrivals(rate: float, seconds: float, rng: random.Random) -> list[float]:
    """Arrival times in [0, seconds) of a Poisson process of ``rate`` events per second."""
    if rate <= 0:
        return []
    times: list[float] = []
    t = rng.expovariate(rate)
    while t < seconds:
        times.append(t)
        t += rng.expovariate(rate)
    return times


@dataclass(frozen=True, slots=True)
class Turn:
    due: float  # seconds from the run's start: when the citizen sent it
    done: float  # when its replies came


@dataclass(frozen=True, slots=True)
class Window:
    """The turns of a run sent in its steady state, [start, end)."""

    start: float
    end: float
    turns: int  # sent in the window
    completed: int  # replies that came in the window (the achieved rate's count)
    p50_ms: float
    p99_ms: float

    @property
    def achieved(self) -> float:
        return self.completed / (self.end - self.start)


def window(turns: Sequence[Turn], start: float, end: float) -> Window:
    """Latencies of the turns sent in [start, end), and the replies that came in it."""
    if end <= start:
        raise ValueError("an empty window")
    sent = [(t.done - t.due) * 1000 for t in turns if start <= t.due < end]
    if not sent:
        raise ValueError("no turn was sent in the window")
    completed = sum(1 for t in turns if start <= t.done < end)
    return Window(start, end, len(sent), completed, percentile(sent, 0.5), percentile(sent, 0.99))


def sustains(measured: Window, limit_ms: float = P99_LIMIT_MS) -> bool:
    """Whether a load was sustained: its steady-state p99 within the limit. A system that does
    not keep up queues without bound, so its p99 grows past any limit within the window."""
    return measured.p99_ms <= limit_ms


def highest_sustained(results: Sequence[tuple[float, Window]]) -> float | None:
    """The highest offered load of a ladder (ascending) at which every load up to it was
    sustained; None when the lowest was not."""
    best = None
    for offered, measured in sorted(results, key=lambda r: r[0]):
        if not sustains(measured):
            break
        best = offered
    return best


class Driver(Protocol):
    """One system under test, driven chat by chat. ``first`` is a chat's opening update;
    ``turn`` sends an update and gives the citizen's next one, or None once the chat is done."""

    def first(self, chat: int) -> Any: ...

    async def turn(self, chat: int, update: Any) -> Any | None: ...


@dataclass(frozen=True, slots=True)
class Run:
    offered: float  # turns/s in steady state
    chats: int  # arrived
    finished: int  # chats that sent their last turn
    turns: tuple[Turn, ...]
    measured: Window


async def open_loop(
    driver: Driver,
    offered: float,
    *,
    turns_per_chat: int,
    seconds: float,
    warmup: float,
    think_s: float,
    grace: float = 1.0,
    first_chat: int = 1,
    seed: int = 7,
) -> Run:
    """Citizens arriving for ``seconds`` at ``offered / turns_per_chat`` chats/s, each thinking
    ``think_s`` on average between turns. A citizen sends nothing due after ``seconds +
    grace`` (the run is over; a turn in flight is still waited for), so an overloaded system
    ends its run too. Measured: the turns sent in [warmup, seconds)."""
    if not 0 <= warmup < seconds:
        raise ValueError("the warm-up must end before the arrivals do")
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    starts = arrivals(offered / turns_per_chat, seconds, rng)
    thinks = [random.Random(rng.random()) for _ in starts]  # one stream per citizen
    stop_at = seconds + grace
    t0 = loop.time() + 0.05
    done_turns: list[Turn] = []
    finished = 0

    async def citizen(chat: int, arrival: float, think: random.Random) -> None:
        nonlocal finished
        due = arrival
        await asyncio.sleep(max(0.0, t0 + due - loop.time()))
        update = driver.first(chat)
        while True:
            following = await driver.turn(chat, update)
            done = loop.time() - t0
            done_turns.append(Turn(due, done))
            if following is None:
                finished += 1
                return
            due = done + (think.expovariate(1 / think_s) if think_s > 0 else 0.0)
            if due >= stop_at:
                return  # the citizen comes back after the run: not part of it
            await asyncio.sleep(max(0.0, t0 + due - loop.time()))
            update = following

    await asyncio.gather(
        *(
            citizen(first_chat + n, a, th)
            for n, (a, th) in enumerate(zip(starts, thinks, strict=True))
        )
    )
    turns = tuple(done_turns)
    return Run(offered, len(starts), finished, turns, window(turns, warmup, seconds))
