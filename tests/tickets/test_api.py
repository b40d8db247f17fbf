"""The ticket API as integrators use it: shapes, errors, visibility and query budgets."""

import pytest
from rest_framework.test import APIClient

from tickets import services
from tickets.models import Comment, EventKind, Ticket, TicketStatus

from ..factories import make_ticket

pytestmark = pytest.mark.django_db

CREATE_BODY = {
    "title": "Cannot open the payroll app",
    "description": "Error 'License server unreachable' since 9:00 this morning.",
    "category": "account-access",
    "impact": "team",
    "urgency": "stopped",
}


def test_token_auth_then_create_a_ticket(requester, category):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "requester1", "password": "pw"}, format="json")
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    response = client.post("/api/v1/tickets/", CREATE_BODY, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == f"HD-{body['id']:06d}"
    assert body["priority"] == "P2"  # team × stopped
    assert body["queue"] == "service-desk"
    assert body["tier"] == 1
    assert body["status"] == "new"
    assert body["requester"] == "requester1"
    assert body["routing"]["reason"].startswith("No rule matched")
    assert {"first_response_due_at", "resolution_due_at"} <= set(body)


def test_agent_logs_a_ticket_on_behalf_of_a_requester_by_email(api_for, agent, requester, category):
    response = api_for(agent).post("/api/v1/tickets/", {**CREATE_BODY, "requester": requester.email}, format="json")

    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.requester == requester
    assert ticket.created_by == agent


def test_requester_cannot_log_on_someone_elses_behalf(api_for, requester, other_requester, category):
    response = api_for(requester).post(
        "/api/v1/tickets/", {**CREATE_BODY, "requester": other_requester.username}, format="json"
    )

    assert response.status_code == 403
    assert Ticket.objects.count() == 0


def test_bad_create_input_answers_400_field_by_field(api_for, requester, category):
    response = api_for(requester).post(
        "/api/v1/tickets/",
        {"title": "", "category": "no-such-category", "impact": "huge", "urgency": "stopped"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"title", "description", "category", "impact"}
    assert Ticket.objects.count() == 0


def test_requester_sees_only_their_own_tickets(api_for, requester, other_requester, category):
    mine = make_ticket(requester=requester, category=category)
    theirs = make_ticket(requester=other_requester, category=category)
    client = api_for(requester)

    listed = client.get("/api/v1/tickets/").json()["results"]

    assert [row["id"] for row in listed] == [mine.pk]
    assert client.get(f"/api/v1/tickets/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/tickets/{theirs.pk}/timeline/").status_code == 404
    assert client.post(f"/api/v1/tickets/{theirs.pk}/comments/", {"body": "hi", "public": True}).status_code == 404


def test_restricted_tickets_are_404_for_agents_without_security_clearance(
    api_for, agent, secops, requester, security_category
):
    ticket = make_ticket(requester=requester, category=security_category)

    assert api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404
    assert api_for(secops).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200
    assert api_for(requester).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200


def test_anonymous_gets_401(requester, category):
    ticket = make_ticket(requester=requester, category=category)

    assert APIClient().get(f"/api/v1/tickets/{ticket.pk}/").status_code == 401


def test_requester_sees_public_replies_not_internal_notes(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Rebooting the server", "public": False})
    api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Fixed, please retry", "public": True})

    agent_view = api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/timeline/").json()
    requester_view = api_for(requester).get(f"/api/v1/tickets/{ticket.pk}/timeline/").json()

    assert EventKind.NOTE_ADDED in [e["kind"] for e in agent_view]
    assert EventKind.NOTE_ADDED not in [e["kind"] for e in requester_view]
    assert EventKind.COMMENTED in [e["kind"] for e in requester_view]


def test_first_public_agent_reply_records_first_response_and_opens_the_ticket(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "On it.", "public": True})

    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.status == TicketStatus.OPEN


def test_requester_cannot_write_internal_notes(api_for, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    api_for(requester).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "psst", "public": False})

    assert Comment.objects.get(ticket=ticket).is_public is True


def test_pending_then_requester_reply_resumes(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    pending = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/pending/", {"reason": "Need a screenshot"})
    assert pending.json()["status"] == "pending"
    api_for(requester).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Here it is", "public": True})

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    resumed = ticket.events.get(kind=EventKind.RESUMED)
    assert resumed.actor == requester
    assert resumed.data == {"old_status": "pending", "new_status": "open", "reason": "The requester replied."}


def test_resolve_reopen_cycle(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    resolved = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/resolve/", {"resolution": "Reset the token."})
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    reopened = api_for(requester).post(f"/api/v1/tickets/{ticket.pk}/reopen/", {"reason": "Broken again"})
    assert reopened.status_code == 200

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.reopen_count == 1
    assert ticket.resolved_at is None


def test_invalid_transition_answers_409_and_changes_nothing(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    client = api_for(agent)

    response = client.post(f"/api/v1/tickets/{ticket.pk}/reopen/", {"reason": "why not"})

    assert response.status_code == 409
    assert "cannot be reopened" in response.json()["detail"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_stale_version_answers_409(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)
    client = api_for(agent)
    stale = client.get(f"/api/v1/tickets/{ticket.pk}/").json()["version"]
    client.patch(f"/api/v1/tickets/{ticket.pk}/", {"title": "Payroll app: license error"}, format="json")

    response = client.patch(f"/api/v1/tickets/{ticket.pk}/", {"title": "Another edit", "version": stale}, format="json")

    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.title == "Payroll app: license error"


def test_patch_impact_rederives_priority_and_records_old_and_new(api_for, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category, impact="individual", urgency="slowed")

    response = api_for(agent).patch(f"/api/v1/tickets/{ticket.pk}/", {"impact": "site"}, format="json")

    assert response.json()["priority"] == "P2"
    change = ticket.events.get(kind=EventKind.FIELD_CHANGED)
    assert change.actor == agent
    assert change.data == {"impact": {"old": "individual", "new": "site"}, "priority": {"old": "P4", "new": "P2"}}


def test_priority_override_needs_a_reason(api_for, manager, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    refused = api_for(manager).patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "P1"}, format="json")
    accepted = api_for(manager).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"priority": "P1", "priority_reason": "CFO's demo in 1 h"}, format="json"
    )

    assert refused.status_code == 400
    assert "priority_reason" in refused.json()
    assert accepted.json()["priority"] == "P1"
    event = ticket.events.get(kind=EventKind.PRIORITY_CHANGED)
    assert event.data == {"old": "P4", "new": "P1", "reason": "CFO's demo in 1 h"}


def test_requester_cannot_patch(api_for, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    assert api_for(requester).patch(f"/api/v1/tickets/{ticket.pk}/", {"title": "Mine now"}).status_code == 403


def test_list_filters(api_for, agent, requester, category):
    resolved = make_ticket(requester=requester, category=category, title="Printer jam on floor 2")
    services.ticket_resolve(ticket_id=resolved.pk, resolution="Cleared", acting_user=agent)
    fresh = make_ticket(requester=requester, category=category, title="VPN keeps dropping")
    client = api_for(agent)

    def ids(query):
        return [row["id"] for row in client.get(f"/api/v1/tickets/?{query}").json()["results"]]

    assert ids("status=resolved") == [resolved.pk]
    assert ids("search=vpn") == [fresh.pk]
    assert ids(f"search=HD-{fresh.pk:06d}") == [fresh.pk]
    assert ids("assignee=agent1") == [resolved.pk]
    assert ids("assignee=none") == [fresh.pk]
    assert ids("tier=1&category=account-access&queue=service-desk&ordering=id") == [resolved.pk, fresh.pk]


def test_ticket_list_uses_a_constant_number_of_queries(
    api_for, agent, requester, category, django_assert_max_num_queries
):
    client = api_for(agent)
    for _ in range(3):
        make_ticket(requester=requester, category=category)
    with django_assert_max_num_queries(8) as few:
        assert client.get("/api/v1/tickets/?page_size=100").status_code == 200
    for _ in range(20):
        make_ticket(requester=requester, category=category)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/tickets/")

    assert response.json()["count"] == 23


def test_health_and_readiness(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readiness_names_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    from helpdesk.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = None
        app.config_from_object("django.conf:settings", namespace="CELERY")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_openapi_schema_and_docs_are_served(client, agent):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/tickets/" in schema.content
    client.force_login(agent)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_reference_data(api_for, agent, category):
    client = api_for(agent)

    assert [c["slug"] for c in client.get("/api/v1/categories/").json()] == ["account-access"]
    assert "service-desk" in [q["slug"] for q in client.get("/api/v1/queues/").json()]


def test_a_refused_field_leaves_every_field_unchanged(api_for, agent, requester, category):
    # given a ticket, and a PATCH with a good new title but an assignee who is not an agent
    ticket = make_ticket(requester=requester, category=category, title="Laptop will not start")
    version = Ticket.objects.get(pk=ticket.pk).version

    response = api_for(agent).patch(
        f"/api/v1/tickets/{ticket.pk}/",
        {"title": "Laptop dead after update", "assignee": requester.username},
        format="json",
    )

    # then 400 naming the assignee, and nothing changed: not the title, not the version, no event
    assert response.status_code == 400
    assert "assignee" in response.json()
    ticket.refresh_from_db()
    assert ticket.title == "Laptop will not start"
    assert ticket.version == version
    assert not ticket.events.filter(kind=EventKind.FIELD_CHANGED).exists()


def test_title_assignee_and_priority_change_together(api_for, manager, agent, requester, category):
    ticket = make_ticket(requester=requester, category=category)

    response = api_for(manager).patch(
        f"/api/v1/tickets/{ticket.pk}/",
        {"title": "Laptop dead after update", "assignee": agent.username, "priority": "P2", "priority_reason": "VP"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["priority"]) == ("Laptop dead after update", "P2")
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.FIELD_CHANGED) == 1
    assert kinds.count(EventKind.PRIORITY_CHANGED) == 1


def test_override_priority_is_for_team_leads_and_managers(api_for, agent, manager, requester, category, service_desk):
    ticket = make_ticket(requester=requester, category=category)
    body = {"priority": "P1", "priority_reason": "CFO's demo in 1 h", "title": "CFO laptop will not start"}

    # a Tier 1 agent may edit the ticket but not override its priority: 403, and the title stays too
    refused = api_for(agent).patch(f"/api/v1/tickets/{ticket.pk}/", body, format="json")
    assert refused.status_code == 403
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.title) == ("P4", "Laptop will not start")

    # the team's lead may
    service_desk.lead = agent
    service_desk.save(update_fields=["lead"])
    assert api_for(agent).patch(f"/api/v1/tickets/{ticket.pk}/", body, format="json").status_code == 200
    ticket.refresh_from_db()
    assert ticket.priority == "P1"

    # and a manager (the permission, granted to the Manager role) may
    body["priority"] = "P2"
    assert api_for(manager).patch(f"/api/v1/tickets/{ticket.pk}/", body, format="json").status_code == 200
    ticket.refresh_from_db()
    assert ticket.priority == "P2"
