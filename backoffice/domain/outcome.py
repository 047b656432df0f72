"""What :func:`~backoffice.domain.advance` answers: a new dossier with its history and audit
step, or a refusal that says why in three registers (machine key, English, Vietnamese)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from backoffice.domain.dossier import Dossier
from backoffice.domain.status import Role, Status

Detail: TypeAlias = str | int | list[str] | None
"""A detail value: JSON-ready as it is, so history rows and outbox messages store it as-is."""

EventKind = Literal["received", "transition", "extended"]


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a dossier's history; also what the citizen is notified about.

    ``details`` may hold what the citizen sent or was told (missing items, a reason, an
    amount, dates as ISO strings); it goes to the dossier's own history, never to the audit log.
    """

    kind: EventKind
    from_status: Status | None
    """None only for ``received``: the dossier did not exist before."""
    to_status: Status
    """Equal to ``from_status`` for ``extended``: the status does not change."""
    at: datetime
    actor: str
    role: Role
    note: str
    details: Mapping[str, Detail]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Who did what to which dossier, for the office's audit log.

    ``details`` are codes, dates, amounts and counts only: free text (notes, reasons, the
    citizen's message) may name people, so it stays out of the log that outlives the dossier.
    """

    actor: str
    role: Role
    action: str
    """``"received"``, ``"transition:<from>-><to>"`` or ``"extended"``."""
    target: str
    """``"dossier:<code>"``."""
    at: datetime
    details: Mapping[str, Detail]


@dataclass(frozen=True, slots=True)
class Outcome:
    """An accepted command: the dossier to save, the one event, the one audit record."""

    dossier: Dossier
    events: tuple[Event, ...]
    audit: AuditRecord


@dataclass(frozen=True, slots=True)
class Refused:
    """A command that was not carried out; nothing changed."""

    reason: str
    """A stable machine key (``"final_status"``, ``"role"``, ...), for API clients and tests."""
    detail: str
    """One English sentence for logs and API error bodies, naming the statuses involved."""
    message: str
    """The same in plain Vietnamese, for the officer's screen."""
