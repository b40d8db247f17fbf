"""The work pages' statements stay on the indexes made for them (issue 14: p95 ≤ 50 ms at 1M).

At 1M tickets the desk's "my open tickets" read an agent's whole history and sorted it, and the
page counts read every matching ticket row to check visibility. A test table is too small for
the planner to prefer an index on its own, so each statement the pages send is explained with
sequential and bitmap scans off: if the statement no longer matches the partial index (another
status in the filter, visibility moved into a join), PostgreSQL cannot use it and the plan shows.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_escalated_tickets, make_ticket
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _plans(client, path, *, marker):
    client.get(path)  # warm: per-process configuration
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        try:
            for query in queries.captured_queries:
                if marker in query["sql"]:
                    cursor.execute("EXPLAIN " + query["sql"])
                    plans.append("\n".join(row[0] for row in cursor.fetchall()))
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_bitmapscan")
    return plans


@pytest.fixture
def tickets(requester, category, agent):
    made = [make_ticket(requester=requester, category=category, acting_user=agent) for _ in range(3)]
    Ticket.objects.filter(pk__in=[t.pk for t in made]).update(assignee=agent)
    return made


def test_desk_count_and_my_tickets_use_their_indexes(client, agent, tickets):
    client.force_login(agent)
    plans = _plans(client, reverse("desk"), marker='FROM "tickets_ticket"')
    count = [plan for plan in plans if "Aggregate" in plan]
    assert len(count) == 1 and "Index Only Scan using ticket_visible_tier_status" in count[0], count
    mine = [plan for plan in plans if "ticket_open_assignee_due" in plan]
    assert len(mine) == 1, plans
    assert "Sort" not in mine[0].split("ticket_open_assignee_due")[0], mine[0]  # read in the page's order


def test_api_tier_count_is_index_only(api_for, agent, tickets):
    client = api_for(agent)
    client.get("/api/v1/tickets/?tier=1&ordering=resolution_due_at")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/tickets/?tier=1&ordering=resolution_due_at")
    assert response.status_code == 200 and response.json()["count"] == 3
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"] and "tickets_ticket" in q["sql"]]
    assert len(counts) == 1
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + counts[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_bitmapscan")
    assert "Index Only Scan using ticket_visible_tier_status" in plan, plan


def test_tier2_awaiting_list_is_read_in_order_from_its_index(
    client, agent, engineer, identity_team, requester, category
):
    make_escalated_tickets(3, requester=requester, category=category, team=identity_team, agent=agent)
    client.force_login(engineer)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_sort = off")  # the first 50 in the page's order, not all of them sorted
    try:
        plans = _plans(client, reverse("tier2-queue"), marker="'escalated'")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_sort")
    awaiting = [plan for plan in plans if "COUNT" not in plan and "ticket_awaiting_queue_due" in plan]
    assert len(awaiting) == 1, plans
    assert "Sort" not in awaiting[0].split("ticket_awaiting_queue_due")[0], awaiting[0]
