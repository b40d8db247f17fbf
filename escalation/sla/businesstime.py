"""Business-time arithmetic: pure functions, no database.

A `Schedule` is a calendar reduced to plain values: a time zone, working
intervals per weekday (minutes from local midnight, the end may be 1440 =
24:00) and holiday dates. Every working interval is laid out in local wall
time for its own day and converted to UTC bound by bound, so a day that is
23 or 25 hours long (DST) counts exactly the hours a clock on the wall shows.

Laws (tests/sla/test_businesstime.py checks them with hypothesis):
- business_seconds_between(s, start, add_business_seconds(s, start, n)) == n
- add_business_seconds is monotonic in n and in start
- add(add(start, a), b) == add(start, a + b), so a pause (b > 0) never brings
  a due time earlier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# A schedule with one working minute a year still answers within this horizon;
# beyond it the calendar is unusable and we say so instead of looping forever.
MAX_DAYS = 3 * 366


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    time_zone: str = "UTC"
    is_24x7: bool = False
    # weekday (Monday=0) → sorted, non-overlapping (start_minute, end_minute) pairs
    intervals: tuple[tuple[tuple[int, int], ...], ...] = field(default_factory=lambda: ((),) * 7)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        time_zone: str,
        is_24x7: bool = False,
        intervals: list[tuple[int, int, int]] | None = None,
        holidays: frozenset[date] | set[date] | list[date] = frozenset(),
    ) -> Schedule:
        """intervals: (weekday, start_minute, end_minute) triples, in any order, overlaps merged."""
        ZoneInfo(time_zone)  # raises on an unknown zone
        per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, start, end in intervals or []:
            if not 0 <= weekday <= 6 or not 0 <= start < end <= MINUTES_PER_DAY:
                raise ScheduleError(f"Bad working interval {weekday} {start}-{end}.")
            per_day[weekday].append((start, end))
        merged = []
        for spans in per_day:
            out: list[tuple[int, int]] = []
            for start, end in sorted(spans):
                if out and start <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], end))
                else:
                    out.append((start, end))
            merged.append(tuple(out))
        has_hours = any(merged)
        # A calendar with no working interval at all counts every second (24×7)
        # rather than never reaching a due time.
        return cls(
            time_zone=time_zone,
            is_24x7=is_24x7 or not has_hours,
            intervals=tuple(merged),
            holidays=frozenset(holidays),
        )


TWENTY_FOUR_SEVEN = Schedule(time_zone="UTC", is_24x7=True)


@lru_cache(maxsize=4096)
def _day_spans(schedule: Schedule, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """This local day's working intervals as UTC (start, end) pairs."""
    if day in schedule.holidays:
        return ()
    zone = ZoneInfo(schedule.time_zone)
    spans = []
    for start_min, end_min in schedule.intervals[day.weekday()]:
        start = _local_to_utc(day, start_min, zone)
        end = _local_to_utc(day, end_min, zone)
        # A span that DST swallowed entirely (e.g. 01:00-01:59 on a spring-forward
        # night in a zone that skips that hour) contributes nothing.
        if end > start:
            spans.append((start, end))
    return tuple(spans)


def _local_to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute >= MINUTES_PER_DAY:  # 24:00 is the next day's midnight
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    # fold=0: a wall time that does not exist (spring forward) maps to the instant
    # after the gap; one that exists twice (fall back) to its first occurrence.
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _spans_from(schedule: Schedule, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working spans (UTC) that end after `start`, in order, clipped to begin no earlier than it."""
    zone = ZoneInfo(schedule.time_zone)
    # Start one local day early: a span of yesterday can't reach today, but a
    # fall-back night makes the local date ambiguous near midnight.
    day = start.astimezone(zone).date() - timedelta(days=1)
    for _ in range(MAX_DAYS):
        for span_start, span_end in _day_spans(schedule, day):
            if span_end <= start:
                continue
            yield max(span_start, start), span_end
        day += timedelta(days=1)
    raise ScheduleError("The calendar has no working time within three years.")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("Business-time arithmetic needs aware datetimes.")
    return value.astimezone(UTC)


def add_business_time(schedule: Schedule, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant at which `duration` of business time has passed since `start`."""
    start = _aware(start)
    if duration < timedelta(0):
        raise ValueError("Cannot add negative business time.")
    if duration == timedelta(0):
        return start
    if schedule.is_24x7:
        return start + duration
    remaining = duration
    for span_start, span_end in _spans_from(schedule, start):
        length = span_end - span_start
        if remaining <= length:
            return span_start + remaining
        remaining -= length
    raise ScheduleError("unreachable")  # _spans_from raises first


def add_business_seconds(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    return add_business_time(schedule, start, timedelta(seconds=seconds))


def add_business_minutes(schedule: Schedule, start: datetime, minutes: float) -> datetime:
    return add_business_time(schedule, start, timedelta(minutes=minutes))


def business_time_between(schedule: Schedule, start: datetime, end: datetime) -> timedelta:
    """Business time in [start, end); zero when end is not after start."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return timedelta(0)
    if schedule.is_24x7:
        return end - start
    total = timedelta(0)
    for span_start, span_end in _spans_from(schedule, start):
        if span_start >= end:
            break
        total += min(span_end, end) - span_start
    return total


def business_seconds_between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Whole business seconds in [start, end) (fractions of a second are dropped)."""
    return int(business_time_between(schedule, start, end).total_seconds())


def is_business_time(schedule: Schedule, at: datetime) -> bool:
    at = _aware(at)
    if schedule.is_24x7:
        return True
    zone = ZoneInfo(schedule.time_zone)
    day = at.astimezone(zone).date()
    return any(s <= at < e for d in (day - timedelta(days=1), day) for s, e in _day_spans(schedule, d))
