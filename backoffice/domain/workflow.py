"""The office workflow: which command may move a dossier where, by whom, with what checks.

One data table, :data:`TRANSITIONS` (drawn in ``workflow.md`` beside this file), and one role
table, :data:`PERMITTED`, are read by both :func:`allowed` (buttons, CLI help) and
:func:`advance` (the rules), so the two cannot disagree. Every function here is pure: the
clock, the actor and the calendar arrive in a :class:`~backoffice.domain.Context`.

Rules from the one-stop-shop decree (NĐ 61/2018, domain reference ``vietnam.md`` §2.3–2.5):

* a supplement is requested at most once, listing everything missing (Art. 15.3, 17.1.a); the
  citizen has 7 working days (🟡), and once the dossier is complete the processing period
  restarts from zero (Art. 19.4);
* an overdue dossier gets one apology and one new date, never a second (Art. 19.9);
* the due date therefore moves only at reception, when a supplement arrives, and at that one
  extension; no other command touches it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Literal

from backoffice.domain import texts
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
from backoffice.domain.dossier import Context, Dossier
from backoffice.domain.outcome import AuditRecord, Detail, Event, Outcome, Refused
from backoffice.domain.postal import is_valid_s10, normalise_item_number
from backoffice.domain.status import FINAL, POSTAL_EVENTS, Role, Status

SUPPLEMENT_WORKING_DAYS = 7
"""Working days the citizen has to supplement (vietnam.md §2.3, procedure 3.000722, 🟡)."""

MAX_SUPPLEMENTS = 1
"""NĐ 61/2018 Art. 15.3: the officer guides the citizen "một lần đầy đủ, chính xác"."""

_S = Status


def _table(
    rows: Mapping[Status, Mapping[Status, type[Command]]],
) -> Mapping[Status, Mapping[Status, type[Command]]]:
    """Read-only, with an empty row for every status so lookups never miss."""
    return MappingProxyType(
        {status: MappingProxyType(dict(rows.get(status, {}))) for status in Status}
    )


TRANSITIONS: Mapping[Status, Mapping[Status, type[Command]]] = _table(
    {
        _S.RECEIVED: {
            _S.ACCEPTED: Accept,
            _S.NOT_ACCEPTED: NotAccept,
            _S.SUPPLEMENT_REQUESTED: RequestSupplement,
            _S.WITHDRAWN: Withdraw,
        },
        _S.ACCEPTED: {
            _S.IN_PROGRESS: StartProcessing,
            _S.SUPPLEMENT_REQUESTED: RequestSupplement,
            _S.PAYMENT_REQUESTED: RequestPayment,
            _S.REFUSED: Refuse,
            _S.RESULT_READY: MarkResultReady,
            _S.WITHDRAWN: Withdraw,
        },
        _S.IN_PROGRESS: {
            _S.SUPPLEMENT_REQUESTED: RequestSupplement,
            _S.PAYMENT_REQUESTED: RequestPayment,
            _S.REFUSED: Refuse,
            _S.RESULT_READY: MarkResultReady,
            _S.WITHDRAWN: Withdraw,
        },
        _S.SUPPLEMENT_REQUESTED: {
            _S.IN_PROGRESS: Supplemented,
            _S.REFUSED: Refuse,
            _S.WITHDRAWN: Withdraw,
        },
        _S.PAYMENT_REQUESTED: {
            _S.PAID: RecordPayment,
            _S.REFUSED: Refuse,
            _S.WITHDRAWN: Withdraw,
        },
        _S.PAID: {
            _S.IN_PROGRESS: StartProcessing,
            _S.RESULT_READY: MarkResultReady,
            _S.WITHDRAWN: Withdraw,
        },
        _S.RESULT_READY: {
            _S.RETURNED: ReturnAtCounter,
            _S.POSTED: HandToPost,
        },
        _S.POSTED: {
            _S.COLLECTED: PostalEvent,
            _S.IN_TRANSIT: PostalEvent,
        },
        _S.COLLECTED: {
            _S.IN_TRANSIT: PostalEvent,
        },
        _S.IN_TRANSIT: {
            _S.DELIVERED: PostalEvent,
            _S.DELIVERY_FAILED: PostalEvent,
        },
        _S.DELIVERY_FAILED: {
            _S.IN_TRANSIT: PostalEvent,
            _S.RETURNED_TO_OFFICE: PostalEvent,
        },
        _S.RETURNED_TO_OFFICE: {
            _S.RETURNED: ReturnAtCounter,
            _S.POSTED: HandToPost,
        },
    }
)
"""from status -> {to status: the one command class that makes that step}. Final statuses have
an empty row. Withdrawal appears only before processing ends (not from result_ready on)."""

_OFFICER = frozenset({Role.OFFICER})
PERMITTED: Mapping[type[Command], frozenset[Role]] = MappingProxyType(
    {
        Accept: _OFFICER,
        NotAccept: _OFFICER,
        StartProcessing: _OFFICER,
        RequestSupplement: _OFFICER,
        Supplemented: frozenset({Role.CITIZEN}),
        RequestPayment: _OFFICER,
        RecordPayment: _OFFICER,
        Refuse: _OFFICER,
        MarkResultReady: _OFFICER,
        ReturnAtCounter: _OFFICER,
        HandToPost: frozenset({Role.OFFICER, Role.POSTAL_CLERK}),
        PostalEvent: frozenset({Role.OFFICER, Role.POSTAL_CLERK}),
        # The officer records a withdrawal the citizen makes at the counter.
        Withdraw: frozenset({Role.OFFICER, Role.CITIZEN}),
        Extend: _OFFICER,
    }
)
"""Which roles may give each command. Leaders, admins and the system only read."""

EXTENDABLE: frozenset[Status] = frozenset(
    {
        Status.RECEIVED,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
        Status.SUPPLEMENT_REQUESTED,
        Status.PAYMENT_REQUESTED,
        Status.PAID,
    }
)
"""Where the one new date may be set: the office still owes the result and the dossier is open."""

_TARGET: Mapping[type[Command], Status] = MappingProxyType(
    {
        Accept: Status.ACCEPTED,
        NotAccept: Status.NOT_ACCEPTED,
        StartProcessing: Status.IN_PROGRESS,
        RequestSupplement: Status.SUPPLEMENT_REQUESTED,
        Supplemented: Status.IN_PROGRESS,
        RequestPayment: Status.PAYMENT_REQUESTED,
        RecordPayment: Status.PAID,
        Refuse: Status.REFUSED,
        MarkResultReady: Status.RESULT_READY,
        ReturnAtCounter: Status.RETURNED,
        HandToPost: Status.POSTED,
        Withdraw: Status.WITHDRAWN,
    }
)
"""Where each command goes; a ``PostalEvent`` goes to its event, an ``Extend`` nowhere."""

_COMMAND_NAMES: Mapping[type[Command], str] = MappingProxyType(
    {cls: cls.__name__ for cls in COMMAND_TYPES}
)


class _Fields(dict[str, object]):
    """Template fields; one the caller did not give prints as "?" rather than raising."""

    def __missing__(self, key: str) -> str:
        return "?"


def _refused(reason: str, **fields: object) -> Refused:
    """A refusal with its English and Vietnamese sentences filled from the same fields."""
    values = _Fields(fields)
    for key in ("from_status", "to_status"):
        status = fields.get(key)
        if isinstance(status, Status):
            values[key] = status.value
            values[key.replace("_status", "_vi")] = texts.STATUS_LABELS[status]
    role = fields.get("role")
    if isinstance(role, Role):
        values["role"] = role.value
        values["role_vi"] = texts.ROLE_LABELS[role]
    english, vietnamese = texts.REFUSALS[reason]
    return Refused(
        reason=reason, detail=english.format_map(values), message=vietnamese.format_map(values)
    )


def _as_status(value: object) -> Status | None:
    if isinstance(value, Status):
        return value
    if isinstance(value, str):
        try:
            return Status(value)
        except ValueError:
            return None
    return None


def _as_role(value: object) -> Role | None:
    if isinstance(value, Role):
        return value
    if isinstance(value, str):
        try:
            return Role(value)
        except ValueError:
            return None
    return None


def _aware(moment: object) -> bool:
    return isinstance(moment, datetime) and moment.utcoffset() is not None


def _clean_items(items: object) -> tuple[str, ...] | None:
    """Stripped, inner spaces collapsed, blanks dropped, duplicates dropped in order.

    None when ``items`` is not a sequence of strings; a bare string counts as one item, since
    a form field with one line is the common case and iterating it would give letters.
    """
    if isinstance(items, str):
        items = (items,)
    if not isinstance(items, tuple | list):
        return None
    cleaned: list[str] = []
    for item in items:
        if not isinstance(item, str):
            return None
        text = " ".join(item.split())
        if text and text not in cleaned:
            cleaned.append(text)
    return tuple(cleaned)


def _clean_text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def allowed(dossier: Dossier, role: Role) -> tuple[Status, ...]:
    """The statuses this role can move the dossier to now, in table order.

    Every one listed is reached by :func:`advance` given well-formed parameters; any other
    target is refused. (The one new date, :class:`Extend`, is not a status and is not listed.)
    """
    status = _as_status(dossier.status)
    the_role = _as_role(role)
    if status is None or the_role is None:
        return ()
    return tuple(
        target
        for target, command_type in TRANSITIONS[status].items()
        if the_role in PERMITTED[command_type] and _state_guard(dossier, command_type) is None
    )


def _state_guard(dossier: Dossier, command_type: type[Command]) -> str | None:
    """A refusal reason that comes from the dossier's counters rather than its status."""
    if command_type is RequestSupplement and dossier.supplements >= MAX_SUPPLEMENTS:
        return "supplement_used"
    return None


