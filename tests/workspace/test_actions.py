"""Ticket actions for agents, through the API: assign, transfer, category, watchers, links,
merge, reply-and-wait, and a logged call owned by the agent who logged it."""

import pytest

from tickets import services
from tickets.models import Comment, EventKind, Ticket, TicketLink, TicketStatus, Tier
from tickets.notifications.models import Notification, NotificationChannel

from ..factories import CategoryFactory, QueueFactory, UserFactory, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category, title="Outlook keeps asking for my password")


@pytest.fixture
def colleague(site, service_desk):
    from tickets import roles

    user = UserFactory(username="agent2", first_name="Robin", last_name="Diaz", site=site, role=roles.TIER1_AGENT)
    service_desk.members.add(user)
    return user


@pytest.fixture
def field_desk(db, colleague):
    queue = QueueFactory(name="Field Services", slug="field-services", tier=Tier.ONE)
    queue.members.add(colleague)
    return queue


def events_of(ticket, kind):
    return list(ticket.events.filter(kind=kind))


# ---------------------------------------------------------------- assign


def test_assign_to_a_named_colleague_by_username_or_email(api_for, agent, colleague, ticket):
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": colleague.email})

    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == "agent2"
    ticket.refresh_from_db()
    assert ticket.assignee == colleague
    [event] = events_of(ticket, EventKind.ASSIGNED)
    assert event.data == {"old": None, "new": "agent2"}
    assert Notification.objects.filter(recipient=colleague, kind="assigned", ticket=ticket).exists()


def test_assign_refuses_a_requester_and_changes_nothing(api_for, agent, other_requester, ticket):
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": "requester2"})

    assert response.status_code == 400
    assert "assignee" in response.json()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_restricted_ticket_is_assigned_only_to_cleared_people(
    api_for, agent, secops, engineer, requester, security_category, security_team
):
    restricted = make_ticket(requester=requester, category=security_category, title="Phishing mail with invoice")
    # a security ticket goes to Security at intake; they accept it before working it
    assert api_for(secops).post(f"/api/v1/tickets/{restricted.pk}/accept/").status_code == 200

    refused = api_for(secops).post(f"/api/v1/tickets/{restricted.pk}/assign/", {"assignee": "engineer1"})
    accepted = api_for(secops).post(f"/api/v1/tickets/{restricted.pk}/assign/", {"assignee": "secops1"})

    assert refused.status_code == 400
    assert "not cleared" in refused.json()["assignee"][0]
    assert accepted.status_code == 200
    assert Ticket.objects.get(pk=restricted.pk).assignee == secops


def test_requester_cannot_assign(api_for, requester, agent, ticket):
    assert api_for(requester).post(f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": "agent1"}).status_code == 403


# ---------------------------------------------------------------- transfer


def test_transfer_to_another_teams_queue_with_reason(api_for, agent, colleague, field_desk, ticket):
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)

    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/transfer/", {"queue": "field-services", "reason": "Needs a desk visit"}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["queue"] == "field-services"
    ticket.refresh_from_db()
    assert ticket.queue == field_desk
    assert ticket.tier1_queue == field_desk
    assert ticket.assignee is None  # agent1 is not in Field Services
    [event] = events_of(ticket, EventKind.REASSIGNED)
    assert event.data["reason"] == "Needs a desk visit"
    assert event.data["new"] == "Field Services"
    # the receiving team hears about it
    assert Notification.objects.filter(recipient=colleague, ticket=ticket, kind="reassigned").exists()


def test_transfer_needs_a_reason_and_a_same_tier_team(api_for, agent, identity_team, field_desk, ticket):
    client = api_for(agent)

    no_reason = client.post(f"/api/v1/tickets/{ticket.pk}/transfer/", {"queue": "field-services", "reason": ""})
    to_tier2 = client.post(f"/api/v1/tickets/{ticket.pk}/transfer/", {"queue": "identity-access", "reason": "x"})
    unknown = client.post(f"/api/v1/tickets/{ticket.pk}/transfer/", {"queue": "nowhere", "reason": "x"})

    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    assert to_tier2.status_code == 400 and "escalate" in to_tier2.json()["queue"][0]
    assert unknown.status_code == 400 and "queue" in unknown.json()
    assert Ticket.objects.get(pk=ticket.pk).queue.slug == "service-desk"
    assert not events_of(ticket, EventKind.REASSIGNED)


def test_transfer_re_routes_the_sla(api_for, agent, field_desk, ticket, monkeypatch):
    from escalation.sla import services

    calls = []
    monkeypatch.setattr(services, "recompute_targets", lambda clock, *, at: calls.append(clock.ticket.pk) or {})
    api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/transfer/", {"queue": "field-services", "reason": "Site visit"})
    assert calls == [ticket.pk]


# ---------------------------------------------------------------- category


