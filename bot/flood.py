"""Per-citizen inbound flood limit: a burst gets one polite slow-down message, and the excess is
logged but not processed (a stuck key or a script must not flood the office's queue).

The server counts in the database (:class:`SharedFloodGate`), so a burst spread by a load
balancer over several workers is one burst; :class:`FloodGate` counts in this process only
(the terminal chat, tests).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from storage.flood import FloodCounts

log = logging.getLogger(__name__)


class Flood(Protocol):
    async def verdict(self, key: str, now: datetime) -> str:
        """``"ok"`` to process, ``"warn"`` to refuse with the slow-down message (once per
        burst), ``"drop"`` to refuse silently."""
        ...


class SharedFloodGate:
    """At most ``limit`` messages per window for each conversation, whichever worker gets
    them: the window is fixed (aligned on its length), its count a row every worker adds to."""

    def __init__(self, counts: FloodCounts, limit: int) -> None:
        self._counts = counts
        self._limit = limit

    async def verdict(self, key: str, now: datetime) -> str:
        try:
            number = await self._counts.count(key, now)
        except Exception:
            # A database that refuses the count refuses the turn too, which then tells the
            # citizen to send it again: let it through to say so.
            log.warning("flood count failed; the message is let through", exc_info=True)
            return "ok"
        if number <= self._limit:
            return "ok"
        return "warn" if number == self._limit + 1 else "drop"


@dataclass(slots=True)
class _Window:
    times: deque[datetime] = field(default_factory=deque)
    warned: bool = False


class FloodGate:
    """At most ``limit`` messages per ``window`` for each conversation key."""

    def __init__(self, limit: int = 20, window: timedelta = timedelta(seconds=10)) -> None:
        self._limit = limit
        self._window = window
        self._keys: dict[str, _Window] = {}

    async def verdict(self, key: str, now: datetime) -> str:
        return self.check(key, now)

    def check(self, key: str, now: datetime) -> str:
        """``"ok"`` to process, ``"warn"`` to refuse with the slow-down message (once per
        burst), ``"drop"`` to refuse silently."""
        if len(self._keys) > 10_000:
            self.forget_idle(now)
        state = self._keys.setdefault(key, _Window())
        while state.times and now - state.times[0] >= self._window:
            state.times.popleft()
        if len(state.times) < self._limit:
            state.times.append(now)
            state.warned = False
            return "ok"
        if state.warned:
            return "drop"
        state.warned = True
        return "warn"

    def forget_idle(self, now: datetime) -> None:
        """Drop keys with no message inside the window (keeps memory bounded)."""
        idle = [
            k for k, s in self._keys.items() if not s.times or now - s.times[-1] >= self._window
        ]
        for key in idle:
            del self._keys[key]

    def __len__(self) -> int:
        return len(self._keys)
