"""Repositories: one unit of work per method, plain frozen values out, never ORM objects.

Every method takes the time it should record (``now``, timezone-aware) instead of reading a
clock, so tests and replays are deterministic. Times come back as aware UTC.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from dialogs.model import ConversationKey
from storage.batching import Batcher
from storage.models import (
    DOSSIER_STATUSES,
    RESULT_DELIVERIES,
    AuditLogRow,
    ChoiceMemoryRow,
    CodeCounterRow,
    ConversationRow,
    DossierEventRow,
    DossierFileRow,
    DossierRow,
    OfficeDossierEventRow,
    OfficeDossierRow,
    OutboxRow,
    ProcessedMessageRow,
    SecretRow,
)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DELIVER_DOSSIER = "deliver_dossier"
SEND_RECEIPT = "send_receipt"


def receipt_topic(channel: str) -> str:
    """One receipt topic per channel: a process claims only receipts it can deliver (the
    terminal chat cannot reach a web page, the web server cannot reach the terminal)."""
    return f"{SEND_RECEIPT}:{channel}"


NOTIFY = "notify"
NOTIFY_TOPIC = "notify"


def notify_topic(channel: str) -> str:
    """One status-notice topic per channel, like :func:`receipt_topic`: a process claims only
    the notices it can deliver."""
    return f"{NOTIFY_TOPIC}:{channel}"


class DossierNotFoundError(LookupError):
    """No dossier has that id."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class StoredConversation:
    key: ConversationKey
    commune_code: str
    state: dict[str, Any]
    state_version: int
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime
    reminder_sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewDossier:
    """What the citizen submitted. ``submission_key`` makes a double tap file one dossier."""

    submission_key: str
    agency_code: str  # receiving agency per TT 10/2016/TT-BTTTT, e.g. "000.00.31.H26"
    commune_code: str
    procedure_code: str
    filer_key: ConversationKey  # where to notify the filer later
    received_at: datetime
    fields: dict[str, Any]
    filer: dict[str, Any]  # who filed and their relation to the subject
    on_behalf_of: dict[str, Any] | None = None  # the villager a volunteer files for
    due_date: date | None = None
    result_delivery: str = "counter"
    postal_address: dict[str, Any] | None = None
    actor: str = ""  # recorded on the first status event; defaults to the filer's address
    # Photos uploaded while the form was a draft become the dossier's in the same transaction.
    attach_draft_files: bool = True


@dataclass(frozen=True, slots=True)
class Dossier:
    id: int
    code: str
    commune_code: str
    procedure_code: str
    status: str
    fields: dict[str, Any]
    filer: dict[str, Any]
    on_behalf_of: dict[str, Any] | None
    filer_key: ConversationKey
    submission_key: str
    received_at: datetime
    due_date: date | None
    result_delivery: str
    postal_address: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DossierEvent:
    id: int
    dossier_id: int
    status: str
    at: datetime
    actor: str
    note: str


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: int
    dossier_id: int | None
    key: ConversationKey
    slot: str
    sha256: str
    storage_key: str
    mime_type: str
    size: int
    width: int | None
    height: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AddedFile:
    """``is_new`` is False when the same picture was already in that slot: say so, keep one."""

    file: StoredFile
    is_new: bool


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


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def format_dossier_code(agency_code: str, day: date, sequence: int) -> str:
    """``AGENCY-YYMMDD-NNNN`` as in TT 01/2018/TT-VPCP Art. 19."""
    return f"{agency_code}-{day:%y%m%d}-{sequence:04d}"


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def _insert(session: AsyncSession, target: type[DeclarativeBase] | Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both backends spell it the same).

    Of a model, or of its Core table on the hot paths (executemany, one cached statement)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


def _key(row: ConversationRow | DossierRow | DossierFileRow) -> ConversationKey:
    return ConversationKey(channel=row.channel, chat_id=row.chat_id, user_id=row.user_id)


def _key_filter(
    model: type[ConversationRow] | type[DossierFileRow], key: ConversationKey
) -> tuple[Any, ...]:
    return (
        model.channel == key.channel,
        model.chat_id == key.chat_id,
        model.user_id == key.user_id,
    )


def _conversation(row: Any) -> StoredConversation:  # an ORM row or a Core row
    return StoredConversation(
        key=_key(row),
        commune_code=row.commune_code,
        state=dict(row.state),
        state_version=row.state_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_inbound_at=row.last_inbound_at,
        reminder_sent_at=row.reminder_sent_at,
    )


_CONVERSATIONS = cast(Table, ConversationRow.__table__)
_PROCESSED = cast(Table, ProcessedMessageRow.__table__)
_DOSSIERS = cast(Table, DossierRow.__table__)
_EVENTS = cast(Table, DossierEventRow.__table__)
_OUTBOX = cast(Table, OutboxRow.__table__)
_FILES = cast(Table, DossierFileRow.__table__)


