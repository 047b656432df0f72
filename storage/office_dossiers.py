"""The office's copy of the dossiers (merged into ``dossiers`` by the next change)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware as _aware
from storage.dossiers import _check_status
from storage.models import AuditLogRow, OfficeDossierEventRow, OfficeDossierRow


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
