"""The sweep is set-based: its queries per batch do not grow with the tickets in the batch."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import EscalationPath
from escalation.sla.models import LadderFiring, SlaRecord
from escalation.sla.sweep import sla_sweep
from tickets.models import EventKind, Impact, Ticket, TicketEvent, Urgency
from tickets.notifications.models import Notification

from ..factories import make_ticket
from .test_sweep import london, p3_ticket

pytestmark = pytest.mark.django_db


def catch_up_queries(count: int, *, requester, category, agent) -> int:
    """Sweep `count` P3 tickets two days overdue (breaches and the whole ladder); returns its queries."""
    Ticket.objects.all().delete()
    for _ in range(count):
        ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    with CaptureQueriesContext(connection) as queries:
        report = sla_sweep(now=london(2026, 1, 21, 12, 0))
    assert (report.tickets, report.breaches, report.levels_fired) == (count, 2 * count, 4 * count)
    assert LadderFiring.objects.count() == 4 * count
    assert TicketEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 2 * count
    assert Notification.objects.filter(kind="sla_breached").exists()
    return len(queries)


def test_a_catch_up_batch_costs_the_same_queries_for_3_or_30_tickets(requester, category, agent, p3_policy):
    catch_up_queries(2, requester=requester, category=category, agent=agent)  # warm the per-process caches

    few = catch_up_queries(3, requester=requester, category=category, agent=agent)
    many = catch_up_queries(30, requester=requester, category=category, agent=agent)

    assert many == few, (few, many)
    assert many <= 25  # 17 when written, 21 with main's engine changes: claim, firings, ladders, inserts, outbox…


def test_automatic_escalations_stay_within_a_per_ticket_budget(
    requester, category, p1_policy, identity_team, engineer, service_desk
):
    EscalationPath.objects.create(name="Stale", category=category, trigger="time_exceeded", to_queue=identity_team)
    start = datetime(2026, 1, 19, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            make_ticket(requester=requester, category=category, impact=Impact.ORGANIZATION, urgency=Urgency.STOPPED)

    with time_machine.travel(start + timedelta(minutes=31), tick=False), CaptureQueriesContext(connection) as queries:
        report = sla_sweep()

    assert report.escalations == 10
    assert SlaRecord.objects.filter(target="tier2_accept").count() == 10
    # Each escalation goes through the escalation service (lock, path, escalation row, events,
    # outbox, SLA tier change); everything else is per batch.
    assert len(queries) <= 10 * 33, len(queries)  # 256 when written, 307 with main's handoff and engine changes
