"""The sweep's batch services do what the one-ticket services do, and a catch-up's queries do not grow.

tickets_escalate_automatically and tickets_raise_priority are run beside ticket_escalate and
ticket_change_priority on equal fixtures (same tickets, same moment); the timelines, escalation
rows, SLA records, ladder firings and outbox rows they leave must be the same, ids aside.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation import services as escalation_services
from escalation.models import Escalation, EscalationPath
from escalation.sla.models import LadderFiring, LadderLevel, QueueCalendar, SlaRecord
from escalation.sla.sweep import sla_sweep, sla_sweep_ticket
from tickets import bulk
from tickets import services as ticket_services
from tickets.models import Impact, Ticket, TicketStatus, Tier, Urgency
from tickets.notifications.models import Notification
from tickets.priorities import one_step_up

from ..factories import make_ticket
from .test_sweep import london, p3_ticket

pytestmark = pytest.mark.django_db

IDS = {"escalation_id", "record_id", "level_ids", "onward_id", "comment_id"}


def _norm(value, ref: str):
    if isinstance(value, str):
        return value.replace(ref, "REF")
    if isinstance(value, dict):
        return {k: _norm(v, ref) for k, v in value.items() if k not in IDS}
    if isinstance(value, list):
        return [_norm(v, ref) for v in value]
    return value


def snapshot(ticket_id: int) -> dict:
    """Everything an action leaves on one ticket, ids replaced by what they point at."""
    ticket = Ticket.objects.get(pk=ticket_id)
    ref = ticket.reference
    skip = {"id", "ticket", "ticket_id", "path", "path_id"}
    records = {r.pk: (r.target, r.cycle) for r in SlaRecord.objects.filter(ticket=ticket)}
    return {
        "ticket": _norm(
            {
                name: getattr(ticket, name)
                for name in (
                    "status",
                    "tier",
                    "queue_id",
                    "tier1_queue_id",
                    "assignee_id",
                    "priority",
                    "priority_override_reason",
                    "version",
                    "first_response_due_at",
                    "resolution_due_at",
                    "is_restricted",
                )
            },
            ref,
        ),
        "timeline": [
            (e.kind, _norm(e.message, ref), _norm(e.data, ref), e.actor_id, e.is_public, e.created_at)
            for e in ticket.events.order_by("created_at", "id")
        ],
        "escalations": [
            {k: _norm(v, ref) for k, v in row.items() if k not in skip}
            for row in Escalation.objects.filter(ticket=ticket).order_by("id").values()
        ],
        "path": list(Escalation.objects.filter(ticket=ticket).values_list("path__name", flat=True)),
        "records": sorted(
            (
                tuple((k, v) for k, v in row.items() if k not in skip)
                for row in SlaRecord.objects.filter(ticket=ticket).values()
            ),
            key=repr,
        ),
        "firings": sorted(
            (records[f.record_id], f.level_id, f.suppressed, f.fired_at)
            for f in LadderFiring.objects.filter(record__ticket=ticket)
        ),
        "outbox": sorted(
            (
                n.kind,
                n.channel,
                n.recipient_id,
                n.webhook_id,
                _norm(n.subject, ref),
                _norm(n.body, ref),
                n.status,
                n.event.kind,
            )
            for n in Notification.objects.filter(ticket=ticket).select_related("event")
        ),
    }


def twins(count: int, make) -> tuple[list[int], list[int]]:
    """Two equal sets of tickets, made at the same moment (one for each path)."""
    return [make(i).pk for i in range(count)], [make(i).pk for i in range(count)]


@pytest.fixture
def escalation_setup(requester, agent, category, service_desk, identity_team, paths, checklist, p1_policy):
    service_desk.lead = agent
    service_desk.save()
    start = datetime(2026, 1, 19, 10, 0, tzinfo=UTC)

    def make(index):
        with time_machine.travel(start, tick=False):
            ticket = make_ticket(
                requester=requester,
                category=category,
                title=f"Whole floor offline {index}",
                impact=Impact.ORGANIZATION,
                urgency=Urgency.STOPPED,
            )
            if index % 2 == 0:
                ticket_services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
        return ticket

    return make


@pytest.mark.parametrize("after_hours", [False, True], ids=["in hours", "after hours"])
def test_batch_escalation_leaves_what_ticket_escalate_leaves(
    escalation_setup, office_hours, identity_team, network_team, other_engineer, agent, paths, after_hours
):
    if after_hours:
        # Identity works office hours; after them the path hands over to Network, whose lead is told.
        QueueCalendar.objects.create(queue=identity_team, calendar=office_hours)
        network_team.lead = other_engineer
        network_team.save()
        path = paths["time_exceeded"]
        path.after_hours_queue = network_team
        path.save()
    single, batch = twins(4, escalation_setup)
    at = london(2026, 1, 19, 21, 0) if after_hours else london(2026, 1, 19, 11, 0)

    with time_machine.travel(at, tick=False):
        for pk in single:
            ticket = Ticket.objects.get(pk=pk)
            escalation_services.ticket_escalate(
                ticket_id=pk,
                trigger="time_exceeded",
                handoff=escalation_services.handoff_from_ticket(ticket=ticket),
                acting_user=None,
                automatic=True,
                reason="Tier 1 budget used up",
            )
        made = escalation_services.tickets_escalate_automatically(
            ticket_ids=batch, trigger="time_exceeded", reasons=dict.fromkeys(batch, "Tier 1 budget used up")
        )

    assert sorted(e.ticket_id for e in made) == batch
    expected_queue = network_team if after_hours else identity_team
    for one, many in zip(single, batch, strict=True):
        assert snapshot(many) == snapshot(one)
        # and what both did is what an automatic escalation does (so the comparison is not of nothing)
        ticket = Ticket.objects.get(pk=many)
        assert (ticket.status, ticket.tier, ticket.queue_id) == (TicketStatus.ESCALATED, Tier.TWO, expected_queue.pk)
        escalation = Escalation.objects.get(ticket=ticket)
        assert escalation.missing_fields and "checklist.account_lock_state" in escalation.missing_fields
        assert escalation.after_hours == after_hours
        assert SlaRecord.objects.filter(ticket=ticket, target="tier2_accept", stopped_at__isnull=True).exists()
        kinds = set(Notification.objects.filter(ticket=ticket).values_list("kind", flat=True))
        assert {"escalated_to_team", "handoff_incomplete"} <= kinds
    # the assigned ones tell their assignee to complete the handoff, the others the Tier 1 lead
    assert Notification.objects.filter(ticket_id=batch[0], kind="handoff_incomplete", recipient=agent).exists()


def test_batch_priority_raise_leaves_what_ticket_change_priority_leaves(requester, agent, category, p3_policy):
    from tests.sla.conftest import make_policy

    make_policy(name="P2", priority="P2", calendar=p3_policy.calendar, position=2, first_response_minutes=30,
                resolution_minutes=120, ladder=[("resolution", "percent", 50, {}), ("resolution", "percent", 75, {})])  # fmt: skip
    single, batch = twins(3, lambda i: p3_ticket(requester, category, london(2026, 1, 19, 10, 0)))
    reason = "Raised by the SLA ladder."

    # 11:40: a P2's 50 % (11:00) has passed, its 75 % (11:30) too: one is suppressed, one left to announce
    with time_machine.travel(london(2026, 1, 19, 11, 40), tick=False):
        for pk in single:
            ticket = Ticket.objects.get(pk=pk)
            ticket_services.ticket_change_priority(
                ticket_id=pk, priority=one_step_up(ticket.priority), reason=reason, acting_user=None
            )
        raised = ticket_services.tickets_raise_priority(ticket_ids=batch, reason=reason)

    assert sorted(t.pk for t in raised) == batch
    for one, many in zip(single, batch, strict=True):
        assert snapshot(many) == snapshot(one)
        ticket = Ticket.objects.get(pk=many)
        assert ticket.priority == "P2"
        # resolution due 10:00 + 2 business hours under P2
        assert ticket.resolution_due_at == london(2026, 1, 19, 12, 0)
        assert ticket.events.filter(kind="sla_recomputed").count() == 1
        assert LadderFiring.objects.filter(record__ticket=ticket, suppressed=True).count() == 1


def test_a_sweep_through_copy_leaves_what_the_one_statement_writes_leave(escalation_setup, p1_policy, monkeypatch):
    """The sweep's large batches write events, firings, outbox rows and record updates through
    COPY (tickets.bulk); forced for every write, a ticket's sweep leaves what it leaves without."""
    for position, (offset, actions) in enumerate([(50, {}), (100, {"notify_team_lead": True})]):
        LadderLevel.objects.create(
            policy=p1_policy, target="first_response", position=position, offset=offset, **actions
        )
    single, batch = twins(3, escalation_setup)
    at = datetime(2026, 1, 19, 10, 31, tzinfo=UTC)  # Tier 1 budget and first response breached

    with time_machine.travel(at, tick=False):
        for pk in single:
            sla_sweep_ticket(ticket_id=pk, now=at)
        monkeypatch.setattr(bulk, "COPY_FROM_ROWS", 1)
        for pk in batch:
            sla_sweep_ticket(ticket_id=pk, now=at)

    for one, many in zip(single, batch, strict=True):
        assert snapshot(many) == snapshot(one)
        # and what both did is a breach, its ladder and an escalation (so the comparison is not of nothing)
        assert Ticket.objects.get(pk=many).status == TicketStatus.ESCALATED
        assert LadderFiring.objects.filter(record__ticket_id=many, event__isnull=False).exists()
        assert Notification.objects.filter(ticket_id=many, kind="sla_breached").exists()


