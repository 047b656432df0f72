"""The office's store of dossiers: the one record, its history, and what must leave with it.

The office (``backoffice``) is the dossier's only owner: it decides codes, statuses and due
dates through its pure workflow core and hands storage finished values. Storage keeps them
and makes each change atomic and safe between workers:

* :meth:`DossierRepository.file` writes a new dossier, its day's code number, its first history
  step, the draft's photos and the receipt's outbox row in one transaction (group-committed);
* :meth:`DossierRepository.apply` writes a move only if the dossier is still at the version
  the office read (compare-and-set): its new values, its history steps, its audit entry and
  one ``notify:<channel>`` outbox row per step and recipient, all in one transaction. A move
  that lost the race changes nothing and is told so; a lost update cannot happen.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import CONSENT_SLOT, SUPPLEMENT_SLOT, ConversationKey
from knowledge.normalize import normalize
from storage.batching import Batcher
from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.common import key_of as _key
from storage.models import (
    EXTENDED_KIND,
    FINISHED_STATUSES,
    RESULT_DELIVERIES,
    AuditLogRow,
    CodeCounterRow,
    DossierEventRow,
    DossierFileRow,
    DossierRow,
    OutboxRow,
    UtcDateTime,
)
from storage.outbox import enqueue_in, notify_topic, receipt_topic

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = "received"

CodeFormat = Callable[[str, date, int], str]  # agency code, reception day, day's number


def plain_code(agency_code: str, day: date, sequence: int) -> str:
    """``AGENCY-YYMMDD-NNNN``; the office passes its own formatter (it checks the parts)."""
    return f"{agency_code}-{day:%y%m%d}-{sequence:04d}"


class DossierNotFoundError(LookupError):
    """No dossier has that id or code."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Workflow:
    """The workflow's facts that are not columns of their own (kept as JSON)."""

    supplements: int = 0
    missing: tuple[str, ...] = ()
    supplement_deadline: date | None = None
    extended: bool = False
    amount_due: int | None = None
    paid: bool = False
    postal_item: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "supplements": self.supplements,
            "missing": list(self.missing),
            "supplement_deadline": None
            if self.supplement_deadline is None
            else self.supplement_deadline.isoformat(),
            "extended": self.extended,
            "amount_due": self.amount_due,
            "paid": self.paid,
            "postal_item": self.postal_item,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> Workflow:
        if not raw:
            return cls()
        deadline = raw.get("supplement_deadline")
        amount = raw.get("amount_due")
        item = raw.get("postal_item")
        return cls(
            supplements=int(raw.get("supplements") or 0),
            missing=tuple(str(m) for m in raw.get("missing") or ()),
            supplement_deadline=date.fromisoformat(deadline) if isinstance(deadline, str) else None,
            extended=bool(raw.get("extended")),
            amount_due=int(amount) if isinstance(amount, int) else None,
            paid=bool(raw.get("paid")),
            postal_item=str(item) if item else None,
        )


@dataclass(frozen=True, slots=True)
class NewDossier:
    """A dossier the office accepted for filing. ``submission_key`` makes a double tap (or a
    retried request) file one dossier."""

    submission_key: str
    agency_code: str  # receiving agency per TT 10/2016/TT-BTTTT, e.g. "000.00.31.H26"
    commune_code: str
    procedure_code: str
    filer_key: ConversationKey  # the conversation it was filed from: its notices go there
    received_at: datetime
    fields: dict[str, Any]
    filer: dict[str, Any]  # who filed and their relation to the subject
    on_behalf_of: dict[str, Any] | None = None  # the villager a volunteer files for
    due_date: date | None = None
    processing_days: int = 0
    result_delivery: str = "counter"
    postal_address: dict[str, Any] | None = None
    actor: str = ""  # recorded on the first history step; defaults to the filer's address
    role: str = "citizen"
    # Photos uploaded while the form was a draft become the dossier's in the same transaction.
    attach_draft_files: bool = True
    volunteer_id: int | None = None  # the approved volunteer who filed it for a villager


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
    version: int = 0
    processing_days: int = 0
    workflow: Workflow = field(default_factory=Workflow)
    volunteer_id: int | None = None
    # The villager's own chat once a volunteer handed the dossier over (None until then).
    villager_key: ConversationKey | None = None