@dataclass(frozen=True, slots=True)
class _Save:
    key: ConversationKey
    state: dict[str, Any]
    state_version: int
    commune_code: str
    now: datetime
    inbound: bool
    seen_message: str | None


def _row(save: _Save) -> dict[str, Any]:
    return {
        "channel": save.key.channel,
        "chat_id": save.key.chat_id,
        "user_id": save.key.user_id,
        "commune_code": save.commune_code,
        "state": save.state,
        "state_version": save.state_version,
        "created_at": save.now,
        "updated_at": save.now,
        "last_inbound_at": save.now,
        "reminder_sent_at": None,
    }


def _upsert_conversations(session: AsyncSession, inbound: bool) -> Any:
    stmt = _insert(session, _CONVERSATIONS)
    changed: tuple[str, ...] = ("state", "state_version", "commune_code", "updated_at")
    if inbound:
        # The user is active again: a new reminder may be due after the next silence.
        changed += ("last_inbound_at", "reminder_sent_at")
    return stmt.on_conflict_do_update(
        index_elements=["channel", "chat_id", "user_id"],
        set_={name: stmt.excluded[name] for name in changed},
    )


def _dossier(row: DossierRow) -> Dossier:
    return Dossier(
        id=row.id,
        code=row.code,
        commune_code=row.commune_code,
        procedure_code=row.procedure_code,
        status=row.status,
        fields=dict(row.fields),
        filer=dict(row.filer),
        on_behalf_of=None if row.on_behalf_of is None else dict(row.on_behalf_of),
        filer_key=_key(row),
        submission_key=row.submission_key,
        received_at=row.received_at,
        due_date=row.due_date,
        result_delivery=row.result_delivery,
        postal_address=None if row.postal_address is None else dict(row.postal_address),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _event(row: DossierEventRow) -> DossierEvent:
    return DossierEvent(
        id=row.id,
        dossier_id=row.dossier_id,
        status=row.status,
        at=row.at,
        actor=row.actor,
        note=row.note,
    )


def _file(row: DossierFileRow) -> StoredFile:
    return StoredFile(
        id=row.id,
        dossier_id=row.dossier_id,
        key=_key(row),
        slot=row.slot,
        sha256=row.sha256,
        storage_key=row.storage_key,
        mime_type=row.mime_type,
        size=row.size,
        width=row.width,
        height=row.height,
        created_at=row.created_at,
    )


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


async def _enqueue(
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


class ConversationRepository:
    """Conversation state between messages, and which inbound messages were already handled."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # Concurrent turns share round trips: see storage.batching.
        self._loads: Batcher[ConversationKey, StoredConversation | None] = Batcher(self._load_many)
        self._saves: Batcher[_Save, bool] = Batcher(self._save_many)

    async def load(self, key: ConversationKey) -> StoredConversation | None:
        return await self._loads.submit(key)

    async def save(
        self,
        key: ConversationKey,
        state: dict[str, Any],
        commune_code: str,
        now: datetime,
        *,
        inbound: bool = True,
        seen_message: str | None = None,
    ) -> bool:
        """Store ``state``. ``inbound=False`` when the save follows our own outbound message,
        so the user's last-activity time (Zalo's 7-day window, draft expiry) is not moved.

        With ``seen_message`` the inbound message id is recorded in the same transaction, so a
        turn is either wholly saved and marked handled, or neither: a crash in between can
        neither lose the message nor handle it twice. Returns False (nothing saved) when that
        message id was already recorded.

        Saves from concurrent turns are committed together (group commit); each caller returns
        only once its own save is committed."""
        version = state.get("version", 0)
        return await self._saves.submit(
            _Save(
                key=key,
                state=state,
                state_version=version if isinstance(version, int) else 0,
                commune_code=commune_code,
                now=_aware(now, "now"),
                inbound=inbound,
                seen_message=seen_message,
            )
        )

    async def was_seen(self, channel: str, message_id: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(ProcessedMessageRow.seen_at).where(
                    ProcessedMessageRow.channel == channel,
                    ProcessedMessageRow.message_id == message_id,
                )
            )
            return found is not None

    async def _load_many(
        self, keys: Sequence[ConversationKey]
    ) -> builtins.list[StoredConversation | None]:
        table = _CONVERSATIONS
        chats: dict[str, set[str]] = {}
        for key in keys:
            chats.setdefault(key.channel, set()).add(key.chat_id)
        found: dict[tuple[str, str, str], StoredConversation] = {}
        async with self._sessions() as session:
            # channel + chat_id IN (...) walks the unique index; a row-value IN would scan.
            for channel, chat_ids in chats.items():
                rows = await session.execute(
                    select(table).where(table.c.channel == channel, table.c.chat_id.in_(chat_ids))
                )
                for row in rows:
                    found[(row.channel, row.chat_id, row.user_id)] = _conversation(row)
        return [found.get((k.channel, k.chat_id, k.user_id)) for k in keys]

    async def _save_many(self, saves: Sequence[_Save]) -> builtins.list[bool]:
        accepted = [True] * len(saves)
        async with self._sessions.begin() as session:
            first: dict[tuple[str, str], int] = {}
            for index, save in enumerate(saves):
                if save.seen_message is None:
                    continue
                pair = (save.key.channel, save.seen_message)
                if pair in first:
                    accepted[index] = False  # the same message twice in one batch
                else:
                    first[pair] = index
            if first:
                marked = await session.execute(
                    _insert(session, _PROCESSED)
                    .on_conflict_do_nothing()
                    .returning(_PROCESSED.c.channel, _PROCESSED.c.message_id),
                    [
                        {"channel": c, "message_id": m, "seen_at": saves[i].now}
                        for (c, m), i in first.items()
                    ],
                )
                new = {(c, m) for c, m in marked}
                for pair, index in first.items():
                    accepted[index] = pair in new
            todo = [save for save, ok in zip(saves, accepted, strict=True) if ok]
            while todo:
                # One upsert may touch a row only once: a key saved twice goes in a later round.
                keys: set[ConversationKey] = set()
                now_round: builtins.list[_Save] = []
                later: builtins.list[_Save] = []
                for save in todo:
                    (later if save.key in keys else now_round).append(save)
                    keys.add(save.key)
                for inbound in (True, False):
                    rows = [save for save in now_round if save.inbound is inbound]
                    if rows:
                        await session.execute(
                            _upsert_conversations(session, inbound), [_row(save) for save in rows]
                        )
                todo = later
        return accepted

    async def delete(self, key: ConversationKey) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ConversationRow)
                .where(*_key_filter(ConversationRow, key))
                .returning(ConversationRow.id)
            )
            return result.first() is not None

    async def purge_seen(self, before: datetime) -> int:
        """Forget message ids seen before ``before`` (keep at least a day: platforms retry)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ProcessedMessageRow)
                .where(ProcessedMessageRow.seen_at < _aware(before, "before"))
                .returning(ProcessedMessageRow.message_id)
            )
            return len(result.all())

    async def stale_drafts(
        self, older_than: datetime, limit: int = 100
    ) -> builtins.list[StoredConversation]:
        """Conversations whose user has been silent since before ``older_than``, oldest first.

        Whether the state holds a draft is the dialog's business: the caller looks, then
        reminds (:meth:`mark_reminded`), expires (:meth:`save` with ``inbound=False``) or
        :meth:`delete`\\ s.
        """
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ConversationRow)
                .where(ConversationRow.last_inbound_at < _aware(older_than, "older_than"))
                .order_by(ConversationRow.last_inbound_at, ConversationRow.id)
                .limit(limit)
            )
            return [_conversation(row) for row in rows]

    async def mark_reminded(self, key: ConversationKey, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ConversationRow)
                .where(*_key_filter(ConversationRow, key))
                .values(reminder_sent_at=_aware(now, "now"))
            )


