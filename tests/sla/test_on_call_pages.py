"""A ladder level that pages on-call pages by the on-call channels, whatever its level or the person's preferences."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from escalation.sla.models import OffsetKind
from tests.factories import UserFactory, make_ticket
from tickets import roles
from tickets.models import EventKind
from tickets.notifications.models import Notification, NotificationPreference

from .conftest import make_policy

pytestmark = pytest.mark.django_db


def test_a_warning_level_page_reaches_the_on_call_engineer_by_email_too(requester, category, always, monkeypatch):
    # given a 50 % (warning) level that pages on-call, and someone on call who muted on-call email
    make_policy(
        name="Paged",
        calendar=always,
        is_default=True,
        resolution_minutes=60,
        ladder=[("resolution", OffsetKind.PERCENT, 50, {"notify_assignee": False, "page_on_call": True})],
    )
    on_call = UserFactory(username="oncall1", email="oncall1@example.com", role=roles.TIER2_ENGINEER)
    NotificationPreference.objects.create(user=on_call, kind="on_call_page", channel="email", enabled=False)
    monkeypatch.setattr("escalation.sla.sweep.on_call_for", lambda *, queue, at: on_call)
    from escalation.sla.sweep import sla_sweep

    start = datetime(2026, 1, 19, 22, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(requester=requester, category=category)

    # when the sweep reaches the level
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        sla_sweep()

    # then one warning on the timeline, and a page in-app and by email (not the in-app-only warning)
    [warning] = ticket.events.filter(kind=EventKind.SLA_WARNING)
    pages = Notification.objects.filter(ticket=ticket, recipient=on_call)
    assert sorted(pages.values_list("kind", "channel")) == [("on_call_page", "email"), ("on_call_page", "in_app")]
    assert set(pages.values_list("event_id", flat=True)) == {warning.pk}
