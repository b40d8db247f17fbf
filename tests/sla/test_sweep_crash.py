"""Crash safety: a sweep worker killed mid-batch loses nothing and doubles nothing."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from escalation.models import Escalation, EscalationPath
from escalation.sla.models import LadderFiring, OffsetKind, SlaRecord, Target
from escalation.sla.sweep import sla_sweep
from tickets.models import EventKind, Impact, Ticket, TicketEvent, TicketStatus, Urgency

from ..factories import make_ticket
from .conftest import make_policy

TICKETS = 12


def database_url() -> str:
    settings = connection.settings_dict
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_worker_killed_mid_batch_loses_and_doubles_nothing(
    tmp_path, requester, category, always, identity_team
):
    # given: tickets three hours old on a 24×7 policy: first response, resolution and the
    # Tier 1 budget are all breached, three resolution ladder levels are due, and each
    # ticket is due an automatic escalation — 3 records a ticket, several batches of 9
    make_policy(
        name="Fast",
        calendar=always,
        is_default=True,
        first_response_minutes=15,
        resolution_minutes=60,
        tier1_budget_minutes=30,
        tier2_accept_minutes=600,
        ladder=[
            ("resolution", OffsetKind.PERCENT, 50, {}),
            ("resolution", OffsetKind.PERCENT, 100, {"notify_team_lead": True}),
            ("resolution", OffsetKind.MINUTES, 60, {"notify_team_lead": True}),
        ],
    )
    EscalationPath.objects.create(name="Slow", category=category, trigger="time_exceeded", to_queue=identity_team)
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=False):
        tickets = [
            make_ticket(requester=requester, category=category, impact=Impact.TEAM, urgency=Urgency.SLOWED)
            for _ in range(TICKETS)
        ]
    marker = tmp_path / "hung"

    # when: a real worker process sweeps and is killed (SIGKILL) inside its second batch
    worker = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("sweep_worker.py")), str(marker), "9"],
        env={**os.environ, "DATABASE_URL": database_url()},
    )
    try:
        wait_for(marker.exists, seconds=120, what="the worker to reach its second batch")
        backend_pid = int(marker.read_text())
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    def backend_gone() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend_pid])
            return cursor.fetchone()[0] == 0

    wait_for(backend_gone, seconds=30, what="PostgreSQL to roll back the killed worker's transaction")
    # the first batch (the 9 oldest checks: first responses) was committed, the second rolled back
    assert TicketEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 9
    assert not LadderFiring.objects.exists() and not Escalation.objects.exists()

    # then: the next run finishes the work, and every outcome exists exactly once
    report = sla_sweep()
    assert report.errors == 0
    for ticket in tickets:
        breaches = ticket.events.filter(kind=EventKind.SLA_BREACHED)
        assert sorted(breaches.values_list("data__target", flat=True)) == [
            "first_response",
            "resolution",
            "tier1_budget",
        ]
        assert not ticket.events.filter(kind=EventKind.SLA_WARNING).exists()
        assert LadderFiring.objects.filter(record__ticket=ticket).count() == 3
        assert Escalation.objects.filter(ticket=ticket, is_automatic=True).count() == 1
        assert ticket.events.filter(kind=EventKind.ESCALATED).count() == 1
        assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.ESCALATED
    assert not SlaRecord.objects.filter(next_check_at__lte=timezone.now()).exclude(target=Target.TIER2_ACCEPT).exists()