def receive(
    code: str,
    commune_code: str,
    procedure_code: str,
    processing_days: int | None,
    result_delivery: Literal["counter", "post"],
    ctx: Context,
) -> Outcome:
    """A new dossier, status ``received``, due on the appointment date (15:00 cut-off included).
    ``processing_days`` None: the procedure states no time in working days (a mediation takes
    30 to 40 days, a poverty review follows the yearly round), so no date is promised: the
    dossier has no due date and the officer gives one.

    Unlike :func:`advance` this raises ``ValueError`` on bad input: there is no dossier yet to
    leave unchanged, and the caller is the service's own reception code, not a person.
    """
    if not _aware(ctx.now):
        raise ValueError("ctx.now must be timezone-aware")
    if processing_days is not None and (
        isinstance(processing_days, bool) or not isinstance(processing_days, int)
    ):
        raise ValueError("processing_days must be a whole number of working days or None")
    if processing_days is not None and processing_days < 0:
        raise ValueError("processing_days must be zero or more")
    if result_delivery not in ("counter", "post"):
        raise ValueError(f"result_delivery must be 'counter' or 'post', not {result_delivery!r}")
    due = None if processing_days is None else ctx.appointment(ctx.local_now, processing_days)
    dossier = Dossier(
        code=code,
        commune_code=commune_code,
        procedure_code=procedure_code,
        status=Status.RECEIVED,
        received_at=ctx.now,
        due_date=due,
        processing_days=processing_days or 0,
        result_delivery=result_delivery,
    )
    details: dict[str, Detail] = {
        "procedure_code": procedure_code,
        "processing_days": processing_days,
        "result_delivery": result_delivery,
        "due_date": _iso(due),
    }
    event = Event(
        kind="received",
        from_status=None,
        to_status=Status.RECEIVED,
        at=ctx.now,
        actor=ctx.actor,
        role=ctx.role,
        note="",
        details=details,
    )
    audit = AuditRecord(
        actor=ctx.actor,
        role=ctx.role,
        action="received",
        target=f"dossier:{code}",
        at=ctx.now,
        details=dict(details),
    )
    return Outcome(dossier=dossier, events=(event,), audit=audit)


