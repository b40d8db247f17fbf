"""Each trigger routes along its path; the security fast-track raises, routes and restricts."""

import pytest

from escalation.models import EscalationPath, Trigger
from escalation.services import ticket_escalate
from tests.factories import CategoryFactory, QueueFactory, UserFactory, make_ticket
from tickets import roles
from tickets.models import EventKind, Priority, Tier
from tickets.notifications.models import Notification, NotificationPreference

from .conftest import good_handoff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("trigger", "team"),
    [
        (Trigger.TIME_EXCEEDED, "identity-access"),
        (Trigger.ACCESS_RESTRICTION, "identity-access"),
        (Trigger.COMPLEXITY_LIMIT, "identity-access"),
        (Trigger.INTEGRATION_FAILURE, "identity-access"),
        (Trigger.BUSINESS_IMPACT, "identity-access"),
        (Trigger.SECURITY_CONCERN, "security"),
    ],
)
def test_each_trigger_routes_along_its_path(ticket, agent, paths, trigger, team):
    escalation = ticket_escalate(ticket_id=ticket.pk, trigger=trigger, handoff=good_handoff(), acting_user=agent)
    ticket.refresh_from_db()
    assert ticket.queue.slug == team
    assert escalation.to_queue.slug == team
    assert escalation.path == paths[trigger]
    assert escalation.trigger == trigger


def test_the_most_specific_path_wins(requester, agent, paths, network_team, service_desk):
    # this category has no category path: the queue path beats the trigger-only default
    uncharted = CategoryFactory(name="Uncharted", slug="uncharted", default_queue=service_desk)
    queue_team = QueueFactory(name="Applications", slug="applications", tier=Tier.TWO)
    EscalationPath.objects.create(
        name="Service desk complexity", queue=service_desk, trigger=Trigger.COMPLEXITY_LIMIT, to_queue=queue_team
    )
    ticket = make_ticket(requester=requester, category=uncharted, acting_user=agent, title="Odd VPN log")
    escalation = ticket_escalate(
        ticket_id=ticket.pk,
        trigger=Trigger.COMPLEXITY_LIMIT,
        handoff=good_handoff(checklist={}),
        acting_user=agent,
    )
    assert escalation.to_queue == queue_team
    ticket2 = make_ticket(requester=requester, category=uncharted, acting_user=agent, title="Other thing")
    escalation2 = ticket_escalate(
        ticket_id=ticket2.pk,
        trigger=Trigger.INTEGRATION_FAILURE,
        handoff=good_handoff(checklist={}),
        acting_user=agent,
    )
    assert escalation2.to_queue == network_team  # only the trigger-only default matches


def test_outside_business_hours_the_after_hours_target_and_on_call_are_used(ticket, agent, paths, monkeypatch):
    partner = QueueFactory(name="24/7 partner", slug="partner", tier=Tier.TWO)
    on_call = UserFactory(username="oncall1", role=roles.TIER2_ENGINEER)
    path = paths[Trigger.ACCESS_RESTRICTION]
    path.after_hours_queue = partner
    path.save()
    monkeypatch.setattr("escalation.sla.calendars.queue_in_business_hours", lambda *, queue, at: False)
    monkeypatch.setattr("tickets.notifications.oncall.on_call_for", lambda *, queue, at: on_call)
    escalation = ticket_escalate(
        ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=agent
    )
    ticket.refresh_from_db()
    assert ticket.queue == partner
    assert escalation.after_hours is True
    # the person on call is paged by the on-call channels (in-app and email), not sent a team notice
    pages = Notification.objects.filter(ticket=ticket, kind="on_call_page", recipient=on_call)
    assert set(pages.values_list("channel", flat=True)) == {"in_app", "email"}
    assert not Notification.objects.filter(ticket=ticket, kind="escalated_to_team", recipient=on_call).exists()


def test_an_on_call_page_ignores_the_persons_preferences(ticket, agent, paths, monkeypatch):
    on_call = UserFactory(username="oncall1", role=roles.TIER2_ENGINEER)
    # a preference row from before pages were fixed (the page no longer offers it)
    NotificationPreference.objects.create(user=on_call, kind="on_call_page", channel="email", enabled=False)
    monkeypatch.setattr("escalation.sla.calendars.queue_in_business_hours", lambda *, queue, at: False)
    monkeypatch.setattr("tickets.notifications.oncall.on_call_for", lambda *, queue, at: on_call)
    ticket_escalate(ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=agent)
    assert Notification.objects.filter(ticket=ticket, kind="on_call_page", recipient=on_call, channel="email").exists()


def test_no_path_for_a_trigger_is_a_clear_refusal(ticket, agent):
    EscalationPath.objects.filter(trigger=Trigger.BUSINESS_IMPACT).delete()
    from tickets.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        ticket_escalate(ticket_id=ticket.pk, trigger=Trigger.BUSINESS_IMPACT, handoff=good_handoff(), acting_user=agent)
    assert "no escalation path" in refused.value.errors["trigger"][0]


def test_security_fast_track_raises_priority_routes_and_restricts(ticket, agent, secops, security_team, api_for):
    assert ticket.priority == Priority.P4  # individual × slowed (default matrix)
    assert api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200
    # when
    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/escalate/",
        {
            "trigger": "security_concern",
            "problem_summary": "User typed their password into a phishing page impersonating IT.",
            "steps_tried": "Reset the password and revoked all sessions from the admin portal.",
            "error_evidence": "Sign-in 10:42Z from 198.51.100.77 (NL), MFA approved",
            "affected_scope": "individual",
            "urgency": "stopped",
            "checklist": {"account_lock_state": "Not locked; sessions revoked"},
        },
    )
    # then
    assert response.status_code == 201, response.json()
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P2
    assert ticket.queue == security_team
    assert ticket.is_restricted is True
    [change] = ticket.events.filter(kind=EventKind.PRIORITY_CHANGED)
    assert (change.data["old"], change.data["new"]) == ("P4", "P2")
    assert api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404
    assert api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/escalations/").status_code == 404
    assert api_for(secops).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200
    assert Notification.objects.filter(ticket=ticket, kind="escalated_to_team", recipient=secops).exists()


def test_security_fast_track_keeps_a_higher_priority(requester, category, agent, paths, checklist):
    ticket = make_ticket(
        requester=requester, category=category, acting_user=agent, impact="organization", urgency="stopped"
    )
    assert ticket.priority == Priority.P1
    ticket_escalate(ticket_id=ticket.pk, trigger=Trigger.SECURITY_CONCERN, handoff=good_handoff(), acting_user=agent)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P1
    assert ticket.is_restricted
    assert not ticket.events.filter(kind=EventKind.PRIORITY_CHANGED).exists()
