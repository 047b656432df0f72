"""The dashboard's figures against a hand-built dataset whose answers are worked out below,
on SQLite and PostgreSQL. Times are local (Asia/Ho_Chi_Minh, +07:00) unless they say UTC.

Quarter 3/2026 of commune 10642 (the chosen quarter; "today" is 3 December 2026):

| # | received (local)  | group     | proc | post | outcome                              | due   |
|---|-------------------|-----------|------|------|--------------------------------------|-------|
| 1 | 01/07 00:00       | citizen   | A    |      | ready 03/07 10:00: on time, 2 wd     | 06/07 |
| 3 | 30/09 23:59       | volunteer | B    | post | ready 05/10 16:00: late, 3 wd        | 02/10 |
| 5 | 10/08 09:00       | counter   | A    |      | in progress, past due: overdue       | 14/08 |
| 6 | 11/08 09:00       | counter   | B    |      | supplement asked: paused, not judged | 14/08 |
| 7 | 12/08 09:00       | citizen   | B    |      | refused 21/08 06:00 (20/08 in UTC!)  | 20/08 |
|   |                   |           |      |      | late, 7 wd                           |       |
| 8 | 17/08 08:00       | volunteer | A    | post | extended to 25/08, ready 24/08: late | 21/08 |
|   |                   |           |      |      | (the apology says so), 6 wd          |       |
|   |                   |           |      |      | (Sat 22/08 is a make-up day)        |       |
| 9 | 01/09 09:00       | counter   | A    |      | withdrawn: not judged                | 04/09 |
|10 | 03/09 09:00       | counter   | A    |      | ready 04/09, returned: on time, 1 wd | 07/09 |

Quarter 2: #2 citizen 30/06 23:59 (Q2, not Q3) and three counter dossiers in May: 1 of 4
online. #4, counter at 01/10 00:00, is quarter 4. #11 is another commune's (Q3, citizen).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.calendar import DEFAULT_2026_SCHEDULE, WorkCalendar
from backoffice.dashboard import Dashboard, Figures, Quarter, to_csv, to_xlsx
from backoffice.sample import CommuneMix, ProcedureMix, generate
from storage.bulk import NewVolunteer, Record, Step, insert_records, insert_volunteers
from storage.dossiers import Change, DossierRepository, NewEvent, Workflow
from storage.stats import Cell, StatsRepository

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOME, OTHER = "10642", "10645"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=TZ)


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


def step(status: str, when: datetime, frm: str | None, kind: str = "transition") -> Step:
    return Step(kind=kind, from_status=frm, status=status, at=when, actor="t", role="officer")


def record(
    n: int,
    received: datetime,
    *,
    channel: str,
    proc: str,
    due: str,
    later: tuple[Step, ...] = (),
    post: bool = False,
    volunteer: int | None = None,
    commune: str = HOME,
) -> Record:
    return Record(
        code=f"T-{n:04d}",
        commune_code=commune,
        procedure_code=proc,
        channel=channel,
        chat_id="" if channel == "counter" else f"chat{n}",
        user_id="" if channel == "counter" else f"user{n}",
        received_at=received,
        due_date=date.fromisoformat(due),
        processing_days=3,
        result_delivery="post" if post else "counter",
        postal_address={"display": "xóm Bắc"} if post else None,
        fields={},
        filer={"name": f"Người {n}"},
        steps=(step("received", received, None, "received"), *later),
        volunteer_id=volunteer,
    )


def ready(when: datetime, frm: str = "in_progress") -> tuple[Step, ...]:
    return (
        step("accepted", when - timedelta(hours=2), "received"),
        step("in_progress", when - timedelta(hours=1), "accepted"),
        step("result_ready", when, frm),
    )


async def build(sessions: async_sessionmaker[AsyncSession]) -> int:
    (vol,) = await insert_volunteers(
        sessions,
        [
            NewVolunteer(
                commune_code=HOME,
                channel="zalo",
                chat_id="v1",
                user_id="v1",
                name="Đoàn Thị Vân",
                phone="0912345678",
                branch="Chi đoàn thôn Bắc",
                status="approved",
                created_at=at("2026-05-01"),
            )
        ],
    )
    records = [
        record(
            1,
            at("2026-07-01", "00:00"),
            channel="web",
            proc="A",
            due="2026-07-06",
            later=ready(at("2026-07-03", "10:00")),
        ),
        record(
            2,
            at("2026-06-30", "23:59"),
            channel="telegram",
            proc="A",
            due="2026-07-03",
            later=ready(at("2026-07-02", "09:00")),
        ),
        record(
            3,
            at("2026-09-30", "23:59"),
            channel="zalo",
            proc="B",
            due="2026-10-02",
            later=ready(at("2026-10-05", "16:00")),
            post=True,
            volunteer=vol,
        ),
        record(4, at("2026-10-01", "00:00"), channel="counter", proc="A", due="2026-10-06"),
        record(
            5,
            at("2026-08-10"),
            channel="counter",
            proc="A",
            due="2026-08-14",
            later=(
                step("accepted", at("2026-08-10", "10:00"), "received"),
                step("in_progress", at("2026-08-10", "11:00"), "accepted"),
            ),
        ),
        record(
            6,
            at("2026-08-11"),
            channel="counter",
            proc="B",
            due="2026-08-14",
            later=(step("supplement_requested", at("2026-08-11", "10:00"), "received"),),
        ),
        record(
            7,
            at("2026-08-12"),
            channel="web",
            proc="B",
            due="2026-08-20",
            later=(
                step("accepted", at("2026-08-12", "10:00"), "received"),
                step("refused", at("2026-08-21", "06:00"), "accepted"),
            ),
        ),
        record(
            8,
            at("2026-08-17", "08:00"),
            channel="web",
            proc="A",
            due="2026-08-25",
            post=True,
            volunteer=vol,
            later=(
                step("accepted", at("2026-08-17", "10:00"), "received"),
                step("accepted", at("2026-08-20", "10:00"), "accepted", "extended"),
                step("result_ready", at("2026-08-24", "10:00"), "accepted"),
            ),
        ),
        record(
            9,
            at("2026-09-01"),
            channel="counter",
            proc="A",
            due="2026-09-04",
            later=(step("withdrawn", at("2026-09-02", "10:00"), "received"),),
        ),
        record(
            10,
            at("2026-09-03"),
            channel="counter",
            proc="A",
            due="2026-09-07",
            later=(
                *ready(at("2026-09-04", "11:00")),
                step("returned", at("2026-09-04", "15:00"), "result_ready"),
            ),
        ),
        record(
            11,
            at("2026-08-05"),
            channel="web",
            proc="A",
            due="2026-08-10",
            later=ready(at("2026-08-06")),
            commune=OTHER,
        ),
    ]
    for n, month_day in enumerate(("2026-05-04", "2026-05-05", "2026-05-06"), start=20):
        records.append(record(n, at(month_day), channel="counter", proc="A", due="2026-05-11"))
    await insert_records(sessions, records)
    return vol


def dashboard(sessions: async_sessionmaker[AsyncSession]) -> Dashboard:
    return Dashboard(
        StatsRepository(sessions, TZ),
        calendar=WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days),
        timezone=TZ,
        procedure_names={"A": "Đăng ký khai sinh", "B": "Chứng thực bản sao"}.__getitem__,
        clock=lambda: NOW.astimezone(UTC),
    )


async def test_the_quarter_of_one_commune(sessions: async_sessionmaker[AsyncSession]) -> None:
    vol = await build(sessions)
    figures = await dashboard(sessions).figures((HOME,), Quarter(2026, 3), history=2)

    assert [q.quarter.label for q in figures.quarters] == ["Quý 1/2026", "Quý 2/2026", "Quý 3/2026"]
    q3 = figures.current.counts
    assert (q3.received, q3.citizen, q3.volunteer, q3.counter) == (8, 2, 2, 4)
    assert q3.online_ratio == pytest.approx(0.5)
    assert figures.current.meets_target
    assert (q3.finished, q3.on_time, q3.open_overdue, q3.late) == (5, 2, 1, 4)
    assert q3.on_time_rate == pytest.approx(2 / 6)
    assert q3.working_days == 2 + 3 + 7 + 6 + 1  # Saturday 22/08/2026 is a make-up working day
    assert q3.average_days == pytest.approx(19 / 5)
    assert q3.by_post == 2
    assert q3.post_share == pytest.approx(0.25)

    q2 = figures.quarters[1].counts
    assert (q2.received, q2.citizen, q2.counter) == (4, 1, 3)
    assert q2.online_ratio == pytest.approx(0.25)
    assert figures.trend == pytest.approx(0.25)
    assert figures.quarters[0].counts.received == 0
    assert figures.quarters[0].counts.online_ratio is None

    by_code = {p.code: p for p in figures.procedures}
    assert by_code["A"].name == "Đăng ký khai sinh"
    assert (by_code["A"].counts.received, by_code["B"].counts.received) == (5, 3)
    assert by_code["A"].counts.on_time_rate == pytest.approx(2 / 4)  # 1, 10 of 1, 5, 8, 10
    assert by_code["B"].counts.on_time_rate == pytest.approx(0.0)
    assert by_code["B"].counts.average_days == pytest.approx((3 + 7) / 2)

    (v,) = figures.volunteers
    assert (v.id, v.name, v.branch) == (vol, "Đoàn Thị Vân", "Chi đoàn thôn Bắc")
    assert (v.counts.received, v.counts.finished, v.counts.on_time) == (2, 2, 0)


async def test_quarter_boundaries_are_local_midnight(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await build(sessions)
    board = dashboard(sessions)
    q4 = (await board.figures((HOME,), Quarter(2026, 4), history=0)).current.counts
    # Only #4 (01/10 00:00 local, 30/09 17:00 UTC); #3 at 30/09 23:59 stays in quarter 3.
    assert (q4.received, q4.counter) == (1, 1)
    q2 = (await board.figures((HOME,), Quarter(2026, 2), history=0)).current.counts
    assert q2.received == 4  # #2 at 30/06 23:59 is quarter 2; #1 at 01/07 00:00 is not


async def test_the_whole_province(sessions: async_sessionmaker[AsyncSession]) -> None:
    await build(sessions)
    figures = await dashboard(sessions).figures(None, Quarter(2026, 3), history=0)
    counts = figures.current.counts
    assert (counts.received, counts.online) == (9, 5)
    assert counts.online_ratio == pytest.approx(5 / 9)
    assert counts.on_time == 3
    other = (await dashboard(sessions).figures((OTHER,), Quarter(2026, 3), history=0)).current
    assert (other.counts.received, other.counts.on_time) == (1, 1)


async def test_an_empty_quarter_has_no_ratio(sessions: async_sessionmaker[AsyncSession]) -> None:
    figures = await dashboard(sessions).figures((HOME,), Quarter(2026, 3))
    assert figures.is_empty
    assert figures.current.counts.online_ratio is None
    assert not figures.current.meets_target
    assert figures.trend is None


async def test_exports_carry_the_same_figures(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await build(sessions)
    figures = await dashboard(sessions).figures((HOME,), Quarter(2026, 3), history=1)
    data = to_csv(figures)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    q3 = next(r for r in rows if r[1] == "Quý 3/2026")
    assert q3[2:7] == ["8", "2", "2", "4", "50.0"]
    assert q3[10:13] == ["33.3", "3.8", "25.0"]
    van = next(r for r in rows if r[1] == "Đoàn Thị Vân (Chi đoàn thôn Bắc)")
    assert van[11] == ""  # a volunteer's row counts no working days: blank, not 0.0

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(to_xlsx(figures, "Thống kê xã Thái Tân")))
    sheet = book["Thống kê"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Thống kê xã Thái Tân"
    xq3 = next(r for r in values if r[1] == "Quý 3/2026")
    assert xq3[2:7] == [8, 2, 2, 4, 50.0]


class CountingStats(StatsRepository):
    """Counts how often the database is asked for the figures' rows."""

    asked = 0

    async def cells(self, *args: Any, **kwargs: Any) -> list[Cell]:
        self.asked += 1
        return await super().cells(*args, **kwargs)


