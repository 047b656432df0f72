"""Generated dossiers that look like a commune's: for ``motcua demo`` and the dashboard bench.

Every history follows the workflow table (received → accepted → in progress → … → result
ready → returned at the counter or by post), the due date is the calendar's appointment, and
no step is later than ``now``. Most dossiers are paper ones at the counter; a share are filed
online by the citizen or by a volunteer; some are late, some wait for a supplement, a few are
refused, not accepted or withdrawn. Pure: a seeded ``random.Random`` in, records out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from backoffice.calendar import WorkCalendar
from knowledge.dossier_code import format_code
from storage.bulk import Record, Step

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Oanh", "Sơn")
HAMLETS = ("thôn Bắc", "thôn Nam", "thôn Đông", "thôn Tây", "xóm Chợ", "xóm Giữa")


@dataclass(frozen=True, slots=True)
class ProcedureMix:
    code: str
    processing_days: int
    weight: float


@dataclass(frozen=True, slots=True)
class CommuneMix:
    code: str
    agency_code: str
    dossiers: int
    volunteer_ids: tuple[int, ...] = ()
    online_share: float = 0.22  # by the citizen
    volunteer_share: float = 0.08


def person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def phone(rng: random.Random) -> str:
    return "09" + "".join(str(rng.randrange(10)) for _ in range(8))


def generate(
    communes: Sequence[CommuneMix],
    procedures: Sequence[ProcedureMix],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    calendar: WorkCalendar,
    timezone: tzinfo,
    rng: random.Random,
    counters: dict[tuple[str, date], int] | None = None,
) -> list[Record]:
    """Dossiers received in ``[start, min(end, now))`` for each commune. ``counters`` is
    filled with the last code number used per (agency, day), for the office's code counter."""
    last = min(end, now)
    span = (last - start).total_seconds()
    records: list[Record] = []
    sequence: dict[tuple[str, date], int] = {} if counters is None else counters
    weights = [p.weight for p in procedures]
    for commune in communes:
        for _ in range(commune.dossiers):
            received = _office_hours(start + timedelta(seconds=rng.random() * span), rng, timezone)
            if received >= last:
                received = last - timedelta(minutes=rng.randrange(1, 600))
            procedure = rng.choices(procedures, weights)[0]
            roll = rng.random()
            volunteer = None
            if roll < commune.volunteer_share and commune.volunteer_ids:
                channel, volunteer = (
                    rng.choice(("zalo", "telegram", "web")),
                    rng.choice(commune.volunteer_ids),
                )
            elif roll < commune.volunteer_share + commune.online_share:
                channel = rng.choice(("zalo", "zalo", "telegram", "web"))
            else:
                channel = "counter"
            day = received.astimezone(timezone).date()
            key = (commune.agency_code, day)
            sequence[key] = sequence.get(key, 0) + 1
            code = format_code(commune.agency_code, day, sequence[key])
            records.append(
                _one(
                    code,
                    commune.code,
                    procedure,
                    channel,
                    volunteer,
                    received,
                    now,
                    calendar,
                    timezone,
                    rng,
                )
            )
    return records


def _office_hours(moment: datetime, rng: random.Random, tz: tzinfo) -> datetime:
    """Counter hours on a working weekday for most; online ones come at any hour anyway."""
    local = moment.astimezone(tz)
    if rng.random() < 0.85:
        hour = rng.choice((7, 8, 8, 9, 9, 10, 10, 13, 14, 14, 15, 16))
        local = datetime.combine(local.date(), time(hour, rng.randrange(60)), tzinfo=tz)
        while local.weekday() >= 5:
            local -= timedelta(days=rng.choice((1, 2)))
    return local.astimezone(UTC)


def _one(
    code: str,
    commune_code: str,
    procedure: ProcedureMix,
    channel: str,
    volunteer: int | None,
    received: datetime,
    now: datetime,
    calendar: WorkCalendar,
    tz: tzinfo,
    rng: random.Random,
) -> Record:
    days = procedure.processing_days
    due = calendar.appointment(received, days)
    by_post = rng.random() < 0.15
    name = person(rng)
    officer = "console:demo-officer"
    steps: list[Step] = [
        Step(
            "received",
            None,
            "received",
            received,
            channel,
            "citizen",
            details={"due_date": due.isoformat()},
        )
    ]
    at = received

    def go(status: str, after: timedelta, role: str = "officer", kind: str = "transition") -> bool:
        nonlocal at
        moment = at + after
        if moment > now:
            return False
        steps.append(Step(kind, steps[-1].status, status, moment, officer, role))
        at = moment
        return True

    def work_hours(n: float) -> timedelta:
        return timedelta(hours=n)

    fate = rng.random()
    if now - received < timedelta(days=3) and rng.random() < 0.5:
        pass  # new: nobody has looked at it yet (the inbox puts these first)
    elif fate < 0.03:
        go("not_accepted", work_hours(rng.uniform(1, 20)))
    elif fate < 0.05:
        go("withdrawn", work_hours(rng.uniform(2, 48)), role="citizen")
    elif go("accepted", work_hours(rng.uniform(0.1, 2))) and go(
        "in_progress", work_hours(rng.uniform(0.1, 2))
    ):
        if fate < 0.10:
            go("supplement_requested", work_hours(rng.uniform(2, 48)))
        elif fate < 0.13:
            go("refused", work_hours(rng.uniform(24, 96)))
        else:
            # Most are ready before the due date; about one in eight is late.
            late = rng.random() < 0.08
            due_at = datetime.combine(due, time(16, 0), tzinfo=tz).astimezone(UTC)
            if late:
                ready_at = due_at + timedelta(days=rng.uniform(1, 6))
            else:
                room = max(1.0, (due_at - at).total_seconds() / 3600)
                ready_at = at + work_hours(rng.uniform(0.3, 1.0) * room)
            if ready_at > at and go("result_ready", ready_at - at) and rng.random() < 0.8:
                if by_post:
                    if go("posted", work_hours(rng.uniform(2, 24))) and go(
                        "collected", work_hours(rng.uniform(1, 6)), role="postal_clerk"
                    ):
                        go("in_transit", work_hours(rng.uniform(1, 12)), role="postal_clerk")
                        go("delivered", work_hours(rng.uniform(4, 48)), role="postal_clerk")
                else:
                    go("returned", work_hours(rng.uniform(2, 72)))
    hamlet = rng.choice(HAMLETS)
    number = phone(rng)
    return Record(
        code=code,
        commune_code=commune_code,
        procedure_code=procedure.code,
        channel=channel,
        chat_id="" if channel == "counter" else f"demo-{code}",
        user_id="" if channel == "counter" else f"demo-{code}",
        received_at=received,
        due_date=due,
        processing_days=days,
        result_delivery="post" if by_post else "counter",
        postal_address={
            "display": f"{hamlet}, theo địa chỉ thường trú",
            "recipient": name,
            "phone": number,
        }
        if by_post
        else None,
        fields={"requester_name": name, "phone": number},
        filer={"for_self": volunteer is None, "relation": "", "name": name, "phone": number},
        on_behalf_of={"name": name, "phone": number} if volunteer is not None else None,
        volunteer_id=volunteer,
        steps=tuple(steps),
        workflow={
            "supplements": 1 if steps[-1].status == "supplement_requested" else 0,
            "missing": ["Bản sao giấy tờ còn thiếu"]
            if steps[-1].status == "supplement_requested"
            else [],
        },
    )
