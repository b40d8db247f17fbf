"""The SLA engine's one way in: a timeline event, applied to the ticket's SLA records.

Every service that changes something the clocks care about writes its timeline
event and then calls `apply(ticket=…, event=…)`, inside its transaction and
holding the ticket's row lock. Live operation, `sla_repair` and replays (the
what-if figures) all go through `step()`, so they cannot disagree:

    live    apply(ticket, event)       → step(Clock over the database rows, event)
    replay  replay(ticket, events)     → step(Clock over records in memory, event) for each event

`replay` is a pure function of (timeline events, policies, calendars, ladders):
it reads configuration, writes nothing. The sweep's own events (SLA warning and
breach) replay as the marks the sweep made: the levels fired, the breach at due.
docs/SLA.md says what each event does.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from tickets import events
from tickets.models import Category, EventKind, Site, Ticket, TicketEvent, TicketStatus, Tier

from . import services
from .models import SlaPolicy, SlaRecord, Stage
from .services import Clock, Replay, ScheduleCache

# Field changes that can choose another policy (its conditions: priority, category, site).
POLICY_FIELDS = ("priority", "category", "site")

# A policy may match security (restricted) tickets only, or the others.
RESTRICTION_KINDS = (EventKind.RESTRICTED, EventKind.RESTRICTION_LIFTED)

TIER_ACTIONS = {EventKind.ESCALATED: "escalate", EventKind.ACCEPTED: "accept", EventKind.RETURNED: "return"}

# Every kind step() acts on; anything else (notes, ratings, notifications…) leaves the clocks alone.
SLA_EVENT_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.COMMENTED,
        EventKind.PENDING,
        EventKind.RESUMED,
        *TIER_ACTIONS,
        EventKind.RESOLVED,
        EventKind.CLOSED,
        EventKind.REOPENED,
        EventKind.REASSIGNED,
        EventKind.PRIORITY_CHANGED,
        EventKind.FIELD_CHANGED,
        EventKind.RESTRICTED,
        EventKind.RESTRICTION_LIFTED,
        EventKind.SLA_WARNING,
        EventKind.SLA_BREACHED,
    }
)


def apply(*, ticket: Ticket, event: TicketEvent) -> None:
    """Apply one just-written timeline event to the ticket's records (live).

    `ticket` is the ticket as the service left it (after the change), its row locked.
    A recompute that moves due times writes one SLA-recomputed event saying how.
    """
    if event.kind not in SLA_EVENT_KINDS or event.kind in (EventKind.SLA_WARNING, EventKind.SLA_BREACHED):
        return  # the sweep marks its own warnings and breaches as it writes them
    clock = Clock(ticket, new_ticket=event.kind == EventKind.CREATED)
    changes = step(clock, event)
    clock.save()
    if changes:
        policy = clock.policy
        events.sla_recomputed(
            ticket=ticket,
            actor=event.actor,
            reason=f"Priority {ticket.priority}, {ticket.category}: SLA policy {policy or 'none'}",
            changes=changes,
        )


def start_new_ticket(*, ticket: Ticket, event: TicketEvent) -> Clock:
    """apply() for a ticket not inserted yet, in two halves: this one starts its clocks in memory
    (the same step() as apply(), the created event not saved yet either) and sets the ticket's due
    columns, so the ticket row is inserted once with them; `save_new_ticket` writes the records
    once the ticket has its primary key."""
    if event.kind != EventKind.CREATED or ticket.pk is not None:
        raise ValueError("start_new_ticket is for a ticket not inserted yet and its created event")
    clock = Clock(ticket, new_ticket=True)
    step(clock, event)  # a created event starts the clocks; it recomputes nothing
    ticket.first_response_due_at, ticket.resolution_due_at = services.ticket_due_from(clock.live)
    return clock


def save_new_ticket(clock: Clock) -> None:
    """The second half of start_new_ticket: its records, now that the ticket has been inserted."""
    for record in clock.created:
        record.ticket_id = clock.ticket.pk
    clock.save()  # the due columns already match: no update of the new row


def apply_many(items: list[tuple[Ticket, TicketEvent]]) -> None:
    """apply() for many tickets at once, one just-written event each (a batch action: the sweep's
    automatic escalations and priority raises). The same step() per ticket, over records read in
    a few queries for the whole batch and written back in a few statements (ClockBatch); the
    SLA-recomputed events are inserted together."""
    items = [
        (ticket, event)
        for ticket, event in items
        if event.kind in SLA_EVENT_KINDS and event.kind not in (EventKind.SLA_WARNING, EventKind.SLA_BREACHED)
    ]
    if not items:
        return
    if len({ticket.pk for ticket, _ in items}) != len(items):
        raise ValueError("apply_many takes one event per ticket; apply the next one in another call")
    if any(event.kind == EventKind.CREATED for _, event in items):
        raise ValueError("apply_many is for tickets that exist; a new ticket goes through apply()")
    batch = services.ClockBatch([ticket for ticket, _ in items])
    recomputed = []
    for ticket, event in items:
        clock = Clock(ticket, batch=batch)
        changes = step(clock, event)
        clock.save()
        if changes:
            recomputed.append(
                events.sla_recomputed(
                    ticket=ticket,
                    actor=event.actor,
                    reason=f"Priority {ticket.priority}, {ticket.category}: SLA policy {clock.policy or 'none'}",
                    changes=changes,
                    save=False,
                )
            )
    batch.flush()
    events.insert_many(recomputed)


def step(clock: Clock, event: TicketEvent) -> dict[str, tuple]:
    """What one event does to the clocks (clock.ticket is the ticket right after it).

    Returns the due-time changes of a recompute ({target: (old, new)}), else {}.
    """
    at, kind, data = event.created_at, event.kind, event.data or {}
    ticket = clock.ticket
    if kind == EventKind.CREATED:
        services.start_clocks(clock, at=at)
    elif kind == EventKind.COMMENTED:
        if comment_by(event, ticket) == "requester":
            services.start_next_response(clock, at=at)
        else:
            if event.actor_id != ticket.requester_id:  # an agent answering their own ticket is no first response
                services.stop_target(clock, target="first_response", at=at)
            services.stop_target(clock, target="next_response", at=at)
    elif kind == EventKind.PENDING:
        services.pause_clocks(clock, at=at)
    elif kind == EventKind.RESUMED:
        services.resume_clocks(clock, at=at)
    elif kind in TIER_ACTIONS:
        services.change_tier(clock, at=at, action=TIER_ACTIONS[kind])
    elif kind in (EventKind.RESOLVED, EventKind.CLOSED):  # closed straight away: a merged duplicate
        services.stop_all(clock, at=at)
    elif kind == EventKind.REOPENED:
        services.start_cycle(clock, at=at)
    elif kind in (EventKind.PRIORITY_CHANGED, EventKind.REASSIGNED, *RESTRICTION_KINDS) or (
        kind == EventKind.FIELD_CHANGED and set(POLICY_FIELDS) & set(data)
    ):
        return services.recompute_targets(clock, at=at)
    elif kind in (EventKind.SLA_WARNING, EventKind.SLA_BREACHED) and clock.replay is not None:
        _replay_sweep_marks(clock, event)
    return {}


def comment_by(event: TicketEvent, ticket: Ticket) -> str:
    """'agent' or 'requester' (older events do not say: the requester is whoever asked)."""
    by = (event.data or {}).get("by")
    if by in ("agent", "requester"):
        return by
    return "requester" if event.actor_id == ticket.requester_id else "agent"


def _replay_sweep_marks(clock: Clock, event: TicketEvent) -> None:
    """The sweep's warning or breach event, replayed: the levels it fired and the breach it recorded."""
    data = event.data or {}
    record = clock.live_record(data.get("target", ""))
    if record is None or record.cycle != data.get("cycle", record.cycle):
        return
    for level_id in data.get("level_ids", []):
        clock.replay.fired[id(record)].add(level_id)
        clock.replay.announced[id(record)].setdefault(level_id, (event.created_at, event.pk))
    if event.kind == EventKind.SLA_BREACHED and record.due_at <= event.created_at:
        services.mark_breached(record, schedule=clock.schedules.for_record(record))


