"""Migration 0014 fills in the dashboard's summary of every existing dossier from its history:
down to 0012 (the columns go, the dossiers and histories stay) and up again, each dossier's
``finished_at`` and ``extended`` are what its steps say, older status names included, and
the same as the store wrote them before the round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, inspect, select

from storage.bulk import Record, Step, insert_records
from storage.db import create_engine, session_factory
from storage.migrate import downgrade, upgrade
from storage.models import DossierEventRow, DossierRow

T0 = datetime(2026, 8, 10, 2, 0, tzinfo=UTC)


def step(status: str, hours: int, kind: str = "transition") -> Step:
    return Step(kind, None, status, T0 + timedelta(hours=hours), "t", "officer")


def record(n: int, *later: Step) -> Record:
    return Record(
        code=f"M-{n}",
        commune_code="10642",
        procedure_code="1.001193",
        channel="zalo",
        chat_id=f"c{n}",
        user_id=f"u{n}",
        received_at=T0,
        due_date=date(2026, 8, 14),
        processing_days=3,
        result_delivery="counter",
        fields={},
        filer={},
        steps=(step("received", 0, "received"), *later),
    )


RECORDS = [
    record(1),  # still received: neither
    record(2, step("accepted", 1), step("result_ready", 5), step("returned", 9)),
    record(3, step("accepted", 1), step("accepted", 2, "extended"), step("refused", 30)),
    record(4, step("accepted", 1), step("in_progress", 2, "extended")),  # extended, open
    record(5, step("processed", 4), step("result_returned", 6)),  # an older database's names
    record(6, step("stopped", 7)),
    record(7, step("withdrawn", 3)),  # closed without a decision
    # Out of order in the table (a later step written first): the earliest decision counts.
    record(8, step("result_ready", 20), step("posted", 21), step("result_ready", 12)),
]
EXPECTED = {
    "M-1": (None, False),
    "M-2": (T0 + timedelta(hours=5), False),
    "M-3": (T0 + timedelta(hours=30), True),
    "M-4": (None, True),
    "M-5": (T0 + timedelta(hours=4), False),
    "M-6": (T0 + timedelta(hours=7), False),
    "M-7": (None, False),
    "M-8": (T0 + timedelta(hours=12), False),
}


async def _summaries(url: str) -> dict[str, tuple[datetime | None, bool]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(DossierRow.code, DossierRow.finished_at, DossierRow.extended)
            )
            return {str(r[0]): (r[1], bool(r[2])) for r in rows}
    finally:
        await engine.dispose()


async def _columns_and_steps(url: str) -> tuple[set[str], int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("dossiers")}
            )
            steps = await connection.scalar(select(func.count()).select_from(DossierEventRow))
            return columns, int(steps or 0)
    finally:
        await engine.dispose()


async def test_0014_fills_in_the_summary_from_the_history(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url)
    engine = create_engine(url)
    try:
        await insert_records(session_factory(engine), RECORDS)
    finally:
        await engine.dispose()
    written = await _summaries(url)
    assert written == EXPECTED

    await downgrade(url, "0012")
    columns, steps = await _columns_and_steps(url)
    assert not {"finished_at", "extended"} & columns
    assert steps == sum(len(r.steps) for r in RECORDS)

    await upgrade(url)
    assert await _summaries(url) == EXPECTED
