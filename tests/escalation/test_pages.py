"""The handoff page: one set of rules with the API, errors per field, everything typed kept."""

import pytest
from django.urls import reverse

from escalation.models import Escalation, Outcome

pytestmark = pytest.mark.django_db

EVIDENCE = "Error 0x80048823\r\n\tat Sspr.Check()   \r\nrésumé ✓"


def form_data(**changes):
    data = {
        "trigger": "access_restriction",
        "problem_summary": "Account is locked after repeated MFA prompts the user did not start.",
        "steps_tried": "Checked sign-in logs, confirmed 12 failed MFA attempts.",
        "error_evidence": EVIDENCE,
        "affected_scope": "individual",
        "affected_count": "1",
        "urgency": "stopped",
        "checklist_account_lock_state": "Locked since 08:14 UTC",
    }
    data.update(changes)
    return data


def test_the_form_shows_the_five_fields_and_the_checklist(ticket, agent, client):
    client.force_login(agent)
    response = client.get(reverse("ticket-escalate", args=[ticket.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("What is wrong", "What was already tried", "Evidence, verbatim", "Who is affected", "How urgent"):
        assert label in html
    assert "Account lock state checked" in html
    assert 'class="monospace"' in html


def test_a_refused_handoff_shows_each_error_and_keeps_what_was_typed(ticket, agent, client):
    client.force_login(agent)
    response = client.post(
        reverse("ticket-escalate", args=[ticket.pk]),
        form_data(problem_summary="n/a", steps_tried="Laptop will not start", checklist_account_lock_state=""),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"problem_summary", "steps_tried", "checklist_account_lock_state"}
    assert "placeholder" in form.errors["problem_summary"][0]
    assert "repeats the ticket title" in form.errors["steps_tried"][0]
    html = response.content.decode()
    assert "Account lock state checked” must be answered" in html
    # what was typed is still there, evidence exactly
    assert form["error_evidence"].value() == EVIDENCE
    assert form["problem_summary"].value() == "n/a"
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert not Escalation.objects.exists()


def test_a_complete_handoff_escalates_from_the_page(ticket, agent, client):
    client.force_login(agent)
    response = client.post(reverse("ticket-escalate", args=[ticket.pk]), form_data())
    assert response.status_code == 302
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.error_evidence == EVIDENCE
    assert escalation.checklist == {"account_lock_state": "Locked since 08:14 UTC"}


def test_a_requester_gets_404_on_the_page(ticket, requester, client):
    client.force_login(requester)
    assert client.get(reverse("ticket-escalate", args=[ticket.pk])).status_code == 404


def test_accept_return_and_rate_pages(escalated, ticket, engineer, other_engineer, client):
    client.force_login(engineer)
    assert client.post(reverse("ticket-accept", args=[ticket.pk])).status_code == 302
    escalated.refresh_from_db()
    assert escalated.outcome == Outcome.ACCEPTED
    # a second accept is a message, not an error page
    client.force_login(other_engineer)
    response = client.post(reverse("ticket-accept", args=[ticket.pk]), follow=True)
    assert "cannot be accepted" in response.content.decode()
    client.force_login(engineer)
    response = client.post(reverse("ticket-rate", args=[ticket.pk]), {"rating": "5", "comment": "Great"})
    assert response.status_code == 302
    escalated.refresh_from_db()
    assert escalated.rating == 5


def test_the_return_page_shows_the_service_errors(escalated, ticket, engineer, client):
    client.force_login(engineer)
    response = client.post(
        reverse("ticket-return", args=[ticket.pk]), {"reason": "within_tier1_scope", "note": "Known fix."}
    )
    assert response.status_code == 400
    assert "kb_reference" in response.context["form"].errors
    response = client.post(
        reverse("ticket-return", args=[ticket.pk]),
        {"reason": "within_tier1_scope", "note": "Known fix.", "kb_reference": "KB-42"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.tier == 1