# --------------------------------------------------------------------------- dossiers


class DossierRepository:
    """Dossiers, their status history, and the outbox rows that must leave with them."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], timezone: tzinfo = VIETNAM
    ) -> None:
        self._sessions = sessions
        # The code carries the office's calendar day, not UTC's: 06:00 in Hà Nội is yesterday
        # in UTC.
        self._timezone = timezone
        self._filings: Batcher[NewDossier, tuple[Dossier, bool]] = Batcher(self._file_many)

    async def create(self, new: NewDossier) -> Dossier:
        """File a dossier once per ``submission_key``; a repeat returns the first one."""
        dossier, _ = await self.file(new)
        return dossier

    async def file(self, new: NewDossier) -> tuple[Dossier, bool]:
        """File a dossier once per ``submission_key``: the dossier, and whether it is new.

        The day's code number, the first status event, the draft files and the outbox rows
        that must follow it (``deliver_dossier`` to the office, ``send_receipt:<channel>`` to
        the citizen) are written in the same transaction, so a crash leaves all of them or
        none. A repeat (a double tap, a retried webhook) returns the first dossier.

        Filings that arrive together are written together (group commit, see
        storage.batching); each caller returns once its own dossier is committed.
        """
        _check_new_dossier(new)
        return await self._filings.submit(new)

    async def _file_many(self, news: Sequence[NewDossier]) -> builtins.list[tuple[Dossier, bool]]:
        try:
            return await self._file_batch(news)
        except IntegrityError:
            if len(news) > 1:
                raise  # the batcher files them one by one to find which one raced
            # Another process filed this very key between our check and our insert.
            existing = await self.by_submission_key(news[0].submission_key)
            if existing is None:
                raise
            return [(existing, False)]

    async def _file_batch(self, news: Sequence[NewDossier]) -> builtins.list[tuple[Dossier, bool]]:
        async with self._sessions.begin() as session:
            found = await session.scalars(
                select(DossierRow).where(
                    DossierRow.submission_key.in_({n.submission_key for n in news})
                )
            )
            known: dict[str, tuple[Dossier, bool]] = {
                row.submission_key: (_dossier(row), False) for row in found
            }
            fresh: dict[str, NewDossier] = {}
            for new in news:
                if new.submission_key not in known:
                    fresh.setdefault(new.submission_key, new)  # a double tap in one batch
            codes = await self._codes(session, builtins.list(fresh.values()))
            made = [
                _new_dossier(new, code, _aware(new.received_at, "received_at").astimezone(UTC))
                for new, code in zip(fresh.values(), codes, strict=True)
            ]
            if made:
                await self._write_new(session, builtins.list(fresh.values()), made)
        results: builtins.list[tuple[Dossier, bool]] = []
        for new in news:
            if new.submission_key in known:
                results.append(known[new.submission_key])
            else:
                dossier = next(d for d in made if d.submission_key == new.submission_key)
                results.append((dossier, True))
                known[new.submission_key] = (dossier, False)  # the second tap gets "already"
        return results

    async def _codes(self, session: AsyncSession, news: Sequence[NewDossier]) -> builtins.list[str]:
        """The dossier codes, taking the day's next numbers per agency in one upsert each."""
        days = [
            _aware(n.received_at, "received_at").astimezone(self._timezone).date() for n in news
        ]
        wanted: dict[tuple[str, date], int] = {}
        for new, day in zip(news, days, strict=True):
            wanted[(new.agency_code, day)] = wanted.get((new.agency_code, day), 0) + 1
        next_number: dict[tuple[str, date], int] = {}
        for (agency, day), count in wanted.items():
            last = await _take_sequence(session, agency, day, count)
            next_number[(agency, day)] = last - count + 1
        codes = []
        for new, day in zip(news, days, strict=True):
            number = next_number[(new.agency_code, day)]
            next_number[(new.agency_code, day)] = number + 1
            codes.append(format_dossier_code(new.agency_code, day, number))
        return codes

    @staticmethod
    async def _write_new(
        session: AsyncSession, news: Sequence[NewDossier], made: builtins.list[Dossier]
    ) -> None:
        """Insert the dossiers, their first events, their draft photos and outbox rows;
        fills in the ids of ``made``."""
        ids = (
            await session.execute(
                _insert(session, _DOSSIERS).returning(_DOSSIERS.c.id, sort_by_parameter_order=True),
                [_dossier_values(d) for d in made],
            )
        ).scalars()
        for index, dossier_id in enumerate(ids):
            made[index] = replace(made[index], id=dossier_id)
        await session.execute(
            _insert(session, _EVENTS),
            [
                {
                    "dossier_id": d.id,
                    "status": "new",
                    "at": d.received_at,
                    "actor": new.actor or d.filer_key.as_str(),
                    "note": "",
                }
                for new, d in zip(news, made, strict=True)
            ],
        )
        with_photos = [d for new, d in zip(news, made, strict=True) if new.attach_draft_files]
        if with_photos:
            await session.execute(
                update(_FILES)
                .where(
                    _FILES.c.channel == bindparam("b_channel"),
                    _FILES.c.chat_id == bindparam("b_chat_id"),
                    _FILES.c.user_id == bindparam("b_user_id"),
                    _FILES.c.dossier_id.is_(None),
                )
                .values(dossier_id=bindparam("b_dossier_id")),
                [
                    {
                        "b_channel": d.filer_key.channel,
                        "b_chat_id": d.filer_key.chat_id,
                        "b_user_id": d.filer_key.user_id,
                        "b_dossier_id": d.id,
                    }
                    for d in with_photos
                ],
            )
        await session.execute(
            _insert(session, _OUTBOX).on_conflict_do_nothing(),
            [
                {
                    "topic": topic,
                    "payload": {"dossier_id": d.id, "code": d.code},
                    "dedupe_key": f"{topic}:{d.code}",
                    "attempts": 0,
                    "next_attempt_at": d.received_at,
                    "created_at": d.received_at,
                }
                for d in made
                for topic in (DELIVER_DOSSIER, receipt_topic(d.filer_key.channel))
            ],
        )

    async def queue_receipt(self, dossier: Dossier, now: datetime) -> None:
        """Send the receipt's documents to the filer again (asked for from the chat)."""
        topic = receipt_topic(dossier.filer_key.channel)
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            await _enqueue(
                session,
                topic,
                {"dossier_id": dossier.id, "code": dossier.code},
                f"{topic}:{dossier.code}:{now.isoformat()}",
                now,
            )

    async def get(self, dossier_id: int) -> Dossier | None:
        async with self._sessions() as session:
            row = await session.get(DossierRow, dossier_id)
            return None if row is None else _dossier(row)

    async def by_code(self, code: str) -> Dossier | None:
        async with self._sessions() as session:
            row = await session.scalar(select(DossierRow).where(DossierRow.code == code.strip()))
            return None if row is None else _dossier(row)

    async def by_submission_key(self, submission_key: str) -> Dossier | None:
        async with self._sessions() as session:
            return await self._by_submission_key(session, submission_key)

    async def add_event(
        self,
        dossier_id: int,
        status: str,
        actor: str,
        note: str,
        now: datetime,
        *,
        due_date: date | None = None,
    ) -> Dossier:
        """Move the dossier to ``status``, keep the step in its history and queue a ``notify``
        outbox row for the filer in the same transaction. ``due_date`` moves the appointment
        (the one extension a dossier may get is the workflow's rule, not storage's)."""
        _check_status(status)
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            row = await session.get(DossierRow, dossier_id, with_for_update=True)
            if row is None:
                raise DossierNotFoundError(dossier_id)
            row.status = status
            row.updated_at = now
            if due_date is not None:
                row.due_date = due_date
            event = DossierEventRow(
                dossier_id=row.id, status=status, at=now, actor=actor, note=note
            )
            session.add(event)
            await session.flush()
            await _enqueue(
                session,
                NOTIFY,
                {"dossier_id": row.id, "code": row.code, "status": status, "event_id": event.id},
                f"{NOTIFY}:{event.id}",
                now,
            )
            return _dossier(row)

    async def events(self, dossier_id: int) -> builtins.list[DossierEvent]:
        """The status history, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierEventRow)
                .where(DossierEventRow.dossier_id == dossier_id)
                .order_by(DossierEventRow.at, DossierEventRow.id)
            )
            return [_event(row) for row in rows]

    async def for_user(self, channel: str, user_id: str) -> builtins.list[Dossier]:
        """Everything this person filed on this channel, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierRow)
                .where(DossierRow.channel == channel, DossierRow.user_id == user_id)
                .order_by(DossierRow.received_at.desc(), DossierRow.id.desc())
            )
            return [_dossier(row) for row in rows]

    async def list(
        self, commune_code: str | None = None, status: str | None = None
    ) -> builtins.list[Dossier]:
        """Dossiers, newest first, optionally of one commune and/or one status."""
        query = select(DossierRow).order_by(DossierRow.received_at.desc(), DossierRow.id.desc())
        if commune_code is not None:
            query = query.where(DossierRow.commune_code == commune_code)
        if status is not None:
            _check_status(status)
            query = query.where(DossierRow.status == status)
        async with self._sessions() as session:
            return [_dossier(row) for row in await session.scalars(query)]

    @staticmethod
    async def _by_submission_key(session: AsyncSession, submission_key: str) -> Dossier | None:
        row = await session.scalar(
            select(DossierRow).where(DossierRow.submission_key == submission_key)
        )
        return None if row is None else _dossier(row)


