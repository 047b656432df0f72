"""The one-stop-shop office: the sole owner of every dossier.

Reception gives a dossier its code and its due date; a move (accept, ask for a supplement,
hand to the post, ...) is decided by the pure workflow core (:mod:`backoffice.domain`) and
written by the store in one transaction with its history, its audit entry and the outbox rows
that carry the notice to the citizen's chat. The service is the imperative shell around the
core: load → ``domain.advance`` → compare-and-set save. Two moves of one dossier at once (two
officers, two workers) cannot both win: the second reads again and is judged on what the first
left, so a lost update cannot happen.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal

from backoffice import domain
from backoffice.calendar import WorkCalendar
from backoffice.domain import Command, Outcome, Refused, Role, Status
from dialogs.model import ConversationKey
from knowledge.catalogue import Catalogue
from knowledge.fees import fee_due
from storage.dossiers import (
    Applied,
    Change,
    Dossier,
    DossierEvent,
    DossierNotFoundError,
    DossierQuery,
    DossierRepository,
    NewDossier,
    NewEvent,
    Workflow,
)

log = logging.getLogger(__name__)

MAX_RACES = 5  # reads again after losing a compare-and-set; more than this is a hot loop
CLI_ACTOR = "cli"

# Statuses after which a due date no longer matters (for "overdue" lists).
DONE: tuple[str, ...] = tuple(
    s.value
    for s in (
        Status.RESULT_READY,
        Status.RETURNED,
        Status.POSTED,
        Status.COLLECTED,
        Status.IN_TRANSIT,
        Status.DELIVERED,
        Status.DELIVERY_FAILED,
        Status.RETURNED_TO_OFFICE,
        Status.NOT_ACCEPTED,
        Status.REFUSED,
        Status.WITHDRAWN,
    )
)


@dataclass(frozen=True, slots=True)
class Submission:
    """A dossier as the citizen side hands it over (a chat filing, or the REST API)."""

    submission_key: str
    commune_code: str
    procedure_code: str
    filer_key: ConversationKey
    submitted_at: datetime
    fields: Mapping[str, Any]
    filer: Mapping[str, Any]
    on_behalf_of: Mapping[str, Any] | None = None
    result_delivery: Literal["counter", "post"] = "counter"
    postal_address: Mapping[str, Any] | None = None
    volunteer_id: int | None = None  # an approved volunteer filing for a villager


@dataclass(frozen=True, slots=True)
class Receipt:
    """What reception answers. ``created`` is False for a repeat of the same submission."""

    code: str
    status: str
    received_at: datetime
    due_date: date | None
    created: bool
    dossier_id: int = 0


@dataclass(frozen=True, slots=True)
class DossierView:
    dossier: Dossier
    history: tuple[DossierEvent, ...]  # oldest first
    overdue: bool


class UnknownProcedure(ValueError):
    """The submission names a procedure the catalogue does not have."""


class MoveConflict(RuntimeError):
    """The dossier kept changing under us; try again."""


class OfficeService:
    def __init__(
        self,
        store: DossierRepository,
        *,
        catalogue: Catalogue,
        calendar: WorkCalendar,
        timezone: tzinfo,
        agency_for: Callable[[str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self._calendar = calendar
        self._tz = timezone
        self._agency_for = agency_for
        self._clock = clock

    @property
    def store(self) -> DossierRepository:
        return self._store

    @property
    def timezone(self) -> tzinfo:
        return self._tz

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def _context(self, actor: str, role: Role) -> domain.Context:
        return domain.Context(
            now=self._clock(),
            actor=actor,
            role=role,
            appointment=self._calendar.appointment,
            add_working_days=self._calendar.add_working_days,
            timezone=self._tz,
        )

    def processing_days(self, procedure_code: str) -> int:
        procedure = self._catalogue.get(procedure_code)
        return (procedure.processing_days or 0) if procedure is not None else 0

    # --- reception --------------------------------------------------------------------------

    async def receive(
        self, submission: Submission, *, actor: str = "", role: Role = Role.CITIZEN
    ) -> Receipt:
        """File ``submission`` once per ``submission_key``: the code, the due date counted in
        working days from now (15:00 cut-off), and a first history step."""
        procedure = self._catalogue.get(submission.procedure_code)
        if procedure is None:
            raise UnknownProcedure(submission.procedure_code)
        days = procedure.processing_days
        ctx = self._context(actor or submission.filer_key.as_str(), role)
        opened = domain.receive(
            "", submission.commune_code, procedure.code, days, submission.result_delivery, ctx
        )
        dossier, created = await self._store.file(
            NewDossier(
                submission_key=submission.submission_key,
                agency_code=self._agency_for(submission.commune_code),
                commune_code=submission.commune_code,
                procedure_code=procedure.code,
                filer_key=submission.filer_key,
                received_at=ctx.now,
                fields=dict(submission.fields),
                filer=dict(submission.filer),
                on_behalf_of=None
                if submission.on_behalf_of is None
                else dict(submission.on_behalf_of),
                due_date=opened.dossier.due_date,
                processing_days=days or 0,
                result_delivery=submission.result_delivery,
                postal_address=None
                if submission.postal_address is None
                else dict(submission.postal_address),
                actor=ctx.actor,
                role=role.value,
                volunteer_id=submission.volunteer_id,
            )
        )
        if created:
            log.info("dossier %s received (%s)", dossier.code, dossier.procedure_code)
        return Receipt(
            code=dossier.code,
            status=dossier.status,
            received_at=dossier.received_at,
            due_date=dossier.due_date,
            created=created,
            dossier_id=dossier.id,
        )

    # --- reading ----------------------------------------------------------------------------

    async def get(self, code: str) -> DossierView | None:
        dossier = await self._store.by_code(code)
        if dossier is None:
            return None
        history = await self._store.events(dossier.id)
        return DossierView(
            dossier=dossier,
            history=tuple(history),
            overdue=self.to_domain(dossier).overdue(self.today()),
        )

    async def list(self, query: DossierQuery | None = None) -> builtins.list[Dossier]:
        return await self._store.list(query)

    async def count(self, query: DossierQuery) -> int:
        return await self._store.count(query)

    async def overdue(
        self, commune_codes: tuple[str, ...] | None = None, limit: int = 100
    ) -> builtins.list[Dossier]:
        return await self._store.list(
            DossierQuery(
                commune_codes=commune_codes, overdue_on=self.today(), done=DONE, limit=limit
            )
        )

    def allowed(self, dossier: Dossier, role: Role) -> tuple[Status, ...]:
        return domain.allowed(self.to_domain(dossier), role)

    def suggested_amount(self, dossier: Dossier) -> int | None:
        """The fee from the catalogue with the copies asked for, as the receipt printed it."""
        procedure = self._catalogue.get(dossier.procedure_code)
        due = fee_due(procedure.fee if procedure else None, dossier.fields)
        return due.total if due is not None and due.total > 0 else None

    # --- moves ------------------------------------------------------------------------------

    async def move(
        self, code: str, command: Command, *, actor: str, role: Role
    ) -> Applied | Refused:
        """Judge ``command`` on the dossier as it is now and write it, or say why not.

        Raises DossierNotFoundError for an unknown code and MoveConflict when the dossier
        kept changing under us (MAX_RACES reads in a row lost the compare-and-set)."""
        for _ in range(MAX_RACES):
            stored = await self._store.by_code(code)
            if stored is None:
                raise DossierNotFoundError(code)
            decided = domain.advance(self.to_domain(stored), command, self._context(actor, role))
            if isinstance(decided, Refused):
                log.info("move on %s refused: %s", stored.code, decided.reason)
                return decided
            applied = await self._store.apply(self._change(stored, decided))
            if applied is not None:
                log.info(
                    "dossier %s: %s -> %s by %s",
                    stored.code,
                    stored.status,
                    applied.dossier.status,
                    role.value,
                )
                return applied
        raise MoveConflict(code)

    # --- between the store's values and the core's ------------------------------------------

    def to_domain(self, d: Dossier) -> domain.Dossier:
        status = domain.stored_status(d.status)
        w = d.workflow
        return domain.Dossier(
            code=d.code,
            commune_code=d.commune_code,
            procedure_code=d.procedure_code,
            status=status,
            received_at=d.received_at,
            due_date=d.due_date,
            processing_days=d.processing_days or self.processing_days(d.procedure_code),
            result_delivery="post" if d.result_delivery == "post" else "counter",
            supplements=w.supplements,
            missing=w.missing,
            supplement_deadline=w.supplement_deadline,
            extended=w.extended,
            amount_due=w.amount_due,
            paid=w.paid,
            postal_item=w.postal_item,
            version=d.version,
        )

    @staticmethod
    def _change(stored: Dossier, outcome: Outcome) -> Change:
        new = outcome.dossier
        return Change(
            code=stored.code,
            expected_version=stored.version,
            status=new.status.value,
            due_date=new.due_date,
            workflow=Workflow(
                supplements=new.supplements,
                missing=new.missing,
                supplement_deadline=new.supplement_deadline,
                extended=new.extended,
                amount_due=new.amount_due,
                paid=new.paid,
                postal_item=new.postal_item,
            ),
            events=tuple(
                NewEvent(
                    kind=e.kind,
                    from_status=None if e.from_status is None else e.from_status.value,
                    status=e.to_status.value,
                    at=e.at,
                    actor=e.actor,
                    role=e.role.value,
                    note=e.note,
                    details=_jsonable(e.details),
                )
                for e in outcome.events
            ),
            at=outcome.audit.at,
            audit_actor=outcome.audit.actor,
            audit_action=outcome.audit.action,
            audit_details={"role": outcome.audit.role.value, **_jsonable(outcome.audit.details)},
            notify=_recipients(stored),
        )


def _recipients(dossier: Dossier) -> tuple[ConversationKey, ...]:
    """Who hears of a move in their own chat: the conversation it was filed from (a volunteer
    filing for a villager is that conversation; the villager's own chat joins when handed
    over)."""
    if dossier.villager_key is not None and dossier.villager_key != dossier.filer_key:
        return (dossier.filer_key, dossier.villager_key)
    return (dossier.filer_key,)


def _jsonable(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, date | datetime):
            out[key] = value.isoformat()
        elif isinstance(value, tuple):
            out[key] = list(value)
        elif hasattr(value, "value"):
            out[key] = value.value
        else:
            out[key] = value
    return out


__all__ = [
    "CLI_ACTOR",
    "DONE",
    "DossierView",
    "MoveConflict",
    "OfficeService",
    "Receipt",
    "Submission",
    "UnknownProcedure",
]
