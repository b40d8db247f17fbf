"""Two people acting on one ticket at once: exactly one wins, the other gets a clear conflict."""

import pytest

from tickets import services
from tickets.errors import InvalidTransition
from tickets.models import EventKind, Ticket, TicketStatus

from ..factories import make_ticket
from ..race import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_agents_resolving_at_once_resolve_it_once(agent, manager, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    results = race(
        lambda: services.ticket_resolve(ticket_id=ticket.pk, resolution="Reset it", acting_user=agent),
        lambda: services.ticket_resolve(ticket_id=ticket.pk, resolution="Rebooted", acting_user=manager),
    )

    winners = [r for r in results if isinstance(r, Ticket)]
    losers = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(winners) == 1 and len(losers) == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.events.filter(kind=EventKind.RESOLVED).count() == 1
    assert ticket.comments.count() == 1


def test_resolve_racing_pending_leaves_one_consistent_outcome(agent, manager, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    race(
        lambda: services.ticket_resolve(ticket_id=ticket.pk, resolution="Done", acting_user=agent),
        lambda: services.ticket_set_pending(ticket_id=ticket.pk, reason="Need logs", acting_user=manager),
    )

    ticket.refresh_from_db()
    kinds = set(ticket.events.values_list("kind", flat=True))
    # Either order is fine, but the final state must agree with the recorded history.
    if ticket.status == TicketStatus.RESOLVED:
        assert EventKind.RESOLVED in kinds
    else:
        assert ticket.status == TicketStatus.PENDING
        assert EventKind.PENDING in kinds and EventKind.RESOLVED not in kinds
    assert ticket.version == 1 + len(kinds & {EventKind.RESOLVED, EventKind.PENDING})
