"""Security at intake as well as at escalation: category, keyword rules and the trigger all land
the ticket with Security (P2 or higher, restricted, security SLA policy, in their queue at once),
and whoever logged it gets a receipt instead of a 404."""

import pytest
from django.urls import reverse

from escalation.demo import SECURITY_KEYWORDS
from escalation.models import Escalation, Outcome, Trigger, TriggerRule
from escalation.sla.models import SlaPolicy, SlaRecord
from tests.factories import UserFactory, make_ticket
from tickets import roles
from tickets.models import EventKind, Priority, Ticket, TicketStatus, Tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def policies(db):
    """A default policy and the security one (24×7: calendar empty), as an admin would set them up."""
    default = SlaPolicy.objects.create(name="Default", is_default=True, position=1000, resolution_minutes=5 * 480)
    security = SlaPolicy.objects.create(
        name="Security incident", position=5, security=True, first_response_minutes=30, resolution_minutes=480
    )
    return default, security


@pytest.fixture
def keyword_rule(db):
    """The demo's table-driven security keyword rule (admin-editable)."""
    return TriggerRule.objects.create(
        name="Security keywords go to Security",
        position=10,
        keywords=", ".join(SECURITY_KEYWORDS),
        escalate_with_trigger=Trigger.SECURITY_CONCERN,
    )


@pytest.fixture
def other_agent(site, service_desk):
    user = UserFactory(username="agent2", site=site, role=roles.TIER1_AGENT)
    service_desk.members.add(user)
    return user


def intake_body(requester, **changes):
    body = {
        "title": "Clicked a phishing link and typed my password",
        "description": "An e-mail pretending to be IT asked me to sign in; I did, then it showed an error.",
        "category": "security-incident",
        "impact": "individual",
        "urgency": "slowed",  # P4 by the matrix: the fast-track must raise it
        "requester": requester.username,
    }
    body.update(changes)
    return body


def assert_with_security(ticket: Ticket, security_team, security_policy):
    ticket.refresh_from_db()
    assert ticket.queue == security_team
    assert ticket.tier == Tier.TWO
    assert ticket.status == TicketStatus.ESCALATED  # awaiting Security's acceptance, in their queue now
    assert ticket.priority <= Priority.P2
    assert ticket.is_restricted is True
    escalation = Escalation.objects.get(ticket=ticket)
    assert (escalation.trigger, escalation.outcome, escalation.to_queue) == (
        Trigger.SECURITY_CONCERN,
        Outcome.AWAITING,
        security_team,
    )
    running = SlaRecord.objects.filter(ticket=ticket, is_current=True, stopped_at__isnull=True)
    assert running.exists()
    assert {record.policy_id for record in running} == {security_policy.pk}


def test_security_category_logged_by_an_agent_lands_with_security_and_the_agent_gets_a_receipt(
    api_for, agent, requester, secops, security_team, security_category, policies, client
):
    response = api_for(agent).post("/api/v1/tickets/", intake_body(requester), format="json")

    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    receipt = response.json()
    assert (receipt["id"], receipt["reference"], receipt["status"]) == (ticket.pk, ticket.reference, "escalated")
    assert "Handed to Security" in receipt["detail"]
    assert receipt["next_steps"] and ticket.reference in receipt["next_steps"][-1]
    assert_with_security(ticket, security_team, policies[1])
    # the agent is not cleared to read it; the security engineer sees it in their queue at once
    assert api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404
    client.force_login(secops)
    assert ticket.reference in client.get(reverse("tier2-queue")).content.decode()


def test_the_log_call_page_shows_a_receipt_instead_of_a_404(client, agent, requester, security_category, security_team):
    client.force_login(agent)
    form = intake_body(requester, channel="phone", site="")

    response = client.post(reverse("ticket-create"), form, follow=True)

    ticket = Ticket.objects.get()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("ticket-receipt", args=[ticket.pk])
    page = response.content.decode()
    assert ticket.reference in page
    assert "handed to Security" in page
    assert "What happens next" in page
    assert ticket.queue == security_team


def test_a_requester_reporting_in_the_portal_gets_the_receipt_and_can_follow_their_ticket(
    client, requester, security_category, security_team
):
    client.force_login(requester)
    form = {k: v for k, v in intake_body(requester).items() if k != "requester"}

    response = client.post(reverse("portal-create"), form, follow=True)

    ticket = Ticket.objects.get()
    assert response.redirect_chain[-1][0] == reverse("ticket-receipt", args=[ticket.pk])
    assert "handed to Security" in response.content.decode()
    assert reverse("ticket-detail", args=[ticket.pk]) in response.content.decode()
    assert client.get(reverse("ticket-detail", args=[ticket.pk])).status_code == 200


def test_someone_else_cannot_read_a_receipt(client, agent, other_agent, requester, security_category, security_team):
    ticket = make_ticket(requester=requester, category=security_category, acting_user=agent)
    client.force_login(other_agent)

    assert client.get(reverse("ticket-receipt", args=[ticket.pk])).status_code == 404


