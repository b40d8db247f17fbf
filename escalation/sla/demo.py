"""This app's part of the demo organization (see tickets/management/commands/seed_demo.py)."""

import random
from contextlib import contextmanager
from datetime import time, timedelta

import time_machine
from django.db import transaction
from django.utils import timezone

from tickets.models import Ticket, TicketStatus

from . import businesstime as bt
from .calendars import holidays_import
from .models import (
    Calendar,
    LadderLevel,
    OffsetKind,
    QueueCalendar,
    SlaPolicy,
    SlaRecord,
    Stage,
    Target,
    WorkingInterval,
)
from .services import load_schedule, segment_for
from .sweep import sla_sweep_ticket

SITE_CALENDARS = {  # site slug → calendar name; Singapore takes a lunch break
    "london": "London office hours",
    "new-york": "New York office hours",
    "singapore": "Singapore office hours",
    "berlin": "Berlin office hours",
}
QUEUE_SITES = {
    "service-desk": "london",
    "vip-desk": "london",
    "network": "london",
    "identity-access": "new-york",
    "applications": "berlin",
    "security": "london",
}
# name, priority, calendar ("24x7" or site), first response, resolution, tier 1 budget, tier 2 accept (minutes)
POLICIES = [
    ("P1 · Critical", "P1", "24x7", 15, 4 * 60, 30, 15),
    ("P2 · High", "P2", "london", 60, 8 * 60, 2 * 60, 60),
    ("P3 · Medium", "P3", "london", 4 * 60, 3 * 8 * 60, 8 * 60, 4 * 60),
    ("P4 · Low", "P4", "london", 8 * 60, 5 * 8 * 60, 16 * 60, 8 * 60),
]


@transaction.atomic
def seed_configuration(org) -> None:
    calendars = {}
    year = timezone.now().year
    for slug, name in SITE_CALENDARS.items():
        site = org.sites[slug]
        calendar = Calendar.objects.create(name=name, time_zone=site.time_zone, country=site.country)
        for weekday in range(5):
            if slug == "singapore":
                spans = [(time(9), time(12, 30)), (time(13, 30), time(17, 30))]
            else:
                spans = [(time(9), time(17, 30))]
            for start, end in spans:
                WorkingInterval.objects.create(calendar=calendar, weekday=weekday, start=start, end=end)
        if site.country:
            holidays_import(calendar=calendar, country=site.country, year=year)
        calendars[slug] = calendar
    calendars["24x7"] = Calendar.objects.create(name="24×7", time_zone="UTC", is_24x7=True)
    for position, (name, priority, calendar_key, first, resolution, budget, accept) in enumerate(POLICIES, start=1):
        policy = SlaPolicy.objects.create(
            name=name,
            position=position * 10,
            priority=priority,
            calendar=calendars[calendar_key],
            use_site_time_zone=calendar_key != "24x7",
            first_response_minutes=first,
            next_response_minutes=first * 2,
            resolution_minutes=resolution,
            tier1_budget_minutes=budget,
            tier2_accept_minutes=accept,
        )
        _ladder(policy, org)
    # Security tickets (restricted), whatever their priority: round the clock, tight targets.
    security = SlaPolicy.objects.create(
        name="Security incident",
        position=5,
        security=True,
        calendar=calendars["24x7"],
        first_response_minutes=30,
        next_response_minutes=60,
        resolution_minutes=8 * 60,
        tier1_budget_minutes=15,
        tier2_accept_minutes=30,
    )
    _ladder(security, org)
    default = SlaPolicy.objects.create(
        name="Default (business hours)",
        position=1000,
        is_default=True,
        calendar=calendars["london"],
        first_response_minutes=8 * 60,
        resolution_minutes=5 * 8 * 60,
        tier1_budget_minutes=16 * 60,
        tier2_accept_minutes=8 * 60,
    )
    _ladder(default, org)
    for queue_slug, site_slug in QUEUE_SITES.items():
        if queue_slug in org.queues:
            QueueCalendar.objects.create(queue=org.queues[queue_slug], calendar=calendars[site_slug])


def _ladder(policy: SlaPolicy, org) -> None:
    """50 % and 75 % warn the assignee; 100 % tells the lead too; +1 h tells the manager and pages on call."""
    manager = org.users.get("manager1")
    for target in (Target.FIRST_RESPONSE, Target.RESOLUTION):
        LadderLevel.objects.create(policy=policy, target=target, position=1, offset=50)
        LadderLevel.objects.create(policy=policy, target=target, position=2, offset=75, notify_team_lead=True)
        LadderLevel.objects.create(policy=policy, target=target, position=3, offset=100, notify_team_lead=True)
        after = LadderLevel.objects.create(
            policy=policy,
            target=target,
            position=4,
            offset_kind=OffsetKind.MINUTES,
            offset=60,
            notify_team_lead=True,
            raise_priority=policy.priority not in ("", "P1"),
            page_on_call=True,
        )
        if manager is not None:
            after.notify_managers.add(manager)
    LadderLevel.objects.create(policy=policy, target=Target.TIER2_ACCEPT, position=1, offset=100, notify_team_lead=True)


