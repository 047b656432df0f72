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
from storage.stats import CHANNEL_GROUPS, Cell, Period, Span, StatsRepository

TARGET = 0.20
"""The share of a quarter's dossiers to be filed online (the commune's yearly plan)."""
HISTORY = 4
"""Quarters shown before the chosen one, for the trend."""
COUNTS_KEPT = 64
"""Scopes and quarters whose counts a worker keeps (each a few thousand small rows)."""

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

    def plus(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))


def _values(c: Counts) -> tuple[int, ...]:
    return (
        c.received,
        c.citizen,
        c.volunteer,
        c.counter,
        c.finished,
        c.on_time,
        c.open_overdue,
        c.by_post,
        c.working_days,
    )


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
        self._working_days = lru_cache(maxsize=65536)(self._count_working_days)
        # The database's counts by what they were asked and the data revision they were read
        # at: a page and its two charts count once, and a change anywhere (in any worker)
        # gives a new revision, so nothing stale is served.
        self._counted: OrderedDict[tuple[object, ...], tuple[list[Cell], list[Span]]] = (
            OrderedDict()
        )

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
        chosen = quarter or self.this_quarter()
        quarters = [chosen]
        for _ in range(history):
            quarters.insert(0, quarters[0].previous())
        periods = [q.period(self._tz) for q in quarters]
        today = self.today()
        cells, spans = await self._count(communes, periods, today)
        days_of = self._days_by(spans)
        last = len(quarters) - 1

        per_quarter = [Counts() for _ in quarters]
        per_procedure: dict[str, Counts] = {}
        per_volunteer: dict[int, Counts] = {}
        for cell in cells:
            counts = _counts(cell)
            per_quarter[cell.period] = per_quarter[cell.period].plus(counts)
            if cell.period != last:
                continue
            per_procedure[cell.procedure_code] = per_procedure.get(
                cell.procedure_code, Counts()
            ).plus(counts)
            if cell.volunteer_id is not None:
                per_volunteer[cell.volunteer_id] = per_volunteer.get(
                    cell.volunteer_id, Counts()
                ).plus(counts)
        per_quarter = [_with_days(c, days_of.get((i, None), 0)) for i, c in enumerate(per_quarter)]
        procedures = tuple(
            sorted(
                (
                    ProcedureRow(
                        code, self._names(code), _with_days(c, days_of.get((last, code), 0))
                    )
                    for code, c in per_procedure.items()
                ),
                key=lambda row: (-row.counts.received, row.name),
            )
        )
        names = await self._stats.volunteers(list(per_volunteer))
        volunteers = tuple(
            sorted(
                (
                    VolunteerRowFigures(
                        vid,
                        names[vid].name if vid in names else f"#{vid}",
                        names[vid].branch if vid in names else "",
                        c,
                    )
                    for vid, c in per_volunteer.items()
                ),
                key=lambda row: (-row.counts.received, row.name),
            )
        )
        return Figures(
            communes=communes,
            quarters=tuple(QuarterRow(q, c) for q, c in zip(quarters, per_quarter, strict=True)),
            procedures=procedures,
            volunteers=volunteers,
            today=today,
        )

    def forget_counts(self) -> None:
        """Count afresh on the next call even if nothing changed (benchmarks time that)."""
        self._counted.clear()

    async def _count(
        self, communes: tuple[str, ...] | None, periods: list[Period], today: date
    ) -> tuple[list[Cell], list[Span]]:
        key = (communes, tuple(periods), today, await self._stats.revision(communes))
        counted = self._counted.get(key)
        if counted is not None:
            self._counted.move_to_end(key)
            return counted
        # Two scans of the same rows, each on its own connection: they run side by side.
        counted = await asyncio.gather(
            self._stats.cells(periods, communes=communes, today=today, owed=OWED),
            self._stats.spans(periods, communes=communes),
        )
        self._counted[key] = counted
        while len(self._counted) > COUNTS_KEPT:
            self._counted.popitem(last=False)
        return counted

    def _days_by(self, spans: Iterable[Span]) -> dict[tuple[int, str | None], int]:
        """Working days summed per (period, procedure) and per (period, None)."""
        total: dict[tuple[int, str | None], int] = {}
        for span in spans:
            days = self._working_days(span.received_day, span.finished_day) * span.count
            for key in ((span.period, span.procedure_code), (span.period, None)):
                total[key] = total.get(key, 0) + days
        return total

    def _count_working_days(self, received: date, finished: date) -> int:
        """Working days after the day of reception up to and including the finishing day
        (the day of reception is not counted, as for the due date)."""
        count, day = 0, received
        while day < finished:
            day += timedelta(days=1)
            if self._calendar.is_working_day(day):
                count += 1
        return count


def _counts(cell: Cell) -> Counts:
    return Counts(
        received=cell.received,
        citizen=cell.received if cell.group == "citizen" else 0,
        volunteer=cell.received if cell.group == "volunteer" else 0,
        counter=cell.received if cell.group == "counter" else 0,
        finished=cell.finished,
        on_time=cell.on_time,
        open_overdue=cell.open_overdue,
        by_post=cell.received if cell.by_post else 0,
    )


def _with_days(counts: Counts, days: int) -> Counts:
    return dataclasses.replace(counts, working_days=days)


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

    def line(part: str, label: str, c: Counts) -> list[str | int | float | None]:
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
            None if c.average_days is None else round(c.average_days, 1),
            _percent(c.post_share),
        ]

    for q in figures.quarters:
        rows.append(line("Theo quý", q.quarter.label, q.counts))
    label = figures.current.quarter.label
    for p in figures.procedures:
        rows.append(line(f"Theo thủ tục, {label}", p.name, p.counts))
    for v in figures.volunteers:
        who = f"{v.name} ({v.branch})" if v.branch else v.name
        rows.append(line(f"Theo tình nguyện viên, {label}", who, v.counts))
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
