"""SLA building blocks: a London office calendar, a 24×7 calendar and policies per priority."""

from datetime import time

import pytest

from escalation.sla.models import Calendar, Holiday, LadderLevel, OffsetKind, SlaPolicy, WorkingInterval
from tests.escalation.conftest import checklist, network_team, paths  # noqa: F401 (escalation paths for SLA tests)


@pytest.fixture
def office_hours(db):
    """Mon–Fri 09:00–17:00, Europe/London."""
    calendar = Calendar.objects.create(name="London office", time_zone="Europe/London", country="GB")
    for weekday in range(5):
        WorkingInterval.objects.create(calendar=calendar, weekday=weekday, start=time(9), end=time(17))
    return calendar


@pytest.fixture
def always(db):
    return Calendar.objects.create(name="24×7", time_zone="UTC", is_24x7=True)


def make_policy(*, name, priority="", calendar=None, position=10, is_default=False, ladder=(), **targets):
    """ladder: (target, offset_kind, offset, {actions}) tuples."""
    policy = SlaPolicy.objects.create(
        name=name, priority=priority, calendar=calendar, position=position, is_default=is_default, **targets
    )
    for index, (target, kind, offset, actions) in enumerate(ladder):
        LadderLevel.objects.create(
            policy=policy, target=target, position=index, offset_kind=kind, offset=offset, **actions
        )
    return policy


STANDARD_LADDER = [
    ("resolution", OffsetKind.PERCENT, 50, {}),
    ("resolution", OffsetKind.PERCENT, 75, {"notify_team_lead": True}),
    ("resolution", OffsetKind.PERCENT, 100, {"notify_team_lead": True}),
    ("resolution", OffsetKind.MINUTES, 60, {"notify_team_lead": True}),
]


@pytest.fixture
def p1_policy(always):
    return make_policy(
        name="P1",
        priority="P1",
        calendar=always,
        position=1,
        first_response_minutes=15,
        resolution_minutes=240,
        tier1_budget_minutes=30,
        tier2_accept_minutes=15,
    )


@pytest.fixture
def p3_policy(office_hours):
    """P3 on office hours: respond in 1 h, resolve in 4 business hours, no Tier 1 budget (keeps the ladder tests quiet)."""
    return make_policy(
        name="P3",
        priority="P3",
        calendar=office_hours,
        position=3,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=240,
        ladder=STANDARD_LADDER,
    )


@pytest.fixture
def p4_policy(office_hours):
    return make_policy(
        name="P4",
        priority="P4",
        calendar=office_hours,
        position=4,
        first_response_minutes=8 * 60,
        resolution_minutes=5 * 8 * 60,
        ladder=STANDARD_LADDER,
    )


@pytest.fixture
def uk_holiday(office_hours):
    return Holiday.objects.create(calendar=office_hours, date="2026-01-19", name="A made-up Monday holiday")