def seed_bulk(*, count: int, batch_size: int = 5000) -> int:
    """SLA records for bulk tickets without one: bulk_create, no per-row service.

    Bulk tickets are historical: resolved ones get met/breached first-response and
    resolution records; open ones get running records on the default policy's
    calendar (due times computed in memory, one calendar load).
    """
    policies = {p.priority: p for p in SlaPolicy.objects.filter(is_active=True) if p.priority}
    fallback = SlaPolicy.objects.filter(is_default=True).first()
    schedules = {}
    made = 0
    tickets = Ticket.objects.filter(sla_records__isnull=True).order_by("pk")
    rng = random.Random(count)
    last_pk = 0
    while True:
        batch = list(tickets.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            break
        last_pk = batch[-1].pk
        rows = []
        for ticket in batch:
            policy = policies.get(ticket.priority) or fallback
            if policy is None:
                continue
            key = policy.calendar_id
            if key not in schedules:
                schedules[key] = load_schedule(calendar_id=key) if key else bt.TWENTY_FOUR_SEVEN
            schedule = schedules[key]
            for target, stopped_at in (
                (Target.FIRST_RESPONSE, ticket.first_responded_at),
                (Target.RESOLUTION, ticket.resolved_at),
            ):
                minutes = policy.target_minutes(target)
                if minutes is None:
                    continue
                due = bt.add_business_minutes(schedule, ticket.created_at, minutes)
                record = SlaRecord(
                    ticket=ticket,
                    target=target,
                    policy=policy,
                    calendar_id=policy.calendar_id,
                    time_zone=schedule.time_zone,
                    target_seconds=minutes * 60,
                    started_at=ticket.created_at,
                    due_at=due,
                    original_due_at=due,
                )
                if stopped_at is not None:
                    breached = stopped_at > due
                    record.stopped_at = stopped_at
                    record.stage = Stage.BREACHED if breached else Stage.MET
                    record.breached_at = due if breached else None
                    record.ever_breached = breached
                    record.tier1_seconds = bt.business_seconds_between(schedule, ticket.created_at, stopped_at)
                elif ticket.status in (TicketStatus.NEW, TicketStatus.OPEN):
                    record.segment_started_at = ticket.created_at
                    record.segment_tier = segment_for(ticket)
                    # Let the sweep announce at most the latest state, spread over a minute.
                    record.next_check_at = min(due, timezone.now()) + timedelta(seconds=rng.randint(0, 59))
                else:
                    continue
                rows.append(record)
        with transaction.atomic():
            SlaRecord.objects.bulk_create(rows, batch_size=batch_size)
            _sync_due_columns(batch)
        made += len(rows)
    return made


def _sync_due_columns(tickets) -> None:
    due = {}
    for ticket_id, target, due_at in SlaRecord.objects.filter(ticket__in=tickets).values_list(
        "ticket_id", "target", "due_at"
    ):
        due.setdefault(ticket_id, {})[target] = due_at
    for ticket in tickets:
        ticket.first_response_due_at = due.get(ticket.pk, {}).get(Target.FIRST_RESPONSE)
        ticket.resolution_due_at = due.get(ticket.pk, {}).get(Target.RESOLUTION)
    Ticket.objects.bulk_update(tickets, ["first_response_due_at", "resolution_due_at"], batch_size=5000)


# ---------------------------------------------------------------- the SLA sweep, played through the history
#
# The demo writes each ticket's life in one go under a travelling clock (tickets/demo.py,
# escalation/demo.py); every step happens at() a moment the sweep has caught up to for it.


@contextmanager
def at(moment, ticket: Ticket):
    """Travel to `moment` to act on `ticket`, the SLA sweep having done for it what beat would have by then.

    Beat sweeps every minute; the demo writes each ticket's life in one go, so the sweep
    is played for the ticket at each moment before `moment` one of its clocks had
    something due (sweep_ticket_until). The history is then what production records:
    breaches at their due time, ladder levels, priority raises, automatic escalations.

    Yields True when the sweep escalated the ticket on the way (Tier 1's budget ran out).
    The sweep stops there, so whatever Tier 2 does next starts from the escalation,
    not from `moment`: the caller hands the ticket over to Tier 2 (tickets/demo.py).
    """
    escalated = sweep_ticket_until(ticket.pk, moment)
    with time_machine.travel(moment, tick=False):
        yield escalated


def sweep_ticket_until(ticket_id: int, moment) -> bool:
    """Run the sweep for one ticket at each moment before `moment` it had something due.

    Stops early, returning True, after a run that escalated the ticket automatically.
    The sweep plans every record it handles past the moment it ran, so this moves on.
    """
    due = SlaRecord.objects.filter(ticket_id=ticket_id, next_check_at__lt=moment).order_by("next_check_at")
    while (when := due.values_list("next_check_at", flat=True).first()) is not None:
        with time_machine.travel(when, tick=False):
            if sla_sweep_ticket(ticket_id=ticket_id, now=when).escalations:
                return True
    return False
