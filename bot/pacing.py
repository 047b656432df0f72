"""Pacing of messages written first: a messenger's rate limits, and the night's quiet.

:class:`Pacer` keeps the messages one channel sends on its own initiative (status notices) under
the messenger's limits, so the messenger never has to answer 429: Telegram allows about
30 messages a second per bot and about one a second per chat (protocols.md §1.5). Each call to
:meth:`Pacer.wait_turn` reserves the next free slot (overall spacing ``1 / per_second``, and
``per_chat_seconds`` since the chat's last message) and sleeps until it; :meth:`Pacer.turn`
wraps the send itself, so that the chat's interval counts from the answer and no message leaves
while the last second's answers and the messages in flight already make the limit (a busy event
loop sends late, in bunches: the spacing alone let 429s through). A 429 that gets through
anyway (limits are dynamic; the turns' answers share the bot) is reported with
:meth:`Pacer.back_off`, and then everyone on the channel waits.

The pacer lives in one process: several notifier processes on one bot would each use the whole
rate. Give each a share (``per_second / workers``) when running more than one.

:class:`QuietHours` says when a notice may not wake a citizen: by default 21:00-07:00 local time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, tzinfo
from datetime import time as clock_time

MonotonicClock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# The pacer stays this far under the limits: the server counts arrivals, and requests leave
# evenly but arrive with jitter.
MARGIN = 0.05
# Chats are forgotten (see Pacer._forget_idle) once this many are remembered.
REMEMBER_CHATS = 1024


class Pacer:
    """Turns for messages written first on one channel: an overall rate and a per-chat interval.

    ``scale`` multiplies the limits (``per_second x scale``, ``per_chat_seconds / scale``); it
    exists for benchmarks against a fake server enforcing the same scaled limits.
    """

    def __init__(
        self,
        per_second: float,
        per_chat_seconds: float,
        *,
        scale: float = 1.0,
        margin: float = MARGIN,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or per_chat_seconds < 0 or scale <= 0 or not 0 <= margin < 1:
            raise ValueError("per_second and scale must be > 0, per_chat_seconds >= 0, margin 0-1")
        self._spacing = 1.0 / (per_second * scale * (1 - margin))
        self._interval = per_chat_seconds / scale / (1 - margin)
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf  # the next free slot overall
        self._paused_until = -math.inf  # a 429's retry_after, for everyone
        self._chat_next: dict[str, float] = {}  # the next free slot of each recent chat
        # The hard bound behind the even spacing: a request may arrive late (a busy event
        # loop wakes several sleepers at once), so no message leaves while the last second's
        # answers plus those still in flight reach the messenger's own count.
        self._per_window = max(1, math.floor(per_second * scale))
        self._answered: deque[float] = deque()  # when each message of the last second was answered
        self._in_flight = 0
        # A new pacer does not know what the process before it sent (a restart, a kill -9):
        # for its first interval every chat counts as written to at its start.
        self._fresh_until = clock() + self._interval

    @property
    def rate(self) -> float:
        """Messages a second this pacer lets through at most (limits x scale, less the margin)."""
        return 1.0 / self._spacing

    async def wait_turn(self, chat_id: str) -> None:
        """Return when one message to ``chat_id`` may be sent.

        A caller first waits for its chat's interval and any pause, and only then takes the
        next overall slot: one busy chat does not hold up the others. Overall slots go in the
        order they are asked for; a :meth:`back_off` during the wait sends the waiter back.
        """
        while True:
            now = self._clock()
            if len(self._chat_next) >= REMEMBER_CHATS:
                self._forget_idle(now)
            before = self._chat_next.get(chat_id)
            if before is None and now < self._fresh_until:
                before = self._fresh_until
            ready = max(now, self._paused_until, now if before is None else before)
            if ready > now:
                await self._sleep(ready - now)
                continue  # look again: another message to this chat may have gone meanwhile
            slot = max(now, self._next)
            self._next = slot + self._spacing
            self._chat_next[chat_id] = slot + self._interval
            if slot > now:
                await self._sleep(slot - now)
            if self._paused_until <= self._clock():
                return
            # Paused while waiting: this message was not sent, so the chat owes nothing for it.
            if before is None:
                self._chat_next.pop(chat_id, None)
            else:
                self._chat_next[chat_id] = before

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: str) -> AsyncIterator[None]:
        """Wait for a turn (:meth:`wait_turn`), send inside the block; its end counts as the
        answer. The messenger counts arrivals, and a request may leave late: counted from the
        answer, neither the chat's interval nor the overall second is ever short."""
        await self.wait_turn(chat_id)
        await self._room_in_second()
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            now = self._clock()
            self._answered.append(now)
            free_at = now + self._interval
            self._chat_next[chat_id] = max(self._chat_next.get(chat_id, free_at), free_at)

    async def _room_in_second(self) -> None:
        while True:
            now = self._clock()
            while self._answered and self._answered[0] <= now - 1.0:
                self._answered.popleft()
            if len(self._answered) + self._in_flight < self._per_window:
                return
            wake = self._answered[0] + 1.0 if self._answered else now + self._spacing
            await self._sleep(max(wake - now, self._spacing / 10))

    def back_off(self, seconds: float) -> None:
        """The messenger said "retry after ``seconds``": nobody on this channel sends before."""
        if seconds > 0:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _forget_idle(self, now: float) -> None:
        """Drop the chats whose interval is over: they would get a slot at once anyway."""
        for chat_id in [c for c, free_at in self._chat_next.items() if free_at <= now]:
            del self._chat_next[chat_id]

    def __len__(self) -> int:
        """How many chats are remembered (bounded: idle ones are forgotten)."""
        return len(self._chat_next)


class QuietHours:
    """Local hours in which notices wait for the morning; ``start == end`` turns them off."""

    def __init__(
        self,
        start: clock_time = clock_time(21, 0),
        end: clock_time = clock_time(7, 0),
        timezone: tzinfo | None = None,
    ) -> None:
        if timezone is None:
            from zoneinfo import ZoneInfo

            timezone = ZoneInfo("Asia/Ho_Chi_Minh")
        self.start = start
        self.end = end
        self.timezone = timezone

    def next_allowed(self, now: datetime) -> datetime | None:
        """None when a notice may go now; otherwise when the quiet ends (aware, local time)."""
        if self.start == self.end:
            return None
        local = now.astimezone(self.timezone)
        at = local.time().replace(tzinfo=None)
        if self.start < self.end:  # e.g. 12:00-13:30, within one day
            quiet = self.start <= at < self.end
            end_day = local.date()
        else:  # e.g. 21:00-07:00, across midnight
            quiet = at >= self.start or at < self.end
            end_day = local.date() + timedelta(days=1) if at >= self.start else local.date()
        if not quiet:
            return None
        # Built from the wall-clock date and time, so a DST change in the zone is honoured.
        return datetime.combine(end_day, self.end, tzinfo=self.timezone)


__all__ = ["MARGIN", "Pacer", "QuietHours"]
