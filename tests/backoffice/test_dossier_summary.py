"""The dashboard's summary on each dossier (``finished_at``: its first step to a decision;
``extended``: it needed the apology) always says what its history says: after every kind of
move the office makes, and when a move's transaction fails halfway (nothing of it stays, the
summary included). SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import storage.dossiers
from backoffice.dashboard import DONE
from backoffice.domain import (
    Accept,
    Command,
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
)
from backoffice.office import OfficeService
from bot.app import Knowledge
from knowledge.dossier_code import format_code
from storage.db import create_engine, session_factory
from storage.dossiers import Applied, DossierRepository
from storage.models import EXTENDED_KIND, FINISHED_STATUSES, DossierRow
from tests.backoffice.test_office import OFFICER, VIETNAM, Clock, database, make_office, submission


@dataclasses.dataclass
class Office:
    sessions: async_sessionmaker[AsyncSession]
    store: DossierRepository
    office: OfficeService
    clock: Clock


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def office(
    request: pytest.FixtureRequest, tmp_path: Path, knowledge: Knowledge
) -> AsyncIterator[Office]:
    engine = create_engine(await database(request, tmp_path))
    sessions = session_factory(engine)
    clock = Clock()
    store = DossierRepository(sessions, timezone=VIETNAM, code_format=format_code)
    try:
        yield Office(sessions, store, make_office(store, knowledge, clock), clock)
    finally:
        await engine.dispose()


async def summary(o: Office, code: str) -> tuple[datetime | None, bool]:
    async with o.sessions() as session:
        row = (
            await session.execute(
                select(DossierRow.finished_at, DossierRow.extended).where(DossierRow.code == code)
            )
        ).one()
    return row[0], bool(row[1])


async def from_history(o: Office, code: str) -> tuple[datetime | None, bool]:
    """The summary worked out again from the steps, with the dashboard's own ``DONE``."""
    dossier = await o.store.by_code(code)
    assert dossier is not None
    events = await o.store.events(dossier.id)
    finished = min((e.at for e in events if e.status in DONE), default=None)
    return finished, any(e.kind == EXTENDED_KIND for e in events)


async def walk(o: Office, key: str, moves: Sequence[Command], **filed: Any) -> list[Any]:
    """File a dossier, make the moves an hour apart, and check the summary after each."""
    receipt = await o.office.receive(submission(key, **filed))
    assert await summary(o, receipt.code) == (None, False)
    seen = []
    for command in moves:
        o.clock.now += timedelta(hours=1)
        role = (
            Role.POSTAL_CLERK
            if isinstance(command, PostalEvent)
            else Role.CITIZEN
            if isinstance(command, Supplemented)
            else Role.OFFICER
        )
        applied = await o.office.move(receipt.code, command, actor=OFFICER, role=role)
        assert isinstance(applied, Applied), (command, applied)
        now = await summary(o, receipt.code)
        assert now == await from_history(o, receipt.code), command
        seen.append((applied.dossier.status, now))
    return seen


def test_the_store_and_the_dashboard_agree_on_what_finished_means() -> None:
    assert set(FINISHED_STATUSES) == set(DONE)


async def test_the_summary_follows_every_kind_of_move(office: Office) -> None:
    o = office
    start = o.clock.now
    posted = await walk(
        o,
        "post",
        [
            Accept(),
            StartProcessing(),
            RequestPayment(50_000),
            RecordPayment(),
            Extend(date(2026, 12, 31), "Xin lỗi ông/bà vì sự chậm trễ"),
            MarkResultReady(),
            HandToPost("EE000717581VN"),
            PostalEvent(Status.IN_TRANSIT),
            PostalEvent(Status.DELIVERY_FAILED),
            PostalEvent(Status.RETURNED_TO_OFFICE),
            ReturnAtCounter(),
        ],
        result_delivery="post",
        postal_address={"display": "xóm Bắc, xã Thái Tân"},
    )
    # Not finished and not extended until the apology; finished at the result (the sixth
    # move), and the later postal steps and the counter do not move that.
    assert [s for s, _ in posted[:4]] == ["accepted", "in_progress", "payment_requested", "paid"]
    assert all(summary == (None, False) for _, summary in posted[:4])
    assert posted[4][1] == (None, True)
    ready_at = start + timedelta(hours=6)
    assert all(summary == (ready_at, True) for _, summary in posted[5:])
    assert posted[-1][0] == "returned"

    refused = await walk(
        o,
        "refused",
        [RequestSupplement(("Bản sao giấy chứng sinh",)), Supplemented(text="đã gửi"), Refuse("x")],
    )
    assert refused[-1][0] == "refused" and refused[-1][1][0] is not None
    assert all(s[1] == (None, False) for s in refused[:-1])

    for key, move in (("not-accepted", NotAccept("Sai thủ tục")), ("withdrawn", Withdraw())):
        (only,) = await walk(o, key, [move])
        assert only[1] == (None, False)  # closed without a decision: not finished

    counter = await walk(o, "counter", [Accept(), MarkResultReady(), ReturnAtCounter()])
    assert counter[1][1][0] is not None and counter[2][1] == counter[1][1]


async def test_a_move_that_fails_halfway_leaves_no_summary_behind(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary is written in the move's own transaction: when the transaction fails after
    the step was written (here: queueing the citizen's notice), neither stays."""
    o = office
    receipt = await o.office.receive(submission("crash"))
    for command in (Accept(), StartProcessing()):
        assert isinstance(
            await o.office.move(receipt.code, command, actor=OFFICER, role=Role.OFFICER), Applied
        )

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the database went away")

    before = await from_history(o, receipt.code)
    with monkeypatch.context() as patched:
        patched.setattr(storage.dossiers, "enqueue_in", broken)
        o.clock.now += timedelta(hours=1)
        with pytest.raises(ConnectionError):
            await o.office.move(receipt.code, MarkResultReady(), actor=OFFICER, role=Role.OFFICER)
    dossier = await o.store.by_code(receipt.code)
    assert dossier is not None and dossier.status == "in_progress"
    assert before == await from_history(o, receipt.code) == await summary(o, receipt.code)
    assert before == (None, False)

    again = await o.office.move(receipt.code, MarkResultReady(), actor=OFFICER, role=Role.OFFICER)
    assert isinstance(again, Applied) and not isinstance(again, Refused)
    finished = await summary(o, receipt.code)
    assert finished == await from_history(o, receipt.code) == (o.clock.now, False)
