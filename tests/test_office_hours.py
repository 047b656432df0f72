"""When an officer answers "Gặp cán bộ": office hours on working days, with the calendar's
weekends, holidays and announced days off skipped."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from backoffice.calendar import WorkCalendar
from bot.office_hours import OfficerHours

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
SPANS = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))


def _hours(*days_off: datetime) -> OfficerHours:
    return OfficerHours(WorkCalendar([d.date() for d in days_off]), SPANS, HANOI)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HANOI)


def test_open_in_office_hours_and_the_next_opening_otherwise() -> None:
    hours = _hours()
    assert hours.officers_from(at(3, 9)) is None  # Thursday morning
    assert hours.officers_from(at(3, 16, 59)) is None
    assert hours.officers_from(at(3, 6)) == at(3, 7, 30)  # before opening
    assert hours.officers_from(at(3, 12)) == at(3, 13, 30)  # lunch
    assert hours.officers_from(at(3, 17)) == at(4, 7, 30)  # evening: tomorrow
    assert hours.officers_from(at(4, 18)) == at(7, 7, 30)  # Friday evening: Monday
    assert hours.officers_from(at(5, 9)) == at(7, 7, 30)  # Saturday
    # A time in UTC is read in the office's zone: 01:00 UTC is 08:00 in Hà Nội.
    assert hours.officers_from(datetime.fromisoformat("2026-12-03T01:00:00+00:00")) is None


def test_holidays_and_announced_days_off_are_skipped() -> None:
    # 2 September (National Day) and an announced day off after it.
    hours = _hours(at(3, 0, month=9))
    assert hours.officers_from(at(1, 18, month=9)) == at(4, 7, 30, month=9)
    assert hours.officers_from(at(2, 9, month=9)) == at(4, 7, 30, month=9)
