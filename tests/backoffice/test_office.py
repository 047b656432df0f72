"""The office as officers and citizens meet it: codes, due dates, moves by the rules, nothing
written by a refused move, and two moves at once never both applied. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.calendar import WorkCalendar
from backoffice.domain import (
    Accept,
    Command,
    MarkResultReady,
    NotAccept,
    Refused,
    RequestSupplement,
    ReturnAtCounter,
    Role,
    StartProcessing,
    Supplemented,
    Withdraw,
)
from backoffice.office import OfficeService, Submission
from bot.app import Knowledge
from dialogs.model import ConversationKey
from knowledge.dossier_code import format_code
from storage.audit import AuditRepository
from storage.db import create_engine, session_factory
from storage.dossiers import Applied, Dossier, DossierRepository
from storage.migrate import upgrade
from storage.outbox import OutboxRepository
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV, reset_postgres

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCY = "000.00.31.H26"
COMMUNE = "10642"
PROCEDURE = "1.001022"  # 3 working days in the bundled catalogue
DAYS = 3
# Friday 27 November 2026, 10:00 in Hà Nội.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=VIETNAM).astimezone(UTC)
FILER = ConversationKey(channel="zalo", chat_id="chat-9", user_id="user-9")
CHILD, ID_NUMBER, MOTHER, PHONE = "Trần Minh Khôi", "001099012345", "Trần Thị Lan", "0912345678"
PERSONAL = (CHILD, ID_NUMBER, MOTHER, PHONE)
OFFICER = "officer:lan"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at_local(self, *parts: int) -> None:
        self.now = datetime(*parts, tzinfo=VIETNAM).astimezone(UTC)


@dataclasses.dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    store: DossierRepository
    office: OfficeService
    clock: Clock
    outbox: OutboxRepository
    audit: AuditRepository

    async def file(self, key: str = "sub-1", **changes: Any) -> Dossier:
        receipt = await self.office.receive(submission(key, **changes))
        found = await self.store.by_code(receipt.code)
        assert found is not None
        return found

    async def move(
        self, code: str, command: Command, *, role: Role = Role.OFFICER, actor: str = OFFICER
    ) -> Applied | Refused:
        return await self.office.move(code, command, actor=actor, role=role)

    async def applied(self, code: str, command: Command, **who: Any) -> Applied:
        result = await self.move(code, command, **who)
        assert isinstance(result, Applied), result
        return result

    async def notices(self, code: str) -> list[Any]:
        return [
            item
            for item in await self.outbox.pending()
            if item.topic.startswith("notify:") and item.payload.get("code") == code
        ]

    async def trace(self, code: str) -> tuple[Any, ...]:
        """Everything a move leaves behind: the row, its history, its audit, its notices."""
        dossier = await self.store.by_code(code)
        assert dossier is not None
        return (
            dossier,
            await self.store.events(dossier.id),
            await self.audit.for_target(f"dossier:{code}"),
            await self.notices(code),
        )


def submission(key: str = "sub-1", **changes: Any) -> Submission:
    base: dict[str, Any] = {
        "submission_key": key,
        "commune_code": COMMUNE,
        "procedure_code": PROCEDURE,
        "filer_key": FILER,
        "submitted_at": NOW,
        "fields": {"ho_ten": CHILD, "so_cccd": ID_NUMBER, "so_dien_thoai": PHONE},
        "filer": {"ho_ten": MOTHER, "quan_he": "mẹ"},
    }
    base.update(changes)
    return Submission(**base)


def make_office(
    store: DossierRepository, knowledge: Knowledge, clock: Callable[[], datetime]
) -> OfficeService:
    return OfficeService(
        store,
        catalogue=knowledge.catalogue,
        calendar=WorkCalendar(),
        timezone=VIETNAM,
        agency_for=lambda commune: AGENCY,
        clock=clock,
    )


async def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    else:
        url = os.environ.get(POSTGRES_URL_ENV, "")
        if not url:
            pytest.skip(POSTGRES_SKIP_REASON)
        await reset_postgres(url)
    await upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, knowledge: Knowledge
) -> AsyncIterator[World]:
    engine = create_engine(await database(request, tmp_path))
    sessions = session_factory(engine)
    clock = Clock()
    store = DossierRepository(sessions, timezone=VIETNAM, code_format=format_code)
    try:
        yield World(
            sessions=sessions,
            store=store,
            office=make_office(store, knowledge, clock),
            clock=clock,
            outbox=OutboxRepository(sessions),
            audit=AuditRepository(sessions),
        )
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------- reception


async def test_the_code_carries_the_day_in_hanoi_not_utc(world: World) -> None:
    # 06:00 on Friday 27 November in Hà Nội is still Thursday in UTC.
    world.clock.at_local(2026, 11, 27, 6, 0)
    early = await world.office.receive(submission("early"))
    world.clock.at_local(2026, 11, 27, 9, 30)
    later = await world.office.receive(submission("later"))

    assert early.code == f"{AGENCY}-261127-0001"
    assert later.code == f"{AGENCY}-261127-0002"
    world.clock.at_local(2026, 11, 28, 8, 0)
    assert (await world.office.receive(submission("next-day"))).code == f"{AGENCY}-261128-0001"


@pytest.mark.parametrize(
    ("hour", "minute", "due"),
    [
        # Friday before the cut-off: Friday counts, Mon 30, Tue 1, Wed 2.
        (14, 59, date(2026, 12, 2)),
        (15, 0, date(2026, 12, 2)),
        # After 15:00 it counts as received on Monday: Tue 1, Wed 2, Thu 3.
        (15, 1, date(2026, 12, 3)),
    ],
)
async def test_the_due_date_counts_working_days_from_the_15_00_cut_off(
    world: World, hour: int, minute: int, due: date
) -> None:
    world.clock.at_local(2026, 11, 27, hour, minute)
    receipt = await world.office.receive(submission())

    assert (receipt.status, receipt.due_date, receipt.created) == ("received", due, True)
    view = await world.office.get(receipt.code)
    assert view is not None and view.dossier.due_date == due
    [first] = view.history
    assert (first.kind, first.from_status, first.status) == ("received", None, "received")
    assert (first.actor, first.role) == (FILER.as_str(), "citizen")


async def test_a_saturday_filing_is_received_on_monday(world: World) -> None:
    world.clock.at_local(2026, 11, 28, 9, 0)
    receipt = await world.office.receive(submission())
    assert receipt.code == f"{AGENCY}-261128-0001"  # the code keeps the calendar day
    assert receipt.due_date == date(2026, 12, 3)  # Mon 30 received; Tue, Wed, Thu


async def test_the_same_submission_twice_files_one_dossier(world: World) -> None:
    first = await world.office.receive(submission())
    world.clock.now = NOW + timedelta(minutes=7)
    again = await world.office.receive(submission())

    assert first.created and not again.created
    assert (again.code, again.received_at, again.due_date) == (
        first.code,
        first.received_at,
        first.due_date,
    )
    assert [d.code for d in await world.office.list()] == [first.code]
    stored = await world.store.by_code(first.code)
    assert stored is not None
    assert len(await world.store.events(stored.id)) == 1


async def test_concurrent_filings_of_one_key_file_one_dossier(world: World) -> None:
    receipts = await asyncio.gather(*(world.office.receive(submission()) for _ in range(6)))

    assert sum(r.created for r in receipts) == 1
    assert len({r.code for r in receipts}) == 1
    assert len(await world.office.list()) == 1
    # The day's number was taken once: the next filing is 0002, not 0007.
    other = await world.office.receive(submission("sub-2"))
    assert other.code.endswith("-0002")


async def test_reception_is_in_the_audit_log_without_personal_data(world: World) -> None:
    filed = await world.file()
    audit = await world.audit.for_target(f"dossier:{filed.code}")
    assert [a.action for a in audit] == ["received"]
    assert not any(p in repr(audit) for p in PERSONAL)


# --------------------------------------------------------------------------- moves


async def test_a_move_writes_status_history_audit_and_the_filers_notice(world: World) -> None:
    filed = await world.file()
    world.clock.now = NOW + timedelta(hours=1)

    applied = await world.applied(filed.code, Accept(note="đủ giấy tờ"))

    assert (applied.dossier.status, applied.dossier.version) == ("accepted", 1)
    history = await world.store.events(filed.id)
    assert [(e.from_status, e.status) for e in history] == [
        (None, "received"),
        ("received", "accepted"),
    ]
    step = history[-1]
    assert (step.actor, step.role, step.note, step.at) == (
        OFFICER,
        "officer",
        "đủ giấy tờ",
        NOW + timedelta(hours=1),
    )
    moves = [
        a for a in await world.audit.for_target(f"dossier:{filed.code}") if a.action != "received"
    ]
    assert [(a.actor, a.action) for a in moves] == [(OFFICER, "transition:received->accepted")]
    [notice] = await world.notices(filed.code)
    assert notice.topic == "notify:zalo"
    assert notice.payload["event_id"] == step.id
    assert (notice.payload["chat_id"], notice.payload["user_id"]) == ("chat-9", "user-9")


async def test_free_text_naming_people_stays_out_of_the_audit_log(world: World) -> None:
    filed = await world.file()
    await world.applied(filed.code, Accept())
    await world.applied(
        filed.code,
        RequestSupplement(
            missing=(f"Giấy chứng sinh của bé {CHILD}", f"CCCD số {ID_NUMBER} của mẹ"),
            note=f"đã gọi {PHONE}",
        ),
    )
    refused = await world.file("sub-2")
    await world.applied(refused.code, NotAccept(reason=f"{MOTHER} không phải người yêu cầu"))

    audit = [
        *await world.audit.for_target(f"dossier:{filed.code}"),
        *await world.audit.for_target(f"dossier:{refused.code}"),
    ]
    assert len([a for a in audit if a.action.startswith("transition:")]) == 3
    assert not any(p in repr(audit) for p in PERSONAL)
    # The dossier's own history keeps what the citizen needs to read.
    last = (await world.store.events(filed.id))[-1]
    assert last.details["missing"][0].endswith(CHILD)


@pytest.mark.parametrize(
    "case",
    [
        "citizen accepts",
        "leader accepts",
        "postal clerk accepts",
        "final status",
        "second supplement",
    ],
)
async def test_a_refused_move_writes_nothing_at_all(world: World, case: str) -> None:
    filed = await world.file()
    command: Command = Accept()
    role = Role.OFFICER
    if case == "citizen accepts":
        role = Role.CITIZEN
    elif case == "leader accepts":
        role = Role.LEADER
    elif case == "postal clerk accepts":
        role = Role.POSTAL_CLERK
    elif case == "final status":
        await world.applied(filed.code, NotAccept(reason="sai thủ tục"))
    else:
        await world.applied(filed.code, RequestSupplement(missing=("tờ khai",)))
        await world.applied(filed.code, Supplemented(text="đã gửi"), role=Role.CITIZEN)
        command = RequestSupplement(missing=("bản sao",))
    before = await world.trace(filed.code)
    world.clock.now = NOW + timedelta(hours=2)

    result = await world.move(filed.code, command, role=role)

    assert isinstance(result, Refused)
    expected = {
        "citizen accepts": "role",
        "leader accepts": "role",
        "postal clerk accepts": "role",
        "final status": "final_status",
        "second supplement": "supplement_used",
    }[case]
    assert result.reason == expected
    assert result.message and result.detail
    assert await world.trace(filed.code) == before


# --------------------------------------------------------------------------- races


class RacingStore(DossierRepository):
    """Holds the first ``readers`` reads of a dossier until all of them have read: every move
    then decides on the same version, and all but one lose the compare-and-set."""

    def __init__(self, *args: Any, readers: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._barrier = asyncio.Barrier(readers)
        self._held = readers
        self.reads = 0

    async def by_code(self, code: str) -> Dossier | None:
        found = await super().by_code(code)
        self.reads += 1
        if self._held > 0:
            self._held -= 1
            async with asyncio.timeout(5):
                await self._barrier.wait()
        return found


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Accept(), NotAccept(reason="thiếu giấy tờ")),
        (Accept(), Accept()),
        (Accept(), RequestSupplement(missing=("tờ khai",))),
    ],
    ids=["accept-vs-not-accept", "accept-twice", "accept-vs-supplement"],
)
async def test_two_moves_from_one_version_never_both_apply(
    world: World, knowledge: Knowledge, first: Command, second: Command
) -> None:
    filed = await world.file()
    racing = RacingStore(world.sessions, timezone=VIETNAM, code_format=format_code, readers=2)
    office = make_office(racing, knowledge, world.clock)

    results = await asyncio.gather(
        office.move(filed.code, first, actor="officer:a", role=Role.OFFICER),
        office.move(filed.code, second, actor="officer:b", role=Role.OFFICER),
    )

    applied = [r for r in results if isinstance(r, Applied)]
    assert racing.reads >= 3  # the loser read again and was judged on the winner's status
    history = await world.store.events(filed.id)
    moves = [(e.from_status, e.status) for e in history[1:]]
    stored = await world.store.by_code(filed.code)
    assert stored is not None
    if len(applied) == 1:
        [winner] = applied
        assert stored.status == winner.dossier.status
        assert moves == [("received", winner.dossier.status)]
        assert stored.version == 1
    else:
        # Accept then a supplement request is a legal sequence: both apply, one after the
        # other, each from where the previous one left the dossier.
        assert len(applied) == 2
        assert moves[0][0] == "received" and moves[1][0] == moves[0][1]
        assert stored.version == 2
    assert len(await world.notices(filed.code)) == len(moves)
    audit = [
        a
        for a in await world.audit.for_target(f"dossier:{filed.code}")
        if a.action.startswith("transition:")
    ]
    assert len(audit) == len(moves)


async def test_accept_against_not_accept_leaves_one_of_them(world: World) -> None:
    # The same race without a barrier, many times over: whatever the interleaving, never both.
    codes = [(await world.file(f"sub-{i}")).code for i in range(5)]
    for code in codes:
        results = await asyncio.gather(
            world.move(code, Accept(), actor="officer:a"),
            world.move(code, NotAccept(reason="sai thủ tục"), actor="officer:b"),
        )
        assert sum(isinstance(r, Applied) for r in results) == 1
        stored = await world.store.by_code(code)
        assert stored is not None
        statuses = [e.status for e in await world.store.events(stored.id)]
        assert statuses in (["received", "accepted"], ["received", "not_accepted"])


# --------------------------------------------------------------------------- deadlines


async def test_a_supplement_restarts_the_processing_period(world: World) -> None:
    filed = await world.file()  # Friday 27 Nov 10:00: due Wednesday 2 December
    assert filed.due_date == date(2026, 12, 2)
    world.clock.at_local(2026, 11, 30, 9, 0)
    await world.applied(filed.code, Accept())
    asked = await world.applied(filed.code, RequestSupplement(missing=("tờ khai có chữ ký",)))
    # 7 working days to answer, counted from Monday 30 November.
    assert asked.dossier.workflow.supplement_deadline == date(2026, 12, 9)
    assert asked.dossier.workflow.missing == ("tờ khai có chữ ký",)

    # The answer arrives on Thursday 3 December after 15:00: received Friday 4, due Wed 9.
    world.clock.at_local(2026, 12, 3, 16, 0)
    answered = await world.applied(
        filed.code, Supplemented(text="gửi lại tờ khai"), role=Role.CITIZEN, actor=FILER.as_str()
    )

    assert answered.dossier.status == "in_progress"
    assert answered.dossier.due_date == date(2026, 12, 9)
    [step] = answered.events
    assert (step.role, step.from_status) == ("citizen", "supplement_requested")
    assert (step.details["old_due_date"], step.details["due_date"]) == ("2026-12-02", "2026-12-09")
    view = await world.office.get(filed.code)
    assert view is not None and view.dossier.due_date == date(2026, 12, 9)


async def test_overdue_lists_what_the_office_still_owes(world: World) -> None:
    late = await world.file("late")  # due 2 December
    ready = await world.file("ready")  # due 2 December, but the result is ready
    await world.applied(late.code, Accept())
    await world.applied(ready.code, Accept())
    await world.applied(ready.code, StartProcessing())
    await world.applied(ready.code, MarkResultReady())
    world.clock.at_local(2026, 12, 1, 9, 0)
    fresh = await world.file("fresh")  # due later

    world.clock.at_local(2026, 12, 2, 16, 0)
    assert await world.office.overdue() == []  # the due day itself is not late

    world.clock.at_local(2026, 12, 3, 8, 0)
    assert [d.code for d in await world.office.overdue()] == [late.code]
    assert await world.office.overdue(commune_codes=("99999",)) == []
    view = await world.office.get(late.code)
    assert view is not None and view.overdue
    for code in (ready.code, fresh.code):
        other = await world.office.get(code)
        assert other is not None and not other.overdue


async def test_each_move_is_judged_on_the_status_the_dossier_is_in(world: World) -> None:
    filed = await world.file()
    for command in (Accept(), StartProcessing(), MarkResultReady()):
        await world.applied(filed.code, command)
    ready = await world.store.by_code(filed.code)
    assert ready is not None and ready.status == "result_ready"

    # From result_ready the officer hands the result over or to the post; nothing else.
    assert [s.value for s in world.office.allowed(ready, Role.OFFICER)] == ["returned", "posted"]
    before = await world.trace(filed.code)
    again = await world.move(filed.code, Accept())
    assert isinstance(again, Refused) and again.reason == "not_allowed_from"
    assert await world.trace(filed.code) == before

    await world.applied(filed.code, ReturnAtCounter())
    closed = await world.move(filed.code, Withdraw(), role=Role.CITIZEN)
    assert isinstance(closed, Refused) and closed.reason == "final_status"


async def test_the_suggested_payment_counts_the_copies_asked_for(world: World) -> None:
    """The officer's payment request starts from what the receipt printed: 2 copies of a birth
    certificate at 8.000 đồng are 16.000 đồng (the registration itself is free on time)."""
    amounts = []
    for key, copies in (("copies-2", 2), ("copies-0", 0)):
        fields = {"child_name": CHILD, "copies": copies, "phone": PHONE}
        filed = await world.office.receive(
            submission(key, procedure_code="1.001193", fields=fields)
        )
        dossier = await world.store.by_code(filed.code)
        assert dossier is not None
        amounts.append(world.office.suggested_amount(dossier))
    assert amounts == [16_000, None]