# ---------------------------------------------------------------- replay


class TimelineEvent(NamedTuple):
    """A timeline event as step() reads it: a row, not a model instance (a replay of many tickets reads thousands)."""

    pk: int
    kind: str
    created_at: datetime
    data: dict
    actor_id: int | None


def timelines(ticket_ids: Iterable[int]) -> dict[int, list[TimelineEvent]]:
    """The SLA events of many tickets in one query, each ticket's in order: ticket id → events."""
    out: dict[int, list[TimelineEvent]] = defaultdict(list)
    rows = (
        TicketEvent.objects.filter(ticket_id__in=list(ticket_ids), kind__in=SLA_EVENT_KINDS)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "id", "kind", "created_at", "data", "actor_id")
    )
    for ticket_id, pk, kind, created_at, data, actor_id in rows:
        out[ticket_id].append(TimelineEvent(pk, kind, created_at, data, actor_id))
    return out


class Lookups:
    """Categories and sites a replay meets, by slug or id, each read once; a replay of many tickets shares one.

    `preload` reads them all up front (two queries): for a replay of a whole period.
    """

    def __init__(self, *, preload: bool = False):
        self._by_slug: dict[tuple[type, str], object] = {}
        self._by_id: dict[tuple[type, int], object] = {}
        if preload:
            for model in (Category, Site):
                for obj in model.objects.all():
                    self._by_slug[(model, obj.slug)] = self._by_id[(model, obj.pk)] = obj

    def _get(self, model, cache: dict, key, **lookup):
        if key is None or key == "":
            return None
        if (model, key) not in cache:
            cache[(model, key)] = model.objects.filter(**lookup).first()
        return cache[(model, key)]

    def category(self, slug: str | None) -> Category | None:
        return self._get(Category, self._by_slug, slug, slug=slug)

    def category_by_id(self, pk: int | None) -> Category | None:
        return self._get(Category, self._by_id, pk, pk=pk)

    def site(self, slug: str | None) -> Site | None:
        return self._get(Site, self._by_slug, slug, slug=slug)

    def site_by_id(self, pk: int | None) -> Site | None:
        return self._get(Site, self._by_id, pk, pk=pk)


