"""The part of a dossier the workflow owns, and the impure world handed to it as values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal

from backoffice.domain.status import Role, Status

ResultDelivery = Literal["counter", "post"]

# The office still owes a result in these; the others either wait on the citizen (a supplement
# request restarts the period from zero, so its old due date means nothing), have the result in
# hand, or are closed.
_OFFICE_OWES_RESULT = frozenset(
    {
        Status.RECEIVED,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
        Status.PAYMENT_REQUESTED,
        Status.PAID,
    }
)


@dataclass(frozen=True, slots=True)
class Dossier:
    """Status, deadlines and counters of one dossier: what the transition rules read and write.

    Names, addresses and files stay in storage; the workflow never needs them, which keeps
    personal data out of events and the audit log by construction.
    """

    code: str
    commune_code: str
    procedure_code: str
    status: Status
    received_at: datetime
    """Aware; when the office recorded the dossier (the 15:00 cut-off applies to it)."""
    due_date: date | None
    """The appointment date; None only for rows stored before due dates were kept."""
    processing_days: int
    """Working days from the catalogue; counted again from zero after a supplement."""
    result_delivery: ResultDelivery
    supplements: int = 0
    """Supplement requests made so far; NĐ 61/2018 Art. 15.3 allows one ("một lần")."""
    missing: tuple[str, ...] = ()
    """What the current or last supplement request asked for, in the officer's order."""
    supplement_deadline: date | None = None
    """Last day for the citizen to supplement (7 working days, vietnam.md §2.3 🟡)."""
    extended: bool = False
    """The one apology-and-new-date (NĐ 61/2018 Art. 19.9, "không quá một lần") was used."""
    amount_due: int | None = None
    """VND, once payment was requested."""
    paid: bool = False
    postal_item: str | None = None
    """The UPU S10 item number, upper case, once the result went to the post."""
    version: int = 0
    """Bumped by every accepted command, so the store can refuse a stale write."""

    def overdue(self, today: date) -> bool:
        """True when the due date has passed and the office still owes the result.

        A computed flag, not a status (§2.4): it is never true once the result is ready, sent,
        returned or the dossier closed, nor while the office waits on a supplement.
        """
        return (
            self.due_date is not None
            and self.status in _OFFICE_OWES_RESULT
            and today > self.due_date
        )


@dataclass(frozen=True, slots=True)
class Context:
    """Everything impure a command needs, as values: the clock, who acts, the calendar.

    The service builds one per request; tests build one with a fixed time.
    """

    now: datetime
    """Aware; when the command is given."""
    actor: str
    """Who, for history and audit: ``"officer:lan"``, ``"citizen:telegram:123:123"``, ``"cli"``."""
    role: Role
    appointment: Callable[[datetime, int], date]
    """(received local time, working days) -> due date: ``WorkCalendar.appointment``, with the
    15:00 cut-off and days off already applied."""
    add_working_days: Callable[[date, int], date]
    """``WorkCalendar.add_working_days``: the n-th working day after a date."""
    timezone: tzinfo
    """The deployment's zone; "today" is ``now.astimezone(timezone).date()``."""

    @property
    def local_now(self) -> datetime:
        """``now`` in the deployment's zone, which is what the calendar counts in."""
        return self.now.astimezone(self.timezone)

    @property
    def today(self) -> date:
        """The office's calendar date at ``now``."""
        return self.local_now.date()
