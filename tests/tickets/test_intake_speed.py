"""Intake at speed: configuration read once per process (and re-read after a change), the ticket read once."""

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import TriggerRule
from escalation.sla.models import Calendar, LadderLevel, OffsetKind, SlaPolicy, WorkingInterval
from tests.factories import make_ticket
from tickets import access
from tickets.models import PriorityMatrixCell, RoutingRule, Ticket

pytestmark = pytest.mark.django_db

CREATE_BODY = {
    "title": "VPN drops every ten minutes",
    "description": "Since this morning the VPN client disconnects every ten minutes.",
    "category": "account-access",
    "impact": "team",
    "urgency": "stopped",
}
CREATE_BUDGET = 7  # stamp, requester, BEGIN, ticket, both events, SLA records, COMMIT (no permission read when warm)


@pytest.fixture
def configured(service_desk, identity_team, category):
    """A realistic configuration: a matrix cell, routing rules, a calendar with hours, policies with ladders, a trigger rule."""
    calendar = Calendar.objects.create(name="Office", time_zone="Europe/London")
    for weekday in range(5):
        WorkingInterval.objects.create(calendar=calendar, weekday=weekday, start=time(9), end=time(17))
    for priority, position in (("P1", 1), ("P2", 2)):
        policy = SlaPolicy.objects.create(
            name=priority,
            priority=priority,
            position=position,
            calendar=calendar,
            first_response_minutes=60,
            resolution_minutes=480,
            tier1_budget_minutes=120,
        )
        LadderLevel.objects.create(policy=policy, target="resolution", offset_kind=OffsetKind.PERCENT, offset=50)
    SlaPolicy.objects.create(name="Default", is_default=True, position=9, resolution_minutes=960)
    PriorityMatrixCell.objects.update_or_create(impact="team", urgency="stopped", defaults={"priority": "P2"})
    RoutingRule.objects.create(name="Printers", position=1, keywords="printer, toner", target_queue=identity_team)
    RoutingRule.objects.create(name="VPN", position=2, keywords="vpn", target_queue=service_desk)
    TriggerRule.objects.create(name="Reopened thrice", min_reopen_count=3, notify_team_lead=True)


def test_create_stays_within_its_query_budget(api_for, agent, requester, configured):
    client = api_for(agent)
    client.post("/api/v1/tickets/", CREATE_BODY, format="json")  # warm the per-process configuration

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/tickets/", {**CREATE_BODY, "requester": "requester1"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["priority"], body["queue"]) == ("P2", "service-desk")
    assert body["routing"]["rule"] == "VPN"
    assert body["first_response_due_at"] and body["resolution_due_at"]
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) <= CREATE_BUDGET, "\n".join(sql)
    ticket_reads = [q for q in sql if q.startswith("SELECT") and 'FROM "tickets_ticket"' in q]
    assert not ticket_reads  # the service never re-reads it, and the answer is the row it holds
    # The due times are worked out before the insert: the new row is written once, in one transaction.
    assert not [q for q in sql if q.startswith('UPDATE "tickets_ticket"')]
    assert len([q for q in sql if q.startswith("SAVEPOINT")]) == 1  # the intake's transaction (in the test's)


def test_configuration_is_read_once_and_not_again_until_it_changes(api_for, agent, configured):
    client = api_for(agent)
    client.post("/api/v1/tickets/", CREATE_BODY, format="json")

    with CaptureQueriesContext(connection) as warm:
        client.post("/api/v1/tickets/", CREATE_BODY, format="json")

    config_tables = (
        "tickets_routingrule",
        "tickets_prioritymatrixcell",
        "sla_slapolicy",
        "sla_calendar",
        "sla_workinginterval",
        "sla_ladderlevel",
        "escalation_triggerrule",
    )
    assert not [q["sql"] for q in warm.captured_queries if any(f'FROM "{t}"' in q["sql"] for t in config_tables)]


def test_an_admin_change_is_seen_by_the_next_ticket(api_for, agent, configured, identity_team):
    client = api_for(agent)
    assert client.post("/api/v1/tickets/", CREATE_BODY, format="json").json()["queue"] == "service-desk"

    rule = RoutingRule.objects.get(name="VPN")
    rule.target_queue = identity_team
    rule.save()
    policy = SlaPolicy.objects.get(name="P2")
    policy.first_response_minutes = 30
    policy.save()

    body = client.post("/api/v1/tickets/", CREATE_BODY, format="json").json()
    assert body["queue"] == identity_team.slug
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.sla_records.get(target="first_response").target_seconds == 30 * 60


