"""The dashboard page, drill-down, CSV, at-risk board and API: who may see them and what they show."""

import csv
import io
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.metrics.figures import dashboard
from escalation.metrics.filters import parse_filters
from tests.factories import make_ticket
from tickets.models import Queue, Ticket

from .conftest import NOW, VIEWER_ZONE

pytestmark = pytest.mark.django_db

WEEK = "from=2025-01-06&to=2025-01-12"


@pytest.fixture
def viewer(manager):
    manager.time_zone = VIEWER_ZONE
    manager.save(update_fields=["time_zone"])
    return manager


@pytest.fixture
def manager_client(client, viewer):
    client.force_login(viewer)
    return client


def get(client, url, **extra):
    with time_machine.travel(NOW, tick=False):
        return client.get(url, **extra)


@pytest.mark.parametrize(
    "url", ["/dashboard/", "/dashboard/tickets/?show=created", "/dashboard/at-risk/", "/api/v1/metrics/sla/"]
)
def test_agents_and_requesters_are_refused(client, agent, requester, url):
    for user in (agent, requester):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_manager_and_admin_see_the_dashboard(manager_client, client, admin_user, week):
    assert get(manager_client, f"/dashboard/?{WEEK}").status_code == 200
    client.force_login(admin_user)
    assert get(client, "/dashboard/").status_code == 200


def test_filters_in_the_url_are_applied(manager_client, week):
    response = get(manager_client, f"/dashboard/?{WEEK}&site=paris")
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures["tickets"]["created"] == 1  # H only
    assert figures["filters"] == {"from": "2025-01-06", "to": "2025-01-12", "site": "paris"}
    # the drill-down links carry the same filters
    assert "site=paris" in response.context["tables"]["sla"].rows[0]["href"]


def test_bad_filters_are_named_field_by_field(manager_client, week):
    response = get(manager_client, "/dashboard/?from=yesterday&priority=P9&team=nope")
    assert response.status_code == 400
    assert set(response.context["errors"]) == {"from", "priority", "team"}


def test_csv_export_of_a_table(manager_client, week):
    response = get(manager_client, f"/dashboard/?{WEEK}&format=csv&table=teams")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="handoff-teams-2025-01-06-2025-01-12.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # Service Desk made 3 escalations (c, d twice; d's second automatic): 1 returned of 3 decided,
    # ratings 4, 2 and 5, one automatic of three
    assert rows == [
        [
            "Team",
            "Resolved",
            "Escalations made",
            "Handoff return rate %",
            "Average handoff rating",
            "Automatic-escalation share %",
            "Returns received",
            "Median handoff rating",
        ],
        ["Service Desk", "3", "3", "33.3", "3.7", "33.3", "1", "4.0"],
        ["Identity & Access", "1", "0", "", "", "", "0", ""],
    ]


def test_csv_export_of_sla_attainment(manager_client, week):
    response = get(manager_client, f"/dashboard/?{WEEK}&format=csv&table=sla")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # wall-clock beside business time: b waited 2 h on the requester (paused, not counted)
    assert rows[1] == ["First response", "5", "1", "83.3", "10.0", "10.0", "30.0"]
    assert rows[3] == ["Resolution", "3", "2", "60.0", "120.0", "240.0", "480.0"]


def test_csv_cells_are_escaped_against_spreadsheet_formulas(manager_client, week):
    Queue.objects.filter(slug="identity-access").update(name='=HYPERLINK("http://evil.example","Open")')
    response = get(manager_client, f"/dashboard/?{WEEK}&format=csv&table=teams")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[2] == ['\'=HYPERLINK("http://evil.example","Open")', "1", "0", "", "", "", "0", ""]


def test_csv_of_an_unknown_table_is_refused(manager_client, week):
    response = get(manager_client, f"/dashboard/?{WEEK}&format=csv&table=salaries")
    assert response.status_code == 400
    assert "table" in response.context["errors"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("show=first_contact", {"a", "b"}),
        ("show=created&hour=22", {"a", "b", "c", "d", "e", "g", "h"}),
        ("show=hour&hour=22", {"h"}),
        ("show=breached&tier=tier2", {"c"}),
        ("show=breached&tier=awaiting_tier2", {"d"}),
        ("show=sla&target=resolution&outcome=breached", {"c", "e"}),
        ("show=escalations&mode=automatic", {"d"}),
        ("show=escalations&outcome=returned&reason=within_tier1_scope", {"d"}),
        ("show=at_risk", {"d", "g"}),
        ("show=breached_now", {"f"}),
        ("show=age_3_7d", {"h"}),
    ],
)
def test_drill_down_lists_the_tickets_behind_a_figure(manager_client, week, query, expected):
    response = get(manager_client, f"/dashboard/tickets/?{WEEK}&{query}")
    assert response.status_code == 200
    shown = {ticket.pk for ticket in response.context["page"]}
    assert shown == {getattr(week, name).pk for name in expected}


