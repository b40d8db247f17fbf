"""Completing an automatic handoff: the API and the page, the same checks, the missing list shrinks."""

import pytest
from django.urls import reverse

from escalation.models import Escalation, Outcome, Trigger
from escalation.services import escalation_accept, handoff_from_ticket, ticket_escalate
from tickets.models import EventKind, Ticket
from tickets.notifications.models import Notification

pytestmark = pytest.mark.django_db

EVIDENCE = "AADSTS50053: The account is locked.\r\n\tCorrelation ID: 4f1c2a9e   "
SUMMARY = "Windows sign-in on the laptop is refused: the account locks again within a minute of an unlock."
STEPS = "Checked sign-in logs (12 failed MFA in 5 min); unlocked the account in Entra ID (locks again)."


@pytest.fixture
def automatic(ticket):
    """The time trigger fired: the ticket went to Tier 2 with only its description."""
    escalation = ticket_escalate(
        ticket_id=ticket.pk,
        trigger=Trigger.TIME_EXCEEDED,
        handoff=handoff_from_ticket(ticket=Ticket.objects.get(pk=ticket.pk)),
        acting_user=None,
        automatic=True,
    )
    ticket.refresh_from_db()
    return escalation


def test_the_owner_is_told_with_a_link_to_the_complete_page(automatic, ticket, agent, client):
    # the description ("The power light blinks twice…") names no system: weak, so it is listed too
    assert set(automatic.missing_fields) == {
        "problem_summary",
        "steps_tried",
        "error_evidence",
        "checklist.account_lock_state",
    }
    note = Notification.objects.get(ticket=ticket, kind="handoff_incomplete", channel="in_app")
    assert note.recipient == agent
    assert "Evidence, verbatim" in note.body  # fields as people read them
    client.force_login(agent)
    html = client.get(reverse("notification-list")).content.decode()
    assert reverse("ticket-handoff", args=[ticket.pk]) in html


def test_completing_via_the_api_shrinks_the_missing_list_and_tells_tier2(automatic, ticket, agent, engineer, api_for):
    # given: one field first
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/handoff/", {"error_evidence": EVIDENCE})
    assert response.status_code == 200, response.json()
    assert set(response.json()["missing_fields"]) == {
        "problem_summary",
        "steps_tried",
        "checklist.account_lock_state",
    }
    # when: the rest
    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/handoff/",
        {
            "problem_summary": SUMMARY,
            "steps_tried": STEPS,
            "checklist": {"account_lock_state": "Locked (smart lockout) since 08:14"},
        },
        format="json",
    )
    # then
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["missing_fields"] == []
    assert data["error_evidence"] == EVIDENCE  # verbatim
    assert data["quality"]["steps_tried"] == "complete"
    events = list(ticket.events.filter(kind=EventKind.HANDOFF_COMPLETED).order_by("pk"))
    assert [e.data["added"] for e in events] == [
        ["Evidence, verbatim"],
        ["What is wrong", "What was already tried", "Account lock state checked"],
    ]
    assert events[0].data["still_missing"] == ["What is wrong", "What was already tried", "Account lock state checked"]
    assert events[1].message.startswith("Handoff completed: added What is wrong, What was already tried")
    told = Notification.objects.filter(ticket=ticket, kind="handoff_completed", channel="in_app")
    assert {n.recipient for n in told} == {engineer}
    ticket.refresh_from_db()
    assert ticket.status == "escalated"  # still Tier 2's to accept


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"error_evidence": "see the ticket description"}, "error_evidence"),
        ({"error_evidence": "User says there is an error message"}, "error_evidence"),
        ({"steps_tried": "Tried the usual things, nothing."}, "steps_tried"),
        ({"steps_tried": "Basic troubleshooting done as per process."}, "steps_tried"),
        ({"problem_summary": "Issue with laptop, please assist ASAP"}, "problem_summary"),
        ({"affected_scope": "team", "affected_count": 1}, "affected_count"),
    ],
)
def test_a_lazy_completion_is_refused_on_its_field_and_changes_nothing(automatic, ticket, agent, api_for, body, field):
    before = Escalation.objects.values().get(pk=automatic.pk)
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/handoff/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Escalation.objects.values().get(pk=automatic.pk) == before
    assert not ticket.events.filter(kind=EventKind.HANDOFF_COMPLETED).exists()


def test_an_empty_completion_names_what_is_still_missing(automatic, ticket, agent, api_for):
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/handoff/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"problem_summary", "steps_tried", "error_evidence", "checklist.account_lock_state"}


def test_only_the_tier1_owner_or_escalator_may_complete(automatic, ticket, engineer, api_for, requester):
    response = api_for(engineer).post(f"/api/v1/tickets/{ticket.pk}/handoff/", {"error_evidence": EVIDENCE})
    assert response.status_code == 403
    assert api_for(requester).post(f"/api/v1/tickets/{ticket.pk}/handoff/", {}).status_code == 404


def test_a_tier1_ticket_has_no_handoff_to_complete(ticket, agent, api_for):
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/handoff/", {"error_evidence": EVIDENCE})
    assert response.status_code == 409