def advance(dossier: Dossier, command: Command, ctx: Context) -> Outcome | Refused:
    """Carry out ``command`` on ``dossier``, or say why not. Pure, and never raises.

    A malformed value from outside (a stored status no longer known, a command built from
    JSON with the wrong types) is a :class:`Refused`, not an exception: the caller is a web
    request or a CLI line, and a refusal is something it already knows how to show.
    """
    try:
        return _advance(dossier, command, ctx)
    except Exception as error:  # the safety net behind the checks below, never the plan
        return _refused("invalid_input", error=type(error).__name__)


def _advance(dossier: Dossier, command: Command, ctx: Context) -> Outcome | Refused:
    if not isinstance(ctx, Context) or not _aware(ctx.now):
        return _refused("bad_context")
    if not isinstance(command, COMMAND_TYPES):
        return _refused("unknown_command", command=type(command).__name__)
    if not isinstance(dossier, Dossier):
        return _refused("invalid_input", error=type(dossier).__name__)
    status = _as_status(dossier.status)
    if status is None:
        return _refused("unknown_status", status=dossier.status)
    role = _as_role(ctx.role)
    command_type = type(command)
    name = _COMMAND_NAMES[command_type]
    if isinstance(command, Extend):
        return _extend(dossier, status, role, command, ctx)

    if isinstance(command, PostalEvent):
        target = _as_status(command.event)
        if status in FINAL:
            # closed is the news, whatever the post says
            return _refused("final_status", from_status=status, to_status=target, command=name)
        if target is None or target not in POSTAL_EVENTS:
            shown = target.value if target is not None else command.event
            return _refused("not_a_postal_event", event=shown, from_status=status)
    else:
        target = _TARGET[command_type]
    where = {"from_status": status, "to_status": target, "command": name}
    if status in FINAL:
        return _refused("final_status", **where)
    if role is None or role not in PERMITTED[command_type]:
        return _refused("role", role=role if role is not None else ctx.role, **where)
    if TRANSITIONS[status].get(target) is not command_type:
        return _refused("not_allowed_from", **where)
    guard = _state_guard(dossier, command_type)
    if guard is not None:
        return _refused(guard, **where)
    note = _clean_text(command.note)
    if note is None:
        return _refused("invalid_input", error="note")

    moved = dataclasses.replace(dossier, status=target, version=dossier.version + 1)
    step = _apply(moved, status, target, command, ctx)
    if isinstance(step, Refused):
        return step
    new, details, audit_details = step
    event = Event(
        kind="transition",
        from_status=status,
        to_status=target,
        at=ctx.now,
        actor=ctx.actor,
        role=role,
        note=note,
        details=details,
    )
    audit = AuditRecord(
        actor=ctx.actor,
        role=role,
        action=f"transition:{status.value}->{target.value}",
        target=f"dossier:{dossier.code}",
        at=ctx.now,
        details=audit_details,
    )
    return Outcome(dossier=new, events=(event,), audit=audit)


