"""Clearance everywhere: nobody is told about, assigned or listed a ticket they may not read."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from escalation.sla.models import LadderLevel, SlaPolicy
from escalation.sla.sweep import sla_sweep
from tests.factories import UserFactory, make_ticket
from tickets import roles
from tickets.models import EventKind, Ticket
from tickets.notifications.models import Notification, NotificationChannel, WebhookEndpoint
from tickets.notifications.services import notify

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def restricted(requester, agent, security_category, secops, security_team):
    """A phishing report, fast-tracked at intake: restricted, with Security."""
    security_team.lead = secops
    security_team.save(update_fields=["lead"])
    with time_machine.travel(START, tick=False):
        ticket = make_ticket(
            requester=requester, category=security_category, acting_user=agent, title="Board memo phishing"
        )
    assert ticket.is_restricted
    return ticket


def test_notify_writes_no_row_for_a_recipient_who_may_not_see_the_ticket(restricted, agent, secops, manager):
    event = restricted.events.get(kind=EventKind.CREATED)

    notify(event=event, kind="assigned", recipients=[agent, manager, secops])

    assert set(Notification.objects.filter(event=event).values_list("recipient__username", flat=True)) == {"secops1"}


def test_a_return_note_on_a_restricted_ticket_does_not_reach_an_uncleared_agent(restricted, agent, secops, api_for):
    api = api_for(secops)
    response = api.post(
        f"/api/v1/tickets/{restricted.pk}/return/",
        {
            "reason": "handoff_incomplete",
            "note": "Forward the original phishing mail",
            "missing_fields": ["error_evidence"],
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    restricted.refresh_from_db()
    assert restricted.assignee is None  # the agent who logged it is not cleared to own it
    assert not Notification.objects.filter(recipient=agent).exists()


def test_a_restricted_ticket_reaches_only_the_security_teams_webhooks(restricted, security_team):
    everyone = WebhookEndpoint.objects.create(name="All tickets", url="https://chat.example.invalid/all")
    security_room = WebhookEndpoint.objects.create(
        name="Security room", url="https://chat.example.invalid/sec", queue=security_team
    )
    event = restricted.events.get(kind=EventKind.CREATED)

    notify(event=event, kind="escalated_to_team", recipients=[])

    webhooks = Notification.objects.filter(event=event, channel=NotificationChannel.WEBHOOK)
    assert set(webhooks.values_list("webhook", flat=True)) == {security_room.pk}
    assert everyone.pk not in set(webhooks.values_list("webhook", flat=True))


def test_the_notification_list_shows_a_ticket_the_reader_can_no_longer_see_as_reference_and_restricted(
    client, requester, category, agent, secops
):
    ticket = make_ticket(requester=requester, category=category, title="Payroll export for the board")
    other = UserFactory(username="agent9", role=roles.TIER1_AGENT)
    from tickets import services

    services.ticket_assign(ticket_id=ticket.pk, assignee=other, acting_user=agent)
    assert Notification.objects.filter(recipient=other, kind="assigned").exists()
    # later the ticket turns out to be a security matter
    Ticket.objects.filter(pk=ticket.pk).update(is_restricted=True)
    client.force_login(other)

    page = client.get(reverse("notification-list")).content.decode()

    assert ticket.reference in page
    assert "restricted" in page
    assert "Payroll export for the board" not in page


def test_a_restricted_ticket_can_be_assigned_only_to_someone_cleared(restricted, secops, agent, api_for):
    api = api_for(secops)
    assert api.post(f"/api/v1/tickets/{restricted.pk}/accept/").status_code == 200

    refused = api.patch(f"/api/v1/tickets/{restricted.pk}/", {"assignee": agent.username}, format="json")
    cleared = UserFactory(username="secops2", role=roles.SECURITY_ENGINEER)
    accepted = api.patch(f"/api/v1/tickets/{restricted.pk}/", {"assignee": cleared.username}, format="json")

    assert refused.status_code == 400
    assert "not cleared" in refused.json()["assignee"][0]
    assert accepted.status_code == 200
    restricted.refresh_from_db()
    assert restricted.assignee == cleared


def test_the_sla_ladder_notifies_only_cleared_targets(
    requester, agent, security_category, secops, security_team, manager
):
    security_team.lead = secops
    security_team.save(update_fields=["lead"])
    policy = SlaPolicy.objects.create(
        name="Security incident", position=1, security=True, first_response_minutes=30, resolution_minutes=60
    )
    level = LadderLevel.objects.create(policy=policy, target="resolution", position=1, offset=50, notify_team_lead=True)
    level.notify_managers.add(manager)  # a manager without security clearance
    with time_machine.travel(START, tick=False):
        make_ticket(requester=requester, category=security_category, acting_user=agent)

    report = sla_sweep(now=START + timedelta(minutes=31))

    assert report.warnings == 1
    warned = Notification.objects.filter(kind="sla_warning").values_list("recipient__username", flat=True)
    assert set(warned) == {"secops1"}
