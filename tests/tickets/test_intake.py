import pytest

from tickets.models import EventKind, Ticket, TicketStatus, Tier

from ..factories import make_ticket

pytestmark = pytest.mark.django_db


def test_ticket_created_through_intake_lands_in_tier1_with_timeline(requester, category, service_desk):
    ticket = make_ticket(requester=requester, category=category)

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == TicketStatus.NEW
    assert ticket.tier == Tier.ONE
    assert ticket.queue == service_desk
    assert ticket.reference == f"HD-{ticket.pk:06d}"
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds[:2] == [EventKind.CREATED, EventKind.ROUTED]
