"""The office workflow rules, one test per rule a citizen or an officer would notice."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest

import backoffice.domain as domain
from backoffice.domain import (
    FINAL,
    LEGACY_STATUS,
    POSTAL_EVENTS,
    STATUS_CODE,
    TRANSITIONS,
    Accept,
    Command,
    Dossier,
    Extend,
    HandToPost,
    MarkResultReady,
    NotAccept,
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
from tests.backoffice.workflow_helpers import at, bad_s10, context, no, ok, received, s10

OFFICER = context(Role.OFFICER)
CITIZEN = context(Role.CITIZEN)
CLERK = context(Role.POSTAL_CLERK)
DOMAIN_DIR = Path(domain.__file__).parent


def walk(dossier: Dossier, *steps: tuple[Command, Role]) -> Dossier:
    for command, role in steps:
        dossier = ok(dossier, command, context(role)).dossier
    return dossier


def at_status(status: Status, **changes: Any) -> Dossier:
    return dataclasses.replace(received(), status=status, **changes)


# --- reception -------------------------------------------------------------------------------


# The §2.4 names that databases from before the office owned dossiers still hold, in code order.
OLD_STATUSES = (
    "new",
    "accepted",
    "not_accepted",
    "in_progress",
    "supplement_requested",
    "payment_requested",
    "withdrawn",
    "stopped",
    "processed",
    "result_returned",
)


def test_receive_sets_the_appointment_date_with_the_three_pm_cut_off() -> None:
    # Friday 13 March 2026: 14:59 counts that day, 15:01 counts from Monday 16 March.
    before = receive("C-1", "25747", "1.001193", 3, "counter", context(now=at(2026, 3, 13, 14, 59)))
    after = receive("C-2", "25747", "1.001193", 3, "counter", context(now=at(2026, 3, 13, 15, 1)))
    assert before.dossier.due_date == date(2026, 3, 18)
    assert after.dossier.due_date == date(2026, 3, 19)
    assert after.dossier.status is Status.RECEIVED
    assert after.dossier.version == 0
    (event,) = after.events
    assert (event.kind, event.from_status, event.to_status) == ("received", None, Status.RECEIVED)
    assert event.details["due_date"] == "2026-03-19"
    assert after.audit.action == "received"
    assert after.audit.target == "dossier:C-2"


def test_a_procedure_with_no_stated_time_promises_no_date_even_after_a_supplement() -> None:
    # A land mediation takes 30 to 40 days, not a count of working days: no appointment.
    opened = receive("C-3", "25747", "1.012812", None, "counter", context(now=at(2026, 3, 9)))
    assert opened.dossier.due_date is None
    assert opened.events[0].details["due_date"] is None
    dossier = walk(
        received(processing_days=None, now=at(2026, 3, 9)),
        (Accept(), Role.OFFICER),
        (RequestSupplement(("Sơ đồ thửa đất",)), Role.OFFICER),
    )
    answered = ok(dossier, Supplemented(), context(Role.CITIZEN, at(2026, 3, 20, 10, 0)))
    assert answered.dossier.status is Status.IN_PROGRESS
    assert answered.dossier.due_date is None
    assert answered.events[0].details["due_date"] is None


def test_receive_refuses_a_naive_time_and_negative_days() -> None:
    naive = dataclasses.replace(OFFICER, now=OFFICER.now.replace(tzinfo=None))
    with pytest.raises(ValueError, match="aware"):
        receive("C", "25747", "1.001193", 3, "counter", naive)
    with pytest.raises(ValueError, match="zero or more"):
        receive("C", "25747", "1.001193", -1, "counter", OFFICER)


# --- happy paths -----------------------------------------------------------------------------


def test_counter_path_with_a_fee() -> None:
    dossier = received()
    steps: list[tuple[Command, Role, Status]] = [
        (Accept(), Role.OFFICER, Status.ACCEPTED),
        (StartProcessing(), Role.OFFICER, Status.IN_PROGRESS),
        (RequestPayment(50_000), Role.OFFICER, Status.PAYMENT_REQUESTED),
        (RecordPayment(), Role.OFFICER, Status.PAID),
        (StartProcessing(), Role.OFFICER, Status.IN_PROGRESS),
        (MarkResultReady(note="đã ký"), Role.OFFICER, Status.RESULT_READY),
        (ReturnAtCounter(), Role.OFFICER, Status.RETURNED),
    ]
    for version, (command, role, target) in enumerate(steps, start=1):
        outcome = ok(dossier, command, context(role))
        (event,) = outcome.events
        assert (event.from_status, event.to_status) == (dossier.status, target)
        assert event.kind == "transition"
        assert outcome.audit.action == f"transition:{dossier.status}->{target}"
        assert outcome.dossier.version == version
        assert outcome.dossier.due_date == dossier.due_date
        dossier = outcome.dossier
    assert dossier.paid and dossier.amount_due == 50_000
    assert dossier.status in FINAL
    for role in Role:
        assert allowed(dossier, role) == ()


def test_post_path_with_a_failed_attempt() -> None:
    dossier = walk(
        received(result_delivery="post"),
        (Accept(), Role.OFFICER),
        (MarkResultReady(), Role.OFFICER),
    )
    number = s10(71758)
    spaced = f"{number[:2].lower()} {number[2:5]} {number[5:8]} {number[8:11]} {number[11:]}"
    posted = ok(dossier, HandToPost(spaced), CLERK)
    assert posted.dossier.postal_item == number
    assert posted.events[0].details["item_number"] == number
    dossier = walk(
        posted.dossier,
        (PostalEvent(Status.COLLECTED), Role.POSTAL_CLERK),
        (PostalEvent(Status.IN_TRANSIT), Role.POSTAL_CLERK),
        (PostalEvent(Status.DELIVERY_FAILED), Role.POSTAL_CLERK),
        (PostalEvent(Status.IN_TRANSIT), Role.OFFICER),
        (PostalEvent(Status.DELIVERED), Role.POSTAL_CLERK),
    )
    assert dossier.status is Status.DELIVERED
    assert dossier.version == 8


def test_a_result_the_post_brought_back_is_sent_again_under_a_new_number() -> None:
    first, second = s10(71758), s10(96633102)
    dossier = walk(
        at_status(Status.RESULT_READY),
        (HandToPost(first), Role.POSTAL_CLERK),
        (PostalEvent(Status.IN_TRANSIT), Role.POSTAL_CLERK),
        (PostalEvent(Status.DELIVERY_FAILED), Role.POSTAL_CLERK),
        (PostalEvent(Status.RETURNED_TO_OFFICE), Role.POSTAL_CLERK),
    )
    assert allowed(dossier, Role.OFFICER) == (Status.RETURNED, Status.POSTED)
    assert no(dossier, HandToPost(first.lower())).reason == "item_number_reused"
    again = ok(dossier, HandToPost(second))
    assert again.dossier.postal_item == second
    assert again.events[0].details["previous_item_number"] == first
    # or the citizen comes to the counter for it
    assert ok(dossier, ReturnAtCounter()).dossier.status is Status.RETURNED


def test_a_counter_dossier_may_still_go_by_post() -> None:
    dossier = at_status(Status.RESULT_READY)
    assert dossier.result_delivery == "counter"
    assert ok(dossier, HandToPost(s10(12345678))).dossier.status is Status.POSTED


def test_received_can_go_straight_to_not_accepted_with_a_reason() -> None:
    outcome = ok(received(), NotAccept("  Không thuộc thẩm quyền của xã  "))
    assert outcome.dossier.status is Status.NOT_ACCEPTED
    assert outcome.events[0].details == {"reason": "Không thuộc thẩm quyền của xã"}
    # the reason is free text and may name someone: it stays out of the audit log
    assert outcome.audit.details == {}


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "command", "role"),
    [
        (Status.RECEIVED, Accept(), Role.CITIZEN),
        (Status.RECEIVED, Accept(), Role.POSTAL_CLERK),
        (Status.ACCEPTED, MarkResultReady(), Role.LEADER),
        (Status.ACCEPTED, Withdraw(), Role.ADMIN),
        (Status.ACCEPTED, Withdraw(), Role.SYSTEM),
        (Status.SUPPLEMENT_REQUESTED, Supplemented(), Role.OFFICER),
        (Status.RESULT_READY, ReturnAtCounter(), Role.POSTAL_CLERK),
        (Status.RESULT_READY, HandToPost(s10(1)), Role.CITIZEN),
        (Status.IN_PROGRESS, Extend(date(2026, 4, 30), "Xin lỗi"), Role.CITIZEN),
    ],
)
def test_wrong_role(status: Status, command: Command, role: Role) -> None:
    refused = no(at_status(status), command, context(role))
    assert refused.reason == "role"
    assert role.value in refused.detail
    assert texts.ROLE_LABELS[role] in refused.message


@pytest.mark.parametrize("role", [Role.LEADER, Role.ADMIN, Role.SYSTEM])
def test_read_only_roles_have_no_buttons(role: Role) -> None:
    for status in Status:
        assert allowed(at_status(status), role) == ()


@pytest.mark.parametrize("status", sorted(FINAL))
@pytest.mark.parametrize(
    "command",
    [
        Accept(),
        Refuse("x"),
        Withdraw(),
        ReturnAtCounter(),
        HandToPost(s10(5)),
        PostalEvent(Status.IN_TRANSIT),
        Extend(date(2027, 1, 4), "Xin lỗi"),
    ],
)
def test_nothing_leaves_a_final_status(status: Status, command: Command) -> None:
    refused = no(at_status(status), command)
    assert refused.reason == "final_status"
    assert status.value in refused.detail
    assert texts.STATUS_LABELS[status] in refused.message


def test_withdrawal_only_until_processing_ends() -> None:
    assert ok(at_status(Status.IN_PROGRESS), Withdraw(), CITIZEN).dossier.status is (
        Status.WITHDRAWN
    )
    assert ok(at_status(Status.PAID), Withdraw(), OFFICER).dossier.status is Status.WITHDRAWN
    for status in (Status.RESULT_READY, Status.POSTED, Status.RETURNED_TO_OFFICE):
        assert no(at_status(status), Withdraw(), CITIZEN).reason == "not_allowed_from"


def test_only_the_citizens_answer_ends_a_supplement_request() -> None:
    refused = no(at_status(Status.SUPPLEMENT_REQUESTED, supplements=1), StartProcessing())
    assert refused.reason == "not_allowed_from"
    assert "supplement_requested" in refused.detail and "in_progress" in refused.detail


def test_a_second_supplement_request_is_refused() -> None:
    dossier = walk(
        received(),
        (RequestSupplement(("Giấy chứng sinh",)), Role.OFFICER),
        (Supplemented(files=("sha256:ab",)), Role.CITIZEN),
    )
    assert dossier.supplements == 1
    assert Status.SUPPLEMENT_REQUESTED not in allowed(dossier, Role.OFFICER)
    refused = no(dossier, RequestSupplement(("Tờ khai",)))
    assert refused.reason == "supplement_used"
    assert "một lần" in refused.message


def test_supplement_items_are_cleaned_and_must_not_be_empty() -> None:
    outcome = ok(
        at_status(Status.ACCEPTED),
        RequestSupplement((" Giấy chứng sinh ", "", "Giấy  chứng sinh", "Tờ khai")),
    )
    assert outcome.dossier.missing == ("Giấy chứng sinh", "Tờ khai")
    assert outcome.events[0].details["missing"] == ["Giấy chứng sinh", "Tờ khai"]
    assert outcome.audit.details["missing_count"] == 2
    assert no(at_status(Status.ACCEPTED), RequestSupplement(("  ", ""))).reason == (
        "missing_required"
    )
    assert no(at_status(Status.ACCEPTED), RequestSupplement(())).reason == "missing_required"


def test_the_supplement_deadline_is_seven_working_days() -> None:
    # Thursday 12 March 2026 + 7 working days, skipping one weekend: Monday 23 March.
    outcome = ok(
        at_status(Status.ACCEPTED), RequestSupplement(("Tờ khai",)), context(now=at(2026, 3, 12))
    )
    assert outcome.dossier.supplement_deadline == date(2026, 3, 23)
    assert outcome.events[0].details["supplement_deadline"] == "2026-03-23"


def test_after_a_supplement_the_period_restarts_from_the_answer() -> None:
    dossier = walk(
        received(processing_days=3, now=at(2026, 3, 9)),
        (Accept(), Role.OFFICER),
        (RequestSupplement(("Giấy chứng sinh",)), Role.OFFICER),
    )
    assert dossier.due_date == date(2026, 3, 12)
    # Answered Friday 20 March at 15:30: after the cut-off, so it counts from Monday 23 March,
    # and 3 working days later is Thursday 26 March.
    late = ok(
        dossier, Supplemented(files=("sha256:ab",)), context(Role.CITIZEN, at(2026, 3, 20, 15, 30))
    )
    assert late.dossier.status is Status.IN_PROGRESS
    assert late.dossier.due_date == date(2026, 3, 26)
    assert late.events[0].details["old_due_date"] == "2026-03-12"
    assert late.events[0].details["due_date"] == "2026-03-26"
    assert late.events[0].details["files"] == ["sha256:ab"]
    # The same answer at 14:30 counts from Friday itself: Wednesday 25 March.
    early = ok(dossier, Supplemented(), context(Role.CITIZEN, at(2026, 3, 20, 14, 30)))
    assert early.dossier.due_date == date(2026, 3, 25)


def test_a_reason_is_required_to_turn_away_or_stop() -> None:
    assert no(received(), NotAccept("   ")).reason == "reason_required"
    refused = no(at_status(Status.IN_PROGRESS), Refuse(""))
    assert refused.reason == "reason_required"
    assert "refused" in refused.detail


@pytest.mark.parametrize("amount", [0, -5_000, True, cast(int, 12.5), cast(int, "50000")])
def test_a_payment_request_needs_a_positive_whole_amount(amount: int) -> None:
    assert no(at_status(Status.IN_PROGRESS), RequestPayment(amount)).reason == "amount_required"


@pytest.mark.parametrize(
    "number", [bad_s10(71758), "EE12345678VN", "VNP-2026-00042", "", cast(str, None)]
)
def test_a_postal_item_number_needs_a_valid_s10_check_digit(number: str) -> None:
    refused = no(at_status(Status.RESULT_READY), HandToPost(number), CLERK)
    assert refused.reason == "bad_item_number"
    assert "S10" in refused.message


def test_posted_is_not_a_postal_event() -> None:
    dossier = at_status(Status.POSTED, postal_item=s10(1))
    assert no(dossier, PostalEvent(Status.POSTED), CLERK).reason == "not_a_postal_event"
    assert no(dossier, PostalEvent(Status.DELIVERED), CLERK).reason == "not_allowed_from"
    assert ok(dossier, PostalEvent(cast(Status, "collected")), CLERK).dossier.status is (
        Status.COLLECTED
    )


# --- the one apology and new date ------------------------------------------------------------


def test_one_extension_moves_the_due_date_and_nothing_else() -> None:
    dossier = at_status(Status.IN_PROGRESS, due_date=date(2026, 3, 12))
    outcome = ok(dossier, Extend(date(2026, 3, 20), "Xin lỗi ông/bà vì sự chậm trễ"))
    assert outcome.dossier.status is Status.IN_PROGRESS
    assert outcome.dossier.due_date == date(2026, 3, 20)
    assert outcome.dossier.extended
    assert outcome.dossier.version == dossier.version + 1
    (event,) = outcome.events
    assert (event.kind, event.from_status, event.to_status) == (
        "extended",
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
    )
    assert event.details["old_due_date"] == "2026-03-12"
    assert event.details["new_date"] == "2026-03-20"
    assert outcome.audit.action == "extended"
    assert "apology" not in outcome.audit.details
    second = no(outcome.dossier, Extend(date(2026, 3, 27), "Xin lỗi lần nữa"))
    assert second.reason == "extension_used"


def test_the_new_date_must_be_later_than_the_due_date_and_today() -> None:
    dossier = at_status(Status.IN_PROGRESS, due_date=date(2026, 3, 12))
    same = no(dossier, Extend(date(2026, 3, 12), "Xin lỗi"))
    assert same.reason == "date_not_later"
    assert "2026-03-12" in same.detail and "12/03/2026" in same.message
    # overdue already (today 16 March): a date after the old due date but not after today
    overdue = context(now=at(2026, 3, 16))
    assert no(dossier, Extend(date(2026, 3, 16), "Xin lỗi"), overdue).reason == "date_not_later"
    assert ok(dossier, Extend(date(2026, 3, 17), "Xin lỗi"), overdue).dossier.extended


def test_an_extension_needs_an_apology_and_an_open_dossier() -> None:
    dossier = at_status(Status.IN_PROGRESS)
    assert no(dossier, Extend(date(2026, 5, 4), "  ")).reason == "apology_required"
    for status in (Status.RESULT_READY, Status.POSTED, Status.RETURNED_TO_OFFICE):
        refused = no(at_status(status), Extend(date(2026, 5, 4), "Xin lỗi"))
        assert refused.reason == "extension_too_late"


# --- the due date and the overdue flag -------------------------------------------------------


def test_overdue_only_while_the_office_owes_the_result() -> None:
    due = date(2026, 3, 12)
    assert at_status(Status.IN_PROGRESS, due_date=due).overdue(date(2026, 3, 13))
    assert not at_status(Status.IN_PROGRESS, due_date=due).overdue(date(2026, 3, 12))
    assert at_status(Status.PAYMENT_REQUESTED, due_date=due).overdue(date(2026, 3, 13))
    for status in (Status.RESULT_READY, Status.POSTED, Status.SUPPLEMENT_REQUESTED, *FINAL):
        assert not at_status(status, due_date=due).overdue(date(2026, 4, 1))
    assert not at_status(Status.IN_PROGRESS, due_date=None).overdue(date(2030, 1, 1))


# --- command_for (REST "to" and the CLI) -----------------------------------------------------


def test_command_for_builds_each_command() -> None:
    assert command_for("accepted") == Accept()
    assert command_for(Status.NOT_ACCEPTED, reason=" sai thẩm quyền ") == NotAccept(
        "sai thẩm quyền"
    )
    assert command_for("refused", reason="hết hạn bổ sung", note="n") == Refuse(
        "hết hạn bổ sung", note="n"
    )
    assert command_for("in_progress") == StartProcessing()
    assert command_for("supplement_requested", missing=["Tờ khai", "Tờ khai"]) == (
        RequestSupplement(("Tờ khai",))
    )
    assert command_for("payment_requested", amount=20_000) == RequestPayment(20_000)
    assert command_for("paid") == RecordPayment()
    assert command_for("result_ready") == MarkResultReady()
    assert command_for("returned") == ReturnAtCounter()
    assert command_for("posted", item_number=" ee000717581vn ") == HandToPost("EE000717581VN")
    assert command_for("withdrawn") == Withdraw()
    for event in POSTAL_EVENTS:
        assert command_for(event) == PostalEvent(event)
    assert command_for("delivered", postal_event="delivered") == PostalEvent(Status.DELIVERED)


@pytest.mark.parametrize(
    ("to", "kwargs", "reason"),
    [
        ("not_accepted", {}, "reason_required"),
        ("refused", {"reason": "  "}, "reason_required"),
        ("supplement_requested", {"missing": [" "]}, "missing_required"),
        ("payment_requested", {}, "amount_required"),
        ("payment_requested", {"amount": 0}, "amount_required"),
        ("posted", {}, "item_number_required"),
        ("received", {}, "not_a_target"),
        ("new", {}, "unknown_target"),
        ("delivered", {"postal_event": "in_transit"}, "postal_event_mismatch"),
    ],
)
def test_command_for_says_what_is_missing(to: str, kwargs: dict[str, Any], reason: str) -> None:
    refused = command_for(to, **kwargs)
    assert isinstance(refused, Refused)
    assert refused.reason == reason
    assert refused.detail and refused.message


# --- malformed input never raises ------------------------------------------------------------


def test_advance_refuses_malformed_input_instead_of_raising() -> None:
    dossier = received()
    assert no(dossier, cast(Command, "accept")).reason == "unknown_command"
    assert no(at_status(cast(Status, "new")), Accept()).reason == "unknown_status"
    naive = dataclasses.replace(OFFICER, now=OFFICER.now.replace(tzinfo=None))
    assert no(dossier, Accept(), naive).reason == "bad_context"
    assert no(dossier, Extend(cast(date, "2026-04-01"), "Xin lỗi")).reason == "bad_date"
    assert no(dossier, Accept(note=cast(str, None))).reason == "invalid_input"
    broken = dataclasses.replace(OFFICER, appointment=lambda _at, _days: date.fromisoformat("x"))
    refused = no(
        at_status(Status.SUPPLEMENT_REQUESTED),
        Supplemented(),
        dataclasses.replace(broken, role=Role.CITIZEN),
    )
    assert refused.reason == "calendar_error"


def test_stored_names_still_parse() -> None:
    assert set(OLD_STATUSES) <= set(LEGACY_STATUS)
    assert LEGACY_STATUS["new"] is Status.RECEIVED
    assert LEGACY_STATUS["processed"] is Status.RESULT_READY
    assert LEGACY_STATUS["result_returned"] is Status.RETURNED
    assert LEGACY_STATUS["stopped"] is Status.REFUSED
    assert LEGACY_STATUS["in_progress"] is Status.IN_PROGRESS
    # the stored order is the code order 1..10
    assert [STATUS_CODE[LEGACY_STATUS[name]] for name in OLD_STATUSES] == list(range(1, 11))
    assert set(STATUS_CODE) == set(Status)


# --- the package stays what it claims --------------------------------------------------------


def test_the_mermaid_drawing_matches_the_table() -> None:
    drawing = (DOMAIN_DIR / "workflow.md").read_text(encoding="utf-8")
    drawn = {
        (Status(a), Status(b))
        for a, b in re.findall(r"^\s+([a-z_]+) --> ([a-z_]+):", drawing, flags=re.MULTILINE)
    }
    table = {(a, b) for a, row in TRANSITIONS.items() for b in row}
    assert drawn == table
    for status in FINAL:
        assert TRANSITIONS[status] == {}


def test_every_refusal_has_both_sentences() -> None:
    for reason, (english, vietnamese) in texts.REFUSALS.items():
        assert english.endswith(".") and vietnamese.endswith("."), reason
    assert set(texts.STATUS_LABELS) == set(Status)
    assert set(texts.ROLE_LABELS) == set(Role)


def test_the_domain_reads_no_clock_and_no_environment() -> None:
    for path in DOMAIN_DIR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("datetime.now", "date.today", ".utcnow", "time.time", "os.environ"):
            assert forbidden not in source, f"{path.name} uses {forbidden}"


def test_advance_does_not_change_the_dossier_it_was_given() -> None:
    dossier = received()
    before = dataclasses.asdict(dossier)
    advance(dossier, Accept(), OFFICER)
    advance(dossier, Refuse(""), OFFICER)
    assert dataclasses.asdict(dossier) == before
