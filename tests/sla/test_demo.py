"""The demo's SLA part: calendars with holidays, P1–P4 policies with ladders, clocks on seeded tickets."""

import pytest

from escalation.sla import demo as sla_demo
from escalation.sla.models import Calendar, Holiday, QueueCalendar, SlaPolicy, SlaRecord
from tickets import demo
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_demo_configuration_starts_clocks_for_seeded_and_bulk_tickets():
    org = demo.seed_organization()
    sla_demo.seed_configuration(org)

    assert set(SlaPolicy.objects.exclude(priority="").values_list("priority", flat=True)) == {"P1", "P2", "P3", "P4"}
    assert SlaPolicy.objects.get(is_default=True)
    assert Calendar.objects.get(name="24×7").is_24x7
    london = Calendar.objects.get(name="London office hours")
    assert Holiday.objects.filter(calendar=london, name__icontains="Christmas").exists()
    assert (
        QueueCalendar.objects.filter(queue=org.queues["identity-access"]).get().calendar.time_zone == "America/New_York"
    )

    demo.seed_tickets(org, count=5)
    for ticket in org.tickets:
        assert SlaRecord.objects.filter(ticket=ticket, target="resolution").exists()

    demo.bulk_tickets(None, count=40)
    made = sla_demo.seed_bulk(count=40)
    assert made > 0
    assert not Ticket.objects.filter(sla_records__isnull=True).exists()
    assert Ticket.objects.filter(resolution_due_at__isnull=True).count() == 0
