"""Announcements: the chats that opted in to their commune's news, and what officers sent them.

A chat is offered the announcements once (``asked``), opts in (``in``) with «Nhận thông báo»
or "/thongbao", and out (``out``) with one tap on «Không nhận thông báo nữa», which every
announcement carries with the subscription's ``token``: a button of an older subscription, or
one typed by hand, names no current token and changes nothing.

Sending is one transaction: the announcement, one ``announce:<channel>`` outbox row per chat
opted in to the commune at that moment (deduplicated per announcement and chat) and the audit
entry. A crash before the commit leaves none of them; after it, every row is there and the
outbox's claims see that each goes out once (``bot.announcements``). The officer's form carries
a key of its own (``submission_key``): a double click or a resent form sends once.

The audit trail names chats by conversation and officers by account, never by name or phone.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.common import key_of as _key
from storage.models import (
    AnnouncementRow,
    AnnouncementSubscriptionRow,
    AuditLogRow,
    OutboxRow,
    WebPushRow,
)
from storage.outbox import ANNOUNCE, KEPT, announce_topic

ASKED = "asked"
OPTED_IN = "in"
OPTED_OUT = "out"
ANNOUNCEMENT = "announcement"  # the ``kind`` of the outbox rows this module queues
CHUNK = 500  # outbox rows per INSERT of one fan-out (all in the same transaction)

OptOut = Literal["out", "already", "stale"]

_SUBS = AnnouncementSubscriptionRow
_OUTBOX = cast(Table, OutboxRow.__table__)


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    key: ConversationKey
    commune_code: str
    status: str
    token: str
    asked_at: datetime | None
    opted_in_at: datetime | None
    opted_out_at: datetime | None

    @property
    def active(self) -> bool:
        return self.status == OPTED_IN


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    commune_code: str
    text: str
    author: str
    recipients: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where an announcement's messages are: sent (or no longer owed: the chat opted out
    before its turn), kept for a web chat whose page is closed until the citizen opens it
    (storage.webchat.KEPT_FOR_PAGE), waiting for their turn (quiet hours, pacing), failed at
    least once."""

    recipients: int
    sent: int
    queued: int
    failed: int
    kept: int = 0


def _subscription(row: AnnouncementSubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        key=_key(row),
        commune_code=row.commune_code,
        status=row.status,
        token=row.token,
        asked_at=row.asked_at,
        opted_in_at=row.opted_in_at,
        opted_out_at=row.opted_out_at,
    )


def _announcement(row: AnnouncementRow) -> Announcement:
    return Announcement(
        id=row.id,
        commune_code=row.commune_code,
        text=row.text,
        author=row.author,
        recipients=row.recipients,
        created_at=row.created_at,
    )


def new_token() -> str:
    return secrets.token_urlsafe(9)  # 12 characters: «annoff:» and it fit a 64-byte payload


def dedupe_prefix(announcement_id: int) -> str:
    return f"{ANNOUNCE}:{announcement_id}:"


def _audit(
    session: AsyncSession, at: datetime, actor: str, action: str, target: str, **details: Any
) -> None:
    session.add(AuditLogRow(at=at, actor=actor, action=action, target=target, details=details))


async def queue_chunk(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT of a fan-out's outbox rows (a seam: tests make it fail half-way)."""
    await session.execute(
        _insert(session, _OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]),
        list(rows),
    )


class AnnouncementRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- the citizens' side -----------------------------------------------------------------

    async def of(self, key: ConversationKey) -> Subscription | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(_SUBS).where(_SUBS.channel == key.channel, _SUBS.user_id == key.user_id)
            )
            return None if row is None else _subscription(row)

    async def get_subscription(self, subscription_id: int) -> Subscription | None:
        async with self._sessions() as session:
            row = await session.get(_SUBS, subscription_id)
            return None if row is None else _subscription(row)

    async def offer_once(self, key: ConversationKey, commune_code: str, now: datetime) -> bool:
        """Record that this chat is being offered the announcements; False when it was
        offered before or has chosen already (it is asked once)."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            inserted = await session.execute(
                _insert(session, _SUBS)
                .values(
                    commune_code=commune_code,
                    channel=key.channel,
                    chat_id=key.chat_id,
                    user_id=key.user_id,
                    status=ASKED,
                    token=new_token(),
                    asked_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["channel", "user_id"])
                .returning(_SUBS.id)
            )
            return inserted.scalar_one_or_none() is not None

    async def opt_in(self, key: ConversationKey, commune_code: str, now: datetime) -> Subscription:
        """The chat takes ``commune_code``'s announcements from now on (a new button token)."""
        now = _aware(now, "now")
        for _ in range(2):  # two taps at the same moment: the second sees the first's row
            try:
                async with self._sessions.begin() as session:
                    row = await session.scalar(
                        select(_SUBS)
                        .where(_SUBS.channel == key.channel, _SUBS.user_id == key.user_id)
                        .with_for_update()
                    )
                    if row is None:
                        row = _SUBS(
                            channel=key.channel,
                            user_id=key.user_id,
                            asked_at=now,
                        )
                        session.add(row)
                    if row.status != OPTED_IN or row.commune_code != commune_code:
                        row.token = new_token()
                        row.opted_in_at = now
                    row.commune_code = commune_code
                    row.chat_id = key.chat_id
                    row.status = OPTED_IN
                    row.opted_out_at = None
                    row.updated_at = now
                    await session.flush()
                    _audit(
                        session,
                        now,
                        key.as_str(),
                        "announcements_opt_in",
                        f"subscription:{row.id}",
                        commune_code=commune_code,
                        channel=key.channel,
                    )
                    return _subscription(row)
            except IntegrityError:
                continue
        raise RuntimeError("opt-in kept racing")  # pragma: no cover

    async def opt_out(self, key: ConversationKey, token: str | None, now: datetime) -> OptOut:
        """Stop this chat's announcements. ``token``: the one on the button pressed (None: the
        chat's own "/thongbao" screen). A token that is not the subscription's now is
        ``stale`` and changes nothing; a chat not opted in is ``already`` out."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(_SUBS)
                .where(_SUBS.channel == key.channel, _SUBS.user_id == key.user_id)
                .with_for_update()
            )
            if row is None:
                return "stale" if token is not None else "already"
            if token is not None and not secrets.compare_digest(token, row.token):
                return "stale"
            if row.status != OPTED_IN:
                return "already"
            row.status = OPTED_OUT
            row.opted_out_at = now
            row.updated_at = now
            _audit(
                session,
                now,
                key.as_str(),
                "announcements_opt_out",
                f"subscription:{row.id}",
                commune_code=row.commune_code,
                channel=key.channel,
            )
            return "out"

    # --- the officers' side -----------------------------------------------------------------

    async def recipients(self, commune_code: str) -> int:
        """How many chats an announcement to ``commune_code`` would reach now."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(_SUBS)
                .where(_SUBS.commune_code == commune_code, _SUBS.status == OPTED_IN)
            )
            return int(found or 0)

    async def send(
        self,
        commune_code: str,
        text: str,
        *,
        actor: str,
        submission_key: str,
        now: datetime,
        channels: frozenset[str] | None = None,
        chunk: int = CHUNK,
    ) -> tuple[Announcement, bool]:
        """Queue ``text`` to every chat opted in to ``commune_code`` (of ``channels``, when
        given), with the audit entry, in one transaction. The announcement and whether it is
        new: the same ``submission_key`` again queues nothing more."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            inserted = await session.execute(
                _insert(session, AnnouncementRow)
                .values(
                    commune_code=commune_code,
                    text=text,
                    author=actor,
                    submission_key=submission_key,
                    recipients=0,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["submission_key"])
                .returning(AnnouncementRow.id)
            )
            announcement_id = inserted.scalar_one_or_none()
            if announcement_id is None:
                existing = await session.scalar(
                    select(AnnouncementRow).where(AnnouncementRow.submission_key == submission_key)
                )
                assert existing is not None
                return _announcement(existing), False
            wanted = select(_SUBS.id, _SUBS.channel, _SUBS.chat_id, _SUBS.user_id).where(
                _SUBS.commune_code == commune_code, _SUBS.status == OPTED_IN
            )
            if channels is not None:
                wanted = wanted.where(_SUBS.channel.in_(sorted(channels)))
            subscribers = (await session.execute(wanted.order_by(_SUBS.id))).all()
            rows = [
                {
                    "topic": announce_topic(s.channel),
                    "payload": {
                        "kind": ANNOUNCEMENT,
                        "announcement_id": announcement_id,
                        "subscription_id": s.id,
                        "channel": s.channel,
                        "chat_id": s.chat_id,
                        "user_id": s.user_id,
                    },
                    "dedupe_key": f"{dedupe_prefix(announcement_id)}{s.id}",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for s in subscribers
            ]
            for start in range(0, len(rows), max(1, chunk)):
                await queue_chunk(session, rows[start : start + max(1, chunk)])
            await session.execute(
                update(AnnouncementRow)
                .where(AnnouncementRow.id == announcement_id)
                .values(recipients=len(rows))
            )
            _audit(
                session,
                now,
                actor,
                "announcement_sent",
                f"announcement:{announcement_id}",
                commune_code=commune_code,
                recipients=len(rows),
                characters=len(text),
            )
            row = await session.get(AnnouncementRow, announcement_id)
            assert row is not None
            await session.refresh(row)
            return _announcement(row), True

    async def get(self, announcement_id: int) -> Announcement | None:
        async with self._sessions() as session:
            row = await session.get(AnnouncementRow, announcement_id)
            return None if row is None else _announcement(row)

    async def recent(
        self, commune_codes: tuple[str, ...] | None, limit: int = 20
    ) -> builtins.list[Announcement]:
        """The latest announcements of ``commune_codes`` (None: every commune), newest first."""
        stmt = select(AnnouncementRow)
        if commune_codes is not None:
            stmt = stmt.where(AnnouncementRow.commune_code.in_(commune_codes))
        stmt = stmt.order_by(AnnouncementRow.created_at.desc(), AnnouncementRow.id.desc())
        async with self._sessions() as session:
            return [_announcement(r) for r in await session.scalars(stmt.limit(limit))]

    async def delivered(self, announcement: Announcement) -> Delivered:
        """Sent, kept, waiting and failed counts of an announcement's messages. Rows done are
        purged after a while, so "sent" is what is no longer waiting, less what a web chat
        keeps for a page nobody opened yet (its ``web_pushes`` row, named by the outbox row,
        not yet taken; taken rows and those kept past KEPT_FOR_PAGE are swept)."""
        ours = OutboxRow.dedupe_key.startswith(dedupe_prefix(announcement.id), autoescape=True)
        owed = (
            select(
                func.count().label("owed"),
                func.count(OutboxRow.last_error).label("failed"),
            )
            .where(ours, OutboxRow.done_at.is_(None))
            .select_from(OutboxRow)
        )
        kept = (
            select(func.count())
            .select_from(OutboxRow)
            .join(WebPushRow, WebPushRow.id == OutboxRow.payload[KEPT].as_integer())
            .where(ours, OutboxRow.done_at.is_not(None), WebPushRow.taken_at.is_(None))
        )
        async with self._sessions() as session:
            found = (await session.execute(owed)).one()
            waiting = int(await session.scalar(kept) or 0)
        owed_count, failed = int(found.owed or 0), int(found.failed or 0)
        return Delivered(
            recipients=announcement.recipients,
            sent=max(0, announcement.recipients - owed_count - waiting),
            queued=owed_count - failed,
            failed=failed,
            kept=waiting,
        )


__all__ = [
    "ANNOUNCEMENT",
    "ASKED",
    "OPTED_IN",
    "OPTED_OUT",
    "Announcement",
    "AnnouncementRepository",
    "Delivered",
    "OptOut",
    "Subscription",
    "dedupe_prefix",
    "new_token",
    "queue_chunk",
]
