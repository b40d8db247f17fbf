"""The escalation endpoints: same rules as the service, 400 field by field, 404 outside scope, 409 on conflict."""

import pytest

from escalation.models import Escalation, Outcome

pytestmark = pytest.mark.django_db

BODY = {
    "trigger": "access_restriction",
    "problem_summary": "Account is locked after repeated MFA prompts the user did not start.",
    "steps_tried": "Checked sign-in logs, confirmed 12 failed MFA attempts, asked the user to deny prompts.",
    "error_evidence": "AADSTS50053: The account is locked.\r\n\tCorrelation ID: 4f1c2a9e   ",
    "affected_scope": "individual",
    "affected_count": 1,
    "urgency": "stopped",
    "checklist": {"account_lock_state": "Locked since 08:14 UTC"},
}


def test_escalate_returns_the_ticket_and_the_escalation(ticket, agent, api_for):
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/escalate/", BODY)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "escalated"
    assert data["tier"] == 2
    assert data["queue"] == "identity-access"
    assert data["escalation"]["trigger"] == "access_restriction"
    assert data["escalation"]["error_evidence"] == BODY["error_evidence"]
    assert data["escalation"]["completeness"] == 5
    assert Escalation.objects.get(ticket=ticket).error_evidence == BODY["error_evidence"]


def test_a_refused_escalation_answers_400_field_by_field_and_changes_nothing(ticket, agent, api_for):
    body = {
        **BODY,
        "problem_summary": "n/a",
        "steps_tried": "",
        "error_evidence": "see above",
        "affected_scope": "",
        "urgency": "",
        "checklist": {},
    }
    version = ticket.version
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/escalate/", body)
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {
        "problem_summary",
        "steps_tried",
        "error_evidence",
        "affected_scope",
        "urgency",
        "checklist.account_lock_state",
    }
    assert "What is wrong" in errors["problem_summary"][0]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tier, ticket.version) == ("open", 1, version)
    assert not Escalation.objects.exists()


def test_a_title_restatement_is_refused_through_the_api(ticket, agent, api_for):
    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/escalate/", {**BODY, "problem_summary": "Laptop will not start."}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["problem_summary"]


def test_a_malformed_body_is_a_400_not_a_500(ticket, agent, api_for):
    response = api_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/escalate/", {**BODY, "affected_count": "many", "checklist": "yes"}
    )
    assert response.status_code == 400
    assert {"affected_count", "checklist"} <= set(response.json())


def test_requesters_get_404_on_the_escalation_endpoints(ticket, requester, other_requester, api_for):
    for user in (requester, other_requester):
        client = api_for(user)
        assert client.post(f"/api/v1/tickets/{ticket.pk}/escalate/", BODY).status_code == 404
        assert client.post(f"/api/v1/tickets/{ticket.pk}/accept/").status_code == 404
        assert client.get(f"/api/v1/tickets/{ticket.pk}/escalations/").status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_an_unknown_ticket_is_404(agent, api_for, db):
    assert api_for(agent).post("/api/v1/tickets/999999/escalate/", BODY).status_code == 404


def test_accept_return_and_rate_through_the_api(escalated, ticket, engineer, agent, api_for):
    client = api_for(engineer)
    response = client.post(f"/api/v1/tickets/{ticket.pk}/return/", {"reason": "handoff_incomplete", "note": "x"})
    assert response.status_code == 400
    assert list(response.json()) == ["missing_fields"]
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/return/",
        {"reason": "handoff_incomplete", "note": "Paste the raw error.", "missing_fields": ["error_evidence"]},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["queue"] == "service-desk"
    assert response.json()["assignee"] == "agent1"
    assert response.json()["escalation"]["outcome"] == "returned"
    response = client.post(f"/api/v1/tickets/{ticket.pk}/rate/", {"rating": 2, "comment": "Evidence paraphrased."})
    assert response.status_code == 200
    assert response.json()["escalation"]["rating"] == 2
    assert client.post(f"/api/v1/tickets/{ticket.pk}/rate/", {"rating": 9}).status_code == 400
    # a returned ticket cannot be accepted any more
    assert client.post(f"/api/v1/tickets/{ticket.pk}/accept/").status_code == 409
    listing = api_for(agent).get(f"/api/v1/tickets/{ticket.pk}/escalations/")
    assert listing.status_code == 200
    assert [row["outcome"] for row in listing.json()] == [Outcome.RETURNED]


def test_a_tier1_agent_cannot_accept(escalated, ticket, agent, api_for):
    assert api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/accept/").status_code == 403


def test_the_catalogue_is_read_only(paths, agent, requester, api_for):
    triggers = api_for(agent).get("/api/v1/triggers/").json()
    assert [row["value"] for row in triggers] == [
        "time_exceeded",
        "access_restriction",
        "complexity_limit",
        "integration_failure",
        "security_concern",
        "business_impact",
    ]
    paths_listed = api_for(agent).get("/api/v1/escalation-paths/?trigger=security_concern").json()
    assert [row["to_queue"] for row in paths_listed] == ["security"]
    assert api_for(requester).get("/api/v1/escalation-paths/").status_code == 403
    assert api_for(agent).post("/api/v1/escalation-paths/", {}).status_code == 405


def test_the_schema_stays_valid(agent, api_for):
    response = api_for(agent).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema_paths = response.json()["paths"]
    assert "/api/v1/tickets/{id}/escalate/" in schema_paths or "/api/v1/tickets/{pk}/escalate/" in schema_paths
