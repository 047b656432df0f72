"""Dossiers, their status history, and the outbox rows that must leave with them."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.batching import Batcher
from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.common import key_of as _key
from storage.models import (
    DOSSIER_STATUSES,
    RESULT_DELIVERIES,
    CodeCounterRow,
    DossierEventRow,
    DossierFileRow,
    DossierRow,
    OutboxRow,
)
from storage.outbox import DELIVER_DOSSIER, NOTIFY, enqueue_in, receipt_topic

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class DossierNotFoundError(LookupError):
    """No dossier has that id."""


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


def format_dossier_code(agency_code: str, day: date, sequence: int) -> str:
    """``AGENCY-YYMMDD-NNNN`` as in TT 01/2018/TT-VPCP Art. 19."""
    return f"{agency_code}-{day:%y%m%d}-{sequence:04d}"


_DOSSIERS = cast(Table, DossierRow.__table__)
_FILES = cast(Table, DossierFileRow.__table__)
_OUTBOX = cast(Table, OutboxRow.__table__)
_EVENTS = cast(Table, DossierEventRow.__table__)


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
            await enqueue_in(
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
            await enqueue_in(
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
