"""The pure core of the one-stop-shop office: statuses, the workflow table, codes, postal rules.

Nothing here does I/O or reads the clock: time, the actor and the working-day calendar come in
a :class:`Context`, so the same rules run in the REST API, the CLI, the console and the tests.
The service around it loads a :class:`Dossier`, calls :func:`advance`, and saves the new
dossier, its :class:`Event` and its :class:`AuditRecord` in one transaction.
"""

from backoffice.domain.commands import (
    COMMAND_TYPES,
    Accept,
    Command,
    Extend,
    HandToPost,
    MarkResultReady,
    NotAccept,
    PostalEvent,
    RecordPayment,
    Refuse,
    RequestPayment,
    RequestSupplement,
    ReturnAtCounter,
    StartProcessing,
    Supplemented,
    Withdraw,
)
from backoffice.domain.dossier import Context, Dossier, ResultDelivery
from backoffice.domain.outcome import AuditRecord, Detail, Event, EventKind, Outcome, Refused
from backoffice.domain.status import (
    FINAL,
    LEGACY_STATUS,
    POSTAL_EVENTS,
    STATUS_CODE,
    Role,
    Status,
    stored_names,
    stored_status,
)
from backoffice.domain.workflow import (
    EXTENDABLE,
    MAX_SUPPLEMENTS,
    PERMITTED,
    SUPPLEMENT_WORKING_DAYS,
    TRANSITIONS,
    advance,
    allowed,
    command_for,
    receive,
)

__all__ = [
    "COMMAND_TYPES",
    "EXTENDABLE",
    "FINAL",
    "LEGACY_STATUS",
    "MAX_SUPPLEMENTS",
    "PERMITTED",
    "POSTAL_EVENTS",
    "STATUS_CODE",
    "SUPPLEMENT_WORKING_DAYS",
    "TRANSITIONS",
    "Accept",
    "AuditRecord",
    "Command",
    "Context",
    "Detail",
    "Dossier",
    "Event",
    "EventKind",
    "Extend",
    "HandToPost",
    "MarkResultReady",
    "NotAccept",
    "Outcome",
    "PostalEvent",
    "RecordPayment",
    "Refuse",
    "Refused",
    "RequestPayment",
    "RequestSupplement",
    "ResultDelivery",
    "ReturnAtCounter",
    "Role",
    "StartProcessing",
    "Status",
    "Supplemented",
    "Withdraw",
    "advance",
    "allowed",
    "command_for",
    "receive",
    "stored_names",
    "stored_status",
]
