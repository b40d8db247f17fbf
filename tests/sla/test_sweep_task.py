"""The beat task: bounded runs, one at a time, re-enqueued while work remains."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalation.sla import sweep, tasks
from escalation.sla.models import SlaRecord, SweepState
from tickets.models import EventKind, Impact, TicketEvent, Urgency

from ..factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(requester, category, p1_policy):
    """Five P1 tickets an hour old: first response and Tier 1 budget breached (10 due records)."""
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        return [
            make_ticket(requester=requester, category=category, impact=Impact.ORGANIZATION, urgency=Urgency.STOPPED)
            for _ in range(5)
        ]


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.sla_sweep_task, "apply_async", lambda **options: calls.append(options))
    return calls


def test_a_bounded_run_enqueues_the_next_while_work_remains(overdue, enqueued, monkeypatch):
    monkeypatch.setattr(sweep, "BATCH_SIZE", 3)
    monkeypatch.setattr(sweep, "TASK_MAX_BATCHES", 2)

    tasks.sla_sweep_task()

    # two batches of three records, and one follow-up task that expires rather than piles up
    assert TicketEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 6
    assert enqueued == [{"expires": tasks.SWEEP_TASK_EXPIRES}]
    assert SweepState.objects.get().running_until is None  # the lease is given back

    tasks.sla_sweep_task()  # the follow-up: the last four records, and nothing more to enqueue

    assert TicketEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 10
    assert len(enqueued) == 1


def test_a_second_run_while_one_holds_the_lease_does_nothing(overdue, enqueued):
    SweepState.objects.create(pk=1, running_until=timezone.now() + timedelta(minutes=2))

    assert tasks.sla_sweep_task() == "another sweep holds the lease"

    assert not TicketEvent.objects.filter(kind=EventKind.SLA_BREACHED).exists()
    assert SlaRecord.objects.filter(next_check_at__lte=timezone.now()).count() == 10


def test_a_lapsed_lease_of_a_killed_run_is_taken_over(overdue, enqueued):
    SweepState.objects.create(pk=1, running_until=timezone.now() - timedelta(seconds=1))

    tasks.sla_sweep_task()

    assert TicketEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 10
    assert enqueued == []


def test_a_sweep_with_nothing_due_is_a_few_index_reads(overdue):
    sweep.sla_sweep()  # catch up
    with CaptureQueriesContext(connection) as queries:
        report = sweep.sla_sweep()
    assert report.records == 0
    # whether anything is due (no claim, no count of what someone else holds), the time-based trigger rules due, the state row
    sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sql) == 3, sql
    assert "FOR UPDATE" not in " ".join(sql)
