"""Random command sequences by random roles: the workflow's invariants hold after every step.

Half of the steps pick a move ``allowed()`` offers (so walks reach the postal states), half
a command of any kind with parameters good or bad. After every step the table is also checked
against itself: each target ``allowed()`` lists is accepted with well-formed parameters, and
each one it does not list is refused, for every role.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import hypothesis
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.domain import (
    FINAL,
    Accept,
    Command,
    Dossier,
    Extend,
    HandToPost,
    MarkResultReady,
    NotAccept,
    Outcome,
    PostalEvent,
    RecordPayment,
    Refuse,
    Refused,
    RequestPayment,
    RequestSupplement,
    ReturnAtCounter,
    Role,
    StartProcessing,
    Status,
    Supplemented,
    Withdraw,
    advance,
    allowed,
    command_for,
    receive,
    texts,
)
from tests.backoffice.workflow_helpers import at, bad_s10, context, s10

START = at(2026, 3, 2, 8, 0)
NOTES = st.sampled_from(["", "ghi chú", "  "])
REASONS = st.sampled_from(["", "   ", "Không thuộc thẩm quyền", "Hết hạn bổ sung"])
ITEMS = st.lists(st.sampled_from(["", " ", "Tờ khai", "Giấy chứng sinh", " Tờ khai "]), max_size=4)


def well_formed(dossier: Dossier, target: Status) -> Command | None:
    """A command for ``target`` with good parameters; None for a status no command reaches."""
    if target is Status.IN_PROGRESS and dossier.status is Status.SUPPLEMENT_REQUESTED:
        return Supplemented(files=("sha256:0f", "sha256:1e"), text="Em gửi bổ sung ạ")
    if target is Status.POSTED:
        # the version only grows, so this number differs from any the dossier went out under
        return HandToPost(s10(10_000 + dossier.version))
    command = command_for(target, reason="Không đủ điều kiện", missing=("Tờ khai",), amount=25_000)
    return None if isinstance(command, Refused) else command


KINDS = st.sampled_from(
    [
        Accept,
        NotAccept,
        StartProcessing,
        RequestSupplement,
        Supplemented,
        RequestPayment,
        RecordPayment,
        Refuse,
        MarkResultReady,
        ReturnAtCounter,
        HandToPost,
        PostalEvent,
        Withdraw,
        Extend,
    ]
)
FILES = st.lists(st.sampled_from(["sha256:aa", "files/1.jpg", ""]), max_size=3)
AMOUNTS = st.integers(-1_000, 200_000)
SERIALS = st.integers(0, 99_999_999)
STATUSES = st.sampled_from(list(Status))
# the roles that can act come up more often than the read-only ones, which are refused anyway
ROLES = st.sampled_from([Role.OFFICER] * 3 + [Role.POSTAL_CLERK] * 2 + [Role.CITIZEN] * 2 + [*Role])
APOLOGIES = st.sampled_from(["", "Xin lỗi ông/bà vì sự chậm trễ"])


@st.composite
def any_command(draw: st.DrawFn, dossier: Dossier) -> Command:
    """Any kind of command, its parameters sometimes wrong (drawn kind first: it is cheap)."""
    note = draw(NOTES)
    kind = draw(KINDS)
    if kind in (NotAccept, Refuse):
        return (
            NotAccept(draw(REASONS), note=note)
            if kind is NotAccept
            else Refuse(draw(REASONS), note=note)
        )
    if kind is RequestSupplement:
        return RequestSupplement(tuple(draw(ITEMS)), note=note)
    if kind is Supplemented:
        return Supplemented(files=tuple(draw(FILES)), note=note)
    if kind is RequestPayment:
        return RequestPayment(draw(AMOUNTS), note=note)
    if kind is HandToPost:
        serial = draw(SERIALS)
        number = [s10(serial), bad_s10(serial), "", "VNP-2026-1", dossier.postal_item or ""]
        return HandToPost(number[draw(st.integers(0, 4))], note=note)
    if kind is PostalEvent:
        return PostalEvent(draw(STATUSES), note=note)
    if kind is Extend:
        due = dossier.due_date or START.date()
        days = draw(st.integers(-10, 30))
        return Extend(due + timedelta(days=days), draw(APOLOGIES), note=note)
    simple = {
        Accept: Accept,
        StartProcessing: StartProcessing,
        RecordPayment: RecordPayment,
        MarkResultReady: MarkResultReady,
        ReturnAtCounter: ReturnAtCounter,
        Withdraw: Withdraw,
    }
    return simple[kind](note=note)


def check_allowed_agrees_with_advance(
    dossier: Dossier, now_minutes: int, roles: tuple[Role, ...] = tuple(Role)
) -> None:
    now = START + timedelta(minutes=now_minutes)
    for role in roles:
        listed = allowed(dossier, role)
        ctx = context(role, now)
        for target in Status:
            command = well_formed(dossier, target)
            if command is None:
                assert target not in listed
                continue
            result = advance(dossier, command, ctx)
            if target in listed:
                assert isinstance(result, Outcome), (dossier.status, role, target, result)
                assert result.dossier.status is target
            else:
                assert isinstance(result, Refused), (dossier.status, role, target)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    processing_days=st.integers(0, 15),
    delivery=st.sampled_from(["counter", "post"]),
)
def test_random_walks_keep_the_invariants(
    data: st.DataObject, processing_days: int, delivery: str
) -> None:
    minutes = data.draw(st.integers(0, 5 * 24 * 60), label="received after")
    dossier = receive(
        "000.00.31.H26-260302-0001",
        "25747",
        "1.001193",
        processing_days,
        "post" if delivery == "post" else "counter",
        context(Role.OFFICER, START + timedelta(minutes=minutes)),
    ).dossier
    for _ in range(data.draw(st.integers(1, 25), label="steps")):
        minutes += data.draw(st.integers(0, 3 * 24 * 60), label="minutes later")
        role = data.draw(ROLES, label="role")
        # Every role at every reachable state is covered exhaustively below; here the table is
        # checked against the states a real walk reaches, for the role about to act.
        check_allowed_agrees_with_advance(dossier, minutes, (role,))
        listed = allowed(dossier, role)
        command: Command | None = None
        # Mostly an onward move, so walks get past reception to the postal states; now and
        # then a move that closes the dossier; otherwise any command at all.
        onward = [target for target in listed if target not in FINAL]
        pick = data.draw(st.integers(0, 19), label="kind of step")
        if onward and pick < 14:
            command = well_formed(dossier, data.draw(st.sampled_from(onward), label="onward"))
        elif listed and pick == 19:
            command = well_formed(dossier, data.draw(st.sampled_from(listed), label="allowed"))
        if command is None:
            command = data.draw(any_command(dossier), label="command")

        result = advance(dossier, command, context(role, START + timedelta(minutes=minutes)))

        if isinstance(result, Refused):
            assert result.reason in texts.REFUSALS
            assert result.reason != "invalid_input", result
            assert result.detail and result.message
            continue
        new = result.dossier
        assert dossier.status not in FINAL, "something left a final status"
        assert new.version == dossier.version + 1
        assert new.supplements <= 1
        assert new.code == dossier.code and new.received_at == dossier.received_at
        (event,) = result.events
        assert (event.from_status, event.to_status) == (dossier.status, new.status)
        assert event.role is role and result.audit.role is role
        assert result.audit.target == f"dossier:{dossier.code}"
        if isinstance(command, Extend):
            assert event.kind == "extended" and result.audit.action == "extended"
            assert new.status is dossier.status
            assert not dossier.extended and new.extended
            assert new.due_date is not None and new.due_date == command.new_date
            assert dossier.due_date is None or new.due_date > dossier.due_date
        else:
            assert event.kind == "transition"
            assert result.audit.action == f"transition:{dossier.status}->{new.status}"
            assert new.status in listed, "advance accepted a move allowed() does not offer"
            assert new.extended == dossier.extended
            if not isinstance(command, Supplemented):
                assert new.due_date == dossier.due_date, f"{command} moved the due date"
        if new.status is Status.POSTED:
            assert new.postal_item is not None and new.postal_item != dossier.postal_item
        dossier = new
        # which states walks reach: shown by pytest --hypothesis-show-statistics
        hypothesis.event(f"reached {dossier.status}")


@settings(max_examples=300, deadline=None)
@given(
    status=st.sampled_from(list(Status)),
    role=st.sampled_from(list(Role)),
    supplements=st.integers(0, 1),
    extended=st.booleans(),
    due=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 31))),
    data=st.data(),
)
def test_any_status_any_command_never_raises(
    status: Status,
    role: Role,
    supplements: int,
    extended: bool,
    due: date | None,
    data: st.DataObject,
) -> None:
    dossier = Dossier(
        code="C",
        commune_code="25747",
        procedure_code="1.001193",
        status=status,
        received_at=START,
        due_date=due,
        processing_days=3,
        result_delivery="counter",
        supplements=supplements,
        extended=extended,
        postal_item=s10(7) if status in (Status.POSTED, Status.RETURNED_TO_OFFICE) else None,
        version=5,
    )
    command = data.draw(any_command(dossier))
    result = advance(dossier, command, context(role, START))
    if status in FINAL:
        assert isinstance(result, Refused) and result.reason == "final_status"
    if isinstance(result, Outcome):
        assert result.dossier.version == 6
        assert len(result.events) == 1


def test_allowed_agrees_with_advance_for_every_status_role_and_counter() -> None:
    """What ``allowed()`` reads (status, role, supplements used) enumerated exhaustively."""
    base = receive(
        "000.00.31.H26-260302-0001", "25747", "1.001193", 3, "post", context(Role.OFFICER, START)
    ).dossier
    for status in Status:
        for supplements in (0, 1):
            dossier = dataclasses.replace(
                base,
                status=status,
                supplements=supplements,
                postal_item=s10(7) if status is Status.RETURNED_TO_OFFICE else None,
            )
            check_allowed_agrees_with_advance(dossier, 60)
