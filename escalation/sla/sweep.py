"""The periodic SLA sweep (Celery beat every minute; `manage.py sla_sweep` by hand).

1. Read the ids of tickets with a record whose next_check_at has come, through
   the partial index on next_check_at — never a scan of open tickets. Bounded
   batches; a batch repeats until nothing is due.
2. Per ticket, in its own transaction: claim the ticket row with SKIP LOCKED
   (another worker or a service holds it: leave it for that one / the next
   minute), then read its due records and re-check under the lock.
3. For each due record: fire every ladder level whose moment has come and that
   has no LadderFiring row (the unique row is the exactly-once guard), mark a
   breach at due, write one timeline event and the outbox rows, plan the next
   check. Then the side actions: raise priority, escalate (levels asking for it,
   or the Tier 1 budget running out), and the SLA-moment trigger rules.
4. A ticket that raises is rolled back, its records' next_check_at is pushed
   forward and the error logged, so one poison ticket cannot stall the sweep.

Fired levels and breaches are committed with the ticket, so a crash loses at
most the ticket in hand and a rerun fires nothing twice; after downtime
everything overdue is due at once and is caught up in one pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tickets import events
from tickets.errors import DomainError
from tickets.models import Priority, Ticket, TicketStatus, Tier, User
from tickets.notifications.oncall import on_call_for
from tickets.notifications.services import notify, notify_webhook_url

from . import businesstime as bt
from .models import LadderFiring, LadderLevel, SlaRecord, Stage, SweepState, Target
from .services import SPLIT_FIELDS, ScheduleCache, fired_levels, ladders_for, level_moment, mark_breached, plan, raised

logger = logging.getLogger(__name__)

POISON_RETRY = timedelta(minutes=5)
MAX_BATCHES = 100  # per run; the next beat tick picks up the rest


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
    escalated_ticket_ids: list[int] = field(default_factory=list)

    def __str__(self):
        return (
            f"{self.tickets} tickets, {self.records} records checked: {self.levels_fired} ladder levels fired, "
            f"{self.warnings} warnings, {self.breaches} breaches, {self.escalations} automatic escalations, "
            f"{self.skipped_locked} busy (left for later), {self.errors} errors"
        )


def sla_sweep(*, now: datetime | None = None, batch_size: int = 500) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport()
    schedules = ScheduleCache()
    seen: set[int] = set()
    for _ in range(MAX_BATCHES):
        ticket_ids = list(
            SlaRecord.objects.filter(next_check_at__lte=now)
            .exclude(ticket_id__in=seen)
            .order_by("next_check_at")
            .values_list("ticket_id", flat=True)[:batch_size]
        )
        ticket_ids = list(dict.fromkeys(ticket_ids))  # keep order, drop repeats
        if not ticket_ids:
            break
        for ticket_id in ticket_ids:
            seen.add(ticket_id)
            try:
                _sweep_ticket(ticket_id, now=now, report=report, schedules=schedules)
            except Exception:
                report.errors += 1
                logger.exception("SLA sweep failed on ticket %s; retrying it in %s", ticket_id, POISON_RETRY)
                SlaRecord.objects.filter(ticket_id=ticket_id, next_check_at__lte=now).update(
                    next_check_at=now + POISON_RETRY
                )
    SweepState.objects.update_or_create(pk=1, defaults={"last_swept_at": now, "last_report": str(report)[:300]})
    return report


@transaction.atomic
def _sweep_ticket(ticket_id: int, *, now: datetime, report: SweepReport, schedules: ScheduleCache) -> None:
    ticket = (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("queue", "queue__lead", "assignee", "category", "requester")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        report.skipped_locked += 1  # another worker (or a service) holds it
        return
    # Re-check under the lock: another worker may have handled it a moment ago.
    records = list(SlaRecord.objects.filter(ticket_id=ticket_id, next_check_at__lte=now).order_by("id"))
    if not records:
        return
    report.tickets += 1
    ladders = ladders_for(r.policy_id for r in records)
    fired = fired_levels(records)
    escalate_reasons: list[str] = []
    raise_priority = False
    for record in records:
        report.records += 1
        schedule = schedules.for_record(record)
        levels = ladders.get((record.policy_id, record.target), [])
        if record.stopped_at is not None or record.stage == Stage.PAUSED:
            plan(record, schedule=schedule, levels=levels, fired=fired[record.pk])
            record.save(update_fields=["next_check_at", "warn_at"])
            continue
        due_levels = [
            level
            for level in levels
            if level.pk not in fired[record.pk] and level_moment(record, level, schedule) <= now
        ]
        became_breached = record.due_at <= now and mark_breached(record, schedule=schedule)
        if became_breached:
            report.breaches += 1
            if record.target == Target.TIER1_BUDGET:
                escalate_reasons.append("Tier 1 budget used up")
        if due_levels or became_breached:
            _announce(ticket, record, due_levels, became_breached=became_breached, now=now, schedule=schedule)
            report.levels_fired += len(due_levels)
            if not became_breached and not any(lv.is_at_or_after_due(record.target_seconds) for lv in due_levels):
                report.warnings += 1
            fired[record.pk].update(level.pk for level in due_levels)
            raise_priority = raise_priority or any(level.raise_priority for level in due_levels)
            escalate_reasons += [f"SLA ladder: {level}" for level in due_levels if level.escalate]
        plan(record, schedule=schedule, levels=levels, fired=fired[record.pk])
        record.save(update_fields=["stage", "breached_at", "ever_breached", "next_check_at", "warn_at", *SPLIT_FIELDS])

    # Side actions go through the services that own them; they re-enter the SLA
    # hooks (recompute, tier change), which is why the records are saved first.
    if raise_priority and ticket.priority != Priority.P1:
        _raise_priority(ticket)
    if escalate_reasons and _escalate(ticket, reasons=escalate_reasons):
        report.escalations += 1
        report.escalated_ticket_ids.append(ticket.pk)
    from escalation import rules

    rules.evaluate_trigger_rules(ticket_id=ticket.pk, moment=rules.Moment.SWEEP)


def _announce(
    ticket: Ticket,
    record: SlaRecord,
    levels: list[LadderLevel],
    *,
    became_breached: bool,
    now: datetime,
    schedule: bt.Schedule,
) -> None:
    """One timeline event for what this record reached, its LadderFiring rows and its outbox rows."""
    breach = became_breached or any(level.is_at_or_after_due(record.target_seconds) for level in levels)
    # Respect the calendar's hours: people are told during business time, unless
    # the ticket is P1; whoever is on call is paged regardless.
    in_hours = ticket.priority == Priority.P1 or bt.is_business_time(schedule, now)
    recipients: list[User] = []
    on_call: User | None = None
    for level in levels:
        if level.notify_assignee:
            recipients.append(ticket.assignee or ticket.queue.lead)
        if level.notify_team_lead:
            recipients.append(ticket.queue.lead)
        recipients += list(level.notify_managers.all())
        if level.page_on_call:
            on_call = on_call or on_call_for(queue=ticket.queue, at=now)
    if became_breached and not levels:
        recipients.append(ticket.assignee or ticket.queue.lead)  # a breach is never silent
    recipients = [user for user in recipients if user is not None]
    names = [str(level) for level in levels]
    data = {
        "record_id": record.pk,
        "level_ids": [level.pk for level in levels],  # a replay marks exactly these as fired
        "actions": sorted({action for level in levels for action in _actions(level)}),
        "held_outside_hours": bool(recipients) and not in_hours,
    }
    constructor = events.sla_breached if breach else events.sla_warning
    event = constructor(
        ticket=ticket, target=record.target, cycle=record.cycle, due_at=record.due_at, levels=names, data=data
    )
    LadderFiring.objects.bulk_create(
        [LadderFiring(record=record, level=level, fired_at=now, event=event) for level in levels]
    )
    kind = "sla_breached" if breach else "sla_warning"
    if in_hours and recipients:
        notify(event=event, kind=kind, recipients=recipients)
    if on_call is not None:
        notify(event=event, kind=kind, recipients=[on_call])
    for level in levels:
        if level.webhook_url:
            notify_webhook_url(event=event, kind=kind, url=level.webhook_url)


def _actions(level: LadderLevel) -> list[str]:
    actions = []
    for name in ("notify_assignee", "notify_team_lead", "raise_priority", "escalate", "page_on_call"):
        if getattr(level, name):
            actions.append(name)
    if level.webhook_url:
        actions.append("webhook")
    return actions


def _raise_priority(ticket: Ticket) -> None:
    from tickets.services import ticket_change_priority

    ticket_change_priority(
        ticket_id=ticket.pk, priority=raised(ticket.priority), reason="Raised by the SLA ladder.", acting_user=None
    )


def _escalate(ticket: Ticket, *, reasons: list[str]) -> bool:
    """Escalate along the category's path with trigger time_exceeded, carrying whatever handoff exists."""
    ticket.refresh_from_db(fields=["status", "tier"])
    if ticket.tier != Tier.ONE or ticket.status not in (TicketStatus.NEW, TicketStatus.OPEN):
        return False
    from escalation import services as escalation_services

    try:
        with transaction.atomic():  # a refusal must not undo the breach we just recorded
            escalation_services.ticket_escalate(
                ticket_id=ticket.pk,
                trigger="time_exceeded",
                handoff=escalation_services.handoff_from_ticket(ticket=ticket),
                acting_user=None,
                automatic=True,
            )
    except DomainError as error:
        detail = getattr(error, "errors", None) or error.message
        logger.warning("Automatic escalation of %s refused: %s", ticket.reference, detail)
        return False
    return True