def _check_status(status: str) -> None:
    if status not in DOSSIER_STATUSES:
        raise ValueError(f"unknown dossier status {status!r}; one of {', '.join(DOSSIER_STATUSES)}")


def _check_new_dossier(new: NewDossier) -> None:
    if not new.submission_key:
        raise ValueError("submission_key is empty")
    if not new.agency_code:
        raise ValueError("agency_code is empty: set [[communes]] agency_code")
    if not (len(new.commune_code) == 5 and new.commune_code.isdigit()):
        raise ValueError(f"commune_code must be 5 digits, got {new.commune_code!r}")
    if new.result_delivery not in RESULT_DELIVERIES:
        raise ValueError(f"result_delivery must be one of {RESULT_DELIVERIES}")
    if new.result_delivery == "post" and not new.postal_address:
        raise ValueError("result_delivery 'post' needs a postal_address")


async def _take_sequence(session: AsyncSession, agency_code: str, day: date, count: int) -> int:
    """Reserve ``count`` numbers of the day's sequence; returns the last one reserved.

    One atomic upsert: PostgreSQL row-locks the counter until commit, so concurrent filings
    queue and a rolled-back filing gives its numbers back; SQLite runs one writer at a time."""
    stmt = _insert(session, CodeCounterRow).values(agency_code=agency_code, day=day, last=count)
    stmt = stmt.on_conflict_do_update(
        index_elements=["agency_code", "day"],
        set_={"last": CodeCounterRow.last + stmt.excluded.last},
    ).returning(CodeCounterRow.last)
    last: int = (await session.execute(stmt)).scalar_one()
    return last


