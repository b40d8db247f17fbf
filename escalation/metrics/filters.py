"""The dashboard's period and filters, as they travel in a URL (so a view can be bookmarked).

Query parameters: `from` and `to` (YYYY-MM-DD, both included, in the viewer's
time zone), `team` (queue slug), `category` (slug), `priority` (P1…P4),
`site` (slug). Bad values raise InvalidInput field by field; nothing is guessed.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from django.db.models import Q
from django.utils import timezone

from tickets.errors import InvalidInput
from tickets.models import Category, Priority, Queue, Site

DEFAULT_DAYS = 30
MAX_DAYS = 366
FILTER_PARAMS = ("from", "to", "team", "category", "priority", "site")


@dataclass(frozen=True)
class MetricsFilter:
    date_from: date
    date_to: date
    time_zone: zoneinfo.ZoneInfo
    team: Queue | None = None
    category: Category | None = None
    priority: str = ""
    site: Site | None = None

    # Cached (the fields are frozen): the what-if compares thousands of records against them.
    @cached_property
    def start(self) -> datetime:
        """Midnight starting `date_from` in the viewer's zone (inclusive)."""
        return datetime.combine(self.date_from, time(0), tzinfo=self.time_zone)

    @cached_property
    def end(self) -> datetime:
        """Midnight after `date_to` in the viewer's zone (exclusive)."""
        return datetime.combine(self.date_to + timedelta(days=1), time(0), tzinfo=self.time_zone)

    @cached_property
    def local_hours(self) -> tuple[tuple[datetime, ...], tuple[tuple[date, int], ...]] | None:
        """The period cut where the viewer's local (date, hour) changes: each piece's first instant, and its
        (date, hour). A repeated hour (clocks going back) is two pieces with the same label.

        The figures count rows per piece with a binary search of these instants (figures.LocalPiece)
        instead of converting every row to local time in the database. None if a change does not fall
        on a quarter hour (the local mean time of a zone's early history): the rows are converted then.
        """
        zone, quarter, tick = self.time_zone, timedelta(minutes=15), timedelta(microseconds=1)
        at, end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        if at.minute % 15 or at.second or at.microsecond:
            return None
        starts: list[datetime] = []
        labels: list[tuple[date, int]] = []
        while at < end:
            local = at.astimezone(zone)
            label = (local.date(), local.hour)
            if not labels or label != labels[-1]:
                before = (at - tick).astimezone(zone)
                if labels and (before.date(), before.hour) != labels[-1]:
                    return None  # the change fell between two quarter hours
                starts.append(at)
                labels.append(label)
            # next: the following local hour, or the next quarter hour if the offset changes before it
            following = at + timedelta(minutes=60 - local.minute)
            at = following if _same_offset(zone, at, following - tick) else at + quarter
        return tuple(starts), tuple(labels)

    @cached_property
    def local_days(self) -> tuple[tuple[datetime, ...], tuple[date, ...]] | None:
        """local_hours, cut by local date only."""
        if self.local_hours is None:
            return None
        starts, days = [], []
        for start, (day, _hour) in zip(*self.local_hours, strict=True):
            if not days or day != days[-1]:
                starts.append(start)
                days.append(day)
        return tuple(starts), tuple(days)

    def period(self) -> dict[str, str]:
        """The period as every figures answer states it (dates, zone, and the instants they mean)."""
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "time_zone": str(self.time_zone),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def within(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})

    def ticket_q(self, prefix: str = "") -> Q:
        """The filters as conditions on a ticket (prefix "ticket__" from a related table).

        Team means the ticket's owning team now, or the Tier 1 queue it came from
        (Ticket.tier1_queue), so a Tier 1 desk keeps seeing the tickets it escalated.
        """
        q = Q()
        if self.team is not None:
            q &= Q(**{f"{prefix}queue": self.team}) | Q(**{f"{prefix}tier1_queue": self.team})
        if self.category is not None:
            q &= Q(**{f"{prefix}category": self.category})
        if self.priority:
            q &= Q(**{f"{prefix}priority": self.priority})
        if self.site is not None:
            q &= Q(**{f"{prefix}site": self.site})
        return q

    def as_params(self, **changes) -> dict[str, str]:
        """The URL parameters for this view (with `changes` applied; None drops one)."""
        params = {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "team": self.team.slug if self.team else "",
            "category": self.category.slug if self.category else "",
            "priority": self.priority,
            "site": self.site.slug if self.site else "",
        }
        params.update(changes)
        return {key: str(value) for key, value in params.items() if value not in (None, "")}


def _same_offset(zone: zoneinfo.ZoneInfo, first: datetime, last: datetime) -> bool:
    return first.astimezone(zone).utcoffset() == last.astimezone(zone).utcoffset()


def parse_filters(params, *, time_zone: str, today: date | None = None) -> MetricsFilter:
    """Read the filters from a QueryDict or dict; raise InvalidInput naming each bad field."""
    zone = zoneinfo.ZoneInfo(time_zone)
    today = today or timezone.now().astimezone(zone).date()
    errors: dict[str, list[str]] = {}

    def _date(name: str, default: date) -> date:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["Give a date as YYYY-MM-DD."]
            return default

    date_to = _date("to", today)
    date_from = _date("from", date_to - timedelta(days=DEFAULT_DAYS - 1))
    if "from" not in errors and "to" not in errors:
        if date_from > date_to:
            errors["from"] = ["The period must start on or before its end."]
        elif (date_to - date_from).days + 1 > MAX_DAYS:
            errors["from"] = [f"Choose a period of at most {MAX_DAYS} days."]

    def _slug(name: str, model):
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        found = model.objects.filter(slug=raw).first()
        if found is None:
            errors[name] = [f"No {name} “{raw}”."]
        return found

    team = _slug("team", Queue)
    category = _slug("category", Category)
    site = _slug("site", Site)
    priority = (params.get("priority") or "").strip().upper()
    if priority and priority not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    if errors:
        raise InvalidInput(errors)
    return MetricsFilter(
        date_from=date_from,
        date_to=date_to,
        time_zone=zone,
        team=team,
        category=category,
        priority=priority,
        site=site,
    )
