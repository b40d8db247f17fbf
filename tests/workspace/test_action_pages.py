"""The ticket page's action panels: each posts to one service; refusals are form errors, never a 500."""

import pytest

from tickets import roles
from tickets.models import EventKind, Ticket, TicketStatus, Tier

from ..factories import QueueFactory, UserFactory, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category, title="Shared drive is read-only")


@pytest.fixture
def colleague(site, service_desk):
    user = UserFactory(username="agent2", first_name="Robin", last_name="Diaz", site=site, role=roles.TIER1_AGENT)
    service_desk.members.add(user)
    return user


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def test_ticket_page_shows_every_action_panel(signed_in, ticket, colleague):
    html = signed_in.get(f"/tickets/{ticket.pk}/").content.decode()
    for label in (
        "Assign to a colleague",
        "Transfer to another team",
        "Change category",
        "Link a related ticket",
        "Merge into another ticket",
        "Add watcher",
        "Send and wait for reply",
    ):
        assert label in html, label
    assert "Robin Diaz" in html  # the colleague is offered by name


def test_assign_to_colleague_from_the_page(signed_in, ticket, colleague):
    response = signed_in.post(f"/tickets/{ticket.pk}/assign-to/", {"assign-assignee": colleague.pk})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).assignee == colleague


def test_transfer_from_the_page_and_a_refusal_is_a_form_error(signed_in, ticket):
    QueueFactory(name="Field Services", slug="field-services", tier=Tier.ONE)

    refused = signed_in.post(f"/tickets/{ticket.pk}/transfer/", {"transfer-queue": "field-services"})
    assert refused.status_code == 400
    assert "This field is required" in refused.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).queue.slug == "service-desk"

    done = signed_in.post(
        f"/tickets/{ticket.pk}/transfer/", {"transfer-queue": "field-services", "transfer-reason": "On site"}
    )
    assert done.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).queue.slug == "field-services"


def test_watchers_link_and_merge_from_the_page(signed_in, ticket, requester, other_requester, category):
    other = make_ticket(requester=other_requester, category=category, title="Shared drive read-only for me too")

    assert signed_in.post(f"/tickets/{ticket.pk}/watchers/", {"watch-add": other_requester.email}).status_code == 302
    assert list(ticket.watchers.all()) == [other_requester]
    html = signed_in.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Noor Haddad" in html

    assert signed_in.post(f"/tickets/{ticket.pk}/link/", {"link-ticket": other.reference}).status_code == 302
    assert other.reference in signed_in.get(f"/tickets/{ticket.pk}/").content.decode()

    unknown = signed_in.post(f"/tickets/{other.pk}/merge/", {"merge-ticket": "HD-999999"})
    assert unknown.status_code == 400 and "that you can see" in unknown.content.decode()

    merged = signed_in.post(f"/tickets/{other.pk}/merge/", {"merge-ticket": ticket.reference})
    assert merged.status_code == 302 and merged["Location"] == f"/tickets/{ticket.pk}/"
    other.refresh_from_db()
    assert other.status == TicketStatus.CLOSED and other.merged_into_id == ticket.pk
    assert "Merged into" in signed_in.get(f"/tickets/{other.pk}/").content.decode()


def test_send_and_wait_from_the_composer(signed_in, ticket):
    response = signed_in.post(
        f"/tickets/{ticket.pk}/comment/", {"body": "Which folder exactly?", "visibility": "public", "and_wait": "1"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert ticket.events.filter(kind=EventKind.PENDING).count() == 1


def test_requester_cannot_use_agent_actions(client, requester, ticket):
    client.force_login(requester)
    assert client.post(f"/tickets/{ticket.pk}/transfer/", {}).status_code in (403, 404)
    assert "Merge into" not in client.get(f"/tickets/{ticket.pk}/").content.decode()
