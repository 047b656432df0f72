"""The leaders' dashboard on a year of dossiers for 100 communes (target: under 1 s).

A generated year (backoffice.sample: counter, online and volunteer filings, every outcome, a
history per dossier) is written to a fresh migrated SQLite file, and to PostgreSQL when
``MOTCUA_BENCH_POSTGRES_URL`` names an empty database the bench may reset. Timed is what the
console's page asks for: ``Dashboard.figures`` of the current quarter and the four before it,
for one commune and for the whole province (each counted afresh: the kept counts are
forgotten before each run), the two PNG charts, and the province's page with its two charts
as one worker serves them (counted once, the charts reuse the counts kept by data revision and
are drawn), and that page again when nothing changed (counts and drawings kept).
The baseline beside it is the naive way for one commune: load its dossiers with their
histories as ORM rows and count in Python (what a loop over ``DossierRepository.list`` would
do).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from backoffice.calendar import DEFAULT_2026_SCHEDULE, WorkCalendar
from backoffice.dashboard import Dashboard, Quarter, channels_png, ratio_png
from backoffice.sample import CommuneMix, ProcedureMix, generate
from storage.bulk import NewVolunteer, insert_records, insert_volunteers
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import DossierEventRow, DossierRow
from storage.stats import StatsRepository

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNES = 100
PER_COMMUNE = 1200  # a year: about 5 a working day
RUNS = 7
TARGET_SECONDS = 1.0
PROCEDURES = (
    ProcedureMix("1.001193", 3, 3.0),
    ProcedureMix("1.001022", 5, 2.0),
    ProcedureMix("2.000908", 1, 4.0),
    ProcedureMix("1.000656", 5, 1.0),
    ProcedureMix("1.004227", 3, 1.0),
)


def _calendar() -> WorkCalendar:
    return WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days)


async def _fill(url: str, now: datetime) -> tuple[int, int, float]:
    await upgrade(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        started = time.perf_counter()
        codes = [f"{10000 + i:05d}" for i in range(COMMUNES)]
        volunteer_ids = await insert_volunteers(
            sessions,
            [
                NewVolunteer(
                    c,
                    "zalo",
                    f"v{c}{n}",
                    f"v{c}{n}",
                    f"TNV {n}",
                    "0912345678",
                    "Chi đoàn",
                    "approved",
                    now - timedelta(days=400),
                )
                for c in codes
                for n in range(3)
            ],
        )
        mixes = [
            CommuneMix(
                code,
                f"000.{i:02d}.31.H26",
                PER_COMMUNE,
                tuple(volunteer_ids[3 * i : 3 * i + 3]),
            )
            for i, code in enumerate(codes)
        ]
        records = generate(
            mixes,
            PROCEDURES,
            start=now - timedelta(days=365),
            end=now,
            now=now,
            calendar=_calendar(),
            timezone=TZ,
            rng=random.Random(2026),
        )
        await insert_records(sessions, records)
        # Both backends plan from fresh statistics, and PostgreSQL's pages are marked
        # all-visible, as autovacuum leaves a table some minutes after a load (a deployment's
        # ANALYZE on SQLite). Outside a transaction: a statistics run inside one that is then
        # rolled back leaves none (PostgreSQL then guessed 600 rows of the 120,000 and sorted
        # them to group them); VACUUM refuses to run inside one.
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE"))
        else:
            async with sessions() as session:
                await session.execute(text("ANALYZE"))
                await session.commit()
        async with sessions() as session:
            dossiers = int(await session.scalar(select(func.count()).select_from(DossierRow)) or 0)
            events = int(
                await session.scalar(select(func.count()).select_from(DossierEventRow)) or 0
            )
        return dossiers, events, time.perf_counter() - started
    finally:
        await engine.dispose()


async def _timed(work: Callable[[], Awaitable[object]]) -> list[float]:
    await work()  # warm: the first call pays for imports and the page cache
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return sorted(times)


async def _measure(url: str, now: datetime) -> dict[str, list[float]]:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)

        board = Dashboard(  # one per worker, as the console has
            StatsRepository(sessions, TZ),
            calendar=_calendar(),
            timezone=TZ,
            procedure_names=str,
            clock=lambda: now,
        )
        quarter = Quarter.of(now.astimezone(TZ).date())

        async def one_commune() -> object:
            board.forget_counts()  # counted afresh every time
            return await board.figures(("10042",), quarter)

        async def province() -> object:
            board.forget_counts()
            return await board.figures(None, quarter)

        async def page_with_charts() -> object:
            board.forget_counts()
            await board.figures(("10042",), quarter)
            await board.chart(ratio_png, ("10042",), quarter)
            return await board.chart(channels_png, ("10042",), quarter)

        async def province_page() -> object:
            # The page and its two charts are three requests of one worker: the first counts
            # (a fresh worker, or data changed since), the two charts reuse its counts and are
            # drawn (the kept drawings are forgotten too: a viewer after a change waits this).
            board.forget_counts()
            await board.figures(None, quarter)
            await board.chart(ratio_png, None, quarter)
            return await board.chart(channels_png, None, quarter)

        async def province_page_again() -> object:
            # Another leader opens the same page before anything changes: counts and charts
            # are kept by the data revision, read once per request.
            await board.figures(None, quarter)
            await board.chart(ratio_png, None, quarter)
            return await board.chart(channels_png, None, quarter)

        async def naive_commune() -> object:
            start = quarter.period(TZ).start - timedelta(days=365)
            async with sessions() as session:
                rows = (
                    await session.scalars(
                        select(DossierRow).where(
                            DossierRow.commune_code == "10042", DossierRow.received_at >= start
                        )
                    )
                ).all()
                events = (
                    await session.scalars(
                        select(DossierEventRow).where(
                            DossierEventRow.dossier_id.in_([r.id for r in rows])
                        )
                    )
                ).all()
            finished: dict[int, datetime] = {}
            for e in events:
                if e.status in ("result_ready", "refused"):
                    finished[e.dossier_id] = min(finished.get(e.dossier_id, e.at), e.at)
            return sum(1 for r in rows if r.channel != "counter"), len(finished)

        return {
            "one commune, 5 quarters": await _timed(one_commune),
            "one commune + 2 PNG charts": await _timed(page_with_charts),
            "province (100 communes)": await _timed(province),
            "province page + 2 PNG (kept counts)": await _timed(province_page),
            "same page again (kept counts, PNGs)": await _timed(province_page_again),
            "baseline: one commune, ORM + Python": await _timed(naive_commune),
        }
    finally:
        await engine.dispose()


def _lines(
    backend: str, filled: tuple[int, int, float], timings: dict[str, list[float]]
) -> list[str]:
    dossiers, events, seconds = filled
    lines = [
        f"{backend}: {dossiers:,} dossiers, {events:,} history steps "
        f"(written in {seconds:.1f} s); {RUNS} runs after one warm-up",
        f"{'what':<36}{'median':>10}{'worst':>10}",
    ]
    for what, times in timings.items():
        lines.append(f"{what:<36}{statistics.median(times):>9.3f}s{times[-1]:>9.3f}s")
    commune = max(timings["one commune, 5 quarters"])
    province = max(timings["province (100 communes)"])
    lines.append(
        f"target under {TARGET_SECONDS:g} s: a commune's dashboard "
        f"{'met' if commune < TARGET_SECONDS else 'NOT met'} (worst {commune:.3f} s); "
        f"the province-wide one {'met' if province < TARGET_SECONDS else 'NOT met'} "
        f"(worst {province:.3f} s)"
    )
    return lines


def run() -> list[str]:
    now = datetime.now(UTC)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        filled = asyncio.run(_fill(url, now))
        lines += _lines("SQLite", filled, asyncio.run(_measure(url, now)))
    postgres = os.environ.get("MOTCUA_BENCH_POSTGRES_URL", "")
    if postgres:
        asyncio.run(_reset(postgres))
        filled = asyncio.run(_fill(postgres, now))
        lines += ["", *_lines("PostgreSQL", filled, asyncio.run(_measure(postgres, now)))]
    else:
        lines.append("(PostgreSQL: set MOTCUA_BENCH_POSTGRES_URL to an empty database to run)")
    return lines


async def _reset(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