def test_drill_down_with_a_bad_figure_is_a_400(manager_client, week):
    response = get(manager_client, f"/dashboard/tickets/?{WEEK}&show=everything&hour=99")
    assert response.status_code == 400
    assert "show" in response.context["errors"]
    response = get(manager_client, f"/dashboard/tickets/?{WEEK}&show=hour&hour=99")
    assert response.status_code == 400
    assert "hour" in response.context["errors"]


def test_at_risk_board_groups_by_team_and_refreshes(manager_client, week, service_desk, identity_team):
    response = get(manager_client, "/dashboard/at-risk/")
    assert response.status_code == 200
    board = {queue.slug: [record.ticket_id for record in records] for queue, records in response.context["teams"]}
    # D is in Tier 2 now (resolution warning passed); G and F wait at the Service Desk
    assert board == {"identity-access": [week.d.pk], "service-desk": [week.f.pk, week.g.pk]}
    content = response.content.decode()
    assert 'http-equiv="refresh"' in content or 'hx-trigger="every 30s"' in content
    partial = get(manager_client, "/dashboard/at-risk/", HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert week.g.reference in partial.content.decode()


def test_api_returns_the_same_figures_as_the_page(api_for, viewer, week):
    with time_machine.travel(NOW, tick=False):
        response = api_for(viewer).get(f"/api/v1/metrics/sla/?{WEEK}")
        filters = parse_filters({"from": "2025-01-06", "to": "2025-01-12"}, time_zone=VIEWER_ZONE)
        expected = dashboard(tickets=Ticket.objects.filter(is_restricted=False), filters=filters, now=NOW)
    assert response.status_code == 200
    body = response.json()
    assert body == json.loads(json.dumps(expected))
    assert body["tickets"]["created"] == 7
    assert body["escalation"]["time_to_accept_p90_minutes"] == 56.0


def test_api_refuses_agents_and_names_bad_filters(api_for, agent, viewer, week):
    assert api_for(agent).get("/api/v1/metrics/sla/").status_code == 403
    response = api_for(viewer).get("/api/v1/metrics/sla/?priority=P9&to=2025-13-01")
    assert response.status_code == 400
    assert set(response.json()) >= {"priority", "to"}


def _queries_for_dashboard(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/dashboard/")
    assert response.status_code == 200
    # savepoints are the test's transaction around the page's own (in production: BEGIN/COMMIT, not counted)
    return len([q for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))])


def test_query_count_does_not_grow_with_the_data(manager_client, requester, category, sla_policy, agent):
    for _ in range(5):
        make_ticket(requester=requester, category=category)
    _queries_for_dashboard(manager_client)  # a warm process: the viewer's permissions are cached (tickets.access)
    small = _queries_for_dashboard(manager_client)
    for number in range(45):
        ticket = make_ticket(requester=requester, category=category)
        if number % 3 == 0:
            from tickets import services

            services.ticket_resolve(ticket_id=ticket.pk, resolution="Done.", acting_user=agent)
    large = _queries_for_dashboard(manager_client)
    assert large == small
    # PostgreSQL computes percentiles inside the grouped queries (and the page turns JIT off and back);
    # the fallback adds one query per percentile column
    assert large <= (32 if connection.vendor == "postgresql" else 40)