async def test_a_page_and_its_charts_count_once_and_every_change_is_seen(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The counts are kept per worker by the database's data revision: asked again (the two
    charts after the page) they are not counted again; after a move or a new dossier, written
    through any worker, the next answer has it."""
    await build(sessions)
    stats = CountingStats(sessions, TZ)
    board = Dashboard(
        stats,
        calendar=WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days),
        timezone=TZ,
        procedure_names=str,
        clock=lambda: NOW.astimezone(UTC),
    )
    first = await board.figures((HOME,), Quarter(2026, 3))
    assert await board.figures((HOME,), Quarter(2026, 3)) == first
    assert stats.asked == 1
    assert (first.current.counts.finished, first.current.counts.open_overdue) == (5, 1)

    # #5 (in progress, past due) gets its result, as an officer's move writes it.
    store = DossierRepository(sessions)
    ready_at = at("2026-08-20", "10:00")
    applied = await store.apply(
        Change(
            code="T-0005",
            expected_version=2,
            status="result_ready",
            due_date=date(2026, 8, 14),
            workflow=Workflow(),
            events=(
                NewEvent("transition", "in_progress", "result_ready", ready_at, "t", "officer", ""),
            ),
            at=ready_at,
            audit_actor="t",
            audit_action="result_ready",
            audit_details={},
        )
    )
    assert applied is not None
    moved = (await board.figures((HOME,), Quarter(2026, 3))).current.counts
    assert (moved.finished, moved.open_overdue, moved.on_time) == (6, 0, 2)
    assert stats.asked == 2

    await insert_records(
        sessions,
        [record(30, at("2026-09-10"), channel="web", proc="A", due="2026-09-15")],
    )
    added = (await board.figures((HOME,), Quarter(2026, 3))).current.counts
    assert (added.received, added.citizen) == (9, 3)
    assert stats.asked == 3


CALENDAR = WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days)


def working_days_between(received: date, finished: date) -> int:
    """The rule, day by day: working days after the day of reception up to the finishing day."""
    count, day = 0, received
    while day < finished:
        day += timedelta(days=1)
        count += CALENDAR.is_working_day(day)
    return count


def finished_on(r: Record) -> date | None:
    done = [s.at for s in r.steps if s.status in ("result_ready", "refused")]
    return min(done).astimezone(TZ).date() if done else None


async def test_working_days_agree_with_a_day_by_day_count_over_a_generated_year(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The database counts working days against the calendar it is sent (Tết, the swapped
    days, the make-up Saturdays of 2026): per quarter and per procedure they are what counting
    each finished dossier's days one by one gives."""
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    records = generate(
        [CommuneMix(HOME, "000.00.31.H26", 160), CommuneMix(OTHER, "000.01.31.H26", 40)],
        [ProcedureMix("A", 3, 2.0), ProcedureMix("B", 5, 1.0)],
        start=now - timedelta(days=365),
        end=now,
        now=now,
        calendar=CALENDAR,
        timezone=TZ,
        rng=random.Random(10),
    )
    await insert_records(sessions, records)
    board = Dashboard(
        StatsRepository(sessions, TZ),
        calendar=CALENDAR,
        timezone=TZ,
        procedure_names=str,
        clock=lambda: now,
    )
    figures = await board.figures((HOME,), Quarter(2026, 4))
    expected: dict[tuple[Quarter, str | None], tuple[int, int]] = {}
    for r in records:
        finished = finished_on(r)
        if r.commune_code != HOME or finished is None:
            continue
        received = r.received_at.astimezone(TZ).date()
        days = working_days_between(received, finished)
        for key in ((Quarter.of(received), None), (Quarter.of(received), r.procedure_code)):
            n, total = expected.get(key, (0, 0))
            expected[key] = (n + 1, total + days)
    assert sum(n for (_, code), (n, _) in expected.items() if code is None) > 100
    for row in figures.quarters:
        counts = row.counts
        assert (counts.finished, counts.working_days) == expected.get((row.quarter, None), (0, 0))
    for p in figures.procedures:
        assert (p.counts.finished, p.counts.working_days) == expected[
            (figures.current.quarter, p.code)
        ]


