"""Every page form, fed bad input: the form comes back (or a clear 4xx), never a 500, and the ticket is unchanged."""

import pytest

from tickets.models import Ticket, TicketEvent

from ..factories import make_ticket

pytestmark = pytest.mark.django_db

NUL = "bad\x00value"
HUGE = "x" * 20_000
BAD_BODIES = [
    {},
    {"reason": NUL, "note": NUL, "resolution": NUL, "body": NUL, "title": NUL, "description": NUL},
    {"priority": "P9", "impact": "galactic", "urgency": "-1", "rating": "11", "trigger": "nonsense", "version": "abc"},
    {"rating": "-5", "affected_count": "-3", "assignee": "nobody", "category": "no-such", "site": HUGE},
    {"title": HUGE, "description": HUGE, "reason": HUGE, "resolution": HUGE},
]


def snapshot(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (
        ticket.version,
        ticket.status,
        ticket.priority,
        ticket.title,
        TicketEvent.objects.filter(ticket=ticket).count(),
    )


TICKET_FORMS = ["escalate", "return", "rate", "resolve", "pending", "reopen", "priority", "comment"]


@pytest.mark.parametrize("body", BAD_BODIES, ids=["empty", "nul", "bad-choices", "bad-refs", "huge"])
def test_ticket_page_forms_refuse_bad_input_without_a_500_or_a_change(client, agent, requester, category, body):
    from django.urls import reverse

    ticket = make_ticket(requester=requester, category=category)
    client.force_login(agent)
    # Only the 20k-character body can be valid for some form (a long resolution is still a resolution).
    always_invalid = body is not BAD_BODIES[-1]
    for action in TICKET_FORMS:
        before = snapshot(ticket)

        response = client.post(reverse(f"ticket-{action}", args=[ticket.pk]), body)

        assert response.status_code < 500, action
        if always_invalid or response.status_code in (200, 400):
            assert snapshot(ticket) == before, action


@pytest.mark.parametrize("body", BAD_BODIES, ids=["empty", "nul", "bad-choices", "bad-refs", "huge"])
def test_log_call_portal_kb_editor_and_preferences_answer_with_the_form(
    client, agent, requester, category, manager, body
):
    for user, url in [
        (agent, "/desk/log-call/"),
        (requester, "/portal/new/"),
        (agent, "/kb/articles/new/"),
        (agent, "/notifications/preferences/"),
        (requester, "/notifications/preferences/"),
    ]:
        client.force_login(user)
        tickets_before = Ticket.objects.count()

        response = client.post(url, body)

        assert response.status_code < 500, url
        if response.status_code in (200, 400):
            assert Ticket.objects.count() == tickets_before, url


def test_empty_log_call_and_portal_forms_come_back_with_field_errors(client, agent, requester, category):
    for user, url in [(agent, "/desk/log-call/"), (requester, "/portal/new/")]:
        client.force_login(user)

        response = client.post(url, {})

        assert response.status_code in (200, 400), url
        assert response.context["form"].errors, url
        assert "has-error" in response.content.decode() or "errorlist" in response.content.decode(), url
    assert Ticket.objects.count() == 0
