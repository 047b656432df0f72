"""When an officer answers "Gặp cán bộ": the office's hours on working days (config), with
the holidays and announced days off of :class:`~backoffice.calendar.WorkCalendar`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, tzinfo

from backoffice.calendar import WorkCalendar


class OfficerHours:
    def __init__(
        self, calendar: WorkCalendar, spans: Sequence[tuple[time, time]], timezone: tzinfo
    ) -> None:
        if not spans:
            raise ValueError("at least one span of office hours")
        self._calendar = calendar
        self._spans = tuple(spans)
        self._tz = timezone

    def officers_from(self, now: datetime) -> datetime | None:
        """None while the office is open at ``now``; otherwise its next opening, local time."""
        local = now.astimezone(self._tz)
        day, moment = local.date(), local.time()
        if self._calendar.is_working_day(day):
            for start, end in self._spans:
                if start <= moment < end:
                    return None
                if moment < start:
                    return datetime.combine(day, start, self._tz)
        following = self._calendar.next_working_day(day)
        return datetime.combine(following, self._spans[0][0], self._tz)
