"""The dashboard's figures, counted by the database: a few aggregate queries per page.

Dossiers are bucketed into the caller's periods (quarters in the deployment's zone, given as
UTC instants so that a dossier at 23:59 local falls in the right quarter on both backends) and
into the channel group that filed them:

* ``counter``: recorded at the desk by an officer (channel ``counter``);
* ``volunteer``: filed online by a youth-union volunteer for a villager (``volunteer_id`` set);
* ``citizen``: filed online by the citizen themselves (any other channel).

A dossier is *finished* at its first history step to one of the statuses in
``storage.models.FINISHED_STATUSES`` (the office decided: the result is ready, or it refused).
It is on time when that step's local day is no later than the due date and the dossier never
needed the one apology and new date (an ``extended`` step): NĐ 61/2018 Art. 19.9 asks for the
apology because it is late.

Both history facts are kept on the dossier (``finished_at``, ``extended``), written in the
same transaction as the steps (storage.dossiers, storage.bulk; migration 0014 filled in the
older rows), so the count reads ``dossiers`` alone: no join with the history. Nothing here
loops over dossiers in Python: one query (run for the older and the recent periods side by
side) returns one row per combination of the dimensions the page shows (period x group x
procedure x volunteer x delivery).

Working days between the local day of reception and the finishing day are counted by the
same query against the caller's calendar (:class:`DayIndex`: every local day's running count
of working days), sent with the query as a small table: the days a dossier took are the
finishing day's count less the reception day's. The calendar is the deployment's
configuration (announced days off, make-up days), so it is looked up when counting, not
stored on the dossiers: a day off announced later changes the figures at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    column,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware
from storage.db import read_only
from storage.models import DossierRow, VolunteerRow

COUNTER = "counter"
CHANNEL_GROUPS: tuple[str, ...] = ("citizen", "volunteer", "counter")


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` as aware instants."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Cell:
    """Dossiers received in one period that share every dimension."""

    period: int  # index into the periods asked for
    group: str  # one of CHANNEL_GROUPS
    procedure_code: str
    volunteer_id: int | None
    by_post: bool
    received: int
    finished: int
    on_time: int
    open_overdue: int  # not finished, the office still owes the result, and past its due date
    working_days: int  # summed over the finished ones: after the day of reception, up to the
    # finishing day (the calendar's count for the finishing day less the reception day's)
    last_finished_day: date | None  # the latest local finishing day (None: none finished)


@dataclass(frozen=True, slots=True)
class DayIndex:
    """A working-day calendar for the query: ``running[i]`` is the number of working days
    from ``first`` up to and including ``first + i`` days. The working days after day ``a`` up
    to and including day ``b`` (``a <= b``, both covered) are ``running[b] - running[a]``."""

    first: date
    running: tuple[int, ...]

    @property
    def last(self) -> date:
        return self.first + timedelta(days=len(self.running) - 1)


@dataclass(frozen=True, slots=True)
class VolunteerName:
    id: int
    name: str
    branch: str
    commune_code: str


class StatsRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], timezone: tzinfo) -> None:
        self._sessions = sessions
        self._tz = timezone

    async def cells(
        self,
        periods: Sequence[Period],
        *,
        communes: tuple[str, ...] | None,
        today: date,
        owed: tuple[str, ...],
        calendar: DayIndex,
    ) -> list[Cell]:
        """One row per (period, group, procedure, volunteer, by post) with its counts.
        ``owed``: the statuses in which the office still owes the result (for overdue).
        ``calendar`` must cover every reception day of the periods; a dossier finished on a
        day it does not cover counts no working day, and ``last_finished_day`` shows the
        caller that it should ask again with a longer one."""
        if not periods:
            return []
        # The older periods and the recent ones are counted side by side, each on its own
        # connection: on SQLite grouping a year of a province is one core's work for most of
        # a second.
        split = (len(periods) + 1) // 2
        parts = [periods[:split], periods[split:]] if len(periods) > 1 else [periods]
        counted = await asyncio.gather(
            *(
                self._cells(part, communes=communes, today=today, owed=owed, calendar=calendar)
                for part in parts
            )
        )
        if len(counted) == 1:
            return counted[0]
        return [*counted[0], *(replace(c, period=c.period + split) for c in counted[1])]

    async def _cells(
        self,
        periods: Sequence[Period],
        *,
        communes: tuple[str, ...] | None,
        today: date,
        owed: tuple[str, ...],
        calendar: DayIndex,
    ) -> list[Cell]:
        async with self._sessions() as session:
            await _counting(session)
            local_day = self._local_day(session)
            per_dossier = self._per_dossier(periods, communes, local_day).subquery()
            c = per_dossier.c
            days = _calendar_table(session, calendar).cte("calendar")
            at_reception, at_finish = days.alias("at_reception"), days.alias("at_finish")
            took = case(
                (
                    at_finish.c.running > at_reception.c.running,
                    at_finish.c.running - at_reception.c.running,
                ),
                else_=0,
            )
            finished = c.finished_at.is_not(None)
            on_time = and_(
                finished,
                c.extended.is_(False),
                or_(c.due_date.is_(None), c.finished_day <= c.due_date),
            )
            overdue = and_(
                c.finished_at.is_(None),
                c.status.in_(owed),
                c.due_date.is_not(None),
                c.due_date < today,
            )
            stmt = select(
                c.period,
                c.grp,
                c.procedure_code,
                c.volunteer_id,
                c.by_post,
                func.count(),
                func.sum(case((finished, 1), else_=0)),
                func.sum(case((on_time, 1), else_=0)),
                func.sum(case((overdue, 1), else_=0)),
                func.sum(took),
                func.max(c.finished_day),
            )
            stmt = stmt.select_from(
                per_dossier.outerjoin(at_reception, at_reception.c.day == c.received_day).outerjoin(
                    at_finish, at_finish.c.day == c.finished_day
                )
            ).group_by(c.period, c.grp, c.procedure_code, c.volunteer_id, c.by_post)
            rows = (await session.execute(stmt)).all()
        return [
            Cell(
                period=int(r[0]),
                group=str(r[1]),
                procedure_code=str(r[2]),
                volunteer_id=None if r[3] is None else int(r[3]),
                by_post=bool(r[4]),
                received=int(r[5]),
                finished=int(r[6] or 0),
                on_time=int(r[7] or 0),
                open_overdue=int(r[8] or 0),
                working_days=int(r[9] or 0),
                last_finished_day=None if r[10] is None else _as_date(r[10]),
            )
            for r in rows
        ]

    async def revision(self, communes: Sequence[str] | None = None) -> tuple[int, int]:
        """A value that changes with every committed change to what the counts read, for a
        cache keyed by it (each worker keeps its own; all read this one): how many dossiers
        there are and the sum of their versions, in ``communes`` (all when None; the commune
        index keeps one commune's read short). A dossier is never deleted, a new one adds a
        row and every move adds one to its dossier's version (storage.dossiers), so the pair
        only grows."""
        query = select(func.count(), func.coalesce(func.sum(DossierRow.version), 0))
        if communes is not None:
            query = query.where(DossierRow.commune_code.in_(communes))
        async with self._sessions() as session:
            await read_only(session)
            row = (await session.execute(query)).one()
        return int(row[0]), int(row[1])

    async def volunteers(self, ids: Sequence[int]) -> dict[int, VolunteerName]:
        if not ids:
            return {}
        async with self._sessions() as session:
            await read_only(session)
            rows = await session.execute(
                select(
                    VolunteerRow.id,
                    VolunteerRow.name,
                    VolunteerRow.branch,
                    VolunteerRow.commune_code,
                ).where(VolunteerRow.id.in_(sorted(set(ids))))
            )
            return {
                int(r[0]): VolunteerName(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows
            }

    # --- the per-dossier facts ----------------------------------------------------------------

    def _per_dossier(
        self,
        periods: Sequence[Period],
        communes: tuple[str, ...] | None,
        local_day: Any,
    ) -> Any:
        """One row per dossier received in the periods: its bucket, group and the summary of
        its history (when it was finished, whether it was extended)."""
        d = DossierRow
        bounds = [(aware(p.start, "start"), aware(p.end, "end")) for p in periods]
        period = case(
            *((d.received_at < end, literal(i)) for i, (_, end) in enumerate(bounds)),
            else_=literal(len(bounds)),
        )
        group = case(
            (d.channel == COUNTER, literal("counter")),
            (d.volunteer_id.is_not(None), literal("volunteer")),
            else_=literal("citizen"),
        )
        stmt = select(
            period.label("period"),
            group.label("grp"),
            d.procedure_code.label("procedure_code"),
            d.volunteer_id.label("volunteer_id"),
            case((d.result_delivery == "post", 1), else_=0).label("by_post"),
            d.status.label("status"),
            d.due_date.label("due_date"),
            local_day(d.received_at).label("received_day"),
            d.finished_at.label("finished_at"),
            local_day(d.finished_at).label("finished_day"),
            d.extended.label("extended"),
        ).where(d.received_at >= bounds[0][0], d.received_at < bounds[-1][1])
        if communes is not None:
            stmt = stmt.where(d.commune_code.in_(communes))
        return stmt

    def _local_day(self, session: AsyncSession) -> Any:
        """A SQL expression for the local calendar day of a stored UTC instant."""
        if session.get_bind().dialect.name == "postgresql":
            zone = self._tz.key if isinstance(self._tz, ZoneInfo) else "UTC"

            def pg_day(column: ColumnElement[Any]) -> ColumnElement[Any]:
                return func.date(func.timezone(zone, column))

            return pg_day
        # SQLite keeps naive UTC text: shift by the zone's offset (Việt Nam has had one
        # offset, +07:00, since 1975; a zone with summer time would be off by an hour at
        # the change, which only moves a finish at midnight by a day).
        offset = datetime.now(UTC).astimezone(self._tz).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)

        def sqlite_day(column: ColumnElement[Any]) -> ColumnElement[Any]:
            return func.date(column, f"{minutes:+d} minutes")

        return sqlite_day


def _calendar_table(session: AsyncSession, calendar: DayIndex) -> Any:
    """The calendar as a table (day, running) of constant rows."""
    return _calendar_sql(session.get_bind().dialect.name, calendar)


@lru_cache(maxsize=16)
def _calendar_sql(dialect: str, calendar: DayIndex) -> Any:
    # The rows are written into the statement: days and counts made here, nothing from
    # outside. One text per calendar (it changes once a day), compiled and planned once:
    # a VALUES row of two parameters per day had SQLAlchemy build and compile about a
    # thousand parameters on every count (70 ms), and a JSON array unpacked by the database
    # left SQLite without an index to look the days up in.
    rows = ", ".join(
        f"('{calendar.first + timedelta(days=i)}', {n})" for i, n in enumerate(calendar.running)
    )
    day = "CAST(column1 AS date)" if dialect == "postgresql" else "column1"
    return text(f"SELECT {day} AS day, column2 AS running FROM (VALUES {rows}) AS days").columns(
        column("day", Date), column("running", Integer)
    )


async def _counting(session: AsyncSession) -> None:
    """Begin a unit of work that groups a year of dossiers: on SQLite without the write lock
    (a filing need not wait for the dashboard), on PostgreSQL with room to group in memory
    (the default 4 MB made it sort the rows on disk first)."""
    await read_only(session)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '32MB'"))


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
