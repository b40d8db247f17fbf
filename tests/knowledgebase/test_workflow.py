"""The knowledge base inside the agent's and the requester's workflow: intake, ticket page, portal."""

import pytest
from django.urls import reverse

from knowledgebase.models import SuggestionShown
from tickets import services as ticket_services
from tickets.models import Ticket

from ..factories import make_playbook, make_ticket

pytestmark = pytest.mark.django_db

VPN_CALL = "Since Monday my GlobalProtect VPN drops the tunnel every ten minutes while I work from home."


def test_log_a_call_asks_the_real_suggest_endpoint_as_the_description_is_typed(client, agent):
    client.force_login(agent)

    html = client.get(reverse("ticket-create")).content.decode()

    assert 'hx-get="/kb/suggest/"' in html
    assert 'hx-vals=\'{"context": "intake"}\'' in html
    assert 'hx-target="#kb-suggestions"' in html


def test_suggestions_shown_while_logging_a_call_belong_to_the_ticket_it_creates(
    client, agent, requester, vpn_category, corpus
):
    client.force_login(agent)

    # given: the agent typed the description and saw the suggestions partial
    partial = client.get(reverse("kb:suggest"), {"q": VPN_CALL, "category": "vpn", "context": "intake"})
    assert partial.status_code == 200
    assert "VPN disconnects every few minutes" in partial.content.decode()
    shown = SuggestionShown.objects.filter(shown_to=agent, context="intake")
    assert shown.count() >= 1
    assert not shown.filter(ticket__isnull=False).exists()

    # when: the call is logged
    response = client.post(
        reverse("ticket-create"),
        {
            "requester": requester.username,
            "category": "vpn",
            "impact": "individual",
            "urgency": "slowed",
            "title": "VPN drops every ten minutes",
            "description": VPN_CALL,
            "channel": "phone",
        },
    )

    # then: every showing is attached to the new ticket, so deflection can be measured
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("ticket-detail", args=[ticket.pk])
    assert set(shown.values_list("ticket_id", flat=True)) == {ticket.pk}
    assert corpus["vpn"].pk in set(shown.values_list("article_id", flat=True))


def test_another_agents_suggestions_are_not_attached(client, agent, engineer, requester, vpn_category, corpus):
    client.force_login(engineer)
    client.get(reverse("kb:suggest"), {"q": VPN_CALL, "context": "intake"})
    client.force_login(agent)

    client.post(
        reverse("ticket-create"),
        {
            "requester": requester.username,
            "category": "vpn",
            "impact": "individual",
            "urgency": "slowed",
            "title": "VPN drops every ten minutes",
            "description": VPN_CALL,
            "channel": "phone",
        },
    )

    assert not SuggestionShown.objects.filter(ticket__isnull=False).exists()


# ---------------------------------------------------------------- the ticket page

STEPS = [
    ("Check the account lock state in the directory", "Lock state known"),
    ("Confirm MFA methods are registered", "At least one working method"),
]


@pytest.fixture
def playbook(category):
    return make_playbook(
        category=category, name="Account access checks", steps=STEPS, required_for_triggers=["complexity_limit"]
    )


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category, acting_user=agent, title="Cannot sign in today")


def test_tier1_ticket_page_shows_the_playbook_with_tick_forms(client, agent, ticket, playbook):
    client.force_login(agent)

    html = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()

    first = playbook.steps.get(position=1)
    tick_url = reverse("kb:ticket-step-tick", args=[ticket.pk, first.pk])
    assert "Account access checks" in html
    assert "0/2 done" in html
    assert "Check the account lock state in the directory" in html
    assert f'action="{tick_url}"' in html
    assert f'hx-post="{tick_url}"' in html
    assert f'name="next" value="/tickets/{ticket.pk}/"' in html
    assert "Required before escalating for: Complexity limit" in html


def test_ticking_a_step_without_javascript_returns_to_the_ticket(client, agent, ticket, playbook):
    client.force_login(agent)
    first = playbook.steps.get(position=1)

    response = client.post(
        reverse("kb:ticket-step-tick", args=[ticket.pk, first.pk]),
        {"outcome": "succeeded", "result": "Not locked", "next": f"/tickets/{ticket.pk}/"},
    )

    assert response.status_code == 302
    assert response.url == f"/tickets/{ticket.pk}/"
    html = client.get(response.url).content.decode()
    assert "1/2 done" in html
    assert "Not locked" in html


def test_ticking_a_step_with_htmx_swaps_only_the_panel(client, agent, ticket, playbook):
    client.force_login(agent)
    second = playbook.steps.get(position=2)

    response = client.post(
        reverse("kb:ticket-step-tick", args=[ticket.pk, second.pk]),
        {"outcome": "failed", "result": "No methods registered", "next": f"/tickets/{ticket.pk}/"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<section")
    assert f'id="ticket-playbook-{ticket.pk}"' in html
    assert "1/2 done" in html
    assert "No methods registered" in html
    assert "<html" not in html


def test_requester_never_sees_the_playbook(client, requester, ticket, playbook):
    client.force_login(requester)

    html = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()

    assert "Account access checks" not in html


def test_resolved_ticket_offers_to_turn_it_into_an_article(client, agent, ticket):
    client.force_login(agent)
    url = reverse("kb:article-from-ticket", args=[ticket.pk])
    assert url not in client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()

    ticket_services.ticket_resolve(
        ticket_id=ticket.pk, resolution="Unlocked the account and re-registered MFA.", acting_user=agent
    )

    html = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert f'href="{url}"' in html
    assert "Turn into an article" in html
    assert client.get(url).status_code == 200


def test_requester_portal_suggests_public_articles_for_their_ticket(client, requester, vpn_category, corpus):
    ticket = make_ticket(requester=requester, category=vpn_category, title="VPN keeps dropping", description=VPN_CALL)
    client.force_login(requester)

    html = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()

    assert "While you wait: these might help" in html
    assert f'href="/kb/articles/{corpus["vpn"].pk}/"' in html
    # internal (non-public) articles never reach a requester
    assert "VPN certificate not trusted" not in html