def _new_dossier(new: NewDossier, code: str, received_at: datetime) -> Dossier:
    """The dossier as filed, before the database gives it an id."""
    return Dossier(
        id=0,
        code=code,
        commune_code=new.commune_code,
        procedure_code=new.procedure_code,
        status="new",
        fields=dict(new.fields),
        filer=dict(new.filer),
        on_behalf_of=None if new.on_behalf_of is None else dict(new.on_behalf_of),
        filer_key=new.filer_key,
        submission_key=new.submission_key,
        received_at=received_at,
        due_date=new.due_date,
        result_delivery=new.result_delivery,
        postal_address=None if new.postal_address is None else dict(new.postal_address),
        created_at=received_at,
        updated_at=received_at,
    )


def _dossier_values(d: Dossier) -> dict[str, Any]:
    return {
        "code": d.code,
        "commune_code": d.commune_code,
        "procedure_code": d.procedure_code,
        "status": d.status,
        "fields": d.fields,
        "filer": d.filer,
        "on_behalf_of": d.on_behalf_of,
        "channel": d.filer_key.channel,
        "chat_id": d.filer_key.chat_id,
        "user_id": d.filer_key.user_id,
        "submission_key": d.submission_key,
        "received_at": d.received_at,
        "due_date": d.due_date,
        "result_delivery": d.result_delivery,
        "postal_address": d.postal_address,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


# --------------------------------------------------------------------------- files


class FileRepository:
    """Which stored file (photo, scan) belongs to which draft or dossier, in which slot."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(
        self,
        key: ConversationKey,
        slot: str,
        sha256: str,
        storage_key: str,
        mime_type: str,
        size: int,
        now: datetime,
        *,
        width: int | None = None,
        height: int | None = None,
        dossier_id: int | None = None,
    ) -> AddedFile:
        """Record a file for the conversation's draft (or straight for a dossier, e.g. a
        supplement). The same picture twice in one slot is recorded once."""
        now = _aware(now, "now")
        try:
            async with self._sessions.begin() as session:
                existing = await self._same(session, key, slot, sha256, dossier_id)
                if existing is not None:
                    return AddedFile(file=existing, is_new=False)
                row = DossierFileRow(
                    dossier_id=dossier_id,
                    channel=key.channel,
                    chat_id=key.chat_id,
                    user_id=key.user_id,
                    slot=slot,
                    sha256=sha256,
                    storage_key=storage_key,
                    mime_type=mime_type,
                    size=size,
                    width=width,
                    height=height,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                return AddedFile(file=_file(row), is_new=True)
        except IntegrityError:
            async with self._sessions() as session:
                existing = await self._same(session, key, slot, sha256, dossier_id)
            if existing is None:
                raise
            return AddedFile(file=existing, is_new=False)

    async def for_conversation(self, key: ConversationKey) -> builtins.list[StoredFile]:
        """The draft's files (not yet part of a dossier), in upload order."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierFileRow)
                .where(*_key_filter(DossierFileRow, key), DossierFileRow.dossier_id.is_(None))
                .order_by(DossierFileRow.id)
            )
            return [_file(row) for row in rows]

    async def for_dossier(self, dossier_id: int) -> builtins.list[StoredFile]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierFileRow)
                .where(DossierFileRow.dossier_id == dossier_id)
                .order_by(DossierFileRow.id)
            )
            return [_file(row) for row in rows]

    async def attach_to_dossier(
        self, key: ConversationKey, dossier_id: int
    ) -> builtins.list[StoredFile]:
        """Hand the draft's files over to the dossier (e.g. a supplement's photos)."""
        async with self._sessions.begin() as session:
            rows = (
                await session.scalars(
                    update(DossierFileRow)
                    .where(*_key_filter(DossierFileRow, key), DossierFileRow.dossier_id.is_(None))
                    .values(dossier_id=dossier_id)
                    .returning(DossierFileRow)
                )
            ).all()
            return sorted((_file(row) for row in rows), key=lambda f: f.id)

    async def remove(self, file_id: int) -> StoredFile | None:
        """Forget a file (a retaken photo); the caller deletes its bytes by ``storage_key``."""
        async with self._sessions.begin() as session:
            row = await session.get(DossierFileRow, file_id)
            if row is None:
                return None
            removed = _file(row)
            await session.delete(row)
            return removed

    @staticmethod
    async def _same(
        session: AsyncSession,
        key: ConversationKey,
        slot: str,
        sha256: str,
        dossier_id: int | None,
    ) -> StoredFile | None:
        owner = (
            DossierFileRow.dossier_id.is_(None)
            if dossier_id is None
            else DossierFileRow.dossier_id == dossier_id
        )
        row = await session.scalar(
            select(DossierFileRow).where(
                *_key_filter(DossierFileRow, key),
                owner,
                DossierFileRow.slot == slot,
                DossierFileRow.sha256 == sha256,
            )
        )
        return None if row is None else _file(row)


