"""The Tier 2 loop: only the receiving team acts, every return reason works (wrong team included),
rating after accept or return, and Tier 1 sees why a handoff came back."""

import pytest
from django.urls import reverse

from escalation.models import Escalation, Outcome, ReturnReason
from escalation.services import escalation_accept, escalation_rate, escalation_return
from tickets.models import EventKind, TicketStatus, Tier
from tickets.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_accept_and_return_show_only_to_the_receiving_team(escalated, ticket, engineer, other_engineer, secops, client):
    url = reverse("ticket-detail", args=[ticket.pk])
    client.force_login(engineer)
    html = client.get(url).content.decode()
    assert "Accept escalation" in html and "Return or re-route" in html
    client.force_login(secops)  # Tier 2, another team
    html = client.get(url).content.decode()
    assert "Accept escalation" not in html
    assert "Awaiting Identity &amp; Access" in html
    assert str(engineer) in html  # who can act


def test_the_tier2_queue_offers_accept_only_on_rows_the_user_may_act_on(escalated, ticket, secops, engineer, client):
    client.force_login(engineer)
    html = client.get(reverse("tier2-queue")).content.decode()
    assert f"Accept {ticket.reference}" in html
    assert "1 complete" not in html  # quality from the checks, not a count of filled fields
    assert "5 complete" in html


def test_return_page_shows_the_handoff_beside_the_reason_form(escalated, ticket, engineer, client):
    client.force_login(engineer)
    html = client.get(reverse("ticket-return", args=[ticket.pk])).content.decode()
    assert escalated.problem_summary in html
    assert "AADSTS50053" in html
    assert "Wrong team" in html and "Within Tier 1 scope" in html and "Handoff incomplete" in html


def test_wrong_team_reroutes_to_the_named_team_and_keeps_the_clock(escalated, ticket, engineer, network_team, api_for):
    from escalation.sla.models import SlaRecord

    accept_clock = SlaRecord.objects.filter(ticket=ticket, target="tier2_accept", is_current=True).first()
    network_lead = network_team.lead
    response = api_for(engineer).post(
        f"/api/v1/tickets/{ticket.pk}/return/",
        {"reason": "wrong_team", "note": "This is the Wi-Fi controller, not identity.", "team": "network"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tier, ticket.queue) == (TicketStatus.ESCALATED, Tier.TWO, network_team)
    escalated.refresh_from_db()
    assert (escalated.outcome, escalated.return_reason, escalated.rerouted_to) == (
        Outcome.RETURNED,
        ReturnReason.WRONG_TEAM,
        network_team,
    )
    onward = Escalation.objects.get(ticket=ticket, outcome=Outcome.AWAITING)
    assert onward.to_queue == network_team
    assert onward.error_evidence == escalated.error_evidence
    # on the timeline as a move between Tier 2 teams (the SLA engine sees no return to Tier 1)
    assert not ticket.events.filter(kind=EventKind.RETURNED).exists()
    [event] = ticket.events.filter(kind=EventKind.REASSIGNED)
    assert (event.data["reason"], event.data["old"], event.data["new"]) == ("wrong_team", "identity-access", "network")
    assert "Returned as the wrong team: re-routed from identity-access to network" in event.message
    if accept_clock is not None:  # the accept clock keeps running from the first escalation
        accept_clock.refresh_from_db()
        assert accept_clock.stage == "running"
        assert accept_clock.started_at == escalated.escalated_at
    assert network_lead is None or Notification.objects.filter(ticket=ticket, recipient=network_lead).exists()


def test_wrong_team_needs_a_tier2_team_other_than_this_one(escalated, ticket, engineer, api_for):
    client = api_for(engineer)
    missing = client.post(f"/api/v1/tickets/{ticket.pk}/return/", {"reason": "wrong_team", "note": "Not ours."})
    assert missing.status_code == 400 and list(missing.json()) == ["team"]
    same = client.post(
        f"/api/v1/tickets/{ticket.pk}/return/",
        {"reason": "wrong_team", "note": "Not ours.", "team": "identity-access"},
    )
    assert same.status_code == 400 and list(same.json()) == ["team"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ESCALATED


def test_return_incomplete_then_rate_shows_on_the_card_and_to_tier1(escalated, ticket, engineer, agent, client):
    escalation_return(
        ticket_id=ticket.pk,
        reason=ReturnReason.HANDOFF_INCOMPLETE,
        note="Paste the raw error from the sign-in log.",
        missing_fields=["error_evidence"],
        acting_user=engineer,
    )
    escalation_rate(escalation_id=escalated.pk, rating=1, comment="Nothing to start from.", acting_user=engineer)
    # Tier 1: the reason at the top of the ticket, and in "My tickets"
    client.force_login(agent)
    html = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert "returned-banner" in html
    assert "handoff incomplete (missing evidence, verbatim)" in html.lower()
    assert "Paste the raw error from the sign-in log." in html
    assert "Rated 1/5" in html and "Returned" in html
    assert "5/5" not in html
    desk = client.get(reverse("desk")).content.decode()
    assert "Returned by" in desk and "Paste the raw error" in desk
    # Tier 2 can still change the rating of a returned handoff
    client.force_login(engineer)
    html = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert reverse("ticket-rate", args=[ticket.pk]) in html


def test_within_tier1_scope_names_the_article(escalated, ticket, engineer):
    escalation_return(
        ticket_id=ticket.pk,
        reason=ReturnReason.WITHIN_TIER1_SCOPE,
        note="The lockout playbook fixes this.",
        kb_reference="Playbook: Account lockout from an old phone",
        acting_user=engineer,
    )
    [event] = ticket.events.filter(kind=EventKind.RETURNED)
    assert "Playbook: Account lockout from an old phone" in event.message


def test_rating_an_accepted_handoff_shows_beside_the_quality(escalated, ticket, engineer, client):
    escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    client.force_login(engineer)
    rate_url = reverse("ticket-rate", args=[ticket.pk])
    assert client.post(rate_url, {"rating": "4", "comment": "Good evidence."}).status_code == 302
    html = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert "Rated 4/5" in html and "Accepted" in html and "5 complete" in html
