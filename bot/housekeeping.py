"""Forgetting on time: bookkeeping rows that have done their job are deleted.

- Seen inbound message ids guard against redelivery; platforms redeliver within a day
  (Telegram keeps an unconfirmed update for 24 hours, Zalo retries for minutes), so a week is
  plenty.
- Outbox rows that were delivered are kept a month for the operator to look back on; rows not
  yet done (waiting, or parked for a person) are never touched.
- Files in the store that no row names (a crash between writing a photo and committing its
  row, or between deleting a row and its file) are deleted once older than an hour
  (storage/orphans.py): nobody can reach them, and they hold ID cards.
- Other areas add their own sweeps (the console's idle sessions and day-old login attempts).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from storage.conversations import ConversationRepository
from storage.orphans import OrphanFiles
from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

SEEN_FOR = timedelta(days=7)
DONE_FOR = timedelta(days=30)


class Housekeeping:
    def __init__(
        self,
        conversations: ConversationRepository,
        outbox: OutboxRepository,
        clock: Callable[[], datetime],
        *,
        seen_for: timedelta = SEEN_FOR,
        done_for: timedelta = DONE_FOR,
        files: OrphanFiles | None = None,
        sweeps: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self._conversations = conversations
        self._outbox = outbox
        self._clock = clock
        self._seen_for = seen_for
        self._done_for = done_for
        self._files = files
        self._sweeps = tuple(sweeps)

    async def run_once(self) -> tuple[int, int]:
        """Delete what is due; returns (message ids forgotten, outbox rows deleted)."""
        now = self._clock()
        seen = await self._conversations.purge_seen(now - self._seen_for)
        done = await self._outbox.purge_done(now - self._done_for)
        if self._files is not None:
            await self._files.sweep(now)
        for sweep in self._sweeps:
            await sweep()
        if seen or done:
            log.info("housekeeping: %d seen message ids, %d delivered outbox rows", seen, done)
        return seen, done
