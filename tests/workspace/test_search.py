"""Global search: GET /api/v1/search/?q= and the top bar's /search/ page."""

import pytest

from tickets import services
from tickets.models import TicketStatus

from ..factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(requester, other_requester, category, agent):
    vpn = make_ticket(requester=requester, category=category, title="VPN drops every ten minutes")
    printer = make_ticket(
        requester=other_requester,
        category=category,
        title="Printer on floor 2 jams",
        description="Paper jam error 809 on the big printer near reception.",
    )
    password = make_ticket(requester=requester, category=category, title="Password expired on my laptop")
    return {"vpn": vpn, "printer": printer, "password": password}


def refs(response):
    assert response.status_code == 200, response.content
    return [hit["reference"] for hit in response.json()["results"]]


def test_exact_reference_comes_first_whatever_the_status(api_for, agent, tickets):
    # a resolved ticket is still found: search covers every status the user may see
    services.ticket_resolve(ticket_id=tickets["vpn"].pk, resolution="Reinstalled the client.", acting_user=agent)

    body = api_for(agent).get("/api/v1/search/", {"q": tickets["vpn"].reference}).json()

    assert body["results"][0]["reference"] == tickets["vpn"].reference
    assert body["results"][0]["is_exact"] is True
    assert body["results"][0]["status"] == TicketStatus.RESOLVED
    assert body["results"][0]["url"] == f"/tickets/{tickets['vpn'].pk}/"


def test_short_reference_forms_work(api_for, agent, tickets):
    number = tickets["printer"].pk
    for query in (f"hd-{number}", str(number), f"HD-{number:06d}"):
        assert refs(api_for(agent).get("/api/v1/search/", {"q": query}))[0] == tickets["printer"].reference


def test_finds_by_title_words_description_and_error_code(api_for, agent, tickets):
    assert refs(api_for(agent).get("/api/v1/search/", {"q": "vpn"})) == [tickets["vpn"].reference]
    assert refs(api_for(agent).get("/api/v1/search/", {"q": "paper jam"})) == [tickets["printer"].reference]
    assert tickets["printer"].reference in refs(api_for(agent).get("/api/v1/search/", {"q": "809"}))


def test_finds_by_requester_name_and_email(api_for, agent, tickets, other_requester):
    assert refs(api_for(agent).get("/api/v1/search/", {"q": "Noor Haddad"})) == [tickets["printer"].reference]
    assert refs(api_for(agent).get("/api/v1/search/", {"q": other_requester.email})) == [tickets["printer"].reference]


def test_finds_text_in_replies(api_for, agent, tickets):
    services.ticket_comment_add(
        ticket_id=tickets["password"].pk, body="Reset done via the self-service portal.", public=True, acting_user=agent
    )

    assert refs(api_for(agent).get("/api/v1/search/", {"q": "self-service portal"})) == [tickets["password"].reference]


@pytest.mark.postgres
def test_typos_still_find_the_ticket_on_postgres(api_for, agent, tickets):
    assert tickets["password"].reference in refs(api_for(agent).get("/api/v1/search/", {"q": "pasword"}))
    assert tickets["printer"].reference in refs(api_for(agent).get("/api/v1/search/", {"q": "priner"}))


def test_requester_finds_only_their_own_tickets_and_never_internal_notes(api_for, agent, requester, tickets):
    services.ticket_comment_add(
        ticket_id=tickets["vpn"].pk, body="Internal: suspect the zebra firewall rule.", public=False, acting_user=agent
    )
    client = api_for(requester)

    assert refs(client.get("/api/v1/search/", {"q": tickets["printer"].reference})) == []  # someone else's
    assert refs(client.get("/api/v1/search/", {"q": "printer"})) == []
    assert refs(client.get("/api/v1/search/", {"q": "zebra"})) == []  # the note is internal
    assert refs(api_for(agent).get("/api/v1/search/", {"q": "zebra"})) == [tickets["vpn"].reference]
    hit = client.get("/api/v1/search/", {"q": "vpn"}).json()["results"][0]
    assert hit["status_label"] == "Received"  # worded for the requester


def test_restricted_tickets_are_found_only_by_cleared_people(
    api_for, agent, secops, requester, security_category, security_team
):
    ticket = make_ticket(requester=requester, category=security_category, title="Clicked a phishing link")

    assert refs(api_for(agent).get("/api/v1/search/", {"q": "phishing"})) == []
    assert refs(api_for(agent).get("/api/v1/search/", {"q": ticket.reference})) == []
    assert refs(api_for(secops).get("/api/v1/search/", {"q": "phishing"})) == [ticket.reference]


def test_empty_query_is_a_field_error(api_for, agent):
    response = api_for(agent).get("/api/v1/search/", {"q": "   "})
    assert response.status_code == 400
    assert "q" in response.json()
    assert api_for(agent).get("/api/v1/search/").status_code == 400


def test_anonymous_is_refused(client):
    assert client.get("/api/v1/search/", {"q": "vpn"}).status_code in (401, 403)


def test_query_budget_does_not_grow_with_results(api_for, agent, requester, category, django_assert_max_num_queries):
    for n in range(12):
        make_ticket(requester=requester, category=category, title=f"Monitor flickers on desk {n}")
    with django_assert_max_num_queries(6):
        assert len(refs(api_for(agent).get("/api/v1/search/", {"q": "monitor"}))) == 12


# ---------------------------------------------------------------- the page


def test_page_exact_reference_opens_the_ticket(client, agent, tickets):
    client.force_login(agent)
    response = client.get("/search/", {"q": tickets["printer"].reference.lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{tickets['printer'].pk}/"


def test_page_lists_ranked_results_with_plural_count(client, agent, tickets):
    client.force_login(agent)
    response = client.get("/search/", {"q": "laptop"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 result<" in html
    assert tickets["password"].title in html
    assert tickets["vpn"].title not in html


def test_page_says_plainly_when_nothing_matches(client, agent, tickets):
    client.force_login(agent)
    html = client.get("/search/", {"q": "kangaroo"}).content.decode()
    assert "Nothing matches" in html


def test_every_page_has_the_search_box(client, agent, requester):
    client.force_login(agent)
    assert "data-global-search" in client.get("/desk/").content.decode()
    client.force_login(requester)
    assert "data-global-search" in client.get("/portal/").content.decode()
