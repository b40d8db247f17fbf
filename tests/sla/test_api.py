"""SLA API: a ticket's clocks (scoped like every ticket read), policies, and the list filters."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from escalation.sla.sweep import sla_sweep
from tickets.models import Impact, Urgency

from ..factories import make_ticket

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def ticket(requester, category, p3_policy):
    with time_machine.travel(datetime(2026, 1, 19, 10, 0, tzinfo=LONDON), tick=False):
        return make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.STOPPED)


def test_requester_reads_the_clocks_of_their_ticket(api_for, requester, ticket, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = api_for(requester).get(f"/api/v1/tickets/{ticket.pk}/sla/")
    assert response.status_code == 200
    by_target = {row["target"]: row for row in response.json()}
    assert set(by_target) == {"first_response", "resolution"}
    assert by_target["resolution"]["due_at"] == "2026-01-19T14:00:00Z"
    assert by_target["resolution"]["stage"] == "running"
    assert by_target["resolution"]["policy"] == "P3"


def test_someone_elses_ticket_clocks_are_a_404(api_for, other_requester, ticket):
    assert api_for(other_requester).get(f"/api/v1/tickets/{ticket.pk}/sla/").status_code == 404


def test_policies_are_readable_by_agents_only(api_for, agent, requester, p3_policy):
    response = api_for(agent).get("/api/v1/sla-policies/")
    assert response.status_code == 200
    [policy] = response.json()
    assert policy["name"] == "P3" and policy["resolution_minutes"] == 240
    assert [level["offset"] for level in policy["ladder"]] == [50, 75, 100, 60]
    assert api_for(requester).get("/api/v1/sla-policies/").status_code == 403


def test_breached_and_at_risk_filters_use_the_records(api_for, agent, ticket):
    client = api_for(agent)
    with time_machine.travel(datetime(2026, 1, 19, 10, 5, tzinfo=LONDON), tick=False):
        # the first response is due within the hour: at risk
        assert client.get("/api/v1/tickets/?at_risk=true").json()["count"] == 1
        client.post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "On it.", "public": True}, format="json")
        assert client.get("/api/v1/tickets/?at_risk=true").json()["count"] == 0
    with time_machine.travel(datetime(2026, 1, 19, 12, 30, tzinfo=LONDON), tick=False):
        sla_sweep()
        # past its 50 % warning level (12:00): at risk, not breached
        assert client.get("/api/v1/tickets/?at_risk=true").json()["count"] == 1
        assert client.get("/api/v1/tickets/?breached=true").json()["count"] == 0
    with time_machine.travel(datetime(2026, 1, 19, 14, 1, tzinfo=LONDON), tick=False):
        sla_sweep()
        assert client.get("/api/v1/tickets/?at_risk=true").json()["count"] == 0
        assert client.get("/api/v1/tickets/?breached=true").json()["count"] == 1
        assert client.get("/api/v1/tickets/?breached=false").json()["count"] == 0