@dataclass(frozen=True, slots=True)
class DossierEvent:
    """One step of a dossier's history (append-only). ``status`` is where it led."""

    id: int
    dossier_id: int
    status: str
    at: datetime
    actor: str
    note: str
    from_status: str | None = None
    role: str = ""
    kind: str = "transition"
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: str
    from_status: str | None
    status: str
    at: datetime
    actor: str
    role: str
    note: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """A move the office decided, to be written only if nobody moved the dossier since it
    read ``expected_version``."""

    code: str
    expected_version: int
    status: str
    due_date: date | None
    workflow: Workflow
    events: tuple[NewEvent, ...]
    at: datetime
    audit_actor: str
    audit_action: str
    audit_details: dict[str, Any]
    notify: tuple[ConversationKey, ...] = ()  # who hears of each step, in their own chat


@dataclass(frozen=True, slots=True)
class Applied:
    dossier: Dossier
    events: tuple[DossierEvent, ...]


@dataclass(frozen=True, slots=True)
class DossierQuery:
    """Filters for lists; every one optional. ``overdue_on``: due before that day and not
    yet ``done`` (the statuses the caller counts as finished)."""

    commune_codes: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None
    overdue_on: date | None = None
    done: tuple[str, ...] = ()
    filer: ConversationKey | None = None
    # A citizen's "my dossiers": filed from this chat, or handed over to it by a volunteer.
    chat: ConversationKey | None = None
    procedure_code: str | None = None
    # A dossier code (part of it), a name with or without tone marks, a phone or an ID number
    # (6 digits or more, whole): matched in SQL against the code and ``search_text``.
    search: str = ""
    # "newest" (received, newest first) or "inbox": ``first_statuses`` first (new dossiers),
    # then by due date (none last), then oldest received.
    order: str = "newest"
    first_statuses: tuple[str, ...] = ()
    offset: int = 0
    limit: int = 100


# --------------------------------------------------------------------------- rows


_DOSSIERS = cast(Table, DossierRow.__table__)
_EVENTS = cast(Table, DossierEventRow.__table__)
_FILES = cast(Table, DossierFileRow.__table__)
_OUTBOX = cast(Table, OutboxRow.__table__)


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
        version=row.version or 0,
        processing_days=row.processing_days or 0,
        workflow=Workflow.from_json(row.workflow),
        volunteer_id=row.volunteer_id,
        villager_key=None
        if not row.villager_channel
        else ConversationKey(
            row.villager_channel, row.villager_chat_id or "", row.villager_user_id or ""
        ),
    )


def _event(row: DossierEventRow) -> DossierEvent:
    return DossierEvent(
        id=row.id,
        dossier_id=row.dossier_id,
        status=row.status,
        at=row.at,
        actor=row.actor,
        note=row.note,
        from_status=row.from_status,
        role=row.role or "",
        kind=row.kind or "transition",
        details=dict(row.details or {}),
    )


# --------------------------------------------------------------------------- the store