def test_every_tile_equals_the_count_of_its_drill_down(manager_client, week):
    from django.utils.html import escape

    response = get(manager_client, f"/dashboard/?{WEEK}")
    html = response.content.decode()
    tiles = response.context["tiles"]
    assert {t.key for t in tiles} >= {"sla_resolution", "breached", "at_risk", "breached_now", "returned", "backlog"}
    for tile in tiles:
        assert f'href="{escape(tile.href)}"' in html
        assert f'data-tickets="{tile.tickets}"' in html
        assert tile.definition in html  # every figure says what it counts and over which window
        drill = get(manager_client, tile.href)
        assert drill.status_code == 200, tile.key
        assert drill.context["page"].paginator.count == tile.tickets, tile.key
    by_key = {t.key: t for t in tiles}
    # ticket-count tiles read the same number as their list; worked out from the week by hand
    open_now = Ticket.objects.exclude(status__in=["resolved", "closed"]).count()
    assert by_key["backlog"].value == str(by_key["backlog"].tickets) == str(open_now)
    assert by_key["breached_now"].value == str(by_key["breached_now"].tickets)
    # one returned escalation (d's first), on one ticket: the tile and its list say so
    assert "1 returned" in by_key["returned"].detail and by_key["returned"].tickets == 1


def test_drill_down_shows_who_escalated_the_return_reason_and_rating_and_exports_csv(manager_client, week):
    url = f"/dashboard/tickets/?{WEEK}&show=escalations"
    html = get(manager_client, url).content.decode()
    assert "Escalated by" in html and "Return reason" in html and "Rating" in html
    assert "Automatic" in html and "5/5" in html  # d: its latest escalation was automatic, rated 5

    response = get(manager_client, url + "&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][-3:] == ["Escalated by", "Return reason", "Handoff rating"]
    by_ref = {row[0]: row for row in rows[1:]}
    assert by_ref[week.d.reference][-3:] == ["Automatic", "", "5"]
    assert by_ref[week.c.reference][-1] == "4"


def test_agents_and_teams_table_comes_first_and_hourly_daily_tables_fold(manager_client, week):
    html = get(manager_client, f"/dashboard/?{WEEK}").content.decode()
    agents = html.index('id="table-agents"')
    assert agents < html.index('id="table-sla"')
    assert agents < html.index("<details")
    assert html.index("<details") < html.index('id="table-volume_by_hour"')
    assert html.index("<details") < html.index('id="table-trend"')
    assert "Handoff return rate %" in html and "Average handoff rating" in html
    assert "Automatic-escalation share %" in html


def test_managers_land_on_the_dashboard_after_login(client, viewer, agent):
    client.force_login(viewer)
    assert client.get("/").url.startswith("/dashboard/")
    client.force_login(agent)
    assert not client.get("/").url.startswith("/dashboard/")


def test_security_figures_for_a_manager_cleared_to_see_them(client, viewer, manager, agent, week, security_team):
    from django.contrib.auth.models import Permission

    from escalation.models import Trigger
    from escalation.services import ticket_escalate
    from tests.escalation.conftest import good_handoff

    with time_machine.travel(NOW, tick=False):
        ticket_escalate(
            ticket_id=week.g.pk, trigger=Trigger.SECURITY_CONCERN, handoff=good_handoff(checklist={}), acting_user=agent
        )
    url = "/dashboard/?from=2025-01-06&to=2025-01-12"
    client.force_login(viewer)
    assert "security" not in {tile.key for tile in get(client, url).context["tiles"]}  # not cleared: no tile

    viewer.user_permissions.add(Permission.objects.get(codename="view_restricted_ticket"))
    client.force_login(type(viewer).objects.get(pk=viewer.pk))
    tiles = {tile.key: tile for tile in get(client, url).context["tiles"]}
    security = tiles["security"]
    assert (security.value, security.tickets) == ("1", 1)
    assert "1 security escalations" in security.detail
    drill = get(client, security.href)
    assert [t.pk for t in drill.context["page"]] == [week.g.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is PostgreSQL's")
def test_the_figures_run_without_jit_and_the_setting_ends_with_them(manager_client, week):
    """JIT compiled for 1 s to run a 0.3 s count at 200k tickets: the dashboard turns it off for its
    own transaction only (set_config … local), before its first figure, and the connection keeps its setting."""
    from escalation.metrics.snapshot import without_jit

    def jit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            return cursor.fetchone()[0]

    before = jit()
    with without_jit():
        assert jit() == "off"
    assert jit() == before
    with CaptureQueriesContext(connection) as captured:
        assert manager_client.get("/dashboard/").status_code == 200
    sql = [query["sql"] for query in captured]
    first_figure = next(i for i, s in enumerate(sql) if "tickets_ticket" in s and "COUNT(" in s)
    assert any("set_config('jit', 'off', true)" in s for s in sql[:first_figure])
