"""Business-time arithmetic: hand-computed examples and the laws, checked with hypothesis."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.sla import businesstime as bt

LONDON = ZoneInfo("Europe/London")
NINE_TO_FIVE = [(day, 9 * 60, 17 * 60) for day in range(5)]


def office(*, holidays=(), tz="Europe/London", intervals=NINE_TO_FIVE):
    return bt.Schedule.build(time_zone=tz, intervals=intervals, holidays=set(holidays))


def london(*args):
    return datetime(*args, tzinfo=LONDON)


def test_friday_afternoon_plus_three_hours_is_monday_eleven():
    # 2026-01-16 is a Friday: 1 h on Friday (16-17), 2 h on Monday (9-11).
    due = bt.add_business_minutes(office(), london(2026, 1, 16, 16, 0), 180)
    assert due == london(2026, 1, 19, 11, 0)


def test_holiday_monday_pushes_to_tuesday():
    due = bt.add_business_minutes(office(holidays=[date(2026, 1, 19)]), london(2026, 1, 16, 16, 0), 180)
    assert due == london(2026, 1, 20, 11, 0)


def test_start_outside_hours_counts_from_next_opening():
    # Saturday 10:00 → Monday 09:00 + 30 min
    assert bt.add_business_minutes(office(), london(2026, 1, 17, 10, 0), 30) == london(2026, 1, 19, 9, 30)


def test_landing_exactly_on_closing_time_stays_there():
    assert bt.add_business_minutes(office(), london(2026, 1, 16, 16, 0), 60) == london(2026, 1, 16, 17, 0)


def test_spring_forward_sunday_in_london_counts_wall_hours():
    # 24×7-in-London calendar expressed as 00:00–24:00 every day: Sunday 2026-03-29 has 23 hours.
    every_day = office(intervals=[(day, 0, 24 * 60) for day in range(7)])
    start = london(2026, 3, 29, 0, 0)
    assert bt.business_time_between(every_day, start, london(2026, 3, 30, 0, 0)) == timedelta(hours=23)
    # 00:30 GMT + 1 h of business time = 01:30 GMT = 02:30 BST (01:xx does not exist that night)
    assert bt.add_business_minutes(every_day, london(2026, 3, 29, 0, 30), 60) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_business_hours_across_the_spring_change_follow_the_wall_clock():
    # Friday 2026-03-27 16:00 GMT + 2 business hours = Monday 10:00 BST = 09:00 UTC.
    due = bt.add_business_minutes(office(), london(2026, 3, 27, 16, 0), 120)
    assert due == london(2026, 3, 30, 10, 0)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_fall_back_sunday_in_london_has_25_hours():
    every_day = office(intervals=[(day, 0, 24 * 60) for day in range(7)])
    assert bt.business_time_between(every_day, london(2026, 10, 25, 0, 0), london(2026, 10, 26, 0, 0)) == timedelta(
        hours=25
    )
    # Friday 2026-10-23 16:00 BST + 2 h on 9-17 → Monday 10:00 GMT (= 10:00 UTC)
    assert bt.add_business_minutes(office(), london(2026, 10, 23, 16, 0), 120) == datetime(
        2026, 10, 26, 10, 0, tzinfo=UTC
    )


def test_interval_ending_at_midnight_and_split_day():
    evening = office(intervals=[(0, 9 * 60, 12 * 60), (0, 13 * 60, 24 * 60)])
    # Monday 2026-01-19 11:00 + 1 h: 11-12 → 12:00. +2 h: 11-12, 13-14.
    assert bt.add_business_minutes(evening, london(2026, 1, 19, 11, 0), 60) == london(2026, 1, 19, 12, 0)
    assert bt.add_business_minutes(evening, london(2026, 1, 19, 11, 0), 120) == london(2026, 1, 19, 14, 0)
    # 23:30 + 1 h: 30 min to midnight, then the next Monday at 09:00 + 30 min
    assert bt.add_business_minutes(evening, london(2026, 1, 19, 23, 30), 60) == london(2026, 1, 26, 9, 30)


def test_twenty_four_seven_is_plain_arithmetic():
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert bt.add_business_minutes(bt.TWENTY_FOUR_SEVEN, start, 240) == start + timedelta(hours=4)
    assert bt.business_seconds_between(bt.TWENTY_FOUR_SEVEN, start, start + timedelta(hours=4)) == 4 * 3600


def test_is_business_time():
    assert bt.is_business_time(office(), london(2026, 1, 19, 9, 0))
    assert not bt.is_business_time(office(), london(2026, 1, 19, 17, 0))
    assert not bt.is_business_time(office(), london(2026, 1, 17, 12, 0))  # Saturday


# ---------------------------------------------------------------- laws

SCHEDULES = [
    office(),
    office(holidays=[date(2026, 3, 30), date(2026, 4, 3), date(2026, 10, 26), date(2026, 12, 25)]),
    office(
        tz="America/New_York",
        intervals=[(d, 8 * 60, 12 * 60) for d in range(5)] + [(d, 13 * 60, 24 * 60) for d in range(5)],
    ),
    office(tz="Asia/Singapore", intervals=[(d, 0, 24 * 60) for d in range(7)]),
    office(tz="Europe/London", intervals=[(d, 60, 150) for d in range(7)]),  # 01:00–02:30 crosses the DST gap
    bt.TWENTY_FOUR_SEVEN,
]

instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)
schedules = st.sampled_from(SCHEDULES)
seconds = st.integers(min_value=0, max_value=30 * 24 * 3600)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, start=instants, n=seconds)
def test_measuring_what_was_added_gives_it_back(schedule, start, n):
    due = bt.add_business_seconds(schedule, start, n)
    assert bt.business_seconds_between(schedule, start, due) == n


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, start=instants, a=seconds, b=seconds)
def test_monotonic_in_duration(schedule, start, a, b):
    small, large = sorted((a, b))
    assert bt.add_business_seconds(schedule, start, small) <= bt.add_business_seconds(schedule, start, large)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, start=instants, later=st.integers(min_value=0, max_value=10 * 24 * 3600), n=seconds)
def test_monotonic_in_start(schedule, start, later, n):
    assert bt.add_business_seconds(schedule, start, n) <= bt.add_business_seconds(
        schedule, start + timedelta(seconds=later), n
    )


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, start=instants, n=seconds, pause=seconds)
def test_a_pause_never_brings_a_due_time_earlier_and_adds_up(schedule, start, n, pause):
    due = bt.add_business_seconds(schedule, start, n)
    paused = bt.add_business_seconds(schedule, start, n + pause)
    assert paused >= due
    assert paused == bt.add_business_seconds(schedule, due, pause)


# Schedules whose working intervals a DST change cuts, on both sides of midnight and inside the gap.
AWKWARD = [
    office(tz="Europe/London", intervals=[(d, 0, 90) for d in range(7)] + [(d, 120, 300) for d in range(7)]),
    office(tz="America/Santiago", intervals=[(d, 0, 30) for d in range(7)] + [(d, 1410, 1440) for d in range(7)]),
    office(tz="Australia/Lord_Howe", intervals=[(d, 90, 150) for d in range(7)]),  # a 30-minute DST shift
]


@settings(max_examples=300, deadline=None)
@given(
    schedule=st.sampled_from(SCHEDULES[:-1] + AWKWARD),
    start=st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)),
    n=st.integers(min_value=1, max_value=90 * 24 * 3600),
    length=st.integers(min_value=0, max_value=120 * 24 * 3600),
)
def test_the_indexed_arithmetic_is_the_walk_over_days(schedule, start, n, length):
    """add/between answer from per-schedule blocks of days; the walk over each day's spans is the definition."""
    duration, end = timedelta(seconds=n), start + timedelta(seconds=length)
    assert answer(bt.add_business_time, schedule, start, duration) == answer(
        bt._add_by_walking, schedule, start, duration
    )
    assert answer(bt.business_time_between, schedule, start, end) == answer(
        bt._between_by_walking, schedule, start, end
    )


def answer(function, *args):
    """The result, or that the calendar has too little working time for it (both must say so alike)."""
    try:
        return function(*args)
    except bt.ScheduleError:
        return "no working time within three years"


def test_a_working_interval_cut_by_the_dst_gap_is_answered_by_walking():
    """The one shape the index cannot hold (spans that overlap once converted to UTC) falls back to the walk."""
    schedule = AWKWARD[0]
    spring = date(2026, 3, 29)  # London: 01:00 GMT becomes 02:00 BST
    assert not bt._block(schedule, spring.toordinal() // bt.BLOCK_DAYS).regular
    assert bt._block(schedule, date(2026, 6, 1).toordinal() // bt.BLOCK_DAYS).regular
