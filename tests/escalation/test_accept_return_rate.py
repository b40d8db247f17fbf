"""Tier 2 accepts, returns (both reasons) and rates; reassign moves within a tier."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation.models import Outcome, ReturnReason, Trigger
from escalation.services import (
    escalation_accept,
    escalation_rate,
    escalation_return,
    ticket_escalate,
)
from tests.factories import QueueFactory, UserFactory
from tickets import roles
from tickets.actions import ticket_transfer
from tickets.errors import InvalidInput, InvalidTransition, NotAllowed
from tickets.models import EventKind, TicketStatus, Tier
from tickets.notifications.models import Notification

from .conftest import good_handoff

pytestmark = pytest.mark.django_db


def test_accept_gives_tier2_ownership_and_measures_time_to_accept(ticket, agent, engineer, handoff):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        escalation = ticket_escalate(
            ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=handoff, acting_user=agent
        )
    with time_machine.travel(start + timedelta(minutes=25), tick=False):
        escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    ticket.refresh_from_db()
    escalation.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.tier == Tier.TWO
    assert ticket.assignee == engineer
    assert escalation.outcome == Outcome.ACCEPTED
    assert escalation.accepted_by == engineer
    assert escalation.time_to_accept == timedelta(minutes=25)
    [event] = ticket.events.filter(kind=EventKind.ACCEPTED)
    assert event.actor == engineer
    assert event.data["seconds_to_accept"] == 1500


def test_only_the_owning_team_accepts(escalated, ticket, secops, agent):
    with pytest.raises(NotAllowed):
        escalation_accept(ticket_id=ticket.pk, acting_user=secops)  # Tier 2, but not Identity & Access
    with pytest.raises(NotAllowed):
        escalation_accept(ticket_id=ticket.pk, acting_user=agent)  # Tier 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ESCALATED


def test_a_second_accept_is_a_conflict(escalated, ticket, engineer, other_engineer):
    escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    with pytest.raises(InvalidTransition):
        escalation_accept(ticket_id=ticket.pk, acting_user=other_engineer)
    ticket.refresh_from_db()
    assert ticket.assignee == engineer


def test_return_for_an_incomplete_handoff_goes_back_to_the_original_tier1_queue(
    escalated, ticket, engineer, agent, service_desk
):
    escalation_return(
        ticket_id=ticket.pk,
        reason=ReturnReason.HANDOFF_INCOMPLETE,
        note="The evidence is a paraphrase; paste the exact error.",
        missing_fields=["error_evidence"],
        acting_user=engineer,
    )
    ticket.refresh_from_db()
    escalated.refresh_from_db()
    assert ticket.queue == service_desk
    assert ticket.tier == Tier.ONE
    assert ticket.status == TicketStatus.OPEN
    assert ticket.assignee == agent
    assert escalated.outcome == Outcome.RETURNED
    assert escalated.returned_missing_fields == ["error_evidence"]
    [event] = ticket.events.filter(kind=EventKind.RETURNED)
    assert event.actor == engineer
    assert event.data["reason"] == "handoff_incomplete"
    assert event.data["missing_fields"] == ["error_evidence"]
    assert event.data["to_queue"] == "service-desk"
    assert Notification.objects.filter(ticket=ticket, kind="returned", recipient=agent).exists()


def test_return_within_tier1_scope_names_the_article(escalated, ticket, engineer, agent):
    escalation_return(
        ticket_id=ticket.pk,
        reason=ReturnReason.WITHIN_TIER1_SCOPE,
        note="Unlock through the self-service portal.",
        kb_reference="KB-42 Unlock an account after smart lockout",
        acting_user=engineer,
    )
    escalated.refresh_from_db()
    assert escalated.kb_reference == "KB-42 Unlock an account after smart lockout"
    [event] = ticket.events.filter(kind=EventKind.RETURNED)
    assert event.data["kb_reference"] == "KB-42 Unlock an account after smart lockout"


def test_a_ticket_transferred_in_tier1_returns_to_where_it_was_escalated_from(
    ticket, agent, engineer, handoff, service_desk
):
    vip_desk = QueueFactory(name="VIP Desk", slug="vip-desk", tier=Tier.ONE)
    ticket_transfer(ticket_id=ticket.pk, queue=vip_desk, reason="Executive assistant", acting_user=agent)
    ticket_escalate(ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=handoff, acting_user=agent)
    escalation_return(
        ticket_id=ticket.pk,
        reason=ReturnReason.WITHIN_TIER1_SCOPE,
        note="Known fix.",
        kb_reference="https://kb.example/unlock",
        acting_user=engineer,
    )
    ticket.refresh_from_db()
    assert ticket.queue == vip_desk


@pytest.mark.parametrize(
    ("reason", "missing", "kb", "field"),
    [
        ("", [], "", "reason"),
        ("because", [], "", "reason"),
        (ReturnReason.HANDOFF_INCOMPLETE, [], "", "missing_fields"),
        (ReturnReason.HANDOFF_INCOMPLETE, ["colour"], "", "missing_fields"),
        (ReturnReason.WITHIN_TIER1_SCOPE, [], "  ", "kb_reference"),
    ],
)
def test_a_return_must_say_why(escalated, ticket, engineer, reason, missing, kb, field):
    version = ticket.version
    with pytest.raises(InvalidInput) as refused:
        escalation_return(
            ticket_id=ticket.pk,
            reason=reason,
            note="Sending it back.",
            missing_fields=missing,
            kb_reference=kb,
            acting_user=engineer,
        )
    assert field in refused.value.errors
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == (TicketStatus.ESCALATED, version)


def test_a_return_needs_a_note(escalated, ticket, engineer):
    with pytest.raises(InvalidInput) as refused:
        escalation_return(
            ticket_id=ticket.pk,
            reason=ReturnReason.WITHIN_TIER1_SCOPE,
            note=" ",
            kb_reference="KB-1",
            acting_user=engineer,
        )
    assert list(refused.value.errors) == ["note"]


def test_rating_the_handoff(escalated, ticket, engineer):
    escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    escalation_rate(escalation_id=escalated.pk, rating=4, comment="Clear evidence.", acting_user=engineer)
    escalated.refresh_from_db()
    assert (escalated.rating, escalated.rating_comment, escalated.rated_by) == (4, "Clear evidence.", engineer)
    [event] = ticket.events.filter(kind=EventKind.RATED)
    assert (event.data["old"], event.data["new"]) == (None, 4)


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_are_1_to_5(escalated, ticket, engineer, rating):
    escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    with pytest.raises(InvalidInput):
        escalation_rate(escalation_id=escalated.pk, rating=rating, acting_user=engineer)


def test_rating_waits_for_the_outcome_and_tier2(escalated, ticket, engineer, agent):
    with pytest.raises(InvalidTransition):
        escalation_rate(escalation_id=escalated.pk, rating=3, acting_user=engineer)
    escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    with pytest.raises(NotAllowed):
        escalation_rate(escalation_id=escalated.pk, rating=3, acting_user=agent)


def test_escalating_twice_is_a_conflict(escalated, ticket, agent):
    with pytest.raises(InvalidTransition):
        ticket_escalate(
            ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=agent
        )


def test_a_transfer_within_tier2_moves_the_awaiting_escalation(escalated, ticket, engineer, network_team):
    net_engineer = UserFactory(username="neteng", role=roles.TIER2_ENGINEER)
    network_team.members.add(net_engineer)
    ticket_transfer(ticket_id=ticket.pk, queue=network_team, reason="It's the Wi-Fi controller", acting_user=engineer)
    ticket.refresh_from_db()
    escalated.refresh_from_db()
    assert ticket.queue == network_team
    assert escalated.to_queue == network_team
    [event] = ticket.events.filter(kind=EventKind.REASSIGNED)
    assert (event.data["old"], event.data["new"]) == ("Identity & Access", "Network")
    escalation_accept(ticket_id=ticket.pk, acting_user=net_engineer)


def test_a_transfer_never_crosses_tiers_and_needs_a_reason(ticket, agent, identity_team, service_desk):
    with pytest.raises(InvalidInput) as refused:
        ticket_transfer(ticket_id=ticket.pk, queue=identity_team, reason="Harder", acting_user=agent)
    assert "queue" in refused.value.errors
    other = QueueFactory(name="Other desk", slug="other-desk", tier=Tier.ONE)
    with pytest.raises(InvalidInput) as refused:
        ticket_transfer(ticket_id=ticket.pk, queue=other, reason=" ", acting_user=agent)
    assert "reason" in refused.value.errors
    ticket.refresh_from_db()
    assert ticket.queue == service_desk


def test_only_the_receiving_team_rates_the_handoff(escalated, ticket, engineer, network_team, manager):
    # given an escalation Identity & Access accepted
    escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    other_team_engineer = UserFactory(username="neteng", role=roles.TIER2_ENGINEER)
    network_team.members.add(other_team_engineer)
    # when Tier 2 engineers of another team, or a manager, try to rate it: refused, nothing recorded
    for outsider in (other_team_engineer, manager):
        with pytest.raises(NotAllowed):
            escalation_rate(escalation_id=escalated.pk, rating=1, acting_user=outsider)
    escalated.refresh_from_db()
    assert escalated.rating is None
    assert not ticket.events.filter(kind=EventKind.RATED).exists()
    # the team's lead, not a member, may rate it
    lead = UserFactory(username="idlead", role=roles.TIER2_ENGINEER)
    escalated.to_queue.lead = lead
    escalated.to_queue.save(update_fields=["lead"])
    escalation_rate(escalation_id=escalated.pk, rating=5, acting_user=lead)
    escalated.refresh_from_db()
    assert (escalated.rating, escalated.rated_by) == (5, lead)
