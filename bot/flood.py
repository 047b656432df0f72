"""Per-citizen inbound flood limit: a burst gets one polite slow-down message, and the excess is
logged but not processed (a stuck key or a script must not flood the office's queue)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


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
