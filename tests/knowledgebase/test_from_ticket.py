"""From ticket to article: a resolved ticket prefills a draft; submitting it links the ticket."""

import pytest
from django.urls import reverse

from knowledgebase import services
from knowledgebase.models import Article, ArticleTicketLink
from tickets import services as ticket_services
from tickets.errors import InvalidTransition

from ..factories import make_playbook, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved_ticket(requester, category, agent):
    ticket = make_ticket(
        requester=requester,
        category=category,
        title="Locked out after phone upgrade",
        description="After moving to a new phone I get 'account locked' on every sign-in.",
    )
    playbook = make_playbook(
        category=category, steps=[("Check the account lock state", ""), ("Confirm MFA methods", "")]
    )
    services.playbook_step_record(
        ticket_id=ticket.pk,
        step_id=playbook.steps.get(position=1).pk,
        outcome="succeeded",
        result="Old phone's mail app kept retrying",
        acting_user=agent,
    )
    ticket_services.ticket_comment_add(
        ticket_id=ticket.pk, body="Internal: removed old device.", public=False, acting_user=agent
    )
    ticket_services.ticket_resolve(
        ticket_id=ticket.pk,
        resolution="Removed the old phone's mail profile and unlocked the account.",
        acting_user=agent,
    )
    ticket.refresh_from_db()
    return ticket


def test_draft_prefills_problem_tried_steps_and_resolution(resolved_ticket, category):
    draft = services.article_draft_from_ticket(ticket=resolved_ticket)

    assert draft.title == "Locked out after phone upgrade"
    assert draft.category == category
    assert draft.tags == "account-access"
    assert draft.body_markdown == (
        "## Symptoms\n\n"
        "After moving to a new phone I get 'account locked' on every sign-in.\n\n"
        "## What to check first\n\n"
        "- ✔ Check the account lock state — Old phone's mail app kept retrying\n\n"
        "## Resolution\n\n"
        "Removed the old phone's mail profile and unlocked the account.\n"
    )


def test_open_ticket_cannot_become_an_article(requester, category):
    ticket = make_ticket(requester=requester, category=category)

    with pytest.raises(InvalidTransition):
        services.article_draft_from_ticket(ticket=ticket)


def test_from_ticket_page_prefills_then_creates_a_linked_draft(client, agent, resolved_ticket, category):
    client.force_login(agent)
    url = reverse("kb:article-from-ticket", args=[resolved_ticket.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "Removed the old phone&#x27;s mail profile" in page.content.decode()

    response = client.post(
        url,
        {
            "title": "Account locked after a phone upgrade",
            "category": category.pk,
            "tags": "lockout, mfa",
            "body_markdown": page.context["form"].initial["body_markdown"],
            "intent": "draft",
        },
    )

    article = Article.objects.get()
    assert response.status_code == 302
    assert (article.status, article.is_public, article.author) == ("draft", False, agent)
    link = ArticleTicketLink.objects.get()
    assert (link.article, link.ticket, link.linked_by) == (article, resolved_ticket, agent)


def test_from_ticket_page_refuses_open_tickets_and_hides_others(client, agent, requester, other_requester, category):
    open_ticket = make_ticket(requester=requester, category=category)
    client.force_login(agent)
    assert client.get(reverse("kb:article-from-ticket", args=[open_ticket.pk])).status_code == 409
    client.force_login(other_requester)
    assert client.get(reverse("kb:article-from-ticket", args=[open_ticket.pk])).status_code == 403


def test_draft_uses_the_latest_escalations_handoff(requester, category, agent, engineer, identity_team):
    from escalation import services as escalation_services
    from escalation.handoff import Handoff
    from escalation.models import EscalationPath

    EscalationPath.objects.create(
        name="Account access to Identity", category=category, trigger="complexity_limit", to_queue=identity_team
    )
    ticket = make_ticket(requester=requester, category=category, title="SSO loop on the HR portal")
    escalation_services.ticket_escalate(
        ticket_id=ticket.pk,
        trigger="complexity_limit",
        handoff=Handoff(
            problem_summary="HR portal redirects between login and dashboard for the whole Finance team.",
            steps_tried="Cleared cookies, tried a private window and a second browser; same loop.",
            error_evidence="AADSTS50011: The redirect URI 'https://hr.example.com/signin' does not match.",
            affected_scope="team",
            affected_count=12,
            urgency="slowed",
        ),
        acting_user=agent,
    )
    escalation_services.escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    ticket_services.ticket_resolve(
        ticket_id=ticket.pk, resolution="Added the new redirect URI to the HR app registration.", acting_user=engineer
    )
    ticket.refresh_from_db()

    draft = services.article_draft_from_ticket(ticket=ticket)

    assert draft.body_markdown == (
        "## Symptoms\n\n"
        "HR portal redirects between login and dashboard for the whole Finance team.\n\n"
        "## Error message\n\n"
        "```text\n"
        "AADSTS50011: The redirect URI 'https://hr.example.com/signin' does not match.\n"
        "```\n\n"
        "## What to check first\n\n"
        "Cleared cookies, tried a private window and a second browser; same loop.\n\n"
        "## Resolution\n\n"
        "Added the new redirect URI to the HR app registration.\n"
    )
