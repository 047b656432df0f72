"""Working days and the appointment date printed on the receipt slip.

Rules (domain reference ``vietnam.md`` §2.5 and §6):

* A working day is Monday to Friday, minus public holidays and their days in lieu, minus the
  yearly swapped days off, plus announced make-up Saturdays (làm bù).
* Public holidays, lunar Tết, Hùng Kings and the in-lieu rule (Labour Code Art. 111.3) come from
  the ``holidays`` package (``country_holidays("VN")``), which also knows some swapped days and
  their make-up Saturdays. The civil-servant schedule announced each year (e.g. the 9-day Tết
  window of 2026) is configuration and enters through the constructor.
* A dossier received after 15:00, or on a day off, counts as received on the next working day
  (NĐ 61/2018 Art. 18). The day of reception is not counted (Civil Code Art. 147), and because
  only working days are counted, a deadline never lands on a day off (Civil Code Art. 148).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import holidays

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CUT_OFF = time(15, 0)
# No year has more than a couple of weeks off in a row; a longer search means a broken calendar.
_MAX_SEARCH_DAYS = 60


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """The civil-servant schedule announced for one year: extra days off and make-up days."""

    days_off: tuple[date, ...]
    make_up_days: tuple[date, ...]


def _span(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


# vietnam.md §6, "2026 civil-servant schedule" (secondary sources): New Year 1 Jan plus the swap
# of Fri 2 Jan, made up on Sat 10 Jan; Tết Bính Ngọ Sat 14 Feb to Sun 22 Feb; National Day
# Sat 29 Aug to Wed 2 Sep, made up on Sat 22 Aug.
DEFAULT_2026_SCHEDULE = YearSchedule(
    days_off=(
        date(2026, 1, 2),
        *_span(date(2026, 2, 14), date(2026, 2, 22)),
        *_span(date(2026, 8, 29), date(2026, 9, 2)),
    ),
    make_up_days=(date(2026, 1, 10), date(2026, 8, 22)),
)


class WorkCalendar:
    """Vietnamese working days for state offices, with the year's announced exceptions."""

    def __init__(
        self,
        extra_days_off: Iterable[date] = (),
        make_up_days: Iterable[date] = (),
        *,
        timezone: tzinfo = VIETNAM_TZ,
    ) -> None:
        self._timezone = timezone
        self._extra_days_off = frozenset(extra_days_off)
        self._make_up_days = frozenset(make_up_days)
        both = self._extra_days_off & self._make_up_days
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"a day cannot be both a day off and a make-up day: {listed}")
        # expand=True fills in each year the first time a date of that year is looked up.
        self._holidays = holidays.country_holidays("VN")

    def is_working_day(self, d: date) -> bool:
        if d in self._extra_days_off:
            return False
        if d in self._make_up_days:
            return True
        # The membership test populates d's year before weekend_workdays is read: the package's
        # own is_working_day reads weekend_workdays first and misses make-up Saturdays of a
        # year it has not loaded yet.
        is_holiday = d in self._holidays
        if d.weekday() >= 5:
            return d in self._holidays.weekend_workdays
        return not is_holiday

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        for _ in range(_MAX_SEARCH_DAYS):
            d += timedelta(days=1)
            if self.is_working_day(d):
                return d
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {d.isoformat()}")

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself is not counted).

        ``n == 0`` gives ``start`` when it is a working day, else the next working day.
        """
        if n < 0:
            raise ValueError("n must be zero or more working days")
        if n == 0:
            return start if self.is_working_day(start) else self.next_working_day(start)
        current = start
        for _ in range(n):
            current = self.next_working_day(current)
        return current

    def reception_day(self, received_at: datetime) -> date:
        """The working day a dossier counts as received on (15:00 cut-off, days off skipped)."""
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        local = received_at.astimezone(self._timezone)
        day = local.date()
        if self.is_working_day(day) and local.time() <= CUT_OFF:
            return day
        return self.next_working_day(day)

    def appointment(self, received_at: datetime, working_days: int) -> date:
        """Date on which the result is due, for a dossier received at ``received_at``.

        ``working_days == 0`` (same-day procedures) gives the reception day itself.
        """
        if working_days < 0:
            raise ValueError("working_days must be zero or more")
        return self.add_working_days(self.reception_day(received_at), working_days)
