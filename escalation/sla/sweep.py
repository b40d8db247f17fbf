"""The periodic SLA sweep (Celery beat every minute; `manage.py sla_sweep` by hand).

Set-based and bounded: work is done a batch at a time, each batch in one transaction.

1. Claim a batch of due records, oldest next_check_at first, with their tickets:
   `FOR UPDATE OF record, ticket SKIP LOCKED` through the partial index on
   next_check_at (never a scan of open tickets). A row another worker or a
   service holds is skipped, not waited for: it is theirs, or the next run's.
2. Compute every outcome in Python from a handful of queries (the batch's
   firings; policies' ladders, calendars and on-call people cached per run).
3. Write in bulk: ladder firings in one INSERT … ON CONFLICT DO NOTHING RETURNING
   (the exactly-once guard: only what was inserted is announced), the timeline
   events in one insert, breach marks and next-check plans in one
   UPDATE … FROM (VALUES …), the outbox rows in one insert; delivery is enqueued
   after commit.
4. Side actions for the batch go through the batch variants of the services that own
   them (tickets_raise_priority, tickets_escalate_automatically: the same rules and
   effects as the one-ticket services, read and written set-wise), then the sweep-moment
   trigger rules for the batch (rules.evaluate_trigger_rules_many), inside the same
   transaction, after the records are written (the services re-enter the engine through
   engine.apply_many).
5. A batch that raises is rolled back and redone one ticket at a time, so the poison
   ticket is found, its records pushed forward and the error logged; the rest go on.

Every processed record is re-planned past `now`, so the next claim moves on without
remembering what was seen. A worker killed mid-batch leaves its transaction rolled
back and its rows unlocked: the next run does that batch, and nothing is doubled
because firings and breach marks were committed together with their events.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from escalation import rules
from escalation import services as escalation_services
from tickets import bulk, configcache, events
from tickets import services as ticket_services
from tickets.locks import db_value, update_from_values
from tickets.models import EventKind, Priority, Ticket, TicketEvent, TicketStatus, Tier, User
from tickets.notifications.models import Notification, NotificationKind
from tickets.notifications.oncall import on_call_for
from tickets.notifications.services import Notice, notify_many

from . import businesstime as bt
from .models import LadderFiring, LadderLevel, SlaRecord, Stage, SweepState, Target
from .services import ScheduleCache, level_moment, mark_breached, plan

logger = logging.getLogger(__name__)

POISON_RETRY = timedelta(minutes=5)
# Records claimed per batch (one transaction, its tickets locked until it commits: ~2 s for a
# catch-up batch of escalations). 1,000 rather than 500: a batch's fixed cost (its ~40 queries,
# the rules' and the outbox's reads, the commit) is paid half as often, ~10 % of a catch-up.
BATCH_SIZE = 1000
# One beat task does at most this many batches (10,000 records), then re-enqueues itself if more is due.
TASK_MAX_BATCHES = 10
# Longer than a bounded run can take; a killed run's lease lapses after it.
LEASE = timedelta(minutes=5)

# Written back for every claimed record, in this order, by one UPDATE … FROM (VALUES …).
WRITTEN = [
    ("stage", "text"),
    ("breached_at", "timestamptz"),
    ("ever_breached", "boolean"),
    ("next_check_at", "timestamptz"),
    ("warn_at", "timestamptz"),
    ("tier1_seconds", "integer"),
    ("awaiting_tier2_seconds", "integer"),
    ("tier2_seconds", "integer"),
    ("paused_seconds", "integer"),
    ("segment_started_at", "timestamptz"),
    ("segment_tier", "text"),
]


@dataclass
class SweepReport:
    tickets: int = 0
    records: int = 0
    warnings: int = 0
    breaches: int = 0
    levels_fired: int = 0
    escalations: int = 0
    skipped_locked: int = 0
    errors: int = 0
    batches: int = 0
    more_due: bool = False
    escalated_ticket_ids: list[int] = field(default_factory=list)

    def add(self, other: SweepReport) -> None:
        for f in fields(self):
            if f.type == "int":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.escalated_ticket_ids += other.escalated_ticket_ids

    def __str__(self):
        return (
            f"{self.tickets} tickets, {self.records} records checked: {self.levels_fired} ladder levels fired, "
            f"{self.warnings} warnings, {self.breaches} breaches, {self.escalations} automatic escalations, "
            f"{self.skipped_locked} busy (left for later), {self.errors} errors"
        )


class RunCache:
    """What one sweep run reads once: schedules, ladders by policy, on-call people by queue."""

    def __init__(self, now: datetime):
        self.now = now
        self.schedules = ScheduleCache()
        self._ladders: dict[int, dict[str, list[LadderLevel]]] = {}
        # Per level, what each announcement of it repeats: its label, its managers, its actions.
        self._about: dict[int, tuple[str, list[User], list[str]]] = {}
        self._on_call: dict[int, User | None] = {}

    def ladders(self, policy_ids: set[int]) -> None:
        missing = {pk for pk in policy_ids if pk and pk not in self._ladders}
        if not missing:
            return
        for pk in missing:
            self._ladders[pk] = defaultdict(list)
        levels = LadderLevel.objects.filter(policy_id__in=missing).prefetch_related("notify_managers")
        for level in levels.order_by("position", "id"):
            self._ladders[level.policy_id][level.target].append(level)
            self._about[level.pk] = (str(level), list(level.notify_managers.all()), _actions(level))

    def label(self, level: LadderLevel) -> str:
        return self._about[level.pk][0]

    def managers(self, level: LadderLevel) -> list[User]:
        return self._about[level.pk][1]

    def actions(self, level: LadderLevel) -> list[str]:
        return self._about[level.pk][2]

    def levels(self, record: SlaRecord) -> list[LadderLevel]:
        return self._ladders.get(record.policy_id, {}).get(record.target, []) if record.policy_id else []

    def on_call(self, ticket: Ticket) -> User | None:
        if ticket.queue_id not in self._on_call:
            self._on_call[ticket.queue_id] = on_call_for(queue=ticket.queue, at=self.now)
        return self._on_call[ticket.queue_id]


# ---------------------------------------------------------------- entry points


def sla_sweep(
    *, now: datetime | None = None, batch_size: int | None = None, max_batches: int | None = None
) -> SweepReport:
    """Sweep batch after batch until nothing claimable is due (or max_batches ran: more_due says so)."""
    now = now or timezone.now()
    batch_size = batch_size or BATCH_SIZE
    report = SweepReport()
    cache = RunCache(now)
    # Most runs find nothing due. The claim joins six tables and PostgreSQL takes ~3 ms to plan it
    # (at 1M tickets as at 1k); this index-only look at the due index takes ~0.2 ms.
    anything_due = SlaRecord.objects.filter(next_check_at__lte=now).exists()
    while anything_due and (max_batches is None or report.batches < max_batches):
        claimed = _sweep_batch(now=now, batch_size=batch_size, cache=cache, report=report)
        report.batches += 1
        if claimed < batch_size:
            break
    else:
        if anything_due:
            report.more_due = SlaRecord.objects.filter(next_check_at__lte=now).exists()
    # Time-based trigger rules have their own next check: evaluated on time, SLA clock due or not.
    rules.run_due_time_rules(now=now)
    if anything_due and not report.more_due:
        # What is still due now was held by someone else (skipped, not waited for).
        report.skipped_locked = SlaRecord.objects.filter(next_check_at__lte=now).count()
    state = {"last_swept_at": now, "last_report": str(report)[:300]}
    if not SweepState.objects.filter(pk=1).update(**state):
        SweepState.objects.get_or_create(pk=1, defaults=state)
    return report


def sla_sweep_bounded(*, max_batches: int | None = None) -> SweepReport | None:
    """One bounded run for the beat task, if no other run holds the lease (else None).

    The lease is a conditional UPDATE that must touch the one state row, so two
    workers never sweep at once and a killed run's lease simply lapses.
    """
    started = timezone.now()
    SweepState.objects.get_or_create(pk=1)
    free = Q(running_until__isnull=True) | Q(running_until__lt=started)
    if not SweepState.objects.filter(free, pk=1).update(running_until=started + LEASE):
        return None
    try:
        return sla_sweep(max_batches=max_batches or TASK_MAX_BATCHES)
    finally:
        SweepState.objects.filter(pk=1).update(running_until=None)


def sla_sweep_ticket(*, ticket_id: int, now: datetime) -> SweepReport:
    """One ticket's due records, handled as a beat run at `now` would have handled them.

    For history written after the fact, one ticket at a time (the demo organization):
    played at each moment the ticket had something due, under a clock set to that
    moment, it records what the per-minute sweep would have (breaches at due, ladder
    levels, priority raises, automatic escalations), through the same code.
    """
    report = SweepReport()
    with transaction.atomic(), configcache.operation():
        records = _claim(now=now, limit=BATCH_SIZE, ticket_id=ticket_id)
        report.add(_process(records, now=now, cache=RunCache(now)))
    report.batches = 1
    return report


# ---------------------------------------------------------------- one batch


def _sweep_batch(*, now: datetime, batch_size: int, cache: RunCache, report: SweepReport) -> int:
    """Claim and process one batch; returns how many records it claimed."""
    ticket_ids: list[int] = []
    try:
        with transaction.atomic(), configcache.operation():
            records = _claim(now=now, limit=batch_size)
            ticket_ids = list(dict.fromkeys(r.ticket_id for r in records))
            batch = _process(records, now=now, cache=cache)
        report.add(batch)
        return len(records)
    except Exception:
        if not ticket_ids:
            raise  # the claim itself failed: nothing to push forward, nothing to retry here
        if len(ticket_ids) == 1:
            _push_forward(ticket_ids, now=now, report=report)
            return batch_size  # go on claiming: this ticket is out of the way now
        logger.warning("SLA sweep batch of %d tickets failed; redoing it one ticket at a time", len(ticket_ids))
    claimed = 0
    for ticket_id in ticket_ids:
        try:
            with transaction.atomic(), configcache.operation():
                records = _claim(now=now, limit=batch_size, ticket_id=ticket_id)
                batch = _process(records, now=now, cache=cache)
            report.add(batch)
            claimed += len(records)
        except Exception:
            _push_forward([ticket_id], now=now, report=report)
    return batch_size


def _push_forward(ticket_ids: list[int], *, now: datetime, report: SweepReport) -> None:
    for ticket_id in ticket_ids:
        report.errors += 1
        logger.exception("SLA sweep failed on ticket %s; retrying it in %s", ticket_id, POISON_RETRY)
        SlaRecord.objects.filter(ticket_id=ticket_id, next_check_at__lte=now).update(next_check_at=now + POISON_RETRY)


def _claim(*, now: datetime, limit: int, ticket_id: int | None = None) -> list[SlaRecord]:
    """Due records with their tickets, both row-locked; rows someone else holds are skipped."""
    due = (
        SlaRecord.objects.select_for_update(skip_locked=True, of=("self", "ticket"))
        .select_related("ticket", "ticket__queue", "ticket__queue__lead", "ticket__assignee", "ticket__category")
        .filter(next_check_at__lte=now)
        .order_by("next_check_at", "id")
    )
    if ticket_id is not None:
        due = due.filter(ticket_id=ticket_id)
    return list(due[:limit])


@dataclass
class _Outcome:
    """What one record reached in this sweep, before it is written."""

    record: SlaRecord
    levels: list[LadderLevel]
    became_breached: bool
    event: TicketEvent | None = None
    event_id: int | None = None  # PostgreSQL: taken from the events' sequence before the firings are written


def _process(records: list[SlaRecord], *, now: datetime, cache: RunCache) -> SweepReport:
    report = SweepReport()
    if not records:
        return report
    cache.ladders({r.policy_id for r in records})
    fired = _fired_levels([r.pk for r in records])

    # 2. outcomes, in Python
    outcomes: list[_Outcome] = []
    tickets: dict[int, Ticket] = {}
    for record in records:
        report.records += 1
        ticket = tickets.setdefault(record.ticket_id, record.ticket)
        record.ticket = ticket  # one object per ticket across its records
        schedule = cache.schedules.for_record(record)
        levels = cache.levels(record)
        if record.stopped_at is None and record.stage != Stage.PAUSED:
            due_levels = [
                lv for lv in levels if lv.pk not in fired[record.pk] and level_moment(record, lv, schedule) <= now
            ]
            # The engine's one breach rule (a replay of the breach event applies the same).
            became_breached = record.due_at <= now and mark_breached(record, schedule=schedule)
            if due_levels or became_breached:
                outcomes.append(_Outcome(record=record, levels=due_levels, became_breached=became_breached))
    report.tickets = len(tickets)

    # 3. writes: firings first (the guard), then events, records, firing→event links, outbox rows.
    # On PostgreSQL each outcome's event id is taken from the sequence first, so the firings are
    # written with it (the foreign key is checked at commit) instead of linked by a second UPDATE;
    # an id whose outcome turns out to have nothing to announce is left unused. Every outcome gets
    # one (or none does), so the events stay one insert.
    count = len(outcomes) if any(o.levels for o in outcomes) else 0
    for outcome, event_id in zip(outcomes, _new_event_ids(count), strict=False):
        outcome.event_id = event_id
    inserted = _insert_firings([(o.record.pk, lv.pk, o.event_id) for o in outcomes for lv in o.levels], now=now)
    for outcome in outcomes:
        outcome.levels = [lv for lv in outcome.levels if (outcome.record.pk, lv.pk) in inserted]
        fired[outcome.record.pk].update(lv.pk for lv in outcome.levels)
    outcomes = [o for o in outcomes if o.levels or o.became_breached]
    told = _told_of_breach([o for o in outcomes if not o.became_breached and o.record.breached_at is not None])
    notices = [
        notice
        for outcome in outcomes
        for notice in _announce(outcome, now=now, cache=cache, told=told.get(outcome.record.pk, set()))
    ]
    for outcome in outcomes:
        if outcome.event_id is not None:
            outcome.event.pk = outcome.event_id
    events.insert_many([o.event for o in outcomes])
    for record in records:
        plan(record, schedule=cache.schedules.for_record(record), levels=cache.levels(record), fired=fired[record.pk])
        if record.next_check_at is not None and record.next_check_at <= now:
            # Cannot happen by the rules above; if it ever does, never spin on it.
            logger.error("SLA record %s planned at %s, not after %s", record.pk, record.next_check_at, now)
            record.next_check_at = now + POISON_RETRY
    _update_records(records)
    _link_firings([(o.record.pk, lv.pk, o.event.pk) for o in outcomes for lv in o.levels if o.event_id is None])
    notify_many(notices, returning=False)

    # 4. side actions, per ticket, through the services that own them
    raise_ids: list[int] = []
    escalate: dict[int, list[str]] = defaultdict(list)
    for outcome in outcomes:
        record = outcome.record
        report.levels_fired += len(outcome.levels)
        if outcome.became_breached:
            report.breaches += 1
            if record.target == Target.TIER1_BUDGET:
                escalate[record.ticket_id].append("Tier 1 budget used up")
        elif not any(lv.is_at_or_after_due(record.target_seconds) for lv in outcome.levels):
            report.warnings += 1
        if any(lv.raise_priority for lv in outcome.levels) and record.ticket_id not in raise_ids:
            raise_ids.append(record.ticket_id)
        escalate[record.ticket_id] += [f"SLA ladder: {lv}" for lv in outcome.levels if lv.escalate]
    # Batch variants of the services: the same rules and effects, set-wise (one step up, then escalate).
    raise_ids = [pk for pk in raise_ids if tickets[pk].priority != Priority.P1]
    if raise_ids:
        ticket_services.tickets_raise_priority(ticket_ids=raise_ids, reason="Raised by the SLA ladder.")
    escalate = {pk: reasons for pk, reasons in escalate.items() if reasons}
    if escalate:
        # The ticket as it is now (a raise above saved it): still in Tier 1, not waiting on the requester.
        still = set(
            Ticket.objects.filter(
                pk__in=list(escalate), tier=Tier.ONE, status__in=[TicketStatus.NEW, TicketStatus.OPEN]
            ).values_list("pk", flat=True)
        )
        made = escalation_services.tickets_escalate_automatically(
            ticket_ids=[pk for pk in escalate if pk in still],
            trigger="time_exceeded",
            reasons={pk: "; ".join(reasons) for pk, reasons in escalate.items()},
        )
        for escalation in made:
            report.escalations += 1
            report.escalated_ticket_ids.append(escalation.ticket_id)
    # The rules see each ticket as it is now: the rows in hand, re-read in one query where a
    # side action changed them (the locks are still ours).
    touched = set(raise_ids) | set(escalate)
    if touched:
        related = ("queue", "queue__lead", "assignee", "category", "requester")
        tickets.update((t.pk, t) for t in Ticket.objects.select_related(*related).filter(pk__in=touched))
    # The sweep-moment trigger rules for the whole batch at once (their escalations batched too).
    rules.evaluate_trigger_rules_many(tickets=list(tickets.values()), moment=rules.Moment.SWEEP)
    return report


def _told_of_breach(outcomes: list[_Outcome]) -> dict[int, set[int | None]]:
    """Record id → who was already told of its breach (user ids; None: the team's webhooks), for
    records breached in an earlier sweep whose later ladder levels fire now. One query."""
    if not outcomes:
        return {}
    told: dict[int, set[int | None]] = defaultdict(set)
    for record_id, user_id, webhook_id in (
        Notification.objects.filter(
            ticket_id__in={o.record.ticket_id for o in outcomes},
            # paged about it counts as told (a page is its own kind)
            kind__in=[NotificationKind.SLA_BREACHED, NotificationKind.ON_CALL_PAGE],
            event__kind=EventKind.SLA_BREACHED,
            event__data__record_id__in=[o.record.pk for o in outcomes],
        )
        .filter(Q(recipient__isnull=False) | Q(webhook__isnull=False))
        .order_by()
        .values_list("event__data__record_id", "recipient_id", "webhook_id")
    ):
        told[record_id].add(user_id if webhook_id is None else None)
    return told


def _announce(outcome: _Outcome, *, now: datetime, cache: RunCache, told: set[int | None]) -> list[Notice]:
    """Build the outcome's one timeline event (unsaved) and its notices.

    A breach is announced once per person (and once to the team's webhooks): a ladder level
    after the breach tells only those not yet told of it (the manager at +1 h, say), so the
    assignee and the lead do not get "breached its SLA" a second time. `told`: from _told_of_breach.
    """
    record, levels, ticket = outcome.record, outcome.levels, outcome.record.ticket
    breach = outcome.became_breached or any(lv.is_at_or_after_due(record.target_seconds) for lv in levels)
    # Respect the calendar's hours: people are told during business time, unless
    # the ticket is P1; whoever is on call is paged regardless.
    in_hours = ticket.priority == Priority.P1 or bt.is_business_time(cache.schedules.for_record(record), now)
    recipients: list[User | None] = []
    on_call: User | None = None
    for level in levels:
        if level.notify_assignee:
            recipients.append(ticket.assignee or ticket.queue.lead)
        if level.notify_team_lead:
            recipients.append(ticket.queue.lead)
        recipients += cache.managers(level)
        if level.page_on_call:
            on_call = on_call or cache.on_call(ticket)
    if outcome.became_breached and not levels:
        recipients.append(ticket.assignee or ticket.queue.lead)  # a breach is never silent
    recipients = [user for user in recipients if user is not None and user.pk not in told]
    if on_call is not None and on_call.pk in told:
        on_call = None
    team_webhooks = None not in told
    data = {
        "record_id": record.pk,
        "level_ids": [level.pk for level in levels],  # a replay marks exactly these as fired
        "actions": sorted({action for level in levels for action in cache.actions(level)}),
        "held_outside_hours": bool(recipients) and not in_hours,
    }
    constructor = events.sla_breached if breach else events.sla_warning
    outcome.event = constructor(
        ticket=ticket,
        target=record.target,
        cycle=record.cycle,
        due_at=record.due_at,
        levels=[cache.label(level) for level in levels],
        data=data,
        save=False,
    )
    kind = NotificationKind.SLA_BREACHED if breach else NotificationKind.SLA_WARNING
    notices = []
    if on_call is not None:
        # A page whatever the level (a warning too): the on-call channels, never in-app only.
        # First, so that if they are also told below, their page is the row that counts.
        page = Notice(
            event=outcome.event, kind=NotificationKind.ON_CALL_PAGE, recipients=[on_call], team_webhooks=False
        )
        notices.append(page)
    if (in_hours and recipients) or (on_call is not None and team_webhooks):
        # The team's webhooks hear the SLA kind once per breach, with whoever is told in hours.
        notices.append(
            Notice(
                event=outcome.event, kind=kind, recipients=recipients if in_hours else [], team_webhooks=team_webhooks
            )
        )
    urls = [level.webhook_url for level in levels if level.webhook_url]
    if urls:
        notices.append(Notice(event=outcome.event, kind=kind, webhook_urls=urls, team_webhooks=False))
    return notices


def _actions(level: LadderLevel) -> list[str]:
    actions = []
    for name in ("notify_assignee", "notify_team_lead", "raise_priority", "escalate", "page_on_call"):
        if getattr(level, name):
            actions.append(name)
    if level.webhook_url:
        actions.append("webhook")
    return actions


# ---------------------------------------------------------------- bulk SQL


def _fired_levels(record_ids: list[int]) -> dict[int, set[int]]:
    fired: dict[int, set[int]] = defaultdict(set)
    # order_by(): the model's default ordering would join through to tickets for nothing.
    for record_id, level_id in (
        LadderFiring.objects.filter(record_id__in=record_ids).order_by().values_list("record_id", "level_id")
    ):
        fired[record_id].add(level_id)
    return fired


def _new_event_ids(count: int) -> list[int]:
    """`count` timeline event ids from the events' sequence (PostgreSQL; elsewhere none: the
    events get theirs when inserted and the firings are linked to them afterwards)."""
    if count == 0 or connection.vendor != "postgresql":
        return []
    return bulk.next_ids(TicketEvent._meta.db_table, count)


def _insert_firings(triples: list[tuple[int, int, int | None]], *, now: datetime) -> set[tuple[int, int]]:
    """Insert (record, level, event) firings; returns the (record, level) pairs this call inserted
    (a pair already there is not ours). The event id may be None (linked later)."""
    if not triples:
        return set()
    table = LadderFiring._meta.db_table
    if connection.vendor == "postgresql":  # plain tuples; thousands through COPY (tickets.bulk)
        rows = [(record_id, level_id, now, False, event_id) for record_id, level_id, event_id in triples]
        inserted = bulk.insert_rows(
            table,
            ("record_id", "level_id", "fired_at", "suppressed", "event_id"),
            rows,
            suffix="ON CONFLICT (record_id, level_id) DO NOTHING",
            returning="record_id, level_id",
        )
        return {(record_id, level_id) for record_id, level_id in inserted}
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(triples))
    fired_at = db_value(now)
    params = [
        value for record_id, level_id, event_id in triples for value in (record_id, level_id, fired_at, False, event_id)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (record_id, level_id, fired_at, suppressed, event_id) VALUES {rows} "
            "ON CONFLICT (record_id, level_id) DO NOTHING RETURNING record_id, level_id",
            params,
        )
        return {(record_id, level_id) for record_id, level_id in cursor.fetchall()}


def _update_records(records: list[SlaRecord]) -> None:
    rows = [(r.pk, *(getattr(r, name) for name, _ in WRITTEN)) for r in records]
    update_from_values(SlaRecord._meta.db_table, "id", WRITTEN, rows)


def _link_firings(triples: list[tuple[int, int, int]]) -> None:
    if not triples:
        return
    table = LadderFiring._meta.db_table
    postgres = connection.vendor == "postgresql"
    cast = "::bigint" if postgres else ""
    placeholders = ", ".join(["(%s, %s, %s)"] * len(triples))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET event_id = v.column3{cast} FROM (VALUES {placeholders}) AS v "
            f"WHERE {table}.record_id = v.column1{cast} AND {table}.level_id = v.column2{cast}",
            [item for triple in triples for item in triple],
        )
