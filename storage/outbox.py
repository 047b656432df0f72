"""The transactional outbox: work that must happen after a commit, never lost."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.leases import WORKER_LEASE_PREFIX
from storage.models import (
    LeaseRow,
    OutboxRow,
)

SEND_RECEIPT = "send_receipt"


def receipt_topic(channel: str) -> str:
    """One receipt topic per channel: a process claims only receipts it can deliver (the
    terminal chat cannot reach a web page, the web server cannot reach the terminal)."""
    return f"{SEND_RECEIPT}:{channel}"


NOTIFY = "notify"
NOTIFY_TOPIC = NOTIFY


def notify_topic(channel: str) -> str:
    """Status notices, one topic per channel like receipts: a process claims only the
    notices it can deliver."""
    return f"{NOTIFY}:{channel}"


HANDOFF = "handoff"


def handoff_topic(channel: str) -> str:
    """An officer's answer or the end of a hand-over, told in the citizen's channel."""
    return f"{HANDOFF}:{channel}"


ANNOUNCE = "announce"


def announce_topic(channel: str) -> str:
    """An officer's announcement to one subscriber (storage.announcements), per channel."""
    return f"{ANNOUNCE}:{channel}"


# The payload key of a row done whose message waits for the citizen's next visit: the
# ``web_pushes`` row it waits in (OutboxRepository.mark_kept).
KEPT = "kept"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    topic: str
    payload: dict[str, Any]
    dedupe_key: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    done_at: datetime | None
    last_error: str | None


_OUTBOX = cast(Table, OutboxRow.__table__)


def _outbox(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        topic=row.topic,
        payload=dict(row.payload),
        dedupe_key=row.dedupe_key,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        done_at=row.done_at,
        last_error=row.last_error,
    )


async def enqueue_in(
    session: AsyncSession,
    topic: str,
    payload: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    stmt = (
        _insert(session, OutboxRow)
        .values(
            topic=topic,
            payload=payload,
            dedupe_key=dedupe_key,
            attempts=0,
            next_attempt_at=_aware(not_before or now, "not_before"),
            created_at=_aware(now, "now"),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


# --------------------------------------------------------------------------- conversations


class OutboxRepository:
    """Work that must happen after a commit (deliver a dossier, notify a citizen), retried
    until done and never lost across restarts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], owner: str = "") -> None:
        """``owner``: this worker's id, recorded on the rows it claims (see
        :meth:`release_orphans`)."""
        self._sessions = sessions
        self._owner = owner or None

    async def enqueue(
        self,
        topic: str,
        payload: dict[str, Any],
        dedupe_key: str,
        now: datetime,
        *,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue an item; False (and nothing queued) if ``dedupe_key`` was queued before."""
        async with self._sessions.begin() as session:
            return await enqueue_in(session, topic, payload, dedupe_key, now, not_before)

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        lease: timedelta = timedelta(minutes=5),
        *,
        topic: str | None = None,
    ) -> builtins.list[OutboxItem]:
        """Take up to ``limit`` due items, of one ``topic`` if given (the dossier courier must
        not lease, and so delay, the notifier's rows). Each is hidden from other claims for
        ``lease``; a worker that dies without :meth:`mark_done`/:meth:`mark_failed` lets it
        come back."""
        now = _aware(now, "now")
        due = [OutboxRow.done_at.is_(None), OutboxRow.next_attempt_at <= now]
        if topic is not None:
            due.append(OutboxRow.topic == topic)
        async with self._sessions.begin() as session:
            rows = (
                await session.scalars(
                    select(OutboxRow)
                    .where(*due)
                    .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + lease
                row.claimed_by = self._owner
            await session.flush()
            return [_outbox(row) for row in rows]

    async def mark_done(self, item_id: int, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(done_at=_aware(now, "now"), last_error=None)
            )

    async def mark_done_many(self, item_ids: Sequence[int], now: datetime) -> None:
        """Mark several items done in one transaction (one commit, one fsync on SQLite): the
        notifier's group commit of the notices sent while the previous commit ran."""
        if not item_ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(item_ids)))
                .values(done_at=_aware(now, "now"), last_error=None)
            )

    async def mark_kept(self, item_id: int, kept: int, now: datetime) -> None:
        """Done, with the message waiting for the citizen's next visit: the payload names
        where (``"kept"``: the web chat's ``web_pushes`` row), so a count can tell it from one
        read (storage.announcements)."""
        async with self._sessions.begin() as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None:
                return
            row.payload = {**row.payload, KEPT: kept}
            row.done_at = _aware(now, "now")
            row.last_error = None

    async def mark_failed(self, item_id: int, error: str, next_attempt_at: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(
                    last_error=error[:4000],
                    next_attempt_at=_aware(next_attempt_at, "next_attempt_at"),
                    claimed_by=None,
                )
            )

    async def defer(self, item_id: int, until: datetime) -> None:
        """Put a claimed item back until ``until`` and give its claim's attempt back: waiting
        (quiet hours, a closed messenger window) is not a failed try. ``last_error`` is kept."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id, OutboxRow.done_at.is_(None))
                .values(
                    next_attempt_at=_aware(until, "until"),
                    attempts=case((OutboxRow.attempts > 0, OutboxRow.attempts - 1), else_=0),
                    claimed_by=None,
                )
            )

    async def release_orphans(self, now: datetime) -> int:
        """Rows claimed by a worker that is no longer alive (its ``worker:`` lease gone or run
        out) are due again now: a restart after a kill -9 does not wait out their claim."""
        now = _aware(now, "now")
        alive = select(LeaseRow.owner).where(
            LeaseRow.name.startswith(WORKER_LEASE_PREFIX), LeaseRow.expires_at >= now
        )
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.done_at.is_(None),
                    OutboxRow.claimed_by.is_not(None),
                    OutboxRow.next_attempt_at > now,
                    OutboxRow.claimed_by.not_in(alive),
                )
                .values(next_attempt_at=now, claimed_by=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def get(self, item_id: int) -> OutboxItem | None:
        async with self._sessions() as session:
            row = await session.get(OutboxRow, item_id)
            return None if row is None else _outbox(row)

    async def pending(self, topic: str | None = None) -> builtins.list[OutboxItem]:
        """Items not done yet, oldest first (for the console and for tests)."""
        query = select(OutboxRow).where(OutboxRow.done_at.is_(None)).order_by(OutboxRow.id)
        if topic is not None:
            query = query.where(OutboxRow.topic == topic)
        async with self._sessions() as session:
            return [_outbox(row) for row in await session.scalars(query)]

    async def purge_done(self, before: datetime) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(OutboxRow)
                .where(OutboxRow.done_at.is_not(None), OutboxRow.done_at < _aware(before, "before"))
                .returning(OutboxRow.id)
            )
            return len(result.all())


# --------------------------------------------------------------------------- audit, secrets