@pytest.mark.parametrize(
    "title",
    [
        "Clicked a phishing link and typed my password",
        "I think there is malware on my laptop",
        "Suspicious login from a country I never visited",
        "Credential leak: my work password is on a paste site",
        "Data breach: customer list e-mailed outside",
        "Ransomware note on the file share",
    ],
)
def test_security_keywords_in_any_category_land_with_security(
    api_for, agent, requester, category, security_team, keyword_rule, policies, title
):
    body = intake_body(requester, title=title, category=category.slug)

    response = api_for(agent).post("/api/v1/tickets/", body, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "escalated"
    assert_with_security(Ticket.objects.get(), security_team, policies[1])


def test_the_security_trigger_at_escalation_puts_the_ticket_on_the_security_policy(
    api_for, agent, requester, category, security_team, policies
):
    ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    assert SlaRecord.objects.filter(ticket=ticket, policy=policies[0]).exists()

    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/escalate/",
        {
            "trigger": "security_concern",
            "problem_summary": "User typed their password into a phishing page impersonating IT.",
            "steps_tried": "Reset the password and revoked all sessions from the admin portal.",
            "error_evidence": "Sign-in 10:42Z from 198.51.100.77 (NL), MFA approved",
            "affected_scope": "individual",
            "urgency": "stopped",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["reference"] == ticket.reference
    assert "Handed to Security" in response.json()["detail"]
    assert_with_security(ticket, security_team, policies[1])


def test_recategorising_into_security_reroutes_and_restricts(
    api_for, agent, other_agent, requester, category, security_category, security_team, policies
):
    ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    assert not ticket.is_restricted

    response = api_for(agent).patch(f"/api/v1/tickets/{ticket.pk}/", {"category": "security-incident"}, format="json")

    assert response.status_code == 200, response.json()  # the receipt, not a 500 or a 404
    assert response.json()["reference"] == ticket.reference
    assert_with_security(ticket, security_team, policies[1])
    assert ticket.events.filter(kind=EventKind.RESTRICTED).count() == 1
    assert api_for(other_agent).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404


def test_only_the_security_team_takes_a_ticket_out_of_security_and_lifts_the_restriction(
    api_for, requester, admin_user, secops, identity_team, category, security_category, security_team, agent
):
    ticket = make_ticket(requester=requester, category=security_category, acting_user=agent)
    api = api_for(secops)
    assert api.post(f"/api/v1/tickets/{ticket.pk}/accept/").status_code == 200

    # an admin can read it but it is not their decision
    refused = api_for(admin_user).patch(f"/api/v1/tickets/{ticket.pk}/", {"category": category.slug}, format="json")
    lift_by_admin = api_for(admin_user).post(
        f"/api/v1/tickets/{ticket.pk}/lift-restriction/", {"reason": "Looks harmless"}, format="json"
    )
    assert refused.status_code == 400
    assert "Security team" in refused.json()["category"][0]
    assert lift_by_admin.status_code == 403
    # Security recategorises it; it stays restricted while in their queue
    assert api.patch(f"/api/v1/tickets/{ticket.pk}/", {"category": category.slug}, format="json").status_code == 200
    ticket.refresh_from_db()
    assert ticket.is_restricted
    in_queue = api.post(f"/api/v1/tickets/{ticket.pk}/lift-restriction/", {"reason": "Not phishing"}, format="json")
    assert in_queue.status_code == 400
    # moved to another team, Security lifts it, with a reason on the timeline
    from tickets.actions import ticket_transfer

    ticket_transfer(ticket_id=ticket.pk, queue=identity_team, reason="Plain MFA fatigue", acting_user=secops)
    blank = api.post(f"/api/v1/tickets/{ticket.pk}/lift-restriction/", {"reason": " "}, format="json")
    lifted = api.post(
        f"/api/v1/tickets/{ticket.pk}/lift-restriction/",
        {"reason": "Marketing test mail, not phishing"},
        format="json",
    )

    assert blank.status_code == 400
    assert lifted.status_code == 200, lifted.json()
    ticket.refresh_from_db()
    assert ticket.is_restricted is False
    [event] = ticket.events.filter(kind=EventKind.RESTRICTION_LIFTED)
    assert (event.actor, event.message) == (secops, "Marketing test mail, not phishing")
    assert api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200


def test_an_agent_escalating_to_security_on_the_page_lands_on_the_receipt(
    client, agent, requester, category, security_team
):
    ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    client.force_login(agent)
    handoff = {
        "trigger": "security_concern",
        "problem_summary": "User typed their password into a phishing page impersonating IT.",
        "steps_tried": "Reset the password and revoked all sessions from the admin portal.",
        "error_evidence": "Sign-in 10:42Z from 198.51.100.77 (NL), MFA approved",
        "affected_scope": "individual",
        "affected_count": "1",
        "urgency": "stopped",
    }

    response = client.post(reverse("ticket-escalate", args=[ticket.pk]), handoff, follow=True)

    assert response.redirect_chain[-1][0] == reverse("ticket-receipt", args=[ticket.pk])
    assert response.status_code == 200
    assert f"{ticket.reference}</span> handed to Security" in response.content.decode()
