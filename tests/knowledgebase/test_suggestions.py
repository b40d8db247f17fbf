"""Suggestions at intake and before escalating, recorded for deflection."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from knowledgebase import selectors, services
from knowledgebase.models import SuggestionShown
from tickets import services as ticket_services
from tickets.models import EventKind

from ..factories import make_article, make_ticket

pytestmark = pytest.mark.django_db


def test_suggest_api_finds_the_article_for_a_typed_description(api_for, agent, corpus):
    description = "Since Monday my GlobalProtect VPN drops the tunnel every ten minutes while I work from home."

    response = api_for(agent).get("/api/v1/articles/suggest/", {"q": description})

    assert response.status_code == 200
    rows = response.json()
    assert rows[0]["id"] == corpus["vpn"].pk
    assert rows[0]["title"] == "VPN disconnects every few minutes"
    assert rows[0]["url"] == f"/kb/articles/{corpus['vpn'].pk}/"
    assert corpus["draft"].pk not in [row["id"] for row in rows]


def test_suggest_for_a_bounce_description(api_for, agent, corpus):
    response = api_for(agent).get(
        "/api/v1/articles/suggest/", {"q": "Every mail to our logistics partner bounces back with 550 5.7.1"}
    )

    assert response.json()[0]["id"] == corpus["bounce"].pk


def test_category_lifts_its_own_articles_without_hiding_others(agent, vpn_category, email_category):
    body = "Clear the stuck print queue, then restart the spooler service on the print server."
    vpn_side = make_article(author=agent, title="Print queue stuck at home", category=vpn_category, body=body)
    mail_side = make_article(author=agent, title="Print queue stuck at home", category=email_category, body=body)

    lifted_vpn = selectors.suggest_for_text(agent, "print queue stuck", category=vpn_category)
    lifted_mail = selectors.suggest_for_text(agent, "print queue stuck", category=email_category)

    assert [hit.article for hit in lifted_vpn] == [vpn_side, mail_side]
    assert [hit.article for hit in lifted_mail] == [mail_side, vpn_side]


def test_suggest_with_blank_text_is_empty_not_an_error(api_for, agent, corpus):
    response = api_for(agent).get("/api/v1/articles/suggest/", {"q": ""})

    assert response.status_code == 200
    assert response.json() == []


def test_suggest_records_showings_only_when_asked_and_once_per_window(api_for, agent, requester, category, corpus):
    ticket = make_ticket(requester=requester, category=category, title="Forgot my password again")
    client = api_for(agent)

    client.get("/api/v1/articles/suggest/", {"q": "forgotten password"})
    assert not SuggestionShown.objects.exists()

    client.get("/api/v1/articles/suggest/", {"q": "forgotten password", "context": "escalate", "ticket": ticket.pk})
    client.get("/api/v1/articles/suggest/", {"q": "forgotten password", "context": "escalate", "ticket": ticket.pk})

    shown = SuggestionShown.objects.filter(ticket=ticket, context="escalate", shown_to=agent)
    assert corpus["password"].pk in set(shown.values_list("article_id", flat=True))
    assert shown.filter(article=corpus["password"]).count() == 1


def test_htmx_suggest_partial_for_the_intake_form(client, requester, corpus):
    client.force_login(requester)

    response = client.get(
        "/kb/suggest/", {"q": "my vpn keeps disconnecting", "category": "vpn"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "VPN disconnects every few minutes" in html
    assert "VPN certificate not trusted" not in html  # internal article, requester cannot see it
    assert SuggestionShown.objects.filter(shown_to=requester, context="intake", ticket=None).count() == 1


def test_intake_suggestions_attach_to_the_ticket_then_filed(client, requester, category, corpus):
    client.force_login(requester)
    client.get("/kb/suggest/", {"q": "forgotten password reset"})
    ticket = make_ticket(requester=requester, category=category, title="Forgotten password")

    attached = services.suggestions_attach_to_ticket(ticket=ticket, shown_to=requester)

    assert attached == 1
    assert SuggestionShown.objects.get().ticket == ticket


def test_deflection_counts_tickets_resolved_without_escalation(agent, requester, category, corpus):
    solved = make_ticket(requester=requester, category=category, title="Forgot password, solved by article")
    still_open = make_ticket(requester=requester, category=category, title="Still waiting on this one")
    for ticket in (solved, still_open):
        services.suggestion_record(articles=[corpus["password"]], context="intake", shown_to=requester, ticket=ticket)
    services.suggestion_record(articles=[corpus["vpn"]], context="intake", shown_to=requester)  # no ticket filed
    ticket_services.ticket_resolve(ticket_id=solved.pk, resolution="The reset article did it.", acting_user=agent)

    stats = selectors.deflection_stats()

    assert (stats.tickets_shown, stats.resolved_without_escalation, stats.suggestions_without_ticket) == (2, 1, 1)
    assert stats.rate == 0.5


def test_deflection_excludes_escalated_tickets_and_respects_the_period(agent, requester, category, corpus):
    from tickets import events

    escalated = make_ticket(requester=requester, category=category, title="Went to Tier 2 first")
    services.suggestion_record(articles=[corpus["password"]], context="escalate", shown_to=agent, ticket=escalated)
    events.status_changed(ticket=escalated, kind=EventKind.ESCALATED, actor=agent, old="open", new="escalated")
    ticket_services.ticket_resolve(ticket_id=escalated.pk, resolution="Fixed.", acting_user=agent)

    assert selectors.deflection_stats().resolved_without_escalation == 0
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert selectors.deflection_stats(since=timezone.now() - timedelta(days=1)).tickets_shown == 0
    assert selectors.deflection_stats(context="intake").rate is None


def test_suggest_with_a_ticket_the_user_cannot_see_is_a_field_error(
    api_for, agent, requester, other_requester, category, corpus
):
    theirs = make_ticket(requester=other_requester, category=category)
    query = {"q": "GlobalProtect VPN drops the tunnel", "context": "intake"}

    hidden = api_for(requester).get("/api/v1/articles/suggest/", {**query, "ticket": theirs.pk})
    missing = api_for(requester).get("/api/v1/articles/suggest/", {**query, "ticket": 999999})

    # The same field error for someone else's ticket as for none at all: nothing leaks, nothing recorded.
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json() == {"ticket": ["No such ticket."]}
    assert not SuggestionShown.objects.exists()