_DateThunk = Callable[[], date]

_Step = tuple[Dossier, dict[str, Detail], dict[str, Detail]]
"""(the dossier after the command, event details, audit details) of one accepted command."""


def _apply(
    dossier: Dossier, status: Status, target: Status, command: Command, ctx: Context
) -> _Step | Refused:
    """The per-command checks of parameters and what each command changes besides status.

    ``dossier`` already has the new status and version; ``status`` is the one it came from.
    """
    where = {"from_status": status, "to_status": target}
    match command:
        case NotAccept(reason=reason) | Refuse(reason=reason):
            text = _clean_text(reason)
            if not text:
                return _refused("reason_required", **where)
            return dossier, {"reason": text}, {}
        case RequestSupplement(missing=missing):
            items = _clean_items(missing)
            if not items:
                return _refused("missing_required", **where)
            deadline = _calendar(lambda: ctx.add_working_days(ctx.today, SUPPLEMENT_WORKING_DAYS))
            if isinstance(deadline, str):
                return _refused("calendar_error", error=deadline, **where)
            asked = dataclasses.replace(
                dossier,
                supplements=dossier.supplements + 1,
                missing=items,
                supplement_deadline=deadline,
            )
            deadline_iso = deadline.isoformat()
            return (
                asked,
                {"missing": list(items), "supplement_deadline": deadline_iso},
                # Items are typed by the officer and may name a person: the log gets a count.
                {"missing_count": len(items), "supplement_deadline": deadline_iso},
            )
        case Supplemented(files=files, text=text):
            keys = _clean_items(files)
            answer = _clean_text(text)
            if keys is None or answer is None:
                return _refused("invalid_input", error="files or text", **where)
            # The time counts again from the supplement; a dossier with no date keeps none.
            due: date | str | None = None
            if dossier.due_date is not None:
                due = _calendar(lambda: ctx.appointment(ctx.local_now, dossier.processing_days))
            if isinstance(due, str):
                return _refused("calendar_error", error=due, **where)
            dates: dict[str, Detail] = {
                "old_due_date": _iso(dossier.due_date),
                "due_date": _iso(due),
            }
            return (
                dataclasses.replace(dossier, due_date=due),
                {"files": list(keys), "text": answer, **dates},
                {"files_count": len(keys), **dates},
            )
        case RequestPayment(amount=amount):
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                return _refused("amount_required", amount=amount, **where)
            requested = dataclasses.replace(dossier, amount_due=amount, paid=False)
            return requested, {"amount": amount}, {"amount": amount}
        case RecordPayment():
            paid: dict[str, Detail] = {"amount": dossier.amount_due}
            return dataclasses.replace(dossier, paid=True), paid, dict(paid)
        case HandToPost(item_number=item_number):
            if not isinstance(item_number, str) or not is_valid_s10(
                normalise_item_number(item_number)
            ):
                return _refused("bad_item_number", item_number=item_number, **where)
            number = normalise_item_number(item_number)
            if status is Status.RETURNED_TO_OFFICE and number == dossier.postal_item:
                return _refused("item_number_reused", item_number=number, **where)
            posted: dict[str, Detail] = {"item_number": number}
            if dossier.postal_item is not None:
                posted["previous_item_number"] = dossier.postal_item
            return dataclasses.replace(dossier, postal_item=number), posted, dict(posted)
        case PostalEvent():
            item: dict[str, Detail] = {"item_number": dossier.postal_item}
            return dossier, item, dict(item)
        case _:
            # Accept, StartProcessing, MarkResultReady, ReturnAtCounter, Withdraw: the status
            # change is the whole story.
            return dossier, {}, {}