def replay(
    *,
    ticket: Ticket,
    timeline: Iterable[TicketEvent | TimelineEvent] | None = None,
    policies: Callable[[Ticket], SlaPolicy | None] | None = None,
    schedules: ScheduleCache | None = None,
    lookups: Lookups | None = None,
    sweep_until: datetime | None = None,
    plans: bool = True,
    record_type: type = SlaRecord,
) -> Replay:
    """The records the ticket's timeline gives, built in memory (nothing is written).

    `timeline` defaults to the ticket's events; `policies` to the active policies
    (the what-if passes a draft). `schedules` and `lookups` are caches a replay of
    many tickets shares.

    `sweep_until`: also play the sweep's part, up to that moment. The sweep's own
    events in a timeline mark the due times that were live; under a draft policy
    the due times differ, so before each event (and at `sweep_until`) every running
    clock already due is marked breached at its due time, as the sweep does
    (mark_breached: the moment stands through a later pause). `plans` False skips
    the sweep's planning of each record (warn_at, next_check_at), which only the
    live sweep reads. `record_type`: SlaRecord (repair writes them), or
    services.RecordInMemory where only the outcome is read (the what-if).
    """
    if timeline is None:
        timeline = ticket.events.filter(kind__in=SLA_EVENT_KINDS).order_by("created_at", "id")
    timeline = [e for e in timeline if e.kind in SLA_EVENT_KINDS]
    result = Replay(plans=plans, record_type=record_type)
    lookups = lookups or Lookups()
    state = initial_state(ticket, timeline, lookups=lookups)
    schedules = schedules or ScheduleCache()
    for event in timeline:
        if sweep_until is not None:
            # Strictly before the event: work done at the due instant is on time (Clock.stop).
            _sweep(result, before=min(event.created_at, sweep_until), schedules=schedules)
        advance(state, event, lookups=lookups)
        clock = Clock(state, schedules=schedules, replay=result, policies=policies)
        step(clock, event)
        clock.save()
    if sweep_until is not None:
        _sweep(result, before=sweep_until + timedelta(microseconds=1), schedules=schedules)
    return result


def _sweep(result: Replay, *, before: datetime, schedules: ScheduleCache) -> None:
    """What the live sweep would have marked: each running clock due before `before`, breached at its due time."""
    for record in result.records:
        if record.stopped_at is None and record.stage == Stage.RUNNING and record.due_at < before:
            services.mark_breached(record, schedule=schedules.for_record(record))


def initial_state(ticket: Ticket, timeline: list, *, lookups: Lookups | None = None) -> Ticket:
    """The ticket as it was when logged (an unsaved copy; only replay reads it)."""
    lookups = lookups or Lookups()
    state = copy.copy(ticket)
    state.status, state.tier = TicketStatus.NEW, Tier.ONE
    created = next((e.data or {} for e in timeline if e.kind == EventKind.CREATED), {})
    state.priority = created.get("priority", ticket.priority)
    state.is_restricted = created.get("is_restricted", ticket.is_restricted)
    if "site_id" in created:
        state.site = lookups.site_by_id(created["site_id"])
    # Older creation events do not name category and site: walk their first change back.
    first = {name: created[name] for name in ("category", "site_id") if name in created}
    for event in timeline:
        if event.kind == EventKind.FIELD_CHANGED:
            for name, known in (("category", "category"), ("site", "site_id")):
                if name in (event.data or {}) and known not in first and name not in first:
                    first[name] = event.data[name]["old"]
    if "category" in first:
        state.category = lookups.category(first["category"]) or ticket.category
    if "site" in first:
        state.site = lookups.site(first["site"])
    return state


def advance(state: Ticket, event, *, lookups: Lookups) -> None:
    """Fold one event into the replayed ticket: status, tier and the fields policies match on."""
    kind, data = event.kind, event.data or {}
    if new_status := data.get("new_status"):
        state.status = new_status
    if kind == EventKind.COMMENTED and state.status == TicketStatus.NEW and comment_by(event, state) == "agent":
        state.status = TicketStatus.OPEN
    elif kind == EventKind.ESCALATED:
        state.status, state.tier = TicketStatus.ESCALATED, Tier.TWO
    elif kind == EventKind.ACCEPTED:
        state.status, state.tier = TicketStatus.OPEN, Tier.TWO
    elif kind == EventKind.RETURNED:
        state.status, state.tier = TicketStatus.OPEN, Tier.ONE
    elif kind == EventKind.PRIORITY_CHANGED and data.get("new"):
        state.priority = data["new"]
    elif kind in RESTRICTION_KINDS:
        state.is_restricted = kind == EventKind.RESTRICTED
    elif kind == EventKind.FIELD_CHANGED:
        if "priority" in data:
            state.priority = data["priority"]["new"]
        if "category" in data:
            state.category = lookups.category(data["category"]["new"]) or state.category
        if "site" in data:
            state.site = lookups.site(data["site"]["new"])