def test_the_page_completes_the_handoff_and_keeps_input_on_refusal(automatic, ticket, agent, client):
    client.force_login(agent)
    url = reverse("ticket-handoff", args=[ticket.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Complete the handoff" in html and "Evidence, verbatim" in html
    # a lazy answer: refused, typed text kept, nothing saved
    refused = client.post(url, {"error_evidence": "see attached", "steps_tried": STEPS})
    assert refused.status_code == 400
    assert refused.context["form"]["steps_tried"].value() == STEPS
    assert "points elsewhere" in refused.content.decode()
    automatic.refresh_from_db()
    assert automatic.steps_tried == ""
    done = client.post(
        url,
        {
            "error_evidence": EVIDENCE,
            "steps_tried": STEPS,
            "checklist_account_lock_state": "Locked since 08:14",
            "problem_summary": SUMMARY,
            "affected_scope": automatic.affected_scope,
            "urgency": automatic.urgency,
        },
    )
    assert done.status_code == 302
    automatic.refresh_from_db()
    assert automatic.missing_fields == []
    assert automatic.error_evidence == EVIDENCE


def test_the_escalate_page_sends_an_escalated_ticket_to_the_complete_page(automatic, ticket, agent, client):
    client.force_login(agent)
    response = client.get(reverse("ticket-escalate", args=[ticket.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket-handoff", args=[ticket.pk])


def test_an_accepted_handoff_can_be_amended_and_the_engineer_is_told(automatic, ticket, agent, engineer, api_for):
    escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/handoff/", {"error_evidence": EVIDENCE})
    assert response.status_code == 200
    assert response.json()["outcome"] == Outcome.ACCEPTED
    assert response.json()["ticket"]["reference"] == ticket.reference
    assert Notification.objects.filter(ticket=ticket, kind="handoff_completed", recipient=engineer).exists()


def test_a_restricted_ticket_is_completed_by_those_allowed_to_see_it(
    ticket, agent, security_team, secops, api_for, client, paths
):
    # the Tier 1 owner (agent1, no clearance) cannot open it: the lead with clearance is told instead
    security_team.lead = secops
    security_team.save(update_fields=["lead"])
    ticket.queue.lead = secops
    ticket.queue.save(update_fields=["lead"])
    escalation = ticket_escalate(
        ticket_id=ticket.pk,
        trigger=Trigger.SECURITY_CONCERN,
        handoff=handoff_from_ticket(ticket=Ticket.objects.get(pk=ticket.pk)),
        acting_user=None,
        automatic=True,
    )
    ticket.refresh_from_db()
    assert ticket.is_restricted
    note = Notification.objects.get(ticket=ticket, kind="handoff_incomplete", channel="in_app")
    assert note.recipient == secops
    client.force_login(secops)
    assert client.get(reverse("ticket-handoff", args=[ticket.pk])).status_code == 200
    client.force_login(agent)
    assert client.get(reverse("ticket-handoff", args=[ticket.pk])).status_code == 404
    response = api_for(secops).post(f"/api/v1/tickets/{ticket.pk}/handoff/", {"error_evidence": EVIDENCE})
    assert response.status_code == 200, response.json()
    escalation.refresh_from_db()
    assert "error_evidence" not in escalation.missing_fields


def test_posting_the_escalate_form_after_an_automatic_escalation_completes_it(automatic, ticket, agent, client):
    # The page was open before the time trigger fired: what was typed is not dropped.
    client.force_login(agent)
    response = client.post(
        reverse("ticket-escalate", args=[ticket.pk]),
        {
            "trigger": "access_restriction",
            "problem_summary": SUMMARY,
            "steps_tried": STEPS,
            "error_evidence": EVIDENCE,
            "affected_scope": "individual",
            "affected_count": "1",
            "urgency": "stopped",
            "checklist_account_lock_state": "Locked since 08:14",
        },
    )
    assert response.status_code == 302
    automatic.refresh_from_db()
    assert automatic.missing_fields == []
    assert automatic.steps_tried == STEPS


def test_the_escalate_form_shows_the_route_and_prefills_from_the_ticket(ticket, agent, client):
    client.force_login(agent)
    response = client.get(reverse("ticket-escalate", args=[ticket.pk]))
    html = response.content.decode()
    assert 'goes to <strong class="route-team">Identity &amp; Access</strong>' in html
    form = response.context["form"]
    assert form["affected_scope"].value() == ticket.impact
    assert form["urgency"].value() == ticket.urgency
    # the form's own weak examples are shown (and the corpus test proves each is refused)
    assert "User can&#x27;t log in. Please check." in html


def test_outside_the_teams_hours_the_form_names_the_after_hours_target(ticket, agent, client, paths, monkeypatch):
    from tests.factories import QueueFactory
    from tickets.models import Tier

    partner = QueueFactory(name="24/7 partner", slug="partner", tier=Tier.TWO)
    path = paths[Trigger.ACCESS_RESTRICTION]
    path.after_hours_queue = partner
    path.save()
    monkeypatch.setattr("escalation.sla.calendars.queue_in_business_hours", lambda *, queue, at: False)
    client.force_login(agent)
    html = client.get(reverse("ticket-escalate", args=[ticket.pk])).content.decode()
    assert 'goes to <strong class="route-team">24/7 partner</strong>' in html
    assert "outside Identity &amp; Access's business hours now, so to its after-hours target" in html
