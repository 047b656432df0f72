"""The online-filing dashboard: the leaders' figures per quarter.

The commune's goal is that at least 20% of each quarter's dossiers are filed online (by the
citizen or through a volunteer), rising year on year. For the chosen quarter and the ones
before it: dossiers received by channel group, the online ratio against the target, the
on-time rate, average processing days (working days), and the share whose result goes by post;
for the chosen quarter also per procedure and per volunteer.

The database counts (:mod:`storage.stats`); this module turns its rows into figures, draws
nothing (charts: :mod:`backoffice.documents.charts`) and exports CSV and XLSX.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from backoffice import domain
from backoffice.calendar import WorkCalendar
from backoffice.domain import Status
from storage.stats import CHANNEL_GROUPS, Cell, DayIndex, Period, StatsRepository

TARGET = 0.20
"""The share of a quarter's dossiers to be filed online (the commune's yearly plan)."""
HISTORY = 4
"""Quarters shown before the chosen one, for the trend."""
COUNTS_KEPT = 64
"""Scopes and quarters whose counts a worker keeps (each a few hundred small rows)."""
CHARTS_KEPT = 64
"""Charts a worker keeps drawn (each a PNG of some 30 KB)."""
CALENDAR_AHEAD = timedelta(days=31)
"""How far past today (or the last quarter's end) the working-day calendar sent with the
count reaches at first."""

DONE: tuple[str, ...] = tuple(
    name for s in (Status.RESULT_READY, Status.REFUSED) for name in domain.stored_names(s)
)
"""A dossier is finished at its first step to one of these: the office has decided (the store
keeps that step's time on the dossier, ``storage.models.FINISHED_STATUSES``: the same names)."""
OWED: tuple[str, ...] = tuple(
    name
    for s in (
        Status.RECEIVED,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
        Status.PAYMENT_REQUESTED,
        Status.PAID,
    )
    for name in domain.stored_names(s)
)
"""The office still owes the result (the domain's overdue rule; a supplement pauses it)."""

GROUP_LABELS: dict[str, str] = {
    "citizen": "Trực tuyến (người dân tự nộp)",
    "volunteer": "Trực tuyến (qua tình nguyện viên)",
    "counter": "Tại quầy",
}


@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    number: int  # 1..4

    @property
    def label(self) -> str:
        return f"Quý {self.number}/{self.year}"

    @property
    def short(self) -> str:
        return f"Q{self.number}/{self.year % 100:02d}"

    @property
    def key(self) -> str:
        return f"{self.year}-q{self.number}"

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    def next_first_day(self) -> date:
        return (
            date(self.year + 1, 1, 1)
            if self.number == 4
            else date(self.year, 3 * self.number + 1, 1)
        )

    def period(self, tz: tzinfo) -> Period:
        """Local midnight of the first day to local midnight of the next quarter's."""
        start = datetime.combine(self.first_day(), time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.next_first_day(), time(0), tzinfo=tz).astimezone(UTC)
        return Period(start, end)

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        """``2026-q3`` (as the page's links write it), or None."""
        year, _, number = text.strip().lower().partition("-q")
        if not (year.isdigit() and len(year) == 4 and number in ("1", "2", "3", "4")):
            return None
        return cls(int(year), int(number))


@dataclass(frozen=True, slots=True)
class Counts:
    """The counts every row of the dashboard has."""

    received: int = 0
    citizen: int = 0
    volunteer: int = 0
    counter: int = 0
    finished: int = 0
    on_time: int = 0
    open_overdue: int = 0
    by_post: int = 0
    working_days: int = 0  # summed over finished dossiers

    @property
    def online(self) -> int:
        return self.citizen + self.volunteer

    @property
    def online_ratio(self) -> float | None:
        return None if self.received == 0 else self.online / self.received

    @property
    def late(self) -> int:
        """Finished after the due date (or after an apology), or still owed past it."""
        return self.finished - self.on_time + self.open_overdue

    @property
    def on_time_rate(self) -> float | None:
        judged = self.finished + self.open_overdue
        return None if judged == 0 else self.on_time / judged

    @property
    def average_days(self) -> float | None:
        return None if self.finished == 0 else self.working_days / self.finished

    @property
    def post_share(self) -> float | None:
        return None if self.received == 0 else self.by_post / self.received


@dataclass(frozen=True, slots=True)
class QuarterRow:
    quarter: Quarter
    counts: Counts

    @property
    def meets_target(self) -> bool:
        ratio = self.counts.online_ratio
        return ratio is not None and ratio >= TARGET


@dataclass(frozen=True, slots=True)
class ProcedureRow:
    code: str
    name: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class VolunteerRowFigures:
    id: int
    name: str
    branch: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class Figures:
    communes: tuple[str, ...] | None  # None: the whole province
    quarters: tuple[QuarterRow, ...]  # oldest first; the last is the chosen quarter
    procedures: tuple[ProcedureRow, ...] = ()
    volunteers: tuple[VolunteerRowFigures, ...] = ()
    target: float = TARGET
    today: date = field(default_factory=date.today)

    @property
    def current(self) -> QuarterRow:
        return self.quarters[-1]

    @property
    def trend(self) -> float | None:
        """The online ratio's change from the quarter before (in ratio points)."""
        if len(self.quarters) < 2:
            return None
        now, before = self.quarters[-1].counts.online_ratio, self.quarters[-2].counts.online_ratio
        return None if now is None or before is None else now - before

    @property
    def is_empty(self) -> bool:
        return all(q.counts.received == 0 for q in self.quarters)


@dataclass(frozen=True, slots=True)
class _Tally:
    """The database's counts summed the way the page shows them (before names are added)."""

    quarters: tuple[Counts, ...]
    procedures: dict[str, Counts]
    volunteers: dict[int, Counts]


Chart = Callable[..., bytes]
"""``ratio_png`` or ``channels_png``: figures (and width, height in inches) in, PNG out."""


class Dashboard:
    def __init__(
        self,
        stats: StatsRepository,
        *,
        calendar: WorkCalendar,
        timezone: tzinfo,
        procedure_names: Callable[[str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._stats = stats
        self._calendar = calendar
        self._tz = timezone
        self._names = procedure_names
        self._clock = clock
        self._day_index = lru_cache(maxsize=64)(self._build_day_index)
        # The counts by what they were asked and the data revision they were read at, and the
        # charts drawn from them: a page and its two charts count once, a chart already drawn
        # is not drawn again, and a change anywhere (in any worker) gives a new revision, so
        # nothing stale is served. Each worker keeps its own; all read the revision from the
        # database.
        self._counted: OrderedDict[tuple[object, ...], _Tally] = OrderedDict()
        self._drawn: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    @property
    def timezone(self) -> tzinfo:
        return self._tz

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def this_quarter(self) -> Quarter:
        return Quarter.of(self.today())

    async def figures(
        self,
        communes: tuple[str, ...] | None,
        quarter: Quarter | None = None,
        *,
        history: int = HISTORY,
    ) -> Figures:
        """The chosen quarter (default: this one) and ``history`` quarters before it."""
        figures, _ = await self._figures(communes, quarter, history)
        return figures

    async def chart(
        self,
        draw: Chart,
        communes: tuple[str, ...] | None,
        quarter: Quarter | None = None,
        *,
        width: float = 6.4,
        height: float = 3.2,
    ) -> bytes:
        """``draw`` (``ratio_png``, ``channels_png``) of :meth:`figures`, drawn in a worker
        thread once per data revision and size."""
        figures, key = await self._figures(communes, quarter, HISTORY)
        wanted = (draw, width, height, *key)
        png = self._drawn.get(wanted)
        if png is None:
            png = await asyncio.to_thread(draw, figures, width=width, height=height)
            self._drawn[wanted] = png
            while len(self._drawn) > CHARTS_KEPT:
                self._drawn.popitem(last=False)
        else:
            self._drawn.move_to_end(wanted)
        return png

    def forget_counts(self) -> None:
        """Count and draw afresh on the next call even if nothing changed (benchmarks time
        that)."""
        self._counted.clear()
        self._drawn.clear()

    async def _figures(
        self, communes: tuple[str, ...] | None, quarter: Quarter | None, history: int
    ) -> tuple[Figures, tuple[object, ...]]:
        chosen = quarter or self.this_quarter()
        quarters = [chosen]
        for _ in range(history):
            quarters.insert(0, quarters[0].previous())
        periods = [q.period(self._tz) for q in quarters]
        today = self.today()
        key = (communes, tuple(periods), today, await self._stats.revision(communes))
        tally = self._counted.get(key)
        if tally is None:
            tally = await self._tally(communes, periods, today)
            self._counted[key] = tally
            while len(self._counted) > COUNTS_KEPT:
                self._counted.popitem(last=False)
        else:
            self._counted.move_to_end(key)
        procedures = tuple(
            sorted(
                (ProcedureRow(code, self._names(code), c) for code, c in tally.procedures.items()),
                key=lambda row: (-row.counts.received, row.name),
            )
        )
        names = await self._stats.volunteers(list(tally.volunteers))
        volunteers = tuple(
            sorted(
                (
                    VolunteerRowFigures(
                        vid,
                        names[vid].name if vid in names else f"#{vid}",
                        names[vid].branch if vid in names else "",
                        c,
                    )
                    for vid, c in tally.volunteers.items()
                ),
                key=lambda row: (-row.counts.received, row.name),
            )
        )
        figures = Figures(
            communes=communes,
            quarters=tuple(QuarterRow(q, c) for q, c in zip(quarters, tally.quarters, strict=True)),
            procedures=procedures,
            volunteers=volunteers,
            today=today,
        )
        return figures, key

    async def _tally(
        self, communes: tuple[str, ...] | None, periods: list[Period], today: date
    ) -> _Tally:
        # Every reception day is inside the periods; a finishing day is almost always before
        # today. A dossier finished later than the calendar reaches is counted again with one
        # that reaches its day, so no working day is ever left out.
        first = periods[0].start.astimezone(self._tz).date() - timedelta(days=1)
        last = max(today, periods[-1].end.astimezone(self._tz).date()) + CALENDAR_AHEAD
        while True:
            cells = await self._stats.cells(
                periods,
                communes=communes,
                today=today,
                owed=OWED,
                calendar=self._day_index(first, last),
            )
            latest = max((c.last_finished_day for c in cells if c.last_finished_day), default=None)
            if latest is None or latest <= last:
                break
            last = latest
        return _sum(cells, len(periods))

    def _build_day_index(self, first: date, last: date) -> DayIndex:
        running, count = [], 0
        for offset in range((last - first).days + 1):
            if self._calendar.is_working_day(first + timedelta(days=offset)):
                count += 1
            running.append(count)
        return DayIndex(first, tuple(running))


_FIELDS = len(dataclasses.fields(Counts))


def _sum(cells: Iterable[Cell], periods: int) -> _Tally:
    """The cells summed per period, and for the last period per procedure and per volunteer
    (a volunteer's row carries no working days: the page shows none for it)."""
    quarters = [[0] * _FIELDS for _ in range(periods)]
    procedures: dict[str, list[int]] = {}
    volunteers: dict[int, list[int]] = {}
    last = periods - 1
    for cell in cells:
        values = _values_of(cell)
        _add(quarters[cell.period], values)
        if cell.period != last:
            continue
        _add(procedures.setdefault(cell.procedure_code, [0] * _FIELDS), values)
        if cell.volunteer_id is not None:
            _add(volunteers.setdefault(cell.volunteer_id, [0] * _FIELDS), (*values[:-1], 0))
    return _Tally(
        quarters=tuple(Counts(*q) for q in quarters),
        procedures={code: Counts(*v) for code, v in procedures.items()},
        volunteers={vid: Counts(*v) for vid, v in volunteers.items()},
    )


def _add(total: list[int], values: tuple[int, ...]) -> None:
    for i, v in enumerate(values):
        total[i] += v


def _values_of(cell: Cell) -> tuple[int, ...]:
    """A cell's counts in the order of :class:`Counts`' fields."""
    return (
        cell.received,
        cell.received if cell.group == "citizen" else 0,
        cell.received if cell.group == "volunteer" else 0,
        cell.received if cell.group == "counter" else 0,
        cell.finished,
        cell.on_time,
        cell.open_overdue,
        cell.received if cell.by_post else 0,
        cell.working_days,
    )


# --- export -------------------------------------------------------------------------------------

HEADERS: tuple[str, ...] = (
    "Phần",
    "Kỳ / mục",
    "Tổng hồ sơ",
    "Trực tuyến (tự nộp)",
    "Trực tuyến (tình nguyện viên)",
    "Tại quầy",
    "Tỉ lệ trực tuyến (%)",
    "Đã giải quyết",
    "Đúng hạn",
    "Trễ hạn",
    "Tỉ lệ đúng hạn (%)",
    "Số ngày giải quyết trung bình",
    "Trả qua bưu điện (%)",
)


def table(figures: Figures) -> list[list[str | int | float | None]]:
    """The dashboard as rows (the header first), the same for CSV and XLSX."""
    rows: list[list[str | int | float | None]] = [list(HEADERS)]

    def line(
        part: str, label: str, c: Counts, *, days: bool = True
    ) -> list[str | int | float | None]:
        # A volunteer's row carries no working days (see _Tally): blank, not 0.0.
        average = c.average_days if days else None
        return [
            part,
            label,
            c.received,
            c.citizen,
            c.volunteer,
            c.counter,
            _percent(c.online_ratio),
            c.finished,
            c.on_time,
            c.late,
            _percent(c.on_time_rate),
            None if average is None else round(average, 1),
            _percent(c.post_share),
        ]

    for q in figures.quarters:
        rows.append(line("Theo quý", q.quarter.label, q.counts))
    label = figures.current.quarter.label
    for p in figures.procedures:
        rows.append(line(f"Theo thủ tục, {label}", p.name, p.counts))
    for v in figures.volunteers:
        who = f"{v.name} ({v.branch})" if v.branch else v.name
        rows.append(line(f"Theo tình nguyện viên, {label}", who, v.counts, days=False))
    return rows


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(100 * ratio, 1)


def to_csv(figures: Figures) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Vietnamese letters right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table(figures):
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(figures: Figures, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Thống kê"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    rows = table(figures)
    for row in rows:
        sheet.append(row)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    widths = [28, 34, *([14] * (len(HEADERS) - 2))]
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def scope_label(communes: tuple[str, ...] | None, names: Mapping[str, str]) -> str:
    if communes is None:
        return "Toàn tỉnh"
    return ", ".join(names.get(c, c) for c in communes)


def percent_text(ratio: float | None) -> str:
    """``23,5%`` as Vietnamese writes it; ``—`` when there is nothing to divide."""
    if ratio is None:
        return "—"
    return f"{100 * ratio:.1f}%".replace(".", ",")


# --- charts ---------------------------------------------------------------------------------


def ratio_png(figures: Figures, *, width: float = 6.4, height: float = 3.2) -> bytes:
    """The online ratio by quarter against the target line."""
    from backoffice.documents.charts import ratio_chart

    return ratio_chart(
        [q.quarter.short for q in figures.quarters],
        [q.counts.online_ratio for q in figures.quarters],
        target=figures.target,
        title="Tỉ lệ hồ sơ nộp trực tuyến theo quý",
        target_label=f"Mục tiêu {round(100 * figures.target)}%",
        width=width,
        height=height,
    )


def channels_png(figures: Figures, *, width: float = 6.4, height: float = 3.2) -> bytes:
    """Dossiers received by channel group, per quarter."""
    from backoffice.documents.charts import ChannelSeries, channel_chart

    series = [
        ChannelSeries(
            GROUP_LABELS[group],
            tuple(getattr(q.counts, group) for q in figures.quarters),
        )
        for group in CHANNEL_GROUPS
    ]
    return channel_chart(
        [q.quarter.short for q in figures.quarters],
        series,
        title="Hồ sơ tiếp nhận theo kênh",
        width=width,
        height=height,
    )