async def test_a_dossier_finished_long_after_today_still_counts_all_its_days(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The calendar sent with the count reaches a month past today; a dossier whose result is
    dated later (a clock set wrong, an import) is counted again with one that reaches it."""
    finished = at("2027-03-10", "10:00")
    await insert_records(
        sessions,
        [
            record(
                40,
                at("2026-09-10"),
                channel="web",
                proc="A",
                due="2026-09-15",
                later=ready(finished),
            )
        ],
    )
    figures = await dashboard(sessions).figures((HOME,), Quarter(2026, 3), history=0)
    counts = figures.current.counts
    assert counts.finished == 1
    assert counts.working_days == working_days_between(date(2026, 9, 10), finished.date())
    assert counts.working_days > 100


async def test_a_chart_is_drawn_once_per_data_revision(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The page's two charts are kept with the counts: asked again they are not redrawn;
    a new dossier (through any worker) gives a new revision and a fresh drawing."""
    await build(sessions)
    board = dashboard(sessions)
    drawn: list[tuple[int, float]] = []

    def draw(figures: Figures, *, width: float, height: float) -> bytes:
        drawn.append((figures.current.counts.received, width))
        return f"png {len(drawn)}".encode()

    first = await board.chart(draw, (HOME,), Quarter(2026, 3))
    assert await board.chart(draw, (HOME,), Quarter(2026, 3)) == first
    assert drawn == [(8, 6.4)]
    smaller = await board.chart(draw, (HOME,), Quarter(2026, 3), width=6.0, height=3.0)
    assert smaller != first and drawn[-1] == (8, 6.0)

    await insert_records(
        sessions,
        [record(31, at("2026-09-11"), channel="web", proc="A", due="2026-09-16")],
    )
    again = await board.chart(draw, (HOME,), Quarter(2026, 3))
    assert again != first
    assert drawn[-1] == (9, 6.4)
