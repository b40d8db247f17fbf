"""The Tier 2 queue: one selector (escalation.selectors.tier2_queue_for) behind the page and the API.

Escalated work of my teams, SLA-urgent first; someone in no Tier 2 team (a manager)
sees every team's; nobody else has one.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalation.models import Trigger
from escalation.selectors import tier2_queue_for
from escalation.services import escalation_accept, ticket_escalate
from tests.factories import make_ticket
from tickets.actions import ticket_transfer
from tickets.models import Ticket, TicketStatus

from .conftest import good_handoff

pytestmark = pytest.mark.django_db


def escalate_new(requester, category, agent, title, due_in):
    ticket = make_ticket(requester=requester, category=category, acting_user=agent, title=title)
    ticket_escalate(ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=good_handoff(), acting_user=agent)
    # the SLA engine owns this column; set it directly to fix the order under test
    Ticket.objects.filter(pk=ticket.pk).update(
        resolution_due_at=timezone.now() + due_in if due_in is not None else None
    )
    return ticket


def test_my_teams_escalated_work_most_urgent_first(
    paths, checklist, requester, category, agent, engineer, secops, django_assert_max_num_queries
):
    late = escalate_new(requester, category, agent, "Printer queue stuck", timedelta(hours=8))
    soon = escalate_new(requester, category, agent, "Shared drive gone", timedelta(hours=1))
    undated = escalate_new(requester, category, agent, "Calendar missing", None)
    accepted = escalate_new(requester, category, agent, "Old one", timedelta(minutes=5))
    escalation_accept(ticket_id=accepted.pk, acting_user=engineer)
    for index in range(6):
        escalate_new(requester, category, agent, f"Another problem {index}", timedelta(hours=20 + index))

    queue = tier2_queue_for(engineer)
    with django_assert_max_num_queries(3):
        awaiting = list(queue.awaiting)
        summary = [(t.reference, t.category.name, t.queue.name, t.handoffs[0].completeness) for t in awaiting]
        [t.handoffs[0].escalated_by.username for t in awaiting]

    assert [t.pk for t in awaiting[:2]] == [soon.pk, late.pk]
    assert awaiting[-1].pk == undated.pk
    assert len(summary) == 9 and all(row[3] == 5 for row in summary)
    assert [t.pk for t in queue.accepted] == [accepted.pk]
    assert queue.is_own_queues and [q.slug for q in queue.queues] == ["identity-access"]
    assert not tier2_queue_for(secops).tickets.exists()  # not her team
    assert not tier2_queue_for(agent).tickets.exists()  # not Tier 2


def test_someone_in_no_tier2_team_sees_every_team(paths, checklist, requester, category, agent, manager):
    ticket = escalate_new(requester, category, agent, "Shared drive gone", timedelta(hours=1))

    queue = tier2_queue_for(manager)

    assert not queue.is_own_queues
    assert [t.pk for t in queue.awaiting] == [ticket.pk]


def test_the_page_and_the_api_show_the_same_rows(
    client, api_for, paths, checklist, requester, category, agent, engineer, network_team
):
    soon = escalate_new(requester, category, agent, "Shared drive gone", timedelta(hours=1))
    late = escalate_new(requester, category, agent, "Printer queue stuck", timedelta(hours=8))
    escalation_accept(ticket_id=late.pk, acting_user=engineer)
    elsewhere = escalate_new(requester, category, agent, "Switch port dead", timedelta(hours=2))
    ticket_transfer(ticket_id=elsewhere.pk, queue=network_team, reason="It is the switch.", acting_user=engineer)

    response = api_for(engineer).get("/api/v1/tier2-queue/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [soon.pk, late.pk]  # not the Network team's ticket
    assert [row["status"] for row in rows] == [TicketStatus.ESCALATED, TicketStatus.OPEN]
    client.force_login(engineer)
    page = client.get(reverse("tier2-queue")).content.decode()
    assert soon.reference in page and late.reference in page and elsewhere.reference not in page
    # filters work as on the ticket list
    filtered = api_for(engineer).get("/api/v1/tier2-queue/", {"status": "escalated"}).json()["results"]
    assert [row["id"] for row in filtered] == [soon.pk]


def test_the_api_queue_is_tier2_only(api_for, agent, requester):
    assert api_for(agent).get("/api/v1/tier2-queue/").status_code == 403
    assert api_for(requester).get("/api/v1/tier2-queue/").status_code == 403