def test_a_change_made_by_another_process_is_seen_too(api_for, agent, configured):
    from tickets.models import ConfigStamp

    client = api_for(agent)
    assert client.post("/api/v1/tickets/", CREATE_BODY, format="json").json()["priority"] == "P2"

    # another process: its write and its new stamp reach the database; this process's signals never fire
    PriorityMatrixCell.objects.filter(impact="team", urgency="stopped").update(priority="P1")
    ConfigStamp.objects.update_or_create(pk=1, defaults={"token": "from-another-process"})

    assert client.post("/api/v1/tickets/", CREATE_BODY, format="json").json()["priority"] == "P1"


def test_category_and_site_are_read_from_the_configuration_cache(api_for, agent, configured, category, site):
    client = api_for(agent)
    client.post("/api/v1/tickets/", {**CREATE_BODY, "site": site.slug}, format="json")  # warm

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/tickets/", {**CREATE_BODY, "site": site.slug}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["category"] == category.slug
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "tickets_category"' in sql or 'FROM "tickets_site"' in sql], reads
    assert Ticket.objects.get(pk=response.json()["id"]).site == site


def test_a_category_retired_in_the_admin_is_refused_at_the_next_intake(api_for, agent, configured, category):
    client = api_for(agent)
    assert client.post("/api/v1/tickets/", CREATE_BODY, format="json").status_code == 201  # cached

    category.is_active = False
    category.save()

    response = client.post("/api/v1/tickets/", CREATE_BODY, format="json")
    assert response.status_code == 400
    assert "category" in str(response.json())
    unknown = client.post("/api/v1/tickets/", {**CREATE_BODY, "category": "no-such-thing"}, format="json")
    assert unknown.status_code == 400


def _read_back(client, body: dict) -> dict:
    response = client.get(f"/api/v1/tickets/{body['id']}/")
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_created_answer_is_the_ticket_as_read_back(api_for, agent, requester, configured, site):
    client = api_for(agent)
    logged_for = client.post("/api/v1/tickets/", {**CREATE_BODY, "requester": "requester1"}, format="json")
    with_site = client.post("/api/v1/tickets/", {**CREATE_BODY, "site": site.slug}, format="json")

    for response in (logged_for, with_site):
        assert response.status_code == 201, response.json()
        assert response.json() == _read_back(client, response.json())
    # The requester's site when none is given; the one given otherwise.
    assert (logged_for.json()["site"], with_site.json()["site"]) == ("london", "london")
    assert logged_for.json()["requester"] == "requester1" and logged_for.json()["routing"]["rule"] == "VPN"


def test_a_requester_gets_their_own_new_ticket_as_read_back(api_for, requester, configured):
    client = api_for(requester)
    response = client.post("/api/v1/tickets/", CREATE_BODY, format="json")

    assert response.status_code == 201, response.json()
    assert response.json() == _read_back(client, response.json())


def test_a_ticket_changed_by_an_intake_rule_is_answered_as_the_rule_left_it(api_for, agent, configured):
    TriggerRule.objects.create(name="VPN outage to P1", keywords="vpn", raise_priority_to="P1")
    client = api_for(agent)

    response = client.post("/api/v1/tickets/", CREATE_BODY, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["priority"] == "P1"  # P2 from the matrix, raised by the rule
    assert response.json() == _read_back(client, response.json())


def test_a_security_engineer_gets_the_restricted_ticket_with_its_receipt(
    api_for, secops, security_team, security_category
):
    client = api_for(secops)

    response = client.post("/api/v1/tickets/", {**CREATE_BODY, "category": security_category.slug}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_restricted"] and body["queue"] == "security" and body["handed_to"] == "Security"
    read = _read_back(client, body)
    assert {key: body[key] for key in read} == read


def test_the_row_alone_never_shows_a_ticket_the_visibility_rule_hides(
    requester, other_requester, agent, secops, category, security_category
):
    own = make_ticket(requester=requester, category=category)
    restricted = make_ticket(requester=requester, category=security_category)
    copied_in = make_ticket(requester=other_requester, category=category)
    copied_in.watchers.add(requester)

    for user in (requester, other_requester, agent, secops):
        for ticket in (own, restricted, copied_in):
            by_row, by_query = access.may_see_by_row(user, ticket), access.may_see(_fresh(user), ticket)
            assert not by_row or by_query, (user.username, ticket.title, ticket.is_restricted)
    # Agents are judged exactly; a requester by the row only for their own tickets.
    assert [access.may_see_by_row(agent, t) for t in (own, restricted, copied_in)] == [True, False, True]
    assert [access.may_see_by_row(secops, t) for t in (own, restricted, copied_in)] == [True, True, True]
    assert [access.may_see_by_row(requester, t) for t in (own, restricted, copied_in)] == [True, True, False]
    assert access.may_see(_fresh(requester), copied_in)  # the watcher: only the query can tell


def _fresh(user):
    return type(user).objects.get(pk=user.pk)