def _calendar(compute: _DateThunk) -> date | str:
    """The calendar's answer, or the name of what it raised (a broken holiday schedule)."""
    try:
        day = compute()
    except Exception as error:  # a calendar is configuration: report it, do not crash a request
        return f"{type(error).__name__}: {error}"
    if isinstance(day, datetime) or not isinstance(day, date):
        return f"the calendar answered {type(day).__name__}, not a date"
    return day


def _extend(
    dossier: Dossier, status: Status, role: Role | None, command: Extend, ctx: Context
) -> Outcome | Refused:
    """The one apology and new date: the status stays, the due date moves later."""
    where = {"from_status": status, "to_status": status, "command": "Extend"}
    if status in FINAL:
        return _refused("final_status", **where)
    if role is None or role not in PERMITTED[Extend]:
        return _refused("role", role=role if role is not None else ctx.role, **where)
    if status not in EXTENDABLE:
        return _refused("extension_too_late", **where)
    if dossier.extended:
        return _refused("extension_used", **where)
    apology = _clean_text(command.apology)
    if not apology:
        return _refused("apology_required", **where)
    note = _clean_text(command.note)
    if note is None:
        return _refused("invalid_input", error="note")
    new_date = command.new_date
    if isinstance(new_date, datetime) or not isinstance(new_date, date):
        return _refused("bad_date", new_date=new_date, **where)
    today = ctx.today
    due = dossier.due_date
    if new_date <= today or (due is not None and new_date <= due):
        return _refused(
            "date_not_later",
            new_date_iso=new_date.isoformat(),
            new_date_vi=texts.date_vi(new_date),
            due_date_iso=_iso(due) or "none",
            due_date_vi=texts.date_vi(due),
            today_iso=today.isoformat(),
            today_vi=texts.date_vi(today),
            **where,
        )
    dates: dict[str, Detail] = {
        "old_due_date": _iso(due),
        "new_date": new_date.isoformat(),
        "due_date": new_date.isoformat(),
    }
    new = dataclasses.replace(
        dossier, due_date=new_date, extended=True, version=dossier.version + 1
    )
    event = Event(
        kind="extended",
        from_status=status,
        to_status=status,
        at=ctx.now,
        actor=ctx.actor,
        role=role,
        note=note,
        details={**dates, "apology": apology},
    )
    audit = AuditRecord(
        actor=ctx.actor,
        role=role,
        action="extended",
        target=f"dossier:{dossier.code}",
        at=ctx.now,
        details=dates,
    )
    return Outcome(dossier=new, events=(event,), audit=audit)


