"""The periodic sweep: ladder levels once, breaches, Tier 1 budget auto-escalation, races, query budget."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import Escalation, EscalationPath
from escalation.sla.models import LadderFiring, SlaRecord, Stage, SweepState, Target
from escalation.sla.sweep import sla_sweep
from tests.race import race
from tickets import services
from tickets.models import EventKind, Impact, Ticket, TicketStatus, Tier, Urgency
from tickets.notifications.models import Notification

from ..factories import make_ticket

LONDON = ZoneInfo("Europe/London")


def london(*args):
    return datetime(*args, tzinfo=LONDON)


def p3_ticket(requester, category, at, **extra):
    with time_machine.travel(at, tick=False):
        return make_ticket(
            requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.STOPPED, **extra
        )


@pytest.fixture
def identity_path(category, identity_team, engineer):
    identity_team.lead = engineer
    identity_team.save()
    return EscalationPath.objects.create(
        name="Account access, too slow",
        category=category,
        trigger="time_exceeded",
        to_queue=identity_team,
        owner=engineer,
    )


@pytest.mark.django_db
def test_each_ladder_level_fires_exactly_once(requester, agent, category, p3_policy, service_desk):
    service_desk.lead = agent
    service_desk.save()
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 10, 5), tick=False):
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
        services.ticket_comment_add(ticket_id=ticket.pk, body="On it.", public=True, acting_user=agent)

    # 12:01: 50 % (12:00) → one warning to the assignee
    first = sla_sweep(now=london(2026, 1, 19, 12, 1))
    assert (first.levels_fired, first.warnings, first.breaches) == (1, 1, 0)
    warning = ticket.events.get(kind=EventKind.SLA_WARNING)
    assert warning.data["target"] == "resolution" and warning.data["levels"] == ["Resolution at 50%"]
    assert set(Notification.objects.filter(event=warning).values_list("kind", "recipient__username")) == {
        ("sla_warning", "agent1")
    }
    # again a minute later: nothing new
    assert sla_sweep(now=london(2026, 1, 19, 12, 2)).levels_fired == 0

    # 14:30: 75 % (13:00) and 100 % (14:00) together with the breach → one breach event
    second = sla_sweep(now=london(2026, 1, 19, 14, 30))
    assert (second.levels_fired, second.breaches) == (2, 1)
    resolution = SlaRecord.objects.get(ticket=ticket, target=Target.RESOLUTION)
    assert resolution.stage == Stage.BREACHED and resolution.breached_at == london(2026, 1, 19, 14, 0)
    assert resolution.ever_breached
    assert resolution.next_check_at == london(2026, 1, 19, 15, 0)  # the +1 h level
    breach = ticket.events.get(kind=EventKind.SLA_BREACHED)
    assert breach.data["levels"] == ["Resolution at 75%", "Resolution at 100%"]
    assert Notification.objects.filter(event=breach, kind="sla_breached").exists()

    # +1 h and long after: the last level once, then silence
    assert sla_sweep(now=london(2026, 1, 19, 15, 0)).levels_fired == 1
    assert sla_sweep(now=london(2026, 1, 19, 16, 0)).levels_fired == 0
    assert sla_sweep(now=london(2026, 1, 22, 16, 0)).levels_fired == 0
    assert LadderFiring.objects.filter(record=resolution).count() == 4
    assert ticket.events.filter(kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED]).count() == 3
    assert SlaRecord.objects.get(pk=resolution.pk).next_check_at is None
    assert SweepState.objects.get().last_swept_at == london(2026, 1, 22, 16, 0)


@pytest.mark.django_db
def test_after_downtime_the_sweep_catches_up_without_double_firing(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    # nothing ran for two days: every level is due at once, each fires once
    report = sla_sweep(now=london(2026, 1, 21, 12, 0))
    resolution = SlaRecord.objects.get(ticket=ticket, target=Target.RESOLUTION)
    assert LadderFiring.objects.filter(record=resolution).count() == 4
    assert report.breaches == 2  # first response and resolution
    assert sla_sweep(now=london(2026, 1, 21, 12, 1)).levels_fired == 0


@pytest.mark.django_db
def test_each_firing_points_at_the_event_that_announced_it(requester, agent, category, p3_policy):
    """A firing's event is the SLA warning or breach on the ticket's timeline that lists its level
    (a replay marks exactly those levels fired); breaches without a level have no firing."""
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    sla_sweep(now=london(2026, 1, 19, 11, 30))  # some levels now
    sla_sweep(now=london(2026, 1, 21, 12, 0))  # the rest after downtime, in one batch

    firings = list(LadderFiring.objects.filter(record__ticket=ticket).select_related("event"))
    assert len(firings) >= 4
    announced = [f.event for f in firings]
    assert all(e is not None and e.ticket_id == ticket.pk for e in announced)
    assert {e.kind for e in announced} <= {EventKind.SLA_WARNING, EventKind.SLA_BREACHED}
    for firing in firings:
        assert firing.level_id in firing.event.data["level_ids"]
        assert firing.event.data["record_id"] == firing.record_id
    # every level an event lists is a firing pointing back at that event
    listed = {
        (event.pk, level_id)
        for event in ticket.events.filter(kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED])
        for level_id in event.data["level_ids"]
    }
    assert listed == {(f.event_id, f.level_id) for f in firings}


@pytest.mark.django_db
def test_warnings_outside_business_hours_are_recorded_but_not_sent(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 16, 15, 0))  # Friday: 50 % is Friday 17:00
    with time_machine.travel(london(2026, 1, 16, 15, 5), tick=False):
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
        services.ticket_comment_add(ticket_id=ticket.pk, body="On it.", public=True, acting_user=agent)

    sla_sweep(now=london(2026, 1, 17, 10, 0))  # Saturday morning

    warning = ticket.events.get(kind=EventKind.SLA_WARNING)
    assert warning.data["held_outside_hours"] is True
    assert not Notification.objects.filter(event=warning).exists()


@pytest.mark.django_db
def test_p1_left_in_tier1_past_its_budget_is_escalated_by_one_sweep(
    requester, agent, category, p1_policy, identity_team, identity_path, service_desk
):
    with time_machine.travel(datetime(2026, 1, 19, 10, 0, tzinfo=UTC), tick=False):
        ticket = make_ticket(
            requester=requester, category=category, impact=Impact.ORGANIZATION, urgency=Urgency.STOPPED
        )
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
    assert ticket.priority == "P1"
    budget = SlaRecord.objects.get(ticket=ticket, target=Target.TIER1_BUDGET)
    assert budget.due_at == datetime(2026, 1, 19, 10, 30, tzinfo=UTC)

    # when: the sweep runs at 10:31
    with time_machine.travel(datetime(2026, 1, 19, 10, 31, tzinfo=UTC), tick=False):
        report = sla_sweep()

    # then: in the Tier 2 queue, with an automatic time-exceeded escalation on the record
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tier, ticket.queue) == (TicketStatus.ESCALATED, Tier.TWO, identity_team)
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.is_automatic and escalation.trigger == "time_exceeded"
    assert report.escalations == 1 and report.escalated_ticket_ids == [ticket.pk]
    escalated = ticket.events.get(kind=EventKind.ESCALATED)
    assert escalated.actor is None and escalated.data["trigger"] == "time_exceeded"
    budget.refresh_from_db()
    assert budget.stage == Stage.BREACHED and budget.stopped_at is not None
    breach = ticket.events.get(kind=EventKind.SLA_BREACHED, data__target="tier1_budget")
    assert breach.created_at <= escalated.created_at
    # the Tier 2 accept clock started at the escalation
    accept = SlaRecord.objects.get(ticket=ticket, target=Target.TIER2_ACCEPT)
    assert accept.stage == Stage.RUNNING and accept.due_at == datetime(2026, 1, 19, 10, 46, tzinfo=UTC)
    # the Tier 1 owner is told to complete the handoff
    assert Notification.objects.filter(ticket=ticket, kind="handoff_incomplete", recipient=agent).exists()

    # a second sweep changes nothing
    events_before = ticket.events.count()
    with time_machine.travel(datetime(2026, 1, 19, 10, 32, tzinfo=UTC), tick=False):
        again = sla_sweep()
    assert again.escalations == 0 and Escalation.objects.filter(ticket=ticket).count() == 1
    assert ticket.events.count() == events_before


@pytest.mark.django_db
def test_tier_attribution_splits_the_time_between_tiers(
    requester, agent, engineer, category, p1_policy, identity_path, identity_team
):
    from escalation import services as escalation_services

    start = datetime(2026, 1, 19, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(
            requester=requester, category=category, impact=Impact.ORGANIZATION, urgency=Urgency.STOPPED
        )
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        sla_sweep()  # auto-escalates after 30 min in Tier 1
    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        escalation_services.escalation_accept(ticket_id=ticket.pk, acting_user=engineer)
    with time_machine.travel(start + timedelta(minutes=120), tick=False):
        services.ticket_resolve(ticket_id=ticket.pk, resolution="Restored the IdP certificate.", acting_user=engineer)

    resolution = SlaRecord.objects.get(ticket=ticket, target=Target.RESOLUTION)
    # Tier 1 from 10:00 to the escalation at 10:31, awaiting Tier 2 until 10:50, Tier 2 until 12:00
    assert resolution.tier1_seconds == 31 * 60
    assert resolution.awaiting_tier2_seconds == 19 * 60
    assert resolution.tier2_seconds == 70 * 60
    assert resolution.elapsed_business_seconds == 120 * 60  # sums to the elapsed (24×7) time
    accept = SlaRecord.objects.get(ticket=ticket, target=Target.TIER2_ACCEPT)
    assert accept.stage == Stage.BREACHED and accept.awaiting_tier2_seconds == 19 * 60  # 15 min target


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_once(requester, agent, category, p1_policy, identity_path, identity_team):
    with time_machine.travel(datetime(2026, 1, 19, 10, 0, tzinfo=UTC), tick=False):
        ticket = make_ticket(
            requester=requester, category=category, impact=Impact.ORGANIZATION, urgency=Urgency.STOPPED
        )
    now = datetime(2026, 1, 19, 10, 31, tzinfo=UTC)

    reports = race(lambda: sla_sweep(now=now), lambda: sla_sweep(now=now))

    assert all(not isinstance(r, Exception) for r in reports), reports
    assert sum(r.escalations for r in reports) == 1
    assert Escalation.objects.filter(ticket=ticket).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.ESCALATED
    assert ticket.events.filter(kind=EventKind.SLA_BREACHED, data__target="tier1_budget").count() == 1
    assert LadderFiring.objects.filter(record__ticket=ticket).count() == 0  # P1 fixture has no ladder


@pytest.mark.django_db
def test_sweep_queries_grow_with_what_is_due_not_with_open_tickets(requester, agent, category, p3_policy):
    def measure(not_due: int) -> int:
        SlaRecord.objects.all().delete()
        Ticket.objects.all().delete()
        p3_ticket(requester, category, london(2026, 1, 19, 9, 0))  # its 50 % level is due at 11:00
        for _ in range(not_due):
            p3_ticket(requester, category, london(2026, 1, 19, 11, 0))  # nothing due before 12:00
        with CaptureQueriesContext(connection) as queries:
            report = sla_sweep(now=london(2026, 1, 19, 11, 30))
        assert report.tickets == 1
        return len(queries)

    measure(5)  # warm-up: the sweep-state row and per-process caches exist from here on
    assert measure(5) == measure(50)


@pytest.mark.django_db
def test_a_poison_ticket_is_pushed_forward_and_does_not_stall_the_sweep(
    requester, agent, category, p3_policy, monkeypatch
):
    bad = p3_ticket(requester, category, london(2026, 1, 19, 9, 0))
    good = p3_ticket(requester, category, london(2026, 1, 19, 9, 1))
    from escalation.sla import sweep

    real = sweep._announce

    def explode(outcome, **kwargs):
        if outcome.record.ticket_id == bad.pk:
            raise RuntimeError("corrupt row")
        return real(outcome, **kwargs)

    monkeypatch.setattr(sweep, "_announce", explode)
    now = london(2026, 1, 19, 11, 30)
    report = sla_sweep(now=now)

    assert report.errors == 1
    assert good.events.filter(kind=EventKind.SLA_WARNING).exists()
    assert not bad.events.filter(kind=EventKind.SLA_WARNING).exists()
    due_again = SlaRecord.objects.filter(ticket=bad).exclude(next_check_at=None).values_list("next_check_at", flat=True)
    assert min(due_again) == now + timedelta(minutes=5)


@pytest.mark.django_db
def test_sla_sweep_command_prints_what_it_did(requester, category, p3_policy, capsys):
    p3_ticket(requester, category, london(2026, 1, 19, 9, 0))
    with time_machine.travel(london(2026, 1, 19, 11, 30), tick=False):
        call_command("sla_sweep")
    out = capsys.readouterr().out
    assert "SLA sweep: 1 tickets" in out and "1 ladder levels fired" in out
    # the sweep's own time, without the process's start-up: what bench/run.py reads for tickets/s
    assert re.search(r"^  took \d+\.\d\d s$", out, re.MULTILINE)


def test_breach_closes_the_tier_split_at_the_deadline(requester, category, p1_policy):
    """A clock breached in its first, still-open segment is charged to that tier, exactly up to due."""
    start = datetime(2026, 1, 19, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(
            requester=requester, category=category, impact=Impact.ORGANIZATION, urgency=Urgency.STOPPED
        )

    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        sla_sweep()

    first_response = SlaRecord.objects.get(ticket=ticket, target=Target.FIRST_RESPONSE)
    assert first_response.breached_at == start + timedelta(minutes=15)
    assert first_response.tier1_seconds == 15 * 60  # 24×7: 10:00 → 10:15, all of it in Tier 1
    assert first_response.awaiting_tier2_seconds == first_response.tier2_seconds == 0
    assert first_response.segment_started_at == start + timedelta(minutes=15)


def test_a_ladder_webhook_level_queues_one_signed_webhook_row(requester, category, always):
    import json

    from escalation.sla.models import OffsetKind

    from .conftest import make_policy

    make_policy(
        name="Webhooked",
        calendar=always,
        is_default=True,
        resolution_minutes=60,
        ladder=[
            (
                "resolution",
                OffsetKind.PERCENT,
                50,
                {"notify_assignee": False, "webhook_url": "https://chat.example/hook"},
            )
        ],
    )
    start = datetime(2026, 1, 19, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        ticket = make_ticket(requester=requester, category=category)

    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        sla_sweep()
        sla_sweep()  # the level fires once

    rows = Notification.objects.filter(ticket=ticket, channel="webhook")
    assert rows.count() == 1
    row = rows.get()
    assert (row.kind, row.status, row.recipient) == ("sla_warning", "pending", None)
    assert json.loads(row.body) == {
        "url": "https://chat.example/hook",
        "ticket": ticket.reference,
        "event": row.event_id,
    }
    assert row.event.kind == EventKind.SLA_WARNING


@pytest.mark.django_db
def test_a_breach_is_announced_once_per_person_and_channel(
    requester, agent, manager, category, p3_policy, service_desk
):
    """Issue 16, "breach notifications arrive twice": the 100 % level announced the breach to the
    assignee and the lead, then the +1 h level (still "breached") told them again. Now a later
    level tells only who has not heard of this breach (the manager it adds), and the team's
    webhook hears it once."""
    from escalation.sla.models import LadderLevel
    from tests.factories import UserFactory
    from tickets import roles
    from tickets.notifications.models import WebhookEndpoint

    lead = UserFactory(username="lead1", role=roles.TIER1_AGENT)
    service_desk.lead = lead
    service_desk.save()
    LadderLevel.objects.get(policy=p3_policy, target=Target.RESOLUTION, offset_kind="minutes").notify_managers.add(
        manager
    )
    WebhookEndpoint.objects.create(name="Desk chat", url="https://chat.example/desk", secret="s")
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 10, 5), tick=False):
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=lead)
        services.ticket_comment_add(ticket_id=ticket.pk, body="On it.", public=True, acting_user=agent)

    for minute in range(10 * 60 + 30, 17 * 60, 15):  # every quarter of an hour through the working day
        with time_machine.travel(london(2026, 1, 19, minute // 60, minute % 60), tick=False):
            sla_sweep()

    # Two breach events (100 % at 14:00 and +1 h at 15:00); each person heard of the breach once.
    assert ticket.events.filter(kind=EventKind.SLA_BREACHED).count() == 2
    breach_rows = Notification.objects.filter(ticket=ticket, kind="sla_breached")
    per_person = sorted(breach_rows.filter(recipient__isnull=False).values_list("recipient__username", "channel"))
    assert per_person == [
        ("agent1", "email"),
        ("agent1", "in_app"),
        ("lead1", "email"),
        ("lead1", "in_app"),
        ("manager1", "email"),
        ("manager1", "in_app"),
    ]
    assert breach_rows.filter(webhook__isnull=False).count() == 1
    # The manager's one came with the +1 h level, the others with the breach itself.
    assert breach_rows.get(recipient=manager, channel="in_app").created_at == london(2026, 1, 19, 15, 0)
    assert {r.created_at for r in breach_rows.exclude(recipient=manager)} == {london(2026, 1, 19, 14, 0)}
