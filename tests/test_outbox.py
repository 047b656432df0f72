from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.client import (
    BackOfficeConflict,
    BackOfficeRejected,
    BackOfficeUnavailable,
    DeliveryResult,
    InProcessBackOffice,
    OfficeStatus,
)
from backoffice.office import DossierIn, OfficeService
from bot.outbox import OutboxWorker, backoff
from dialogs.model import ConversationKey
from storage.attachments import FileRepository
from storage.db import create_engine, session_factory
from storage.dossiers import Dossier, DossierRepository, NewDossier
from storage.migrate import upgrade
from storage.outbox import OutboxItem, OutboxRepository
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV, reset_postgres

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
AGENCY = "000.00.31.H26"
FILER = ConversationKey(channel="zalo", chat_id="chat-9", user_id="user-9")
CHILD, ID_NUMBER, MOTHER = "Trần Minh Khôi", "001099012345", "Trần Thị Lan"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class ScriptedOffice:
    """The real embedded office behind a door that fails as scripted, call by call."""

    def __init__(self, office: OfficeService, *failures: Exception | None) -> None:
        self._inner = InProcessBackOffice(office)
        self._failures = list(failures)
        self.calls: list[str] = []
        self.lose_answers = False

    async def deliver(self, dossier: DossierIn) -> DeliveryResult:
        self.calls.append(dossier.code)
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise failure
        result = await self._inner.deliver(dossier)
        if self.lose_answers:
            # The office committed, then the connection dropped before the answer arrived.
            raise BackOfficeUnavailable("ReadError: connection reset")
        return result

    async def status(self, code: str) -> OfficeStatus | None:
        return await self._inner.status(code)


@dataclasses.dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    dossiers: DossierRepository
    outbox: OutboxRepository
    office: OfficeService
    clock: Clock

    def worker(self, client: Any, **options: Any) -> OutboxWorker:
        options.setdefault("random_sample", lambda: 0.0)
        return OutboxWorker(
            self.outbox,
            self.dossiers,
            client,
            self.clock,
            files=FileRepository(self.sessions),
            **options,
        )

    async def file(self, key: str = "sub-1") -> Dossier:
        return await self.dossiers.create(
            NewDossier(
                submission_key=key,
                agency_code=AGENCY,
                commune_code="10642",
                procedure_code="1.001193",
                filer_key=FILER,
                received_at=self.clock(),
                fields={"ho_ten_tre": CHILD, "so_cccd_me": ID_NUMBER},
                filer={"ho_ten": MOTHER, "quan_he": "mẹ"},
            )
        )

    async def deliveries(self) -> list[OutboxItem]:
        """Rows this courier owns; the receipt courier's rows wait beside them."""
        return await self.outbox.pending(topic="deliver_dossier")

    async def delivery_row(self) -> OutboxItem:
        [item] = [i for i in await self.outbox.pending() if i.topic == "deliver_dossier"]
        return item


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'motcua.sqlite3'}"
    else:
        url = os.environ.get(POSTGRES_URL_ENV, "")
        if not url:
            pytest.skip(POSTGRES_SKIP_REASON)
        await reset_postgres(url)
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = Clock()
    try:
        yield World(
            sessions=sessions,
            dossiers=DossierRepository(sessions),
            outbox=OutboxRepository(sessions),
            office=OfficeService(sessions, clock=clock),
            clock=clock,
        )
    finally:
        await engine.dispose()


async def test_a_filed_dossier_reaches_the_office_with_its_photos(world: World) -> None:
    await FileRepository(world.sessions).add(
        FILER, "cccd", "a" * 64, "k/1.jpg", "image/jpeg", 1200, NOW, width=800, height=600
    )
    filed = await world.file()
    worker = world.worker(InProcessBackOffice(world.office))

    assert await worker.run_once() == 1

    received = await world.office.get(filed.code)
    assert received is not None
    assert received.submitted_at == filed.received_at
    assert received.payload["fields"]["ho_ten_tre"] == CHILD
    assert [(f["slot"], f["storage_key"]) for f in received.payload["files"]] == [
        ("cccd", "k/1.jpg")
    ]
    assert await world.deliveries() == []
    assert await worker.run_once() == 0


async def test_an_unavailable_office_is_retried_with_growing_waits(world: World) -> None:
    down = BackOfficeUnavailable("ConnectError: refused")
    client = ScriptedOffice(world.office, *[down] * 10)
    worker = world.worker(client)
    await world.file()

    waits = []
    for _ in range(10):
        claimed_at = world.clock.now
        assert await worker.run_once() == 1
        row = await world.delivery_row()
        waits.append(row.next_attempt_at - claimed_at)
        assert row.last_error == "BackOfficeUnavailable: ConnectError: refused"
        # Not a moment early...
        world.clock.now = row.next_attempt_at - timedelta(seconds=1)
        assert await worker.run_once() == 0
        world.clock.now = row.next_attempt_at

    assert [w.total_seconds() for w in waits] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    # ...and the office, once back, gets it on the next try.
    assert await worker.run_once() == 1
    assert await world.deliveries() == []
    assert len(client.calls) == 11


def test_jitter_only_ever_brings_a_retry_forward() -> None:
    assert backoff(1, 0.0) == timedelta(seconds=5)
    assert backoff(3, 0.999) > timedelta(seconds=16)
    assert backoff(3, 0.5) == timedelta(seconds=18)
    assert backoff(10_000, 0.0) == timedelta(minutes=15)
    assert backoff(10_000, 0.999) <= timedelta(minutes=15)


