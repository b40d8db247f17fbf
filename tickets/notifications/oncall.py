"""Who is on call for a team.

Turns are counted in the rotation's own time zone on wall-clock dates: a hand-over
at 09:00 Europe/London happens at 09:00 local before and after a DST change (the
instant moves, the turn does not), and a turn is never an hour short or long.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tickets.models import Queue, User

from .models import OnCallOverride, OnCallRotation


def on_call_for(*, queue: Queue, at: datetime) -> User | None:
    """The engineer on call for this queue at this instant, or None.

    An override covering the instant wins (the most recent one if several overlap);
    otherwise the member whose turn it is.
    """
    rotation = OnCallRotation.objects.filter(queue=queue).first()
    if rotation is None:
        return None
    override = (
        OnCallOverride.objects.filter(rotation=rotation, starts_at__lte=at, ends_at__gt=at, user__is_active=True)
        .select_related("user")
        .order_by("-starts_at", "-id")
        .first()
    )
    if override is not None:
        return override.user
    members = [m.user for m in rotation.members.select_related("user").filter(user__is_active=True)]
    if not members:
        return None
    return members[turn_index(rotation, at) % len(members)]


def first_handover(rotation: OnCallRotation) -> date:
    """The date of the first hand-over: starts_on, moved forward to the hand-over weekday."""
    start = rotation.starts_on
    if rotation.handover_weekday is not None:
        start += timedelta(days=(rotation.handover_weekday - start.weekday()) % 7)
    return start


def turn_index(rotation: OnCallRotation, at: datetime) -> int:
    """How many turns have begun since the first hand-over (negative before it)."""
    local = at.astimezone(ZoneInfo(rotation.time_zone))
    # Before today's hand-over time the previous day's turn is still running.
    day = (
        local.date()
        if local.time().replace(tzinfo=None) >= _as_time(rotation.handover_time)
        else local.date() - timedelta(days=1)
    )
    return (day - first_handover(rotation)).days // rotation.rotation_length_days


@dataclass(frozen=True)
class Shift:
    user: User
    starts_at: datetime
    ends_at: datetime


def upcoming_shifts(rotation: OnCallRotation, *, at: datetime, count: int = 4) -> list[Shift]:
    """The current turn and the next ones (ignoring overrides), with local hand-over instants."""
    members = [m.user for m in rotation.members.select_related("user").filter(user__is_active=True)]
    if not members:
        return []
    tz = ZoneInfo(rotation.time_zone)
    index = turn_index(rotation, at)
    shifts = []
    for turn in range(index, index + count):
        start_day = first_handover(rotation) + timedelta(days=turn * rotation.rotation_length_days)
        end_day = start_day + timedelta(days=rotation.rotation_length_days)
        shifts.append(
            Shift(
                user=members[turn % len(members)],
                starts_at=datetime.combine(start_day, _as_time(rotation.handover_time), tzinfo=tz),
                ends_at=datetime.combine(end_day, _as_time(rotation.handover_time), tzinfo=tz),
            )
        )
    return shifts


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))
