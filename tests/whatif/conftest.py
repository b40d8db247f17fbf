"""The dashboard's small week of desk life (tests/dashboard/conftest.py) is the what-if's ground truth too."""

from datetime import time

import pytest

from escalation.sla.models import Calendar, WorkingInterval
from tests.dashboard.conftest import paths, sla_policy, week  # noqa: F401
from tests.dashboard.test_pages import viewer  # noqa: F401  (the manager, in New York like the week's figures)


@pytest.fixture
def office_hours_calendar(db):
    calendar = Calendar.objects.create(name="New York office", time_zone="America/New_York")
    for weekday in range(5):
        WorkingInterval.objects.create(calendar=calendar, weekday=weekday, start=time(9), end=time(17))
    return calendar
