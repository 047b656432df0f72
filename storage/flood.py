"""The flood limit's counts, shared by every worker: messages per conversation per window.

A fixed window (its start is the time rounded down to the window's length) counted by one
upsert per conversation; the counts of the turns that arrive together go in one statement
(storage.batching), so a turn pays a share of a round trip, not a transaction of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, case, delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.batching import Batcher
from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.models import FloodCountRow

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_TABLE = cast(Table, FloodCountRow.__table__)


@dataclass(frozen=True, slots=True)
class _Hit:
    key: str
    window_start: datetime


class FloodCounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], window: timedelta) -> None:
        self._sessions = sessions
        self._window = window
        self._batcher: Batcher[_Hit, int] = Batcher(self._flush)

    async def count(self, key: str, now: datetime) -> int:
        """Count one message of ``key`` now; how many it has sent in this window, this one
        included (1 for the first)."""
        return await self._batcher.submit(_Hit(key, self.window_start(now)))

    def window_start(self, now: datetime) -> datetime:
        elapsed = _aware(now, "now") - _EPOCH
        return _EPOCH + self._window * (elapsed // self._window)

    async def _flush(self, hits: Sequence[_Hit]) -> list[int]:
        # One row per key in a statement (PostgreSQL refuses to update a row twice in one).
        by_key: dict[str, _Hit] = {}
        added: Counter[str] = Counter()
        for hit in hits:
            by_key[hit.key] = hit
            added[hit.key] += 1
        async with self._sessions.begin() as session:
            statement = _insert(session, _TABLE)
            old = _TABLE.c
            new = statement.excluded
            result = await session.execute(
                statement.values(
                    [
                        {"key": k, "window_start": h.window_start, "count": added[k]}
                        for k, h in sorted(by_key.items())
                    ]
                )
                .on_conflict_do_update(
                    index_elements=["key"],
                    set_={
                        "count": case(
                            (old.window_start == new.window_start, old.count + new.count),
                            else_=new.count,
                        ),
                        "window_start": new.window_start,
                    },
                )
                .returning(old.key, old.count)
            )
            totals = {k: int(c) for k, c in result}
        # The batch's own messages of one key are numbered in arrival order.
        seen: Counter[str] = Counter()
        numbers: list[int] = []
        for hit in hits:
            seen[hit.key] += 1
            numbers.append(totals[hit.key] - added[hit.key] + seen[hit.key])
        return numbers

    async def sweep(self, now: datetime) -> None:
        """Forget counts of windows that are over."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(FloodCountRow).where(FloodCountRow.window_start < self.window_start(now))
            )