def command_for(
    to: Status | str,
    *,
    note: str = "",
    reason: str = "",
    missing: Iterable[str] = (),
    amount: int | None = None,
    item_number: str = "",
    postal_event: Status | str | None = None,
) -> Command | Refused:
    """The command a REST or CLI request ``{"to": "<status>", ...}`` stands for.

    Refused when the target needs something that was not given (a reason, the missing items,
    an amount, an item number) or is not a status a command can reach. Whether the move is
    allowed from the dossier's status is :func:`advance`'s answer, not this one's. A citizen's
    answer to a supplement request is :class:`Supplemented`, built by the chat side: ``"to":
    "in_progress"`` here means the officer's :class:`StartProcessing`.
    """
    target = _as_status(to)
    if target is None:
        return _refused("unknown_target", to=to)
    where = {"to_status": target}
    match target:
        case Status.RECEIVED:
            return _refused("not_a_target", **where)
        case Status.ACCEPTED:
            return Accept(note=note)
        case Status.NOT_ACCEPTED | Status.REFUSED:
            text = _clean_text(reason)
            if not text:
                return _refused("reason_required", **where)
            return (
                NotAccept(reason=text, note=note)
                if target is Status.NOT_ACCEPTED
                else Refuse(reason=text, note=note)
            )
        case Status.IN_PROGRESS:
            return StartProcessing(note=note)
        case Status.SUPPLEMENT_REQUESTED:
            items = _clean_items(missing if isinstance(missing, str) else tuple(missing))
            if not items:
                return _refused("missing_required", **where)
            return RequestSupplement(missing=items, note=note)
        case Status.PAYMENT_REQUESTED:
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                return _refused("amount_required", amount=amount, **where)
            return RequestPayment(amount=amount, note=note)
        case Status.PAID:
            return RecordPayment(note=note)
        case Status.RESULT_READY:
            return MarkResultReady(note=note)
        case Status.RETURNED:
            return ReturnAtCounter(note=note)
        case Status.POSTED:
            if not isinstance(item_number, str) or not item_number.strip():
                return _refused("item_number_required", **where)
            return HandToPost(item_number=normalise_item_number(item_number), note=note)
        case Status.WITHDRAWN:
            return Withdraw(note=note)
        case _:
            if postal_event is not None and _as_status(postal_event) is not target:
                return _refused("postal_event_mismatch", event=postal_event, **where)
            return PostalEvent(event=target, note=note)
