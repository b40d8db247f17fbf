"""Plain language where people read: labels not codes, plurals, requester-worded statuses, delivery
records folded into their event, a sane notification badge."""

import pytest

from tickets import events, services, wording
from tickets.models import TicketStatus, Tier
from tickets.notifications.models import Notification, NotificationChannel

from ..factories import CategoryFactory, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category, title="Teams calls drop after a minute")


def test_plurals():
    assert wording.plural(1, "person", "people") == "1 person"
    assert wording.plural(3, "person", "people") == "3 people"
    assert wording.plural(0, "result") == "0 results"
    assert wording.join_words(["steps tried", "error evidence", "urgency"]) == "steps tried, error evidence and urgency"


def test_timeline_folds_delivery_records_into_their_event(client, agent, colleague_agent, ticket):
    services.ticket_assign(ticket_id=ticket.pk, assignee=colleague_agent, acting_user=agent)
    # the worker recorded each delivery (in-app and e-mail), one of them twice
    for channel in ("in_app", "email", "email"):
        events.notification_sent(ticket=ticket, channel=channel, to=str(colleague_agent), kind="assigned")
    client.force_login(agent)

    html = client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert "Notification sent" not in html and "assigned sent by" not in html
    assert html.count("Notified 1 person") == 1


def test_field_changes_read_with_names_not_slugs(client, agent, ticket, service_desk):
    CategoryFactory(name="Hardware & devices", slug="hardware", default_queue=service_desk)
    client.force_login(agent)
    client.post(f"/tickets/{ticket.pk}/category/", {"category-category": "hardware"})

    html = client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert "Category: Account access → Hardware &amp; devices" in html
    assert "account-access → hardware" not in html


def test_escalation_reads_as_labels_for_agents_and_plainly_for_the_requester(
    client, agent, requester, ticket, identity_team
):
    events.escalated(
        ticket=ticket,
        actor=agent,
        trigger="access_restriction",
        from_queue="service-desk",
        to_queue="identity-access",
        path=None,
        automatic=False,
        missing_fields=["steps_tried", "error_evidence"],
        after_hours=False,
        escalation_id=1,
        old_status="open",
    )
    client.force_login(agent)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Manually, for access restriction: Service Desk → Identity &amp; Access" in html
    assert "Still missing: steps tried and error evidence" in html
    assert "access_restriction" not in html and "steps_tried" not in html

    client.force_login(requester)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Passed to our specialist team" in html
    assert "identity-access" not in html


def test_requester_reads_statuses_in_their_words(client, requester, ticket):
    from tickets.models import Ticket

    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.ESCALATED, tier=Tier.TWO)
    client.force_login(requester)
    html = client.get("/portal/?show=all").content.decode()
    assert "With our specialist team" in html
    assert "awaiting Tier 2" not in html


def test_opening_a_ticket_reads_its_notifications_and_the_badge_is_sane(client, agent, requester, ticket):
    for n in range(3):
        services.ticket_comment_add(ticket_id=ticket.pk, body=f"Update {n}", public=True, acting_user=agent)
    unread = Notification.objects.filter(recipient=requester, channel=NotificationChannel.IN_APP, read_at=None)
    assert unread.count() == 3
    client.force_login(requester)
    assert 'aria-label="Notifications: 3 unread"' in client.get("/portal/").content.decode()

    client.get(f"/tickets/{ticket.pk}/")

    assert unread.count() == 0
    assert 'aria-label="Notifications: 0 unread"' in client.get("/portal/").content.decode()


@pytest.fixture
def colleague_agent(site, service_desk):
    from tickets import roles

    from ..factories import UserFactory

    user = UserFactory(username="agent2", first_name="Robin", last_name="Diaz", site=site, role=roles.TIER1_AGENT)
    service_desk.members.add(user)
    return user