def test_changing_the_category_re_routes_in_tier1(api_for, agent, ticket, field_desk):
    hardware = CategoryFactory(name="Hardware", slug="hardware", default_queue=field_desk)

    response = api_for(agent).patch(f"/api/v1/tickets/{ticket.pk}/", {"category": "hardware"})

    assert response.status_code == 200, response.json()
    assert response.json()["queue"] == "field-services"
    ticket.refresh_from_db()
    assert ticket.category == hardware
    assert "Category changed to Hardware" in ticket.routing_reason
    routed = events_of(ticket, EventKind.ROUTED)
    assert len(routed) == 2 and routed[-1].data["queue"] == "field-services"


def test_changing_into_a_security_category_restricts(api_for, agent, ticket, security_category):
    api_for(agent).patch(f"/api/v1/tickets/{ticket.pk}/", {"category": "security-incident"})
    assert Ticket.objects.get(pk=ticket.pk).is_restricted


# ---------------------------------------------------------------- watchers


def test_watchers_are_added_told_and_copied_on_replies(api_for, agent, colleague, other_requester, ticket):
    client = api_for(agent)

    response = client.post(f"/api/v1/tickets/{ticket.pk}/watchers/", {"add": ["agent2", other_requester.email]})

    assert response.status_code == 200, response.json()
    assert sorted(p["username"] for p in response.json()) == ["agent2", "requester2"]
    assert [e.data["added"] for e in events_of(ticket, EventKind.WATCHERS_CHANGED)] == [["agent2", "requester2"]]
    assert Notification.objects.filter(kind="watching", ticket=ticket, channel=NotificationChannel.IN_APP).count() == 2
    # a public reply reaches the requester and both watchers; the CC'd requester may now read the ticket
    services.ticket_comment_add(ticket_id=ticket.pk, body="Try signing out of Outlook.", public=True, acting_user=agent)
    told = set(
        Notification.objects.filter(kind="public_reply", channel=NotificationChannel.IN_APP).values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"requester1", "agent2", "requester2"}
    assert api_for(other_requester).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200
    # and an internal note reaches no one outside
    services.ticket_comment_add(ticket_id=ticket.pk, body="Probably MFA.", public=False, acting_user=agent)
    assert not Notification.objects.filter(recipient=other_requester, kind="note_added").exists()

    removed = client.post(f"/api/v1/tickets/{ticket.pk}/watchers/", {"remove": ["requester2"]})
    assert [p["username"] for p in removed.json()] == ["agent2"]
    assert api_for(other_requester).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404


def test_uncleared_people_cannot_watch_a_restricted_ticket(api_for, secops, colleague, requester, security_category):
    restricted = make_ticket(requester=requester, category=security_category, title="Ransomware note on screen")
    response = api_for(secops).post(f"/api/v1/tickets/{restricted.pk}/watchers/", {"add": ["agent2"]})
    assert response.status_code == 400
    assert not restricted.watchers.exists()


def test_unknown_watcher_is_a_field_error(api_for, agent, ticket):
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/watchers/", {"add": ["nobody-here"]})
    assert response.status_code == 400 and "add" in response.json()


# ---------------------------------------------------------------- links and merge


def test_link_related_tickets_both_timelines_say_so(api_for, agent, requester, category, ticket):
    other = make_ticket(requester=requester, category=category, title="Teams also asks for my password")

    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/links/", {"ticket": other.reference})

    assert response.status_code == 200, response.json()
    assert [t["reference"] for t in response.json()] == [other.reference]
    assert [t["reference"] for t in api_for(agent).get(f"/api/v1/tickets/{other.pk}/links/").json()] == [
        ticket.reference
    ]
    assert events_of(ticket, EventKind.LINKED)[0].data["other"] == other.reference
    assert events_of(other, EventKind.LINKED)[0].data["other"] == ticket.reference
    again = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/links/", {"ticket": other.pk})
    assert again.status_code == 400
    assert TicketLink.objects.count() == 1
    unlinked = api_for(agent).post(f"/api/v1/tickets/{other.pk}/links/", {"ticket": ticket.pk, "unlink": True})
    assert unlinked.json() == []
    assert TicketLink.objects.count() == 0


