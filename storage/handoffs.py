"""Conversations handed to the commune's officers ("Gặp cán bộ"), and the recent transcript.

The transcript (``conversation_lines``) is written in the same transaction as the turn that
produced it (:func:`write_thread`, called from the conversation's save), so a citizen's message
to an officer is stored exactly when the turn is. A hand-over opens or ends there too, when the
citizen asks for it or ends it. What officers do (claim, answer, close) goes through
:class:`HandoffRepository`: each change is a compare-and-set on the open row, and what the
citizen must be told is queued on the ``handoff:<channel>`` outbox in the same transaction, for
the bot to deliver through the citizen's own channel.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from dialogs.model import ConversationKey
from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.models import ConversationLineRow, HandoffRow
from storage.outbox import enqueue_in, handoff_topic

OPEN = "open"
CLOSED = "closed"
CITIZEN = "citizen"
ASSISTANT = "assistant"
OFFICER_PREFIX = "officer:"
KEEP_LINES = 30  # per conversation, both ways
KEEP_FOR = timedelta(days=30)
TEXT_LIMIT = 2000  # characters of one line kept

HandoffChange = Literal["", "open", "wait", "close"]


@dataclass(frozen=True, slots=True)
class Thread:
    """What a saved step adds to the conversation's record: its lines (author, text), and
    the hand-over it opens (``open``: live; ``wait``: a message left outside office hours)
    or ends (``close``: the citizen went back to the assistant)."""

    lines: tuple[tuple[str, str], ...] = ()
    handoff: HandoffChange = ""


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    at: datetime
    author: str
    text: str

    @property
    def officer(self) -> str:
        """The officer's account name, or "" for the citizen's and the assistant's lines."""
        return self.author.removeprefix(OFFICER_PREFIX) if self.by_officer else ""

    @property
    def by_officer(self) -> bool:
        return self.author.startswith(OFFICER_PREFIX)


@dataclass(frozen=True, slots=True)
class Handoff:
    id: int
    key: ConversationKey
    commune_code: str
    status: str
    waiting: bool
    opened_at: datetime
    claimed_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    version: int
    last_at: datetime  # the newest line since it opened (or when it opened)
    unread: int  # the citizen's lines since an officer last wrote

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


def _clip(value: str) -> str:
    return value if len(value) <= TEXT_LIMIT else value[: TEXT_LIMIT - 1] + "…"


def _key_where(model: Any, key: ConversationKey) -> tuple[Any, ...]:
    return (
        model.channel == key.channel,
        model.chat_id == key.chat_id,
        model.user_id == key.user_id,
    )


async def write_thread(
    session: AsyncSession,
    saves: Sequence[tuple[ConversationKey, str, datetime, Thread]],
) -> None:
    """Inside a conversation save's transaction: the lines of the steps that were written,
    and the hand-overs they open or end. ``saves`` holds (key, commune, now, thread)."""
    lines = [
        {
            "channel": key.channel,
            "chat_id": key.chat_id,
            "user_id": key.user_id,
            "at": now,
            "author": author,
            "text": _clip(body),
        }
        for key, _, now, thread in saves
        for author, body in thread.lines
        if body
    ]
    if lines:
        await session.execute(_insert(session, ConversationLineRow), lines)
    for key, commune, now, thread in saves:
        if thread.handoff in ("open", "wait"):
            insert = _insert(session, HandoffRow).values(
                channel=key.channel,
                chat_id=key.chat_id,
                user_id=key.user_id,
                commune_code=commune,
                status=OPEN,
                waiting=thread.handoff == "wait",
                opened_at=now,
                version=1,
            )
            if thread.handoff == "open":
                # A message left out of hours, then a live request: it is live now.
                stmt = insert.on_conflict_do_update(
                    index_elements=["channel", "chat_id", "user_id"],
                    index_where=text("status = 'open'"),
                    set_={"waiting": False, "version": HandoffRow.version + 1},
                )
            else:
                stmt = insert.on_conflict_do_nothing(
                    index_elements=["channel", "chat_id", "user_id"],
                    index_where=text("status = 'open'"),
                )
            await session.execute(stmt)
        elif thread.handoff == "close":
            await session.execute(
                update(HandoffRow)
                .where(*_key_where(HandoffRow, key), HandoffRow.status == OPEN)
                .values(
                    status=CLOSED,
                    closed_at=now,
                    closed_by=CITIZEN,
                    version=HandoffRow.version + 1,
                )
            )


