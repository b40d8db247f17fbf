"""Business-hours calendars: is a team at work, and importing public holidays."""

from datetime import date, datetime

import holidays as holiday_data
from django.db import transaction

from tickets import configcache

from . import businesstime
from .models import Calendar, Holiday, QueueCalendar
from .services import load_schedule


def queue_in_business_hours(*, queue, at: datetime) -> bool:
    """Is this team inside its business hours at this instant? A team without a calendar always is."""

    def load() -> dict[int, int]:
        return dict(QueueCalendar.objects.values_list("queue_id", "calendar_id"))

    calendar_id = configcache.cached("queue_calendars", load).get(queue.pk)
    if calendar_id is None:
        return True
    return businesstime.is_business_time(load_schedule(calendar_id=calendar_id), at)


def calendar_in_business_hours(*, calendar_id: int | None, time_zone: str | None, at: datetime) -> bool:
    return businesstime.is_business_time(load_schedule(calendar_id=calendar_id, time_zone=time_zone), at)


@transaction.atomic
def holidays_import(*, calendar: Calendar, country: str, year: int, subdivision: str | None = None) -> int:
    """Add a country's public holidays for a year to the calendar; returns how many were new."""
    try:
        found = holiday_data.country_holidays(country.upper(), subdiv=subdivision, years=year)
    except NotImplementedError:
        from tickets.errors import InvalidInput

        raise InvalidInput({"country": [f"No public-holiday data for {country!r}."]})
    existing = set(Holiday.objects.filter(calendar=calendar, date__year=year).values_list("date", flat=True))
    rows = [
        Holiday(calendar=calendar, date=day, name=str(name)[:200])
        for day, name in sorted(found.items())
        if isinstance(day, date) and day not in existing
    ]
    Holiday.objects.bulk_create(rows, ignore_conflicts=True)
    configcache.changed()  # bulk_create sends no signals
    return len(rows)