def catch_up(count: int, *, requester, category, agent) -> tuple[int, int]:
    """Sweep `count` P1 tickets past their Tier 1 budget (breaches, escalation); returns (queries, escalations)."""
    Ticket.objects.all().delete()
    start = datetime(2026, 1, 19, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for index in range(count):
            ticket = make_ticket(
                requester=requester,
                category=category,
                title=f"Floor {index} offline",
                impact=Impact.ORGANIZATION,
                urgency=Urgency.STOPPED,
            )
            if index % 2 == 0:
                Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    with time_machine.travel(start + timedelta(minutes=31), tick=False), CaptureQueriesContext(connection) as queries:
        report = sla_sweep(batch_size=1000)
    assert report.escalations == count
    assert Escalation.objects.filter(is_automatic=True).count() == count
    assert SlaRecord.objects.filter(target="tier2_accept").count() == count
    return len(queries), report.escalations


@pytest.mark.postgres  # SQLite splits a bulk insert into chunks of its 999-parameter limit: counts grow there
def test_a_catch_up_with_escalations_costs_the_same_queries_for_50_or_200_tickets(
    requester, agent, category, service_desk, identity_team, engineer, p1_policy, checklist
):
    service_desk.lead = agent
    service_desk.save()
    EscalationPath.objects.create(name="Stale", category=category, trigger="time_exceeded", to_queue=identity_team)
    catch_up(3, requester=requester, category=category, agent=agent)  # warm the per-process caches

    few, _ = catch_up(50, requester=requester, category=category, agent=agent)
    many, _ = catch_up(200, requester=requester, category=category, agent=agent)

    assert abs(many - few) <= 3, (few, many)
    assert many <= 60, many  # was ~31 a ticket through ticket_escalate (≤ 33 × 200)
