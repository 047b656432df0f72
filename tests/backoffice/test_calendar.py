from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.calendar import DEFAULT_2026_SCHEDULE, VIETNAM_TZ, WorkCalendar


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days)


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=VIETNAM_TZ)


def test_ordinary_week(cal: WorkCalendar) -> None:
    # Monday 9 March 2026, morning: the day of reception is not counted.
    assert cal.appointment(at(2026, 3, 9), 1) == date(2026, 3, 10)
    assert cal.appointment(at(2026, 3, 9), 3) == date(2026, 3, 12)
    assert cal.appointment(at(2026, 3, 9), 0) == date(2026, 3, 9)


def test_friday_after_three_pm_counts_from_monday(cal: WorkCalendar) -> None:
    assert cal.appointment(at(2026, 3, 6, 14, 59), 1) == date(2026, 3, 9)
    assert cal.appointment(at(2026, 3, 6, 15, 0), 1) == date(2026, 3, 9)
    assert cal.appointment(at(2026, 3, 6, 15, 0, 1), 1) == date(2026, 3, 10)
    assert cal.appointment(at(2026, 3, 6, 16, 30), 0) == date(2026, 3, 9)


def test_received_on_sunday_counts_from_monday(cal: WorkCalendar) -> None:
    assert cal.reception_day(at(2026, 3, 8, 10)) == date(2026, 3, 9)
    assert cal.appointment(at(2026, 3, 8, 10), 2) == date(2026, 3, 11)


def test_received_in_utc_is_judged_in_vietnam_time() -> None:
    cal = WorkCalendar()
    # 08:30 UTC is 15:30 in Hà Nội: after the cut-off.
    received = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    assert cal.reception_day(received) == date(2026, 3, 11)


def test_naive_datetime_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone"):
        cal.appointment(datetime(2026, 3, 9, 9), 1)


def test_before_tet_2026_civil_servant_window(cal: WorkCalendar) -> None:
    for day in range(14, 23):
        assert not cal.is_working_day(date(2026, 2, day))
    # Friday 13 Feb, morning, 3 working days: 23, 24, 25 Feb.
    assert cal.appointment(at(2026, 2, 13), 3) == date(2026, 2, 25)
    # Thursday 12 Feb, 2 working days: Fri 13, then Mon 23 after the holiday.
    assert cal.appointment(at(2026, 2, 12), 2) == date(2026, 2, 23)


def test_before_tet_2027_from_the_package() -> None:
    cal = WorkCalendar()
    # Tết Đinh Mùi: 1st day Sat 6 Feb 2027; Thu 4 to Wed 10 Feb off.
    for day in range(4, 11):
        assert not cal.is_working_day(date(2027, 2, day))
    assert cal.appointment(at(2027, 2, 3, 10), 2) == date(2027, 2, 12)


def test_hung_kings_2026_sunday_gives_monday_off(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2026, 4, 27))
    assert cal.is_working_day(date(2026, 4, 28))
    assert cal.appointment(at(2026, 4, 24), 1) == date(2026, 4, 28)


def test_hung_kings_2027_friday(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2027, 4, 16))
    assert cal.appointment(at(2027, 4, 15), 1) == date(2027, 4, 19)


def test_reunification_and_labour_day_2026(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2026, 4, 30))
    assert not cal.is_working_day(date(2026, 5, 1))
    assert cal.appointment(at(2026, 4, 29), 1) == date(2026, 5, 4)


def test_national_day_2026_and_make_up_saturday(cal: WorkCalendar) -> None:
    for day in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)):
        assert not cal.is_working_day(day)
    assert cal.appointment(at(2026, 8, 28), 1) == date(2026, 9, 3)
    # Saturday 22 Aug 2026 is worked to make up for Monday 31 Aug.
    assert cal.is_working_day(date(2026, 8, 22))
    assert cal.appointment(at(2026, 8, 21), 1) == date(2026, 8, 22)


def test_new_year_2026_swap_needs_the_schedule() -> None:
    plain = WorkCalendar()
    scheduled = WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days)
    assert plain.is_working_day(date(2026, 1, 2))
    assert not scheduled.is_working_day(date(2026, 1, 2))
    assert scheduled.is_working_day(date(2026, 1, 10))
    assert scheduled.appointment(at(2025, 12, 31), 1) == date(2026, 1, 5)


def test_make_up_saturday_of_a_year_not_yet_loaded() -> None:
    # The first lookup of 2026 is a Saturday: it must still see the package's make-up day.
    assert WorkCalendar().is_working_day(date(2026, 8, 22))


def test_conflicting_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkCalendar([date(2026, 1, 10)], [date(2026, 1, 10)])


def test_add_working_days_from_a_day_off(cal: WorkCalendar) -> None:
    saturday = date(2026, 3, 7)
    assert cal.add_working_days(saturday, 0) == date(2026, 3, 9)
    assert cal.add_working_days(saturday, 1) == date(2026, 3, 9)
    assert cal.add_working_days(saturday, 2) == date(2026, 3, 10)
    with pytest.raises(ValueError):
        cal.add_working_days(saturday, -1)


_CAL = WorkCalendar(DEFAULT_2026_SCHEDULE.days_off, DEFAULT_2026_SCHEDULE.make_up_days)


@given(
    moment=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
    working_days=st.integers(min_value=0, max_value=30),
)
def test_appointment_is_a_working_day_never_before_reception(
    moment: datetime, working_days: int
) -> None:
    received = moment.replace(tzinfo=VIETNAM_TZ)
    due = _CAL.appointment(received, working_days)
    assert _CAL.is_working_day(due)
    assert due >= received.date()
    # Exactly `working_days` working days lie after the reception day, up to the due date.
    start = _CAL.reception_day(received)
    counted = sum(
        _CAL.is_working_day(start + timedelta(days=i)) for i in range(1, (due - start).days + 1)
    )
    assert counted == working_days