class Refusal(str):
    """Why an officer's change was not made (the conversation closed, another officer)."""


CLOSED_ALREADY = Refusal("closed")
TAKEN = Refusal("taken")


class HandoffRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def _summary(self) -> Any:
        h = HandoffRow

        def since_open(lines: Any) -> Any:
            return and_(
                lines.channel == h.channel,
                lines.chat_id == h.chat_id,
                lines.user_id == h.user_id,
                lines.at >= h.opened_at,
            )

        seen, officers, citizens = (aliased(ConversationLineRow) for _ in range(3))
        last_at = select(func.max(seen.at)).where(since_open(seen)).correlate(h).scalar_subquery()
        last_officer = (
            select(func.coalesce(func.max(officers.id), 0))
            .where(since_open(officers), officers.author.startswith(OFFICER_PREFIX))
            .correlate(h)
            .scalar_subquery()
        )
        unread = (
            select(func.count())
            .select_from(citizens)
            .where(since_open(citizens), citizens.author == CITIZEN, citizens.id > last_officer)
            .correlate(h)
            .scalar_subquery()
        )
        return select(h, last_at.label("last_at"), unread.label("unread"))

    @staticmethod
    def _handoff(row: Any) -> Handoff:
        h: HandoffRow = row[0]
        return Handoff(
            id=h.id,
            key=ConversationKey(h.channel, h.chat_id, h.user_id),
            commune_code=h.commune_code,
            status=h.status,
            waiting=h.waiting,
            opened_at=h.opened_at,
            claimed_by=h.claimed_by,
            closed_at=h.closed_at,
            closed_by=h.closed_by,
            version=h.version,
            last_at=_aware(row.last_at, "last_at") if row.last_at is not None else h.opened_at,
            unread=int(row.unread or 0),
        )

    async def list(
        self,
        communes: tuple[str, ...] | None,
        *,
        closed_since: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[Handoff]:
        """Open hand-overs of ``communes`` (None: all), newest activity first; with
        ``closed_since`` also those closed since then."""
        query = self._summary()
        wanted = HandoffRow.status == OPEN
        if closed_since is not None:
            wanted = or_(wanted, HandoffRow.closed_at >= _aware(closed_since, "closed_since"))
        query = query.where(wanted)
        if communes is not None:
            query = query.where(HandoffRow.commune_code.in_(communes))
        query = query.order_by(HandoffRow.status.desc(), HandoffRow.id.desc()).limit(limit)
        async with self._sessions() as session:
            found = [self._handoff(row) for row in await session.execute(query)]
        # Open first, then the newest activity.
        return sorted(found, key=lambda h: (not h.is_open, -h.last_at.timestamp()))

    async def get(self, handoff_id: int) -> Handoff | None:
        async with self._sessions() as session:
            row = (
                await session.execute(self._summary().where(HandoffRow.id == handoff_id))
            ).first()
            return None if row is None else self._handoff(row)

    async def open_for(self, key: ConversationKey) -> Handoff | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    self._summary().where(*_key_where(HandoffRow, key), HandoffRow.status == OPEN)
                )
            ).first()
            return None if row is None else self._handoff(row)

    async def lines(
        self, key: ConversationKey, *, after: int = 0, limit: int = KEEP_LINES
    ) -> builtins.list[Line]:
        """The conversation's newest ``limit`` lines after line id ``after``, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ConversationLineRow)
                .where(*_key_where(ConversationLineRow, key), ConversationLineRow.id > after)
                .order_by(ConversationLineRow.id.desc())
                .limit(limit)
            )
            found = [Line(id=r.id, at=r.at, author=r.author, text=r.text) for r in rows]
        return found[::-1]

    async def line(self, line_id: int) -> Line | None:
        async with self._sessions() as session:
            r = await session.get(ConversationLineRow, line_id)
            return None if r is None else Line(id=r.id, at=r.at, author=r.author, text=r.text)

    async def claim(self, handoff_id: int, officer: str) -> Refusal | None:
        """Take the conversation (compare-and-set: only if still open and nobody else has
        it). None when done."""
        async with self._sessions.begin() as session:
            return await self._claim_in(session, handoff_id, officer)

    async def _claim_in(
        self, session: AsyncSession, handoff_id: int, officer: str
    ) -> Refusal | None:
        result = await session.execute(
            update(HandoffRow)
            .where(
                HandoffRow.id == handoff_id,
                HandoffRow.status == OPEN,
                or_(HandoffRow.claimed_by.is_(None), HandoffRow.claimed_by == officer),
            )
            .values(claimed_by=officer, waiting=False, version=HandoffRow.version + 1)
            .returning(HandoffRow.id)
        )
        if result.first() is not None:
            return None
        current = await session.get(HandoffRow, handoff_id)
        return CLOSED_ALREADY if current is None or current.status != OPEN else TAKEN

    async def answer(
        self, handoff_id: int, officer: str, body: str, now: datetime
    ) -> Line | Refusal:
        """The officer's answer: claims the conversation if nobody has (compare-and-set),
        stores the line and queues its delivery to the citizen, in one transaction."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            refused = await self._claim_in(session, handoff_id, officer)
            if refused is not None:
                return refused
            row = await session.get(HandoffRow, handoff_id)
            assert row is not None  # claimed just now
            added = ConversationLineRow(
                channel=row.channel,
                chat_id=row.chat_id,
                user_id=row.user_id,
                at=now,
                author=OFFICER_PREFIX + officer,
                text=_clip(body),
            )
            session.add(added)
            await session.flush()
            await enqueue_in(
                session,
                handoff_topic(row.channel),
                _event("answer", row, line_id=added.id),
                f"handoff:answer:{added.id}",
                now,
            )
            return Line(id=added.id, at=now, author=added.author, text=added.text)

    async def close(self, handoff_id: int, by: str, now: datetime) -> bool:
        """End the hand-over (an officer, or ``idle``) and queue the assistant's return to
        the citizen; False when it was not open any more."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            return await self._close_in(session, handoff_id, by, now, version=None)

    async def _close_in(
        self, session: AsyncSession, handoff_id: int, by: str, now: datetime, version: int | None
    ) -> bool:
        where = [HandoffRow.id == handoff_id, HandoffRow.status == OPEN]
        if version is not None:
            where.append(HandoffRow.version == version)
        result = await session.execute(
            update(HandoffRow)
            .where(*where)
            .values(status=CLOSED, closed_at=now, closed_by=by, version=HandoffRow.version + 1)
            .returning(HandoffRow.id)
        )
        if result.first() is None:
            return False
        row = await session.get(HandoffRow, handoff_id)
        assert row is not None
        await enqueue_in(
            session,
            handoff_topic(row.channel),
            _event("close", row, by=by),
            f"handoff:close:{handoff_id}",
            now,
        )
        return True

    async def close_idle(self, now: datetime, idle: timedelta) -> int:
        """Close the live hand-overs in which nobody wrote for ``idle``; a message left outside
        office hours waits for an officer. Each closed compare-and-set on the version read."""
        now = _aware(now, "now")
        cutoff = now - idle
        closed = 0
        for found in await self.list(None, limit=1000):
            if found.waiting or found.last_at >= cutoff or found.opened_at >= cutoff:
                continue
            async with self._sessions.begin() as session:
                if await self._close_in(session, found.id, "idle", now, version=found.version):
                    closed += 1
        return closed

    async def trim(
        self, now: datetime, keep: int = KEEP_LINES, keep_for: timedelta = KEEP_FOR
    ) -> int:
        """Housekeeping: each conversation's newest ``keep`` lines stay, none older than
        ``keep_for``."""
        lines = ConversationLineRow
        ranked = select(
            lines.id,
            func.row_number()
            .over(
                partition_by=(lines.channel, lines.chat_id, lines.user_id),
                order_by=lines.id.desc(),
            )
            .label("rank"),
        ).subquery()
        beyond = select(ranked.c.id).where(ranked.c.rank > keep)
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(lines)
                .where(or_(lines.id.in_(beyond), lines.at < _aware(now - keep_for, "now")))
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _event(kind: str, row: HandoffRow, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "handoff_id": row.id,
        "channel": row.channel,
        "chat_id": row.chat_id,
        "user_id": row.user_id,
        # The notifier's logs name a row by "code": here the hand-over's number.
        "code": f"handoff-{row.id}",
        **extra,
    }


__all__ = [
    "ASSISTANT",
    "CITIZEN",
    "CLOSED_ALREADY",
    "KEEP_LINES",
    "OFFICER_PREFIX",
    "TAKEN",
    "Handoff",
    "HandoffRepository",
    "Line",
    "Refusal",
    "Thread",
    "write_thread",
]
