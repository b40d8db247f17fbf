"""Regressions the API fuzzer found: each used to be a 500 or an answer the schema did not describe."""

import pytest

from tickets.models import EventKind, Ticket, TicketEvent

from ..factories import make_ticket

pytestmark = pytest.mark.django_db


def snapshot(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (ticket.version, ticket.status, ticket.title, TicketEvent.objects.filter(ticket=ticket).count())


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"title": "Renamed"}),
        ("get", "", None),
        ("post", "comments/", {"body": "hello", "public": True}),
        ("post", "resolve/", {"resolution": "Fixed"}),
        ("post", "pending/", {"reason": "Waiting"}),
        ("get", "timeline/", None),
        ("post", "escalate/", {}),
        ("get", "escalations/", None),
    ],
)
def test_a_non_numeric_ticket_id_is_a_json_404_and_changes_nothing(
    api_for, agent, requester, category, method, suffix, body
):
    ticket = make_ticket(requester=requester, category=category)
    before = snapshot(ticket)

    response = getattr(api_for(agent), method)(f"/api/v1/tickets/null,null/{suffix}", body, format="json")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}
    assert snapshot(ticket) == before


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/articles/?search=abc%00def", "search"),
        ("/api/v1/playbooks/?category=vpn%00", "category"),
        ("/api/v1/tickets/?search=%00", "search"),
        ("/api/v1/articles/suggest/?q=vpn%00", "q"),
    ],
)
def test_a_null_character_in_a_query_parameter_is_a_field_error_not_a_500(api_for, agent, path, param):
    response = api_for(agent).get(path)

    assert response.status_code == 400
    assert response.json() == {param: ["Null characters are not allowed."]}


def test_a_null_character_in_a_page_query_is_a_400_not_a_500(client, agent):
    client.force_login(agent)

    response = client.get("/kb/?q=printer%00")

    assert response.status_code == 400


def test_agent_logging_a_security_ticket_gets_201_with_the_reference_not_a_500(
    api_for, agent, requester, security_category, security_team
):
    body = {
        "title": "I clicked a phishing link",
        "description": "It asked for my password.",
        "category": security_category.slug,
        "impact": "individual",
        "urgency": "minor",
        "requester": requester.email,
    }

    response = api_for(agent).post("/api/v1/tickets/", body, format="json")

    assert response.status_code == 201
    ticket = Ticket.objects.get(title="I clicked a phishing link")
    assert ticket.is_restricted
    receipt = response.json()
    assert (receipt["id"], receipt["reference"], receipt["status"]) == (ticket.pk, ticket.reference, ticket.status)
    assert receipt["detail"].startswith("Handed to Security")
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED).count() == 1
    assert api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404


def test_unassigned_ticket_and_its_timeline_match_the_schema(api_for, agent, requester, category):
    """assignee/site/actor may be null; the timeline is a plain list (the schema said paginated object)."""
    ticket = make_ticket(requester=requester, category=category)

    detail = api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()
    timeline = api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/timeline/").json()

    assert detail["assignee"] is None
    assert isinstance(timeline, list)
    assert timeline[0]["kind"] == "created"


def test_schema_documents_error_answers_and_nullable_references(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    resolve = schema["paths"]["/api/v1/tickets/{id}/resolve/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(resolve)
    comments = schema["paths"]["/api/v1/tickets/{id}/comments/"]["post"]["responses"]
    assert "201" in comments and "200" not in comments
    assert schema["components"]["schemas"]["Ticket"]["properties"]["assignee"]["nullable"] is True
    timeline = schema["paths"]["/api/v1/tickets/{id}/timeline/"]["get"]["responses"]["200"]
    assert timeline["content"]["application/json"]["schema"]["type"] == "array"
