"""The workspace pages: who may open what, forms that keep input, role redirects, query budgets."""

import pytest
from django.urls import reverse

from tests.factories import make_escalated_tickets, make_ticket
from tickets.models import Comment, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category, acting_user=agent, title="Cannot log in to VPN")


def login(client, user):
    client.force_login(user)
    return client


# ---------------------------------------------------------------- home redirects


def test_home_sends_requester_to_portal(client, requester):
    response = login(client, requester).get("/")
    assert response.status_code == 302
    assert response.url == reverse("portal")


def test_home_sends_tier1_agent_to_desk(client, agent):
    assert login(client, agent).get("/").url == reverse("desk")


def test_home_sends_tier2_engineer_to_tier2_queue(client, engineer):
    assert login(client, engineer).get("/").url == reverse("tier2-queue")


def test_home_sends_anonymous_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders_in_the_app_look(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"css/app.css" in response.content
    assert b"Sign in" in response.content


# ---------------------------------------------------------------- ownership


def test_requester_gets_404_on_another_requesters_ticket(client, other_requester, ticket):
    response = login(client, other_requester).get(reverse("ticket-detail", args=[ticket.pk]))
    assert response.status_code == 404
    assert b"Nothing here" in response.content


def test_requester_cannot_comment_on_another_requesters_ticket(client, other_requester, ticket):
    response = login(client, other_requester).post(reverse("ticket-comment", args=[ticket.pk]), {"body": "hello"})
    assert response.status_code == 404
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_agent_without_security_permission_gets_404_on_restricted_ticket(client, agent, requester, security_category):
    restricted = make_ticket(requester=requester, category=security_category, title="Phishing mail clicked")
    assert restricted.is_restricted
    response = login(client, agent).get(reverse("ticket-detail", args=[restricted.pk]))
    assert response.status_code == 404


def test_security_engineer_opens_restricted_ticket(client, secops, requester, security_category):
    restricted = make_ticket(requester=requester, category=security_category, title="Phishing mail clicked")
    assert login(client, secops).get(reverse("ticket-detail", args=[restricted.pk])).status_code == 200


def test_requester_gets_403_on_the_desk(client, requester):
    response = login(client, requester).get(reverse("desk"))
    assert response.status_code == 403
    assert b"403" in response.content


def test_requester_cannot_run_agent_actions_on_own_ticket(client, requester, ticket):
    response = login(client, requester).post(reverse("ticket-resolve", args=[ticket.pk]), {"resolution": "fixed"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_requester_sees_public_replies_but_never_internal_notes(client, requester, agent, ticket):
    from tickets import services

    services.ticket_comment_add(ticket_id=ticket.pk, body="We reset your token.", public=True, acting_user=agent)
    services.ticket_comment_add(ticket_id=ticket.pk, body="User sounds annoyed", public=False, acting_user=agent)
    page = login(client, requester).get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert "We reset your token." in page
    assert "User sounds annoyed" not in page
    assert "Internal note" not in page


# ---------------------------------------------------------------- forms keep input


def test_log_a_call_with_errors_keeps_what_was_typed(client, agent, requester, category):
    response = login(client, agent).post(
        reverse("ticket-create"),
        {
            "requester": "nobody-by-that-name",
            "category": category.slug,
            "impact": "team",
            "urgency": "stopped",
            "title": "Printer",  # long enough for the form; the service wants 5+ chars: fine
            "description": "short",
            "channel": "phone",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "No active person with that username or e-mail" in page
    assert 'value="nobody-by-that-name"' in page
    assert 'value="Printer"' in page
    assert Ticket.objects.count() == 0


def test_log_a_call_maps_service_refusals_to_fields_and_keeps_input(client, agent, requester, category):
    response = login(client, agent).post(
        reverse("ticket-create"),
        {
            "requester": "requester1",
            "category": category.slug,
            "impact": "individual",
            "urgency": "slowed",
            "title": "VPN drops every hour",
            "description": "too short",
            "channel": "phone",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Describe the problem in at least 10 characters." in page
    assert 'value="VPN drops every hour"' in page
    assert Ticket.objects.count() == 0


def test_log_a_call_creates_the_ticket_for_the_requester(client, agent, requester, category):
    response = login(client, agent).post(
        reverse("ticket-create"),
        {
            "requester": requester.email,
            "category": category.slug,
            "impact": "team",
            "urgency": "stopped",
            "title": "Team cannot reach the file share",
            "description": "Since 9am the whole finance team gets 'access denied' on \\\\fs01\\finance.",
            "channel": "phone",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("ticket-detail", args=[ticket.pk])
    assert ticket.requester == requester
    assert ticket.created_by == agent
    assert ticket.channel == "phone"
    assert ticket.priority == "P2"  # team × work stopped


def test_pending_without_reason_shows_the_error_and_changes_nothing(client, agent, ticket):
    response = login(client, agent).post(reverse("ticket-pending", args=[ticket.pk]), {"pending-reason": ""})
    assert response.status_code == 400
    assert b"This field is required." in response.content
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_invalid_transition_is_a_message_not_a_500(client, agent, ticket):
    response = login(client, agent).post(reverse("ticket-resume", args=[ticket.pk]), follow=True)
    assert response.status_code == 200
    assert "cannot be resumed now" in response.content.decode()


def test_resolve_then_reopen_through_the_page(client, agent, requester, ticket):
    login(client, agent).post(reverse("ticket-resolve", args=[ticket.pk]), {"resolution": "Reset the token."})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    client.force_login(requester)
    response = client.post(reverse("ticket-reopen", args=[ticket.pk]), {"reopen-reason": "Still broken"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.reopen_count == 1


def test_empty_reply_keeps_the_note_toggle_and_shows_the_error(client, agent, ticket):
    response = login(client, agent).post(
        reverse("ticket-comment", args=[ticket.pk]), {"body": "   ", "visibility": "internal"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Write something or attach a file before sending." in page
    assert 'value="internal" checked' in page


def test_internal_note_from_the_page_is_not_public(client, agent, ticket):
    login(client, agent).post(
        reverse("ticket-comment", args=[ticket.pk]), {"body": "Checked AD", "visibility": "internal"}
    )
    comment = Comment.objects.get(ticket=ticket)
    assert comment.is_public is False


def test_portal_submission_with_errors_keeps_input(client, requester, category):
    response = login(client, requester).post(
        reverse("portal-create"),
        {
            "category": category.slug,
            "title": "Mail",
            "description": "Outlook shows a red cross since this morning.",
            "impact": "individual",
            "urgency": "stopped",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at least 5 characters" in page
    assert "Outlook shows a red cross since this morning." in page


# ---------------------------------------------------------------- htmx helpers


def test_requester_lookup_matches_name_username_and_email(client, agent, requester, other_requester):
    login(client, agent)
    by_name = client.get(reverse("requester-lookup"), {"requester": "Chris Tay"}).content.decode()
    assert 'data-pick-requester="requester1"' in by_name
    assert "requester2" not in by_name
    by_mail = client.get(reverse("requester-lookup"), {"requester": "requester2@exam"}).content.decode()
    assert 'data-pick-requester="requester2"' in by_mail


def test_requester_lookup_is_for_agents_only(client, requester):
    assert login(client, requester).get(reverse("requester-lookup"), {"requester": "Chris"}).status_code == 403


def test_priority_preview_follows_the_matrix(client, agent):
    login(client, agent)
    page = client.get(reverse("priority-preview"), {"impact": "organization", "urgency": "stopped"}).content.decode()
    assert "badge-p1" in page
    page = client.get(reverse("priority-preview"), {"impact": "individual", "urgency": "minor"}).content.decode()
    assert "badge-p4" in page


def test_desk_poll_returns_only_the_list(client, agent, ticket):
    response = login(client, agent).get(reverse("desk"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-list")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="queue-list"')
    assert ticket.reference in page
    assert "<html" not in page


def test_desk_orders_by_resolution_due_nulls_last_and_filters(client, agent, requester, category):
    from datetime import timedelta

    from django.utils import timezone

    late = make_ticket(requester=requester, category=category, title="Due later ticket")
    soon = make_ticket(requester=requester, category=category, title="Due sooner ticket")
    none = make_ticket(requester=requester, category=category, title="No target ticket")
    now = timezone.now()
    Ticket.objects.filter(pk=late.pk).update(resolution_due_at=now + timedelta(hours=5))
    Ticket.objects.filter(pk=soon.pk).update(resolution_due_at=now + timedelta(minutes=25))
    Ticket.objects.filter(pk=none.pk).update(resolution_due_at=None)
    page = login(client, agent).get(reverse("desk")).content.decode()
    assert page.index("Due sooner ticket") < page.index("Due later ticket") < page.index("No target ticket")
    assert "due in 2" in page  # 25 min (the clock moved a little)
    filtered = client.get(reverse("desk"), {"search": "sooner"}).content.decode()
    assert "Due sooner ticket" in filtered
    assert "Due later ticket" not in filtered


# ---------------------------------------------------------------- query budgets


def _many_tickets(count, requester, category, agent):
    from tickets import services

    tickets = [make_ticket(requester=requester, category=category, title=f"Ticket number {n}") for n in range(count)]
    for t in tickets[:3]:
        services.ticket_assign(ticket_id=t.pk, assignee=agent, acting_user=agent)
    return tickets


HANDOFF_FOR_BUDGETS = {
    "problem_summary": "Shared drive refuses access for the finance team.",
    "steps_tried": "Checked group membership in AD; remapped the drive; rebooted the laptop.",
    "error_evidence": "Access is denied. (0x80070005)",
    "affected_scope": "team",
    "affected_count": 4,
    "urgency": "slowed",
    "checklist": {},
}


@pytest.mark.parametrize("count", [3, 30])
def test_desk_query_budget_does_not_grow_with_tickets(
    client, django_assert_max_num_queries, agent, engineer, identity_team, requester, category, count
):
    from escalation import services as escalation_services
    from escalation.models import EscalationPath

    tickets = _many_tickets(count, requester, category, agent)
    # One of the agent's own tickets came back from Tier 2: its handoff shows on the row.
    EscalationPath.objects.create(name="Access", trigger="access_restriction", to_queue=identity_team)
    escalation_services.ticket_escalate(
        ticket_id=tickets[0].pk,
        trigger="access_restriction",
        handoff=escalation_services.Handoff(**HANDOFF_FOR_BUDGETS),
        acting_user=agent,
    )
    escalation_services.escalation_return(
        ticket_id=tickets[0].pk,
        reason="within_tier1_scope",
        note="A Tier 1 fix: KB-12.",
        kb_reference="KB-12 Shared drive access",
        acting_user=engineer,
    )
    login(client, agent)
    client.get(reverse("desk"))  # warm: per-process configuration
    # session, user, configuration stamp, permissions (one query: helpdesk.backends), count, page,
    # my tickets and their handoffs, the agents for the filter, the bell: 10 (11 with ModelBackend's
    # two permission reads)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("desk"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Returned by" in page and "A Tier 1 fix: KB-12." in page
    assert page.count("Ticket number") >= min(count, 25)


@pytest.mark.parametrize("count", [3, 30])
def test_ticket_page_query_budget_does_not_grow_with_comments(
    client, django_assert_max_num_queries, agent, ticket, count
):
    from tickets import services

    for n in range(count):
        services.ticket_comment_add(ticket_id=ticket.pk, body=f"Reply {n}", public=n % 2 == 0, acting_user=agent)
    login(client, agent)
    client.get(reverse("ticket-detail", args=[ticket.pk]))  # a warm process: configuration already cached
    # 16, plus watchers, related tickets, the action panels' colleague and team choices, people notified per
    # event, marking the ticket's notifications read, and whether the agent leads a team (may override the
    # priority): fixed, not per row
    with django_assert_max_num_queries(22):
        response = client.get(reverse("ticket-detail", args=[ticket.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_tier2_queue_query_budget_does_not_grow_with_tickets(
    client, django_assert_max_num_queries, agent, engineer, identity_team, requester, category, count
):
    make_escalated_tickets(
        count, requester=requester, category=category, team=identity_team, agent=agent, accepted_by=engineer
    )
    login(client, engineer)
    client.get(reverse("tier2-queue"))  # warm: per-process configuration
    # session, user, configuration stamp, permissions (one query: helpdesk.backends), my queues, the
    # awaiting list, the count and page of accepted work, the handoffs of both lists (one query), the
    # bell: 10 (13 before: two permission reads, a membership read per queue for the accept buttons,
    # and a handoff read per list)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("tier2-queue"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Access restriction") == count
    assert page.count("5 complete") == count  # per-field quality from the substance checks


def test_list_rows_name_the_configuration_as_it_is_now(client, api_for, agent, requester, category, service_desk):
    # The lists take a row's category, queue and site from the configuration cache (not a join):
    # an admin's rename shows at the next request, on the desk and in the API alike.
    make_ticket(requester=requester, category=category, acting_user=agent)
    login(client, agent)
    api = api_for(agent)
    assert category.name in client.get(reverse("desk")).content.decode()
    assert api.get("/api/v1/tickets/").json()["results"][0]["queue"] == service_desk.slug

    # when: an admin renames the category and the queue
    category.name = "Remote access (renamed)"
    category.save()
    service_desk.name = "Front desk"
    service_desk.slug = "front-desk"
    service_desk.save()

    # then
    page = client.get(reverse("desk")).content.decode()
    assert "Remote access (renamed)" in page and "Front desk" in page
    row = api.get("/api/v1/tickets/").json()["results"][0]
    assert (row["category"], row["queue"]) == (category.slug, "front-desk")


def test_files_on_an_internal_note_stay_internal(client, agent, requester, ticket, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets.models import Attachment

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("error.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    response = login(client, agent).post(
        reverse("ticket-comment", args=[ticket.pk]),
        {"body": "Screenshot from the caller", "visibility": "internal", "attachments": [upload]},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.filename, attachment.is_public) == ("error.png", False)
    assert attachment.comment.body == "Screenshot from the caller"
    assert client.get(reverse("attachment-download", args=[attachment.pk])).status_code == 200
    client.force_login(requester)
    assert client.get(reverse("attachment-download", args=[attachment.pk])).status_code == 404
    assert "error.png" not in client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()


def test_priority_override_on_the_page_is_for_leads_and_managers(client, agent, manager, ticket, service_desk):
    url = reverse("ticket-priority", args=[ticket.pk])
    body = {"priority": "P1", "reason": "The CFO cannot work."}

    # a Tier 1 agent sees no override control and may not post one
    page = login(client, agent).get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert url not in page
    assert client.post(url, body).status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority != "P1"

    # the desk's lead may
    service_desk.lead = agent
    service_desk.save(update_fields=["lead"])
    assert client.post(url, body).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "P1"

    # so may a manager
    assert login(client, manager).post(url, {"priority": "P2", "reason": "Calmer."}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "P2"
