"""The open-loop load of the turn benchmark decides its verdicts: these pin what it counts."""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
from typing import Any

import pytest

from bench._openloop import (
    Turn,
    Window,
    arrivals,
    highest_sustained,
    open_loop,
    percentile,
    sustains,
    window,
)


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]  # 1..100, shuffled below
    random.Random(3).shuffle(values)
    assert percentile(values, 0.99) == 99.0  # the 99th smallest, not the largest
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    # One slow turn in 100 is the 1% the p99 leaves out; two are not.
    assert percentile([1.0] * 99 + [500.0], 0.99) == 1.0
    assert percentile([1.0] * 98 + [500.0] * 2, 0.99) == 500.0
    with pytest.raises(ValueError):
        percentile([], 0.99)


def test_arrivals_are_a_poisson_process_of_the_rate() -> None:
    times = arrivals(50.0, 200.0, random.Random(1))
    assert times == sorted(times) and times[0] > 0 and times[-1] < 200.0
    assert 9_500 < len(times) < 10_500  # 50/s for 200 s
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Exponential gaps: mean 1/rate, and as spread as their mean (a fixed pace would be 0).
    assert statistics.mean(gaps) == pytest.approx(0.02, rel=0.05)
    assert statistics.stdev(gaps) == pytest.approx(0.02, rel=0.1)
    assert arrivals(0.0, 10.0, random.Random(1)) == []


def test_window_counts_turns_sent_in_it_and_replies_that_came_in_it() -> None:
    turns = [
        Turn(0.5, 0.6),  # before the window: the warm-up
        Turn(1.0, 1.01),
        Turn(1.5, 1.53),
        Turn(2.9, 3.2),  # sent in the window, answered after it: its latency counts
        Turn(3.0, 3.001),  # sent at the end: outside
    ]
    measured = window(turns, 1.0, 3.0)
    assert measured.turns == 3
    assert measured.completed == 2  # 1.01 and 1.53
    assert measured.achieved == pytest.approx(1.0)
    assert measured.p50_ms == pytest.approx(30.0)
    assert measured.p99_ms == pytest.approx(300.0)
    with pytest.raises(ValueError):
        window(turns, 3.5, 4.0)


def _window(p99: float) -> Window:
    return Window(0.0, 1.0, 100, 100, 1.0, p99)


def test_highest_sustained_load_stops_at_the_first_load_over_the_limit() -> None:
    assert sustains(_window(100.0)) and not sustains(_window(100.1))
    ladder = [(500.0, _window(20.0)), (250.0, _window(10.0)), (1000.0, _window(150.0))]
    assert highest_sustained(ladder) == 500.0
    # A lucky higher load after a failed one does not count: the ladder broke there.
    assert highest_sustained([*ladder, (2000.0, _window(90.0))]) == 500.0
    assert highest_sustained([(250.0, _window(101.0))]) is None


class _Server:
    """One turn at a time, each ``service_s`` long: a capacity of 1/service_s turns/s."""

    def __init__(self, service_s: float, turns_per_chat: int) -> None:
        self._lock = asyncio.Lock()
        self._service_s = service_s
        self._turns = turns_per_chat
        self.seen: dict[int, list[int]] = {}

    def first(self, chat: int) -> Any:
        return 0

    async def turn(self, chat: int, update: Any) -> Any | None:
        async with self._lock:
            await asyncio.sleep(self._service_s)
        self.seen.setdefault(chat, []).append(update)
        return update + 1 if update + 1 < self._turns else None


async def test_open_loop_offers_the_load_and_times_turns_from_when_they_were_sent() -> None:
    # 40 turns/s offered to a server of 200/s: kept up with, every chat finished in order.
    server = _Server(0.005, turns_per_chat=4)
    run = await open_loop(
        server, 40.0, turns_per_chat=4, seconds=3.0, warmup=1.0, think_s=0.05, seed=5
    )
    assert run.chats == len(server.seen) > 0
    assert run.finished == run.chats
    assert all(steps == [0, 1, 2, 3] for steps in server.seen.values())
    assert len(run.turns) == 4 * run.chats
    assert run.measured.p50_ms >= 5.0  # no turn is faster than the service
    assert sustains(run.measured)
    assert run.measured.achieved == pytest.approx(40.0, rel=0.5)


async def test_an_overloaded_system_queues_and_fails_the_p99_while_the_run_stays_bounded() -> None:
    # 400 turns/s offered to a server of 100/s. The arrivals do not slow down with it (open
    # loop), so the turns queue and latency grows through the run.
    server = _Server(0.01, turns_per_chat=4)
    started = asyncio.get_running_loop().time()
    run = await open_loop(
        server, 400.0, turns_per_chat=4, seconds=2.0, warmup=0.5, think_s=0.05, grace=0.2
    )
    elapsed = asyncio.get_running_loop().time() - started
    assert not sustains(run.measured)
    assert run.measured.p99_ms > 300
    assert run.measured.achieved <= 110  # the capacity, not the offer
    assert run.finished < run.chats  # citizens due after the run did not come back
    # Only the turns in flight at the end are waited for: one per chat open then.
    assert elapsed < 2.2 + 0.01 * run.chats + 1.0
