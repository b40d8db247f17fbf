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

from bisect import bisect_left, bisect_right
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

    def __hash__(self) -> int:
        # Looked up on every business-time call (the caches below): hashed once, not per call.
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash((self.time_zone, self.is_24x7, self.intervals, self.holidays))
            object.__setattr__(self, "_hash", value)
            return value

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


# ---------------------------------------------------------------- blocks of days, indexed
#
# A replay of thousands of tickets asks for due times and business time by the
# ten thousand, mostly over the same weeks. The working spans of a run of local
# days are laid out once per schedule as sorted lists with running totals, so
# an answer is two bisections and a subtraction instead of a walk over days.
# The walk (_add_by_walking, _between_by_walking) stays the definition: a block
# whose spans are not sorted and disjoint (only a working interval cut by a DST
# gap can do that) is answered by walking, and a hypothesis test holds the two
# equal (tests/sla/test_businesstime.py).

BLOCK_DAYS = 32


@dataclass(frozen=True)
class _Block:
    first_day: date
    days: tuple[int, ...]  # the local day (ordinal) of span i
    starts: tuple[datetime, ...]
    ends: tuple[datetime, ...]
    before: tuple[timedelta, ...]  # business time in the block before span i
    through: tuple[timedelta, ...]  # … up to the end of span i
    total: timedelta
    regular: bool  # spans sorted and disjoint


@lru_cache(maxsize=4096)
def _block(schedule: Schedule, number: int) -> _Block:
    first_day = date.fromordinal(max(1, number * BLOCK_DAYS))
    dated = [
        (day.toordinal(), span)
        for day in (first_day + timedelta(days=offset) for offset in range(BLOCK_DAYS))
        for span in _day_spans(schedule, day)
    ]
    spans = [span for _day, span in dated]
    # Sorted and disjoint, the previous day's spans included (a DST gap at midnight could cross the seam).
    seam = [*_day_spans(schedule, first_day - timedelta(days=1))[-1:], *spans]
    regular = all(seam[i][1] <= seam[i + 1][0] for i in range(len(seam) - 1))
    before, through, total = [], [], timedelta(0)
    for start, end in spans:
        before.append(total)
        total += end - start
        through.append(total)
    return _Block(
        first_day=first_day,
        days=tuple(day for day, _span in dated),
        starts=tuple(s for s, _ in spans),
        ends=tuple(e for _, e in spans),
        before=tuple(before),
        through=tuple(through),
        total=total,
        regular=regular,
    )


def _first_day(schedule: Schedule, start: datetime) -> int:
    """The walk's first local day (ordinal): one day early, as _spans_from."""
    return (start.astimezone(ZoneInfo(schedule.time_zone)).date() - timedelta(days=1)).toordinal()


def add_business_time(schedule: Schedule, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant at which `duration` of business time has passed since `start`."""
    start = _aware(start)
    if duration < timedelta(0):
        raise ValueError("Cannot add negative business time.")
    if duration == timedelta(0):
        return start
    if schedule.is_24x7:
        return start + duration
    first = _first_day(schedule, start)
    number, remaining = first // BLOCK_DAYS, duration
    while number * BLOCK_DAYS < first + MAX_DAYS:
        block = _block(schedule, number)
        if not block.regular:
            return _add_by_walking(schedule, start, duration)
        i = bisect_right(block.ends, start)  # the first span still open after start
        if i < len(block.starts):
            # Business time of the block before `start`, counted from its first span.
            done = block.before[i] + max(timedelta(0), start - block.starts[i])
            target = done + remaining
            if target <= block.total:
                k = bisect_left(block.through, target)
                if block.days[k] >= first + MAX_DAYS:
                    break  # beyond the walk's horizon: the walk says what that means
                return block.starts[k] + (target - block.before[k])
            remaining = target - block.total
        number += 1
    return _add_by_walking(schedule, start, duration)  # raises: no working time within three years


def _add_by_walking(schedule: Schedule, start: datetime, duration: timedelta) -> datetime:
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
    first = _first_day(schedule, start)
    number, total = first // BLOCK_DAYS, timedelta(0)
    while number * BLOCK_DAYS < first + MAX_DAYS:
        block = _block(schedule, number)
        if not block.regular:
            return _between_by_walking(schedule, start, end)
        i = bisect_right(block.ends, start)  # spans that end after start …
        j = bisect_left(block.starts, end)  # … and begin before end
        if i < j:
            total += block.through[j - 1] - block.before[i]
            total -= max(timedelta(0), start - block.starts[i])
            total -= max(timedelta(0), block.ends[j - 1] - end)
        if j < len(block.starts):
            if block.days[j] >= first + MAX_DAYS:
                break
            return total  # a span of this block begins at or after end: nothing later counts
        number += 1
    # No span began at or after `end` within three years: the walk says what that means.
    return _between_by_walking(schedule, start, end)


def _between_by_walking(schedule: Schedule, start: datetime, end: datetime) -> timedelta:
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
