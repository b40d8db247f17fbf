"""sla_sweep_ticket: the sweep for one ticket at one moment, for history written after the fact (the demo)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from escalation.sla.models import SlaRecord, Stage, Target
from escalation.sla.sweep import sla_sweep_ticket
from tickets.models import EventKind, Impact, Urgency

from ..factories import make_ticket

LONDON = ZoneInfo("Europe/London")


def london(*args):
    return datetime(*args, tzinfo=LONDON)


@pytest.mark.django_db
def test_one_tickets_due_records_and_nobody_elses(requester, category, p3_policy):
    # P3 on office hours: first response due 11:00, resolution (4 business hours) due 14:00.
    with time_machine.travel(london(2026, 1, 19, 10, 0), tick=False):
        mine, other = (
            make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.STOPPED)
            for _ in range(2)
        )
    with time_machine.travel(london(2026, 1, 19, 14, 30), tick=False):
        report = sla_sweep_ticket(ticket_id=mine.pk, now=london(2026, 1, 19, 14, 30))
    assert (report.tickets, report.breaches) == (1, 2)
    resolution = SlaRecord.objects.get(ticket=mine, target=Target.RESOLUTION)
    assert (resolution.stage, resolution.breached_at) == (Stage.BREACHED, london(2026, 1, 19, 14, 0))
    assert mine.events.filter(kind=EventKind.SLA_BREACHED).count() == 2
    assert not SlaRecord.objects.filter(ticket=other).exclude(stage=Stage.RUNNING).exists()
    assert not other.events.filter(kind__in=[EventKind.SLA_BREACHED, EventKind.SLA_WARNING]).exists()
