"""Shared builders for the workflow tests: a real calendar, contexts per role, S10 numbers."""

from __future__ import annotations

from datetime import datetime

from backoffice.calendar import DEFAULT_2026_SCHEDULE, VIETNAM_TZ, WorkCalendar
from backoffice.domain import (
    Command,
    Context,
    Dossier,
    Outcome,
    Refused,
    Role,
    advance,
    receive,
)
from backoffice.domain.postal import s10_check_digit

CALENDAR = WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days)

ACTORS = {
    Role.OFFICER: "officer:lan",
    Role.POSTAL_CLERK: "postal_clerk:hoa",
    Role.LEADER: "leader:minh",
    Role.ADMIN: "admin:root",
    Role.CITIZEN: "citizen:telegram:123:123",
    Role.SYSTEM: "system:reminders",
}


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VIETNAM_TZ)


def context(role: Role = Role.OFFICER, now: datetime | None = None) -> Context:
    return Context(
        now=now or at(2026, 3, 9),
        actor=ACTORS[role],
        role=role,
        appointment=CALENDAR.appointment,
        add_working_days=CALENDAR.add_working_days,
        timezone=VIETNAM_TZ,
    )


def s10(serial: int, prefix: str = "EE", country: str = "VN") -> str:
    """A valid S10 item number for an 8-digit serial."""
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{s10_check_digit(digits)}{country}"


def bad_s10(serial: int) -> str:
    """The same number with a wrong check digit."""
    digits = f"{serial:08d}"
    wrong = (s10_check_digit(digits) + 1) % 10
    return f"EE{digits}{wrong}VN"


def received(
    processing_days: int | None = 3,
    result_delivery: str = "counter",
    now: datetime | None = None,
) -> Dossier:
    assert result_delivery in ("counter", "post")
    return receive(
        "000.00.31.H26-260309-0001",
        "25747",
        "1.001193",
        processing_days,
        "post" if result_delivery == "post" else "counter",
        context(Role.OFFICER, now),
    ).dossier


def ok(dossier: Dossier, command: Command, ctx: Context | None = None) -> Outcome:
    """``advance`` that must succeed."""
    result = advance(dossier, command, ctx or context())
    assert isinstance(result, Outcome), result
    return result


def no(dossier: Dossier, command: Command, ctx: Context | None = None) -> Refused:
    """``advance`` that must refuse."""
    result = advance(dossier, command, ctx or context())
    assert isinstance(result, Refused), result
    assert result.detail and result.message and result.reason
    return result