class DossierRepository:
    """Dossiers, their history, and the outbox rows that must leave with them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        timezone: tzinfo = VIETNAM,
        code_format: CodeFormat = plain_code,
    ) -> None:
        self._sessions = sessions
        # The code carries the office's calendar day, not UTC's: 06:00 in Hà Nội is yesterday
        # in UTC.
        self._timezone = timezone
        self._code_format = code_format
        self._filings: Batcher[NewDossier, tuple[Dossier, bool]] = Batcher(self._file_many)

    # --- filing -----------------------------------------------------------------------------

    async def file(self, new: NewDossier) -> tuple[Dossier, bool]:
        """File a dossier once per ``submission_key``: the dossier, and whether it is new.

        The day's code number, the first history step, the draft files and the receipt's
        ``send_receipt:<channel>`` outbox row are written in the same transaction, so a crash
        leaves all of them or none. A repeat (a double tap, a retried webhook) returns the
        first dossier. Filings that arrive together are written together (group commit, see
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
            codes.append(self._code_format(new.agency_code, day, number))
        return codes

    @staticmethod
    async def _write_new(
        session: AsyncSession, news: Sequence[NewDossier], made: builtins.list[Dossier]
    ) -> None:
        """Insert the dossiers, their first steps, their draft photos and outbox rows;
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
                    "status": RECEIVED,
                    "at": d.received_at,
                    "actor": new.actor or d.filer_key.as_str(),
                    "note": "",
                    "from_status": None,
                    "role": new.role,
                    "kind": RECEIVED,
                    "details": {"due_date": None if d.due_date is None else d.due_date.isoformat()},
                }
                for new, d in zip(news, made, strict=True)
            ],
        )
        # Every reception is audited like every move; no personal data in the audit trail.
        await session.execute(
            _insert(session, cast(Table, AuditLogRow.__table__)),
            [
                {
                    "at": d.received_at,
                    "actor": new.actor or d.filer_key.as_str(),
                    "action": RECEIVED,
                    "target": f"dossier:{d.code}",
                    "details": {
                        "role": new.role,
                        "commune_code": d.commune_code,
                        "procedure_code": d.procedure_code,
                        "channel": d.filer_key.channel,
                    },
                }
                for new, d in zip(news, made, strict=True)
            ],
        )
        with_photos = [d for new, d in zip(news, made, strict=True) if new.attach_draft_files]
        # A supplement's photos wait for their own dossier, not the next filing; a villager's
        # consent goes only with a volunteer's filing for them.
        groups = (
            ([d for d in with_photos if d.volunteer_id is not None], (SUPPLEMENT_SLOT,)),
            ([d for d in with_photos if d.volunteer_id is None], (SUPPLEMENT_SLOT, CONSENT_SLOT)),
        )
        for group, kept_back in groups:
            if not group:
                continue
            await session.execute(
                update(_FILES)
                .where(
                    _FILES.c.channel == bindparam("b_channel"),
                    _FILES.c.chat_id == bindparam("b_chat_id"),
                    _FILES.c.user_id == bindparam("b_user_id"),
                    _FILES.c.dossier_id.is_(None),
                    _FILES.c.slot.not_in(kept_back),
                )
                .values(dossier_id=bindparam("b_dossier_id")),
                [
                    {
                        "b_channel": d.filer_key.channel,
                        "b_chat_id": d.filer_key.chat_id,
                        "b_user_id": d.filer_key.user_id,
                        "b_dossier_id": d.id,
                    }
                    for d in group
                ],
            )
        # A dossier filed where no chat can be reached (paper at the counter: the officer
        # prints the slip) has nobody to send the receipt to.
        reachable = [d for d in made if d.filer_key.chat_id]
        if not reachable:
            return
        await session.execute(
            _insert(session, _OUTBOX).on_conflict_do_nothing(),
            [
                {
                    "topic": receipt_topic(d.filer_key.channel),
                    "payload": {"dossier_id": d.id, "code": d.code},
                    "dedupe_key": f"{receipt_topic(d.filer_key.channel)}:{d.code}",
                    "attempts": 0,
                    "next_attempt_at": d.received_at,
                    "created_at": d.received_at,
                }
                for d in reachable
            ],
        )

    async def queue_receipt(
        self, dossier: Dossier, now: datetime, to: ConversationKey | None = None
    ) -> None:
        """Send the receipt's documents again (asked for from the chat): to the filer, or to
        ``to`` (the villager a volunteer handed the dossier over to)."""
        where = to or dossier.filer_key
        topic = receipt_topic(where.channel)
        now = _aware(now, "now")
        payload: dict[str, Any] = {"dossier_id": dossier.id, "code": dossier.code}
        if to is not None:
            payload["to"] = {"channel": to.channel, "chat_id": to.chat_id, "user_id": to.user_id}
        async with self._sessions.begin() as session:
            await enqueue_in(
                session,
                topic,
                payload,
                f"{topic}:{dossier.code}:{where.chat_id}:{now.isoformat()}",
                now,
            )

    # --- moves ------------------------------------------------------------------------------

    async def apply(self, change: Change) -> Applied | None:
        """Write ``change`` if the dossier is still at ``change.expected_version``; None (and
        nothing written) when another move came first. Raises DossierNotFoundError."""
        at = _aware(change.at, "at")
        async with self._sessions.begin() as session:
            moved = await session.execute(
                update(DossierRow)
                .where(
                    DossierRow.code == change.code,
                    DossierRow.version == change.expected_version,
                )
                .values(
                    status=change.status,
                    due_date=change.due_date,
                    workflow=change.workflow.to_json(),
                    version=change.expected_version + 1,
                    updated_at=at,
                    **_summary_update(change.events),
                )
                .returning(DossierRow.id)
            )
            dossier_id = moved.scalar_one_or_none()
            if dossier_id is None:
                exists = await session.scalar(
                    select(DossierRow.id).where(DossierRow.code == change.code)
                )
                if exists is None:
                    raise DossierNotFoundError(change.code)
                return None
            events: builtins.list[DossierEvent] = []
            for new in change.events:
                row = DossierEventRow(
                    dossier_id=dossier_id,
                    status=new.status,
                    at=_aware(new.at, "event at"),
                    actor=new.actor,
                    note=new.note,
                    from_status=new.from_status,
                    role=new.role,
                    kind=new.kind,
                    details=dict(new.details),
                )
                session.add(row)
                await session.flush()
                events.append(_event(row))
            session.add(
                AuditLogRow(
                    at=at,
                    actor=change.audit_actor,
                    action=change.audit_action,
                    target=f"dossier:{change.code}",
                    details=dict(change.audit_details),
                )
            )
            for event in events:
                for key in change.notify:
                    if not key.chat_id:
                        continue  # filed where no chat can be reached (an office-only record)
                    await enqueue_in(
                        session,
                        notify_topic(key.channel),
                        {
                            "code": change.code,
                            "event_id": event.id,
                            "channel": key.channel,
                            "chat_id": key.chat_id,
                            "user_id": key.user_id,
                        },
                        f"notify:{event.id}:{key.as_str()}",
                        at,
                    )
            row_now = await session.get(DossierRow, dossier_id)
            assert row_now is not None
            await session.refresh(row_now)
            return Applied(dossier=_dossier(row_now), events=tuple(events))

    # --- reading ----------------------------------------------------------------------------

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
            row = await session.scalar(
                select(DossierRow).where(DossierRow.submission_key == submission_key)
            )
            return None if row is None else _dossier(row)

    async def events(self, dossier_id: int) -> builtins.list[DossierEvent]:
        """The history, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierEventRow)
                .where(DossierEventRow.dossier_id == dossier_id)
                .order_by(DossierEventRow.at, DossierEventRow.id)
            )
            return [_event(row) for row in rows]

    async def event(self, event_id: int) -> DossierEvent | None:
        async with self._sessions() as session:
            row = await session.get(DossierEventRow, event_id)
            return None if row is None else _event(row)

    async def for_user(self, channel: str, user_id: str) -> builtins.list[Dossier]:
        """Everything this person filed on this channel, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierRow)
                .where(DossierRow.channel == channel, DossierRow.user_id == user_id)
                .order_by(DossierRow.received_at.desc(), DossierRow.id.desc())
            )
            return [_dossier(row) for row in rows]

    async def list(self, query: DossierQuery | None = None) -> builtins.list[Dossier]:
        """Dossiers filtered by ``query``, in its order, one page (``offset``, ``limit``)."""
        q = query or DossierQuery()
        if q.order == "inbox":
            new_first = case((DossierRow.status.in_(q.first_statuses or ("",)), 0), else_=1)
            order: tuple[Any, ...] = (
                new_first,
                DossierRow.due_date.is_(None),
                DossierRow.due_date,
                DossierRow.received_at,
                DossierRow.id,
            )
        else:
            order = (DossierRow.received_at.desc(), DossierRow.id.desc())
        stmt = self._filtered(select(DossierRow), q).order_by(*order)
        async with self._sessions() as session:
            rows = await session.scalars(stmt.offset(max(0, q.offset)).limit(q.limit))
            return [_dossier(row) for row in rows]

    async def count(self, query: DossierQuery) -> int:
        """How many dossiers ``query`` finds, all pages."""
        stmt = self._filtered(select(func.count()).select_from(DossierRow), query)
        async with self._sessions() as session:
            return int(await session.scalar(stmt) or 0)

    @staticmethod
    def _filtered(stmt: Any, q: DossierQuery) -> Any:
        if q.procedure_code is not None:
            stmt = stmt.where(DossierRow.procedure_code == q.procedure_code)
        wanted = q.search.strip()
        if wanted:
            escaped = wanted.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found = [func.lower(DossierRow.code).like(f"%{escaped}%", escape="\\")]
            words = normalize(wanted)
            if words:
                found.append(DossierRow.search_text.like(f"%{words}%"))
            digits = "".join(c for c in wanted if c.isdigit())
            if len(digits) >= 6:
                found.append(DossierRow.search_text.like(f"%#{digits}#%"))
            stmt = stmt.where(or_(*found))
        if q.commune_codes is not None:
            stmt = stmt.where(DossierRow.commune_code.in_(q.commune_codes))
        if q.statuses is not None:
            stmt = stmt.where(DossierRow.status.in_(q.statuses))
        if q.received_from is not None:
            stmt = stmt.where(DossierRow.received_at >= _aware(q.received_from, "received_from"))
        if q.received_before is not None:
            stmt = stmt.where(DossierRow.received_at < _aware(q.received_before, "received_before"))
        if q.overdue_on is not None:
            stmt = stmt.where(DossierRow.due_date < q.overdue_on)
            if q.done:
                stmt = stmt.where(DossierRow.status.not_in(q.done))
        if q.filer is not None:
            stmt = stmt.where(
                DossierRow.channel == q.filer.channel,
                DossierRow.chat_id == q.filer.chat_id,
                DossierRow.user_id == q.filer.user_id,
            )
        if q.chat is not None:
            stmt = stmt.where(
                or_(
                    and_(
                        DossierRow.channel == q.chat.channel,
                        DossierRow.chat_id == q.chat.chat_id,
                        DossierRow.user_id == q.chat.user_id,
                    ),
                    and_(
                        DossierRow.villager_channel == q.chat.channel,
                        DossierRow.villager_chat_id == q.chat.chat_id,
                        DossierRow.villager_user_id == q.chat.user_id,
                    ),
                )
            )
        return stmt


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
        status=RECEIVED,
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
        version=0,
        processing_days=new.processing_days,
        volunteer_id=new.volunteer_id,
    )


def _summary_update(events: Sequence[NewEvent]) -> dict[str, Any]:
    """The dashboard's summary columns (``finished_at``, ``extended``) after ``events``, as
    values for the same UPDATE that moves the dossier: one transaction with the steps."""
    values: dict[str, Any] = {}
    done = [_aware(e.at, "event at") for e in events if e.status in FINISHED_STATUSES]
    if done:
        first = min(done)
        values["finished_at"] = case(
            (
                or_(DossierRow.finished_at.is_(None), DossierRow.finished_at > first),
                literal(first, UtcDateTime()),
            ),
            else_=DossierRow.finished_at,
        )
    if any(e.kind == EXTENDED_KIND for e in events):
        values["extended"] = True
    return values


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
        "version": d.version,
        "processing_days": d.processing_days,
        "workflow": d.workflow.to_json(),
        "search_text": search_text_of(d.fields, d.filer, d.on_behalf_of),
        "volunteer_id": d.volunteer_id,
    }


def _strings(value: Any) -> builtins.list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value)]
    return []


def search_text_of(
    fields: Mapping[str, Any], filer: Mapping[str, Any], on_behalf_of: Mapping[str, Any] | None
) -> str:
    """What the inbox search reads of a dossier, so that it runs in SQL: every answer, the
    filer's and the represented person's words folded (no tone marks, lower case) and ``|``
    apart, then every value's digits of 6 or more as ``#digits#`` (a phone, an ID number)."""
    values = [*_strings(fields), *_strings(filer), *_strings(on_behalf_of or {})]
    words = " | ".join(w for w in (normalize(v) for v in values) if w)
    numbers = " ".join(
        f"#{d}#" for d in ("".join(c for c in v if c.isdigit()) for v in values) if len(d) >= 6
    )
    return f"| {words} | {numbers}"