# --------------------------------------------------------------------------- outbox


class OutboxRepository:
    """Work that must happen after a commit (deliver a dossier, notify a citizen), retried
    until done and never lost across restarts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

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
            return await _enqueue(session, topic, payload, dedupe_key, now, not_before)

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
            await session.flush()
            return [_outbox(row) for row in rows]

    async def mark_done(self, item_id: int, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(done_at=_aware(now, "now"), last_error=None)
            )

    async def mark_failed(self, item_id: int, error: str, next_attempt_at: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(
                    last_error=error[:4000],
                    next_attempt_at=_aware(next_attempt_at, "next_attempt_at"),
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
                )
            )

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


class AuditRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self, actor: str, action: str, target: str, details: dict[str, Any], now: datetime
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                AuditLogRow(
                    at=_aware(now, "now"),
                    actor=actor,
                    action=action,
                    target=target,
                    details=details,
                )
            )

    async def for_target(self, target: str, limit: int = 100) -> builtins.list[AuditEntry]:
        """What happened to ``target``, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditLogRow)
                .where(AuditLogRow.target == target)
                .order_by(AuditLogRow.at, AuditLogRow.id)
                .limit(limit)
            )
            return [
                AuditEntry(
                    id=r.id,
                    at=r.at,
                    actor=r.actor,
                    action=r.action,
                    target=r.target,
                    details=dict(r.details),
                )
                for r in rows
            ]