async def test_a_lost_answer_delivers_again_and_the_office_keeps_one(world: World) -> None:
    client = ScriptedOffice(world.office)
    worker = world.worker(client)
    filed = await world.file()

    client.lose_answers = True
    await worker.run_once()
    client.lose_answers = False
    world.clock.now += timedelta(seconds=5)
    await worker.run_once()

    assert client.calls == [filed.code, filed.code]
    assert [d.code for d in await world.office.list()] == [filed.code]
    assert await world.deliveries() == []


async def test_a_dead_office_costs_one_try_per_round_not_one_per_dossier(world: World) -> None:
    client = ScriptedOffice(world.office, BackOfficeUnavailable("ReadTimeout"))
    worker = world.worker(client)
    first, second = await world.file("a"), await world.file("b")

    assert await worker.run_once() == 2

    assert client.calls == [first.code]
    rows = await world.deliveries()
    assert {r.next_attempt_at for r in rows} == {NOW + timedelta(seconds=5)}
    world.clock.now += timedelta(seconds=5)
    await worker.run_once()
    assert client.calls == [first.code, first.code, second.code]
    assert await world.deliveries() == []


async def test_a_rejected_dossier_is_parked_not_lost(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    rejection = BackOfficeRejected("HTTP 422 from POST /api/v1/dossiers: body.fields: bad")
    worker = world.worker(ScriptedOffice(world.office, rejection))
    filed = await world.file()

    with caplog.at_level(logging.INFO, logger="bot.outbox"):
        await worker.run_once()

    row = await world.delivery_row()
    assert row.done_at is None
    assert row.next_attempt_at == NOW + timedelta(days=30)
    assert row.last_error is not None and "422" in row.last_error
    [record] = caplog.records
    assert record.levelno == logging.ERROR and filed.code in record.getMessage()


async def test_a_code_conflict_is_shouted_about_and_retried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    worker = world.worker(ScriptedOffice(world.office, BackOfficeConflict("HTTP 409")))
    await world.file()

    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        await worker.run_once()

    assert (await world.delivery_row()).next_attempt_at == NOW + timedelta(seconds=5)
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


async def test_the_courier_leaves_the_notifiers_rows_alone(world: World) -> None:
    filed = await world.file()
    await world.dossiers.add_event(filed.id, "accepted", "officer:1", "", NOW)
    worker = world.worker(InProcessBackOffice(world.office))

    assert await worker.run_once() == 1

    [notify] = [i for i in await world.outbox.pending() if not i.topic.startswith("send_receipt")]
    assert (notify.topic, notify.attempts, notify.next_attempt_at) == ("notify", 0, NOW)


async def test_a_row_whose_dossier_is_gone_is_parked(world: World) -> None:
    await world.outbox.enqueue(
        "deliver_dossier", {"dossier_id": 999, "code": "X"}, "deliver_dossier:X", NOW
    )
    worker = world.worker(InProcessBackOffice(world.office))

    await worker.run_once()

    row = await world.delivery_row()
    assert row.next_attempt_at == NOW + timedelta(days=30)
    assert row.last_error is not None and "999" in row.last_error


async def test_logs_never_carry_personal_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    client = ScriptedOffice(
        world.office, BackOfficeUnavailable("ReadTimeout"), BackOfficeRejected("HTTP 400")
    )
    worker = world.worker(client)
    await world.file("a")
    await world.file("b")

    # Everything at INFO, and our own modules down to DEBUG.
    with caplog.at_level(logging.INFO), caplog.at_level(logging.DEBUG, logger="bot"):
        for _ in range(3):
            await worker.run_once()
            world.clock.now += timedelta(minutes=1)

    assert len(caplog.records) >= 3
    for text in (CHILD, ID_NUMBER, MOTHER):
        assert text not in caplog.text


async def test_run_delivers_at_once_when_poked_and_stops_when_asked(world: World) -> None:
    delivered = asyncio.Event()

    class Signalling(ScriptedOffice):
        async def deliver(self, dossier: DossierIn) -> DeliveryResult:
            result = await super().deliver(dossier)
            delivered.set()
            return result

    worker = world.worker(Signalling(world.office), poll_interval=60.0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.05)  # the first round found nothing and went to sleep

    filed = await world.file()
    worker.poke()
    async with asyncio.timeout(5):  # far less than the 60 s poll interval
        await delivered.wait()

    assert await world.office.get(filed.code) is not None
    stop.set()
    async with asyncio.timeout(5):
        await running
    assert await world.deliveries() == []


async def test_run_survives_a_failing_round(world: World) -> None:
    class Broken:
        async def deliver(self, dossier: DossierIn) -> DeliveryResult:
            raise RuntimeError("bug")

        async def status(self, code: str) -> OfficeStatus | None:
            return None

    worker = world.worker(Broken(), poll_interval=0.01)
    await world.file()
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.1)

    assert not running.done()
    stop.set()
    await running
    row = await world.delivery_row()
    # Leased: it comes back when the lease runs out, and no round ran it twice meanwhile.
    assert (row.attempts, row.next_attempt_at) == (1, NOW + timedelta(minutes=5))
