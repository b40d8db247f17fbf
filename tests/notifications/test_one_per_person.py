"""Issue 16: one notification per event and person (per channel), however many roles name them."""

import pytest

from tests.factories import UserFactory, make_ticket
from tickets import actions, roles, services
from tickets.models import EventKind
from tickets.notifications.models import Notification
from tickets.notifications.services import Notice, notify_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(site, service_desk):
    user = UserFactory(username="agent2", site=site, role=roles.TIER1_AGENT)
    service_desk.members.add(user)
    return user


def deliveries(event):
    """(username, channel) of each outbox row for the event, sorted: a person told twice shows twice."""
    return sorted(Notification.objects.filter(event=event).values_list("recipient__username", "channel"))


def test_a_watcher_in_the_team_hears_of_a_requester_reply_once(requester, category, agent, colleague):
    ticket = make_ticket(requester=requester, category=category)  # unassigned: the whole team hears
    actions.ticket_watchers_change(ticket_id=ticket.pk, add=[colleague], remove=[], acting_user=agent)

    services.ticket_comment_add(ticket_id=ticket.pk, body="Still broken.", public=True, acting_user=requester)

    event = ticket.events.filter(kind=EventKind.COMMENTED).latest("id")
    # requester_replied is in-app only by default: one row each for the two team members
    assert deliveries(event) == [("agent1", "in_app"), ("agent2", "in_app")]


def test_an_assignee_who_watches_hears_of_a_reopen_once(requester, category, agent, colleague):
    ticket = make_ticket(requester=requester, category=category)
    services.ticket_assign(ticket_id=ticket.pk, assignee=colleague, acting_user=agent)
    actions.ticket_watchers_change(ticket_id=ticket.pk, add=[colleague], remove=[], acting_user=agent)
    services.ticket_resolve(ticket_id=ticket.pk, resolution="Reset the token.", acting_user=agent)

    services.ticket_reopen(ticket_id=ticket.pk, reason="It came back.", acting_user=requester)

    assert deliveries(ticket.events.get(kind=EventKind.REOPENED)) == [("agent2", "in_app")]


def test_two_notices_naming_one_person_write_and_return_one_row_per_channel(
    requester, category, agent, colleague, service_desk
):
    """The sweep names the lead for a level and again as the person on call: one delivery each way,
    and what notify_many returns is what it wrote (the first notice naming them wins)."""
    service_desk.lead = colleague
    service_desk.save()
    ticket = make_ticket(requester=requester, category=category)
    event = ticket.events.get(kind=EventKind.CREATED)
    assert deliveries(event) == []

    rows = notify_many(
        [
            Notice(event=event, kind="sla_breached", recipients=[colleague, ticket.queue.lead]),
            Notice(event=event, kind="sla_breached", recipients=[colleague], team_webhooks=False),
        ]
    )

    assert sorted((row.recipient.username, row.channel) for row in rows) == [("agent2", "email"), ("agent2", "in_app")]
    assert deliveries(event) == [("agent2", "email"), ("agent2", "in_app")]