class ChoiceRepository:
    """Numbered choices last shown to a user, per channel (see ChoiceMemoryRow)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, channel: str, user_id: str) -> tuple[str, ...]:
        async with self._sessions() as session:
            row = await session.get(ChoiceMemoryRow, (channel, user_id))
            return () if row is None else tuple(str(p) for p in row.payloads)

    async def put(self, channel: str, user_id: str, payloads: Sequence[str], now: datetime) -> None:
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            await session.execute(
                _insert(session, ChoiceMemoryRow)
                .values(channel=channel, user_id=user_id, payloads=list(payloads), updated_at=now)
                .on_conflict_do_update(
                    index_elements=["channel", "user_id"],
                    set_={"payloads": list(payloads), "updated_at": now},
                )
            )


class SecretRepository:
    """Secrets the program itself rotates (Zalo's refresh token is single-use)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, name: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(SecretRow, name)
            return None if row is None else row.value

    async def put(self, name: str, value: str, now: datetime) -> None:
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            await session.execute(
                _insert(session, SecretRow)
                .values(name=name, value=value, updated_at=now)
                .on_conflict_do_update(
                    index_elements=["name"], set_={"value": value, "updated_at": now}
                )
            )


__all__ = [
    "DELIVER_DOSSIER",
    "NOTIFY",
    "NOTIFY_TOPIC",
    "AddedFile",
    "AuditEntry",
    "AuditRepository",
    "ChoiceRepository",
    "ConversationRepository",
    "Dossier",
    "DossierEvent",
    "DossierNotFoundError",
    "DossierRepository",
    "FileRepository",
    "NewDossier",
    "OutboxItem",
    "OutboxRepository",
    "SecretRepository",
    "StoredConversation",
    "StoredFile",
    "format_dossier_code",
    "notify_topic",
]


# --------------------------------------------------------------------------- the office side


class OfficeCodeConflictError(ValueError):
    """A dossier code arrived again for another commune or procedure: two different dossiers
    share a code (two deployments with one agency code), so this is no redelivery."""


@dataclass(frozen=True, slots=True)
class NewOfficeDossier:
    """A dossier as delivered to the office; ``payload`` is kept as given."""

    code: str
    commune_code: str
    procedure_code: str
    payload: dict[str, Any]
    submitted_at: datetime  # when the citizen filed it (the citizen side's received_at)
    due_date: date | None = None


@dataclass(frozen=True, slots=True)
class OfficeStatusChange:
    status: str
    at: datetime
    actor: str
    note: str


@dataclass(frozen=True, slots=True)
class OfficeDossierSummary:
    code: str
    commune_code: str
    procedure_code: str
    status: str
    submitted_at: datetime
    received_at: datetime  # when the office first got it
    due_date: date | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OfficeDossier:
    code: str
    commune_code: str
    procedure_code: str
    status: str
    submitted_at: datetime
    received_at: datetime
    due_date: date | None
    updated_at: datetime
    payload: dict[str, Any]
    history: tuple[OfficeStatusChange, ...]  # oldest first


@dataclass(frozen=True, slots=True)
class OfficeReception:
    """``is_new`` is False when the code had been received before (a redelivery)."""

    dossier: OfficeDossierSummary
    is_new: bool


def _office_summary(row: OfficeDossierRow) -> OfficeDossierSummary:
    return OfficeDossierSummary(
        code=row.code,
        commune_code=row.commune_code,
        procedure_code=row.procedure_code,
        status=row.status,
        submitted_at=row.submitted_at,
        received_at=row.received_at,
        due_date=row.due_date,
        updated_at=row.updated_at,
    )


class OfficeDossierRepository:
    """The dossiers the one-stop-shop office received, with their office status history."""

    RECEIVED = "dossier_received"  # the audit action of a first reception

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def receive(self, new: NewOfficeDossier, actor: str, now: datetime) -> OfficeReception:
        """Keep a delivered dossier once per code; a redelivery returns the first reception.

        The row, its first status step ("new") and the audit entry share one transaction, so
        a crash leaves a reception either fully recorded or not at all, and the sender's retry
        settles it.
        """
        now = _aware(now, "now")
        submitted_at = _aware(new.submitted_at, "submitted_at")
        try:
            async with self._sessions.begin() as session:
                existing = await self._same_code(session, new)
                if existing is not None:
                    return OfficeReception(dossier=existing, is_new=False)
                row = OfficeDossierRow(
                    code=new.code,
                    commune_code=new.commune_code,
                    procedure_code=new.procedure_code,
                    payload=new.payload,
                    submitted_at=submitted_at,
                    received_at=now,
                    status="new",
                    due_date=new.due_date,
                    updated_at=now,
                )
                session.add(row)
                await session.flush()
                session.add(
                    OfficeDossierEventRow(
                        dossier_id=row.id, status="new", at=now, actor=actor, note=""
                    )
                )
                session.add(
                    AuditLogRow(
                        at=now,
                        actor=actor,
                        action=self.RECEIVED,
                        target=f"dossier:{new.code}",
                        # No personal data in the audit trail: it is read far more widely.
                        details={
                            "commune_code": new.commune_code,
                            "procedure_code": new.procedure_code,
                        },
                    )
                )
                return OfficeReception(dossier=_office_summary(row), is_new=True)
        except IntegrityError:
            # The same code was being received concurrently (a retry racing a slow first try).
            async with self._sessions() as session:
                existing = await self._same_code(session, new)
            if existing is None:
                raise
            return OfficeReception(dossier=existing, is_new=False)

    async def get(self, code: str) -> OfficeDossier | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(OfficeDossierRow).where(OfficeDossierRow.code == code.strip())
            )
            if row is None:
                return None
            events = await session.scalars(
                select(OfficeDossierEventRow)
                .where(OfficeDossierEventRow.dossier_id == row.id)
                .order_by(OfficeDossierEventRow.at, OfficeDossierEventRow.id)
            )
            history = tuple(
                OfficeStatusChange(status=e.status, at=e.at, actor=e.actor, note=e.note)
                for e in events
            )
            summary = _office_summary(row)
            return OfficeDossier(
                code=summary.code,
                commune_code=summary.commune_code,
                procedure_code=summary.procedure_code,
                status=summary.status,
                submitted_at=summary.submitted_at,
                received_at=summary.received_at,
                due_date=summary.due_date,
                updated_at=summary.updated_at,
                payload=dict(row.payload),
                history=history,
            )

    async def list(
        self, commune_code: str | None = None, status: str | None = None, limit: int = 100
    ) -> builtins.list[OfficeDossierSummary]:
        """Received dossiers, newest first, optionally of one commune and/or one status."""
        query = (
            select(OfficeDossierRow)
            .order_by(OfficeDossierRow.received_at.desc(), OfficeDossierRow.id.desc())
            .limit(limit)
        )
        if commune_code is not None:
            query = query.where(OfficeDossierRow.commune_code == commune_code)
        if status is not None:
            _check_status(status)
            query = query.where(OfficeDossierRow.status == status)
        async with self._sessions() as session:
            return [_office_summary(row) for row in await session.scalars(query)]

    @staticmethod
    async def _same_code(
        session: AsyncSession, new: NewOfficeDossier
    ) -> OfficeDossierSummary | None:
        row = await session.scalar(
            select(OfficeDossierRow).where(OfficeDossierRow.code == new.code)
        )
        if row is None:
            return None
        if (row.commune_code, row.procedure_code) != (new.commune_code, new.procedure_code):
            raise OfficeCodeConflictError(
                f"dossier code {new.code} was received for commune {row.commune_code}, "
                f"procedure {row.procedure_code}"
            )
        return _office_summary(row)


# --------------------------------------------------------------------------- outbox by topic


__all__ += [
    "NewOfficeDossier",
    "OfficeCodeConflictError",
    "OfficeDossier",
    "OfficeDossierRepository",
    "OfficeDossierSummary",
    "OfficeReception",
    "OfficeStatusChange",
]
