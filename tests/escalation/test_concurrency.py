"""Two people acting at once on PostgreSQL: exactly one wins, the other gets a conflict."""

import pytest

from escalation.models import Escalation, Outcome, Trigger
from escalation.services import escalation_accept, ticket_escalate
from tests.race import race
from tickets import services as ticket_services
from tickets.errors import InvalidTransition
from tickets.models import EventKind, TicketStatus

from .conftest import good_handoff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_engineers_accept_at_once_exactly_one_wins(escalated, ticket, engineer, other_engineer):
    results = race(
        lambda: escalation_accept(ticket_id=ticket.pk, acting_user=engineer),
        lambda: escalation_accept(ticket_id=ticket.pk, acting_user=other_engineer),
    )
    winners = [r for r in results if isinstance(r, Escalation)]
    losers = [r for r in results if isinstance(r, InvalidTransition)]
    assert (len(winners), len(losers)) == (1, 1), results
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.assignee == winners[0].accepted_by
    assert ticket.events.filter(kind=EventKind.ACCEPTED).count() == 1
    assert Escalation.objects.get(pk=escalated.pk).outcome == Outcome.ACCEPTED


def test_escalate_and_resolve_at_once_exactly_one_wins(ticket, agent):
    results = race(
        lambda: ticket_escalate(
            ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=agent
        ),
        lambda: ticket_services.ticket_resolve(ticket_id=ticket.pk, resolution="Unlocked it.", acting_user=agent),
    )
    conflicts = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(conflicts) == 1, results
    ticket.refresh_from_db()
    if isinstance(results[0], Escalation):
        assert ticket.status == TicketStatus.ESCALATED
        assert not ticket.events.filter(kind=EventKind.RESOLVED).exists()
    else:
        assert ticket.status == TicketStatus.RESOLVED
        assert not Escalation.objects.filter(ticket=ticket).exists()


def test_the_api_answers_409_to_the_second_accept(escalated, ticket, engineer, other_engineer, api_for):
    first = api_for(engineer).post(f"/api/v1/tickets/{ticket.pk}/accept/")
    second = api_for(other_engineer).post(f"/api/v1/tickets/{ticket.pk}/accept/")
    assert first.status_code == 200
    assert second.status_code == 409
    assert "cannot be accepted" in second.json()["detail"]
