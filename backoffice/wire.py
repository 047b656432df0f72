"""The back office's values on the wire: what its REST API takes and answers, and what
:mod:`backoffice.client` hands the citizen side, in-process or over HTTP alike."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backoffice.domain import Status, stored_status
from storage.dossiers import Dossier, DossierEvent

COMMUNE_PATTERN = r"^\d{5}$"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FiledFrom(_Wire):
    """The conversation a dossier was filed from: where its notices go."""

    channel: str = Field(min_length=1, max_length=32)
    chat_id: str = Field(default="", max_length=128)
    user_id: str = Field(default="", max_length=128)


class SubmissionIn(_Wire):
    """A dossier handed to the office (``POST /dossiers``); idempotent by ``submission_key``."""

    submission_key: str = Field(min_length=1, max_length=128)
    commune_code: str = Field(pattern=COMMUNE_PATTERN)
    procedure_code: str = Field(min_length=1, max_length=64)
    filed_from: FiledFrom
    fields: dict[str, Any]
    filer: dict[str, Any]
    on_behalf_of: dict[str, Any] | None = None
    result_delivery: Literal["counter", "post"] = "counter"
    postal_address: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _post_needs_an_address(self) -> SubmissionIn:
        if self.result_delivery == "post" and not self.postal_address:
            raise ValueError("result_delivery 'post' needs a postal_address")
        return self


class ReceiptOut(_Wire):
    code: str
    status: Status
    received_at: datetime
    due_date: date | None
    created: bool


class HistoryStep(_Wire):
    at: datetime
    actor: str
    role: str
    kind: str
    from_status: Status | None
    to: Status
    note: str
    details: dict[str, Any]


class DossierSummary(_Wire):
    code: str
    commune_code: str
    procedure_code: str
    status: Status
    received_at: datetime
    due_date: date | None
    updated_at: datetime
    overdue: bool
    result_delivery: Literal["counter", "post"]


class DossierOut(DossierSummary):
    """A dossier with its history; ``fields`` and ``filer`` are the citizen's answers."""

    version: int
    fields: dict[str, Any]
    filer: dict[str, Any]
    on_behalf_of: dict[str, Any] | None
    postal_address: dict[str, Any] | None
    filed_from: FiledFrom
    missing: list[str]
    supplement_deadline: date | None
    extended: bool
    amount_due: int | None
    paid: bool
    postal_item: str | None
    allowed: list[Status]  # where an officer may move it from here
    history: list[HistoryStep]


class TransitionIn(_Wire):
    """``POST /dossiers/{code}/transitions``: where to, and what that status needs."""

    to: Status
    note: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=2000)
    missing: list[str] = Field(default_factory=list, max_length=50)
    amount: int | None = Field(default=None, ge=1, le=1_000_000_000)
    item_number: str = Field(default="", max_length=32)


class ExtensionIn(_Wire):
    """``POST /dossiers/{code}/extension``: the one apology and new date a dossier may get."""

    new_date: date
    apology: str = Field(min_length=1, max_length=2000)


class PostalEventIn(_Wire):
    """``POST /dossiers/{code}/postal-events``."""

    event: Literal["collected", "in_transit", "delivered", "delivery_failed", "returned_to_office"]
    note: str = Field(default="", max_length=2000)


class Problem(_Wire):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    reason: str = ""


def _status(name: str) -> Status:
    return stored_status(name)


def summary_of(d: Dossier, overdue: bool) -> DossierSummary:
    return DossierSummary(
        code=d.code,
        commune_code=d.commune_code,
        procedure_code=d.procedure_code,
        status=_status(d.status),
        received_at=d.received_at,
        due_date=d.due_date,
        updated_at=d.updated_at,
        overdue=overdue,
        result_delivery="post" if d.result_delivery == "post" else "counter",
    )


def dossier_out(
    d: Dossier, history: tuple[DossierEvent, ...], overdue: bool, allowed: tuple[Status, ...]
) -> DossierOut:
    w = d.workflow
    return DossierOut(
        **summary_of(d, overdue).model_dump(),
        version=d.version,
        fields=d.fields,
        filer=d.filer,
        on_behalf_of=d.on_behalf_of,
        postal_address=d.postal_address,
        filed_from=FiledFrom(
            channel=d.filer_key.channel, chat_id=d.filer_key.chat_id, user_id=d.filer_key.user_id
        ),
        missing=list(w.missing),
        supplement_deadline=w.supplement_deadline,
        extended=w.extended,
        amount_due=w.amount_due,
        paid=w.paid,
        postal_item=w.postal_item,
        allowed=list(allowed),
        history=[
            HistoryStep(
                at=e.at,
                actor=e.actor,
                role=e.role,
                kind=e.kind,
                from_status=None if e.from_status is None else _status(e.from_status),
                to=_status(e.status),
                note=e.note,
                details=e.details,
            )
            for e in history
        ],
    )


__all__ = [
    "COMMUNE_PATTERN",
    "DossierOut",
    "DossierSummary",
    "ExtensionIn",
    "FiledFrom",
    "HistoryStep",
    "PostalEventIn",
    "Problem",
    "ReceiptOut",
    "SubmissionIn",
    "TransitionIn",
    "dossier_out",
    "summary_of",
]
