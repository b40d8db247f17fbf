"""Rebuild a ticket's SLA records from its timeline (`manage.py sla_repair`).

The timeline is the record of what happened; the SLA records are derived from
it. Replaying the events through the same clock code gives the records the
hooks would have produced. Ladder levels and breaches already announced are
carried over (matched by target, cycle and start), so a repair never makes
the sweep announce them again.
"""

import copy

from django.db import transaction

from tickets.locks import lock_ticket
from tickets.models import Category, EventKind, Ticket, TicketStatus, Tier

from . import services
from .models import LadderFiring, SlaRecord, Stage

REPLAYED = {
    EventKind.CREATED,
    EventKind.COMMENTED,
    EventKind.ASSIGNED,
    EventKind.PENDING,
    EventKind.RESUMED,
    EventKind.ESCALATED,
    EventKind.ACCEPTED,
    EventKind.RETURNED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
    EventKind.CLOSED,
    EventKind.PRIORITY_CHANGED,
    EventKind.FIELD_CHANGED,
}


@transaction.atomic
def sla_repair_ticket(*, ticket_id: int) -> int:
    """Recompute one ticket's SLA records from its timeline; returns how many records it now has."""
    ticket = lock_ticket(ticket_id)
    old = {
        (r.target, r.cycle, r.started_at): r
        for r in SlaRecord.objects.filter(ticket_id=ticket.pk).prefetch_related("firings")
    }
    kept_firings = {key: list(record.firings.all()) for key, record in old.items()}
    SlaRecord.objects.filter(ticket_id=ticket.pk).delete()

    state = _initial_state(ticket)
    first_responded = False
    for event in ticket.events.filter(kind__in=REPLAYED).order_by("created_at", "id"):
        at, kind, data = event.created_at, event.kind, event.data or {}
        if kind == EventKind.CREATED:
            services.start_clocks(ticket=state, at=at)
        elif kind == EventKind.COMMENTED:
            if event.actor_id == ticket.requester_id:
                services.start_next_response(ticket=state, at=at)
            else:
                if not first_responded:
                    first_responded = True
                    services.stop_target(ticket=state, target="first_response", at=at)
                if state.status == TicketStatus.NEW:
                    state.status = TicketStatus.OPEN
                services.stop_target(ticket=state, target="next_response", at=at)
        elif kind == EventKind.ASSIGNED and state.status == TicketStatus.NEW:
            state.status = TicketStatus.OPEN
        elif kind == EventKind.PENDING:
            state.status = TicketStatus.PENDING
            services.pause_clocks(ticket=state, at=at)
        elif kind == EventKind.RESUMED:
            state.status = TicketStatus.OPEN
            services.resume_clocks(ticket=state, at=at)
        elif kind == EventKind.ESCALATED:
            state.status, state.tier = TicketStatus.ESCALATED, Tier.TWO
            services.change_tier(ticket=state, at=at, action="escalate")
        elif kind == EventKind.ACCEPTED:
            state.status, state.tier = TicketStatus.OPEN, Tier.TWO
            services.change_tier(ticket=state, at=at, action="accept")
        elif kind == EventKind.RETURNED:
            state.status, state.tier = TicketStatus.OPEN, Tier.ONE
            services.change_tier(ticket=state, at=at, action="return")
        elif kind == EventKind.RESOLVED:
            state.status = TicketStatus.RESOLVED
            services.stop_all(ticket=state, at=at)
        elif kind == EventKind.REOPENED:
            state.status = TicketStatus.OPEN
            services.start_cycle(ticket=state, at=at)
        elif kind == EventKind.CLOSED:
            state.status = TicketStatus.CLOSED
        elif kind in (EventKind.PRIORITY_CHANGED, EventKind.FIELD_CHANGED) and _apply_changes(state, kind, data):
            services.recompute_targets(ticket=state, at=at, record_event=False)

    records = list(SlaRecord.objects.filter(ticket_id=ticket.pk))
    firings = []
    for record in records:
        before = old.get((record.target, record.cycle, record.started_at))
        if before is None:
            continue
        if before.breached_at and record.breached_at is None and record.stopped_at is None:
            # Already announced as breached: keep it so, the sweep must not announce it again.
            record.breached_at, record.ever_breached, record.stage = before.breached_at, True, Stage.BREACHED
            record.save(update_fields=["breached_at", "ever_breached", "stage"])
        firings += [
            LadderFiring(record=record, level_id=f.level_id, fired_at=f.fired_at, suppressed=f.suppressed)
            for f in kept_firings[(record.target, record.cycle, record.started_at)]
        ]
    LadderFiring.objects.bulk_create(firings, ignore_conflicts=True)
    _replan(records)
    services.sync_ticket_due(ticket)
    return len(records)


def _initial_state(ticket: Ticket) -> Ticket:
    """The ticket as it was when logged: walk its field changes back from today's values."""
    state = copy.copy(ticket)
    state.status, state.tier = TicketStatus.NEW, Tier.ONE
    created = ticket.events.filter(kind=EventKind.CREATED).values_list("data", flat=True).first() or {}
    state.priority = created.get("priority", ticket.priority)
    first_category = None
    for data in (
        ticket.events.filter(kind=EventKind.FIELD_CHANGED).order_by("created_at", "id").values_list("data", flat=True)
    ):
        if "category" in (data or {}):
            first_category = data["category"]["old"]
            break
    if first_category:
        category = Category.objects.filter(slug=first_category).first()
        if category is not None:
            state.category = category
    return state


def _apply_changes(state: Ticket, kind: str, data: dict) -> bool:
    changed = False
    if kind == EventKind.PRIORITY_CHANGED and data.get("new"):
        state.priority, changed = data["new"], True
    if kind == EventKind.FIELD_CHANGED:
        if "priority" in data:
            state.priority, changed = data["priority"]["new"], True
        if "category" in data:
            category = Category.objects.filter(slug=data["category"]["new"]).first()
            if category is not None:
                state.category, changed = category, True
    return changed


def _replan(records: list[SlaRecord]) -> None:
    schedules = services.ScheduleCache()
    ladders = services.ladders_for(r.policy_id for r in records)
    fired = services.fired_levels(records)
    for record in records:
        services.plan(
            record,
            schedule=schedules.for_record(record),
            levels=ladders.get((record.policy_id, record.target), []),
            fired=fired.get(record.pk, set()),
        )
    SlaRecord.objects.bulk_update(records, ["next_check_at", "warn_at"])


def sla_repair(*, ticket_ids: list[int] | None = None, stdout=None) -> int:
    """Repair the given tickets, or every ticket that is open or has records; one transaction each."""
    if ticket_ids is None:
        ticket_ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    for count, ticket_id in enumerate(ticket_ids, start=1):
        sla_repair_ticket(ticket_id=ticket_id)
        if stdout and count % 1000 == 0:
            stdout.write(f"  … {count}/{len(ticket_ids)} tickets")
    return len(ticket_ids)