def test_merge_a_duplicate_into_the_primary(api_for, agent, requester, other_requester, category):
    primary = make_ticket(requester=requester, category=category, title="Wi-Fi down on floor 3")
    duplicate = make_ticket(
        requester=other_requester,
        category=category,
        title="Wi-Fi down on floor 3",
        description="No wireless at all near the kitchen since 10:00.",
    )
    services.ticket_comment_add(
        ticket_id=duplicate.pk, body="Still down at 10:30.", public=True, acting_user=other_requester
    )
    services.ticket_comment_add(ticket_id=duplicate.pk, body="AP-3 shows offline.", public=False, acting_user=agent)

    response = api_for(agent).post(f"/api/v1/tickets/{duplicate.pk}/merge/", {"into": primary.reference})

    assert response.status_code == 200, response.json()
    assert response.json()["reference"] == primary.reference
    duplicate.refresh_from_db()
    assert duplicate.status == TicketStatus.CLOSED
    assert duplicate.merged_into == primary
    assert api_for(agent).get(f"/api/v1/tickets/{duplicate.pk}/").json()["merged_into"] == primary.reference
    pointer = duplicate.comments.order_by("-pk").first()
    assert primary.reference in pointer.body and pointer.is_public
    # comments (and the duplicate's description) carried over, public/internal kept
    carried = list(primary.comments.order_by("created_at", "pk").values_list("body", "is_public"))
    assert carried[0][0].startswith(f"From {duplicate.reference}") and "kitchen" in carried[0][0]
    assert ("Still down at 10:30." in carried[1][0], carried[1][1]) == (True, True)
    assert ("AP-3 shows offline." in carried[2][0], carried[2][1]) == (True, False)
    # the duplicate's requester follows the primary now, and is told
    assert list(primary.watchers.all()) == [other_requester]
    assert api_for(other_requester).get(f"/api/v1/tickets/{primary.pk}/").status_code == 200
    assert Notification.objects.filter(recipient=other_requester, kind="merged", ticket=primary).exists()
    # both timelines say so
    [on_dup] = events_of(duplicate, EventKind.MERGED)
    [on_primary] = events_of(primary, EventKind.MERGED)
    assert on_dup.data["primary"] == primary.reference and on_dup.is_public
    assert on_primary.data["duplicate"] == duplicate.reference and on_primary.data["comments"] == 3


def test_merge_refusals_change_nothing(api_for, agent, requester, category, ticket, security_category, secops):
    closed = make_ticket(requester=requester, category=category, title="Old printer ticket")
    services.ticket_resolve(ticket_id=closed.pk, resolution="Fixed.", acting_user=agent)
    services.ticket_close(ticket_id=closed.pk, acting_user=agent)
    client = api_for(agent)

    into_self = client.post(f"/api/v1/tickets/{ticket.pk}/merge/", {"into": ticket.pk})
    into_closed = client.post(f"/api/v1/tickets/{ticket.pk}/merge/", {"into": closed.pk})
    unknown = client.post(f"/api/v1/tickets/{ticket.pk}/merge/", {"into": "HD-999999"})

    assert into_self.status_code == 400
    assert into_closed.status_code == 409
    assert unknown.status_code == 400 and "into" in unknown.json()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and ticket.merged_into is None
    assert not Comment.objects.filter(ticket=closed).exclude(body="Fixed.").exists()
    restricted = make_ticket(requester=requester, category=security_category, title="Suspicious login alert")
    leak = api_for(secops).post(f"/api/v1/tickets/{restricted.pk}/merge/", {"into": ticket.pk})
    assert leak.status_code == 400
    assert Ticket.objects.get(pk=restricted.pk).merged_into is None


# ---------------------------------------------------------------- reply and wait


def test_reply_and_set_pending_in_one_step(api_for, agent, ticket, django_capture_on_commit_callbacks):
    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/comments/",
        {"body": "Can you send a screenshot of the prompt?", "public": True, "set_pending": True},
    )

    assert response.status_code == 201, response.json()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert ticket.comments.get().is_public
    assert len(events_of(ticket, EventKind.PENDING)) == 1


def test_reply_and_wait_refused_as_a_note_or_when_resolved(api_for, agent, ticket):
    note = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "internal", "public": False, "set_pending": True}
    )
    assert note.status_code == 400 and "set_pending" in note.json()
    services.ticket_resolve(ticket_id=ticket.pk, resolution="Done.", acting_user=agent)
    resolved = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "More?", "public": True, "set_pending": True}
    )
    assert resolved.status_code == 409
    assert ticket.comments.count() == 1  # only the resolution: the refused reply was not sent


# ---------------------------------------------------------------- logged call


def test_a_logged_call_is_assigned_to_the_agent_who_logged_it(client, agent, requester, category):
    client.force_login(agent)
    response = client.post(
        "/desk/log-call/",
        {
            "requester": requester.username,
            "category": category.slug,
            "impact": "individual",
            "urgency": "slowed",
            "title": "Monitor flickers",
            "description": "The second monitor flickers every few seconds.",
            "channel": "phone",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Monitor flickers")
    assert ticket.assignee == agent
    assert events_of(ticket, EventKind.ASSIGNED)[0].data["new"] == "agent1"


def test_portal_and_api_tickets_are_not_self_assigned(api_for, requester, category):
    response = api_for(requester).post(
        "/api/v1/tickets/",
        {
            "title": "Need a new mouse",
            "description": "The scroll wheel broke.",
            "category": category.slug,
            "impact": "individual",
            "urgency": "minor",
        },
    )
    assert response.json()["assignee"] is None
