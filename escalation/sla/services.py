"""The SLA clock: starting, pausing, stopping and recomputing a ticket's SLA records.

Called from escalation.sla.engine (one event at a time) inside the ticket service's transaction, with
the ticket row already locked (tickets.locks.lock_ticket), so the records of one
ticket are only ever written by whoever holds that ticket's lock.

Due time of a record = started_at + (target + paused business time), counted on
the record's calendar. Everything below keeps that one formula true.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max, Q

from tickets import bulk, configcache
from tickets.conditions import Facts, matches
from tickets.locks import update_from_values
from tickets.models import Ticket, TicketStatus, Tier, site_time_zone

from . import businesstime as bt
from .models import (
    Calendar,
    Holiday,
    LadderFiring,
    LadderLevel,
    Segment,
    SlaPolicy,
    SlaRecord,
    Stage,
    Target,
    WorkingInterval,
)

logger = logging.getLogger(__name__)

LIVE_STAGES = (Stage.RUNNING, Stage.PAUSED, Stage.BREACHED)
# What waits while the ticket waits on the requester. A first response not yet
# given keeps counting unless the policy says otherwise (PRODUCT.md "SLA clock").
PAUSING_TARGETS = {Target.RESOLUTION, Target.NEXT_RESPONSE, Target.TIER1_BUDGET, Target.TIER2_ACCEPT}


# ---------------------------------------------------------------- calendars


class ScheduleCache:
    """Schedules by (calendar, zone) for the length of one operation (a hook call or one sweep)."""

    def __init__(self):
        self._schedules: dict[tuple[int | None, str], bt.Schedule] = {}

    def get(self, calendar_id: int | None, time_zone: str) -> bt.Schedule:
        key = (calendar_id, time_zone)
        if key not in self._schedules:
            self._schedules[key] = load_schedule(calendar_id=calendar_id, time_zone=time_zone)
        return self._schedules[key]

    def for_record(self, record: SlaRecord) -> bt.Schedule:
        return self.get(record.calendar_id, record.time_zone)


def load_schedule(*, calendar_id: int | None, time_zone: str | None = None) -> bt.Schedule:
    if calendar_id is None:
        return bt.TWENTY_FOUR_SEVEN
    # Per process until the configuration changes (tickets.configcache).
    return configcache.cached(
        f"schedule:{calendar_id}:{time_zone or ''}",
        lambda: _load_schedule(calendar_id=calendar_id, time_zone=time_zone),
    )


def _load_schedule(*, calendar_id: int, time_zone: str | None) -> bt.Schedule:
    calendar = Calendar.objects.get(pk=calendar_id)
    zone = time_zone or calendar.time_zone
    if calendar.is_24x7:
        return bt.Schedule(time_zone=zone, is_24x7=True)
    intervals = [
        (i.weekday, i.start_minutes, i.end_minutes) for i in WorkingInterval.objects.filter(calendar_id=calendar_id)
    ]
    holidays = set(Holiday.objects.filter(calendar_id=calendar_id).values_list("date", flat=True))
    return bt.Schedule.build(time_zone=zone, intervals=intervals, holidays=holidays)


# ---------------------------------------------------------------- policies


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The first active policy whose conditions all hold, else the default (else none: no clocks)."""
    default = None
    for policy in _cached_policies():  # only read here: the one chosen is copied
        if policy.is_default:
            default = default or policy
            continue
        if _matches(policy, ticket):
            return copy.copy(policy)
    return copy.copy(default) if default is not None else None


def active_policies() -> list[SlaPolicy]:
    """Active policies in the order they are tried, with their calendars; per process until changed."""
    # Copies: a caller may hang related objects on its policy; the cached ones stay clean.
    return [copy.copy(policy) for policy in _cached_policies()]


def _cached_policies() -> list[SlaPolicy]:
    def load() -> list[SlaPolicy]:
        return list(SlaPolicy.objects.filter(is_active=True).select_related("calendar").order_by("position", "id"))

    return configcache.cached("sla_policies", load)


def _matches(policy: SlaPolicy, ticket: Ticket) -> bool:
    return matches(policy.conditions, Facts.of_ticket(ticket))


def _time_zone_for(policy: SlaPolicy, ticket: Ticket) -> str:
    if policy.use_site_time_zone and ticket.site_id:
        if not isinstance(ticket, Ticket) or Ticket.site.is_cached(ticket):
            return ticket.site.time_zone  # in hand: a loaded site, or a what-if replay's row (its lookups)
        return site_time_zone(ticket.site_id) or ticket.site.time_zone  # cached: no query at intake
    if policy.calendar_id:
        return policy.calendar.time_zone
    return "UTC"


# ---------------------------------------------------------------- record arithmetic


def segment_for(ticket: Ticket) -> str:
    """Where the time goes right now, by the ticket's state."""
    if ticket.status == TicketStatus.PENDING:
        return Segment.PAUSED
    if ticket.status == TicketStatus.ESCALATED:
        return Segment.AWAITING_TIER2
    return Segment.TIER2 if ticket.tier == Tier.TWO else Segment.TIER1


def compute_due(record: SlaRecord, schedule: bt.Schedule) -> datetime:
    return bt.add_business_seconds(schedule, record.started_at, record.target_seconds + record.paused_business_seconds)


def level_moment(record: SlaRecord, level: LadderLevel, schedule: bt.Schedule) -> datetime:
    seconds = level.offset_seconds(record.target_seconds) + record.paused_business_seconds
    return bt.add_business_seconds(schedule, record.started_at, seconds)


def switch_segment(record: SlaRecord, *, at: datetime, schedule: bt.Schedule, segment: str | None) -> None:
    """Close the running tier segment (attributing its business time) and open `segment` (None: stop)."""
    if record.segment_started_at is not None and record.segment_tier:
        seconds = bt.business_seconds_between(schedule, record.segment_started_at, at)
        field = f"{record.segment_tier}_seconds"
        setattr(record, field, getattr(record, field) + seconds)
    record.segment_started_at = at if segment else None
    record.segment_tier = segment or ""


def plan(record: SlaRecord, *, schedule: bt.Schedule, levels: Iterable[LadderLevel], fired: set[int]) -> None:
    """Set warn_at and next_check_at: the next moment the sweep must look at this record."""
    levels = list(levels)
    before_due = [lv for lv in levels if not lv.is_at_or_after_due(record.target_seconds)]
    record.warn_at = min((level_moment(record, lv, schedule) for lv in before_due), default=None)
    if record.stopped_at is not None or record.stage == Stage.PAUSED:
        record.next_check_at = None
        return
    moments = [level_moment(record, lv, schedule) for lv in levels if lv.pk not in fired]
    if record.breached_at is None:
        moments.append(record.due_at)
    record.next_check_at = min(moments, default=None)


def ladders_for(policy_ids: Iterable[int | None]) -> dict[tuple[int, str], list[LadderLevel]]:
    """Ladder levels by (policy, target), in firing order (offsets only: for planning; per process until changed)."""

    def load() -> dict[int, dict[tuple[int, str], list[LadderLevel]]]:
        # by policy, so that a clock's save (thousands in a sweep batch) looks up only its own
        every: dict[int, dict[tuple[int, str], list[LadderLevel]]] = defaultdict(lambda: defaultdict(list))
        for level in LadderLevel.objects.order_by("position", "id"):
            every[level.policy_id][(level.policy_id, level.target)].append(level)
        return {pk: dict(by_target) for pk, by_target in every.items()}

    ids = {pk for pk in policy_ids if pk}
    every = configcache.cached("sla_ladders", load) if ids else {}
    ladders: dict[tuple[int, str], list[LadderLevel]] = defaultdict(list)
    for pk in ids:
        for key, levels in every.get(pk, {}).items():
            ladders[key] = list(levels)
    return ladders


def fired_levels(records: Iterable[SlaRecord]) -> dict[int, set[int]]:
    fired: dict[int, set[int]] = defaultdict(set)
    ids = [r.pk for r in records if r.pk]
    if ids:
        # order_by(): the model's default ordering would join through to tickets for nothing.
        firings = LadderFiring.objects.filter(record_id__in=ids).order_by().values_list("record_id", "level_id")
        for record_id, level_id in firings:
            fired[record_id].add(level_id)
    return fired


# ---------------------------------------------------------------- the clock's life


class RecordInMemory:
    """An SlaRecord's fields on a plain object, for replays that only read outcomes (the what-if).

    Building a model instance costs tens of microseconds, and a what-if over a
    period builds tens of thousands of records. This has the same attributes
    (every field's attname, its default, `policy` kept in step with `policy_id`,
    `pk`), so the engine's code cannot tell the difference; it cannot be saved.
    """

    _defaults: dict | None = None

    def __init__(self, **values):
        if RecordInMemory._defaults is None:
            # What SlaRecord() would hold (its defaults are constants, none callable).
            RecordInMemory._defaults = {f.attname: f.get_default() for f in SlaRecord._meta.concrete_fields}
        self.__dict__.update(RecordInMemory._defaults)
        self._policy = None
        for name, value in values.items():
            setattr(self, name, value)

    @property
    def pk(self):
        return self.id

    @property
    def policy(self) -> SlaPolicy | None:
        return self._policy

    @policy.setter
    def policy(self, policy: SlaPolicy | None) -> None:
        self._policy = policy
        self.policy_id = policy.pk if policy is not None else None


@dataclass
class Replay:
    """Records kept in memory instead of the database: what a replay (repair, what-if) builds.

    `fired` holds the ladder levels each record has passed (keyed by id(record), as
    unsaved records have no pk yet); `suppressed` the levels a recompute passed
    without announcing them, as (record, level, at). `plans` False skips the
    sweep's planning (warn_at, next_check_at): a what-if reads outcomes only.
    `record_type` is what new records are built as: SlaRecord (repair saves them)
    or RecordInMemory (the what-if only reads them).
    """

    records: list[SlaRecord] = field(default_factory=list)
    plans: bool = True
    record_type: type = SlaRecord
    fired: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    announced: dict[int, dict[int, tuple[datetime, int | None]]] = field(default_factory=lambda: defaultdict(dict))
    suppressed: list[tuple[SlaRecord, LadderLevel, datetime]] = field(default_factory=list)


class Clock:
    """One event's view of a ticket's records, with the calendars and ladders it needs.

    Loads the live records once (from the database, or from a Replay), lets the
    engine change them in memory, and `save()` re-plans the sweep and, unless
    replaying, writes them back and syncs the ticket's denormalised due columns.
    """

    def __init__(
        self,
        ticket: Ticket,
        *,
        schedules: ScheduleCache | None = None,
        replay: Replay | None = None,
        policies: Callable[[Ticket], SlaPolicy | None] = None,
        new_ticket: bool = False,
        batch: ClockBatch | None = None,
    ):
        self.ticket = ticket
        self.batch = batch
        self.schedules = schedules or (batch.schedules if batch is not None else ScheduleCache())
        self.replay = replay
        self.policies = policies or policy_for
        # A ticket created in this transaction has no records yet: nothing to read.
        self.new_ticket = new_ticket
        if replay is not None:
            self.live = [r for r in replay.records if r.stopped_at is None]
        elif batch is not None:
            self.live = batch.live_of(ticket.pk)
        elif new_ticket:
            self.live = []
        else:
            self.live = list(SlaRecord.objects.filter(ticket_id=ticket.pk, stopped_at__isnull=True).order_by("id"))
        self.created: list[SlaRecord] = []
        self._policy: SlaPolicy | None | bool = False

    @property
    def policy(self) -> SlaPolicy | None:
        if self._policy is False:
            self._policy = self.policies(self.ticket)
        return self._policy

    def current_cycle(self) -> int:
        if self.live:
            return max(r.cycle for r in self.live)
        if self.replay is not None:
            return max((r.cycle for r in self.replay.records), default=1)
        if self.batch is not None:
            return self.batch.cycle_of(self.ticket.pk)
        return SlaRecord.objects.filter(ticket_id=self.ticket.pk).aggregate(c=Max("cycle"))["c"] or 1

    def live_record(self, target: str) -> SlaRecord | None:
        return next((r for r in self.live if r.target == target and r.stopped_at is None), None)

    def fired(self, records: Iterable[SlaRecord]) -> dict[int, set[int]]:
        """Levels already passed, keyed by the key `fired_key` gives each record."""
        if self.replay is not None:
            return self.replay.fired
        if self.batch is not None:
            return self.batch.fired
        return fired_levels(records)

    def fired_key(self, record: SlaRecord) -> int:
        return id(record) if self.replay is not None else record.pk

    def start(self, target: str, *, at: datetime, cycle: int, policy: SlaPolicy | None = None) -> SlaRecord | None:
        policy = policy if policy is not None else self.policy
        if policy is None or self.live_record(target) is not None:
            return None
        minutes = policy.target_minutes(target)
        if minutes is None:
            return None
        time_zone = _time_zone_for(policy, self.ticket)
        schedule = self.schedules.get(policy.calendar_id, time_zone)
        due = bt.add_business_minutes(schedule, at, minutes)
        record = (self.replay.record_type if self.replay is not None else SlaRecord)(
            ticket_id=self.ticket.pk,
            target=target,
            cycle=cycle,
            policy=policy,
            calendar_id=policy.calendar_id,
            time_zone=time_zone,
            target_seconds=minutes * 60,
            started_at=at,
            due_at=due,
            original_due_at=due,
            segment_started_at=at,
            segment_tier=segment_for(self.ticket),
        )
        if self.ticket.status == TicketStatus.PENDING:
            self.pause(record, at=at)
        self.live.append(record)
        self.created.append(record)
        return record

    def stop(self, record: SlaRecord, *, at: datetime, cancel: bool = False) -> None:
        schedule = self.schedules.for_record(record)
        self._unpause(record, at=at, schedule=schedule)
        switch_segment(record, at=at, schedule=schedule, segment=None)
        record.stopped_at = at
        if cancel:
            record.stage = Stage.CANCELLED
        elif record.breached_at is not None or at > record.due_at:
            record.stage = Stage.BREACHED
            record.breached_at = record.breached_at or record.due_at
            record.ever_breached = True
        else:
            record.stage = Stage.MET

    def pauses(self, record: SlaRecord) -> bool:
        if record.target == Target.FIRST_RESPONSE:
            return bool(record.policy and record.policy.pause_first_response)
        return record.target in PAUSING_TARGETS

    def pause(self, record: SlaRecord, *, at: datetime) -> None:
        if record.stage != Stage.PAUSED and self.pauses(record):
            record.stage = Stage.PAUSED
            record.paused_since = at

    def _unpause(self, record: SlaRecord, *, at: datetime, schedule: bt.Schedule) -> None:
        if record.stage != Stage.PAUSED:
            return
        record.paused_business_seconds += bt.business_seconds_between(schedule, record.paused_since, at)
        record.paused_since = None
        record.due_at = compute_due(record, schedule)
        record.stage = Stage.BREACHED if record.breached_at else Stage.RUNNING

    def resume(self, record: SlaRecord, *, at: datetime) -> None:
        self._unpause(record, at=at, schedule=self.schedules.for_record(record))

    def switch_all(self, *, at: datetime, segment: str) -> None:
        for record in self.live:
            if record.stopped_at is None:
                switch_segment(record, at=at, schedule=self.schedules.for_record(record), segment=segment)

    def mark_current_cycle(self, cycle: int) -> None:
        """A reopen: every earlier record leaves the current cycle."""
        if self.replay is not None:
            for record in self.replay.records:
                record.is_current = record.cycle >= cycle
        else:
            SlaRecord.objects.filter(ticket_id=self.ticket.pk, is_current=True).update(is_current=False)
        for record in self.live:
            record.is_current = record.cycle >= cycle

    def suppress(self, record: SlaRecord, level: LadderLevel, *, at: datetime) -> None:
        """A level a recompute passed: recorded as fired, never announced."""
        if self.replay is not None:
            self.replay.suppressed.append((record, level, at))
        elif self.batch is not None:
            self.batch.suppressed.append(LadderFiring(record=record, level=level, fired_at=at, suppressed=True))
        else:
            LadderFiring.objects.bulk_create(
                [LadderFiring(record=record, level=level, fired_at=at, suppressed=True)], ignore_conflicts=True
            )

    def save(self) -> None:
        touched = [r for r in self.live if r not in self.created]
        if self.replay is None or self.replay.plans:  # a what-if reads outcomes, not the sweep's plan
            ladders = ladders_for(r.policy_id for r in self.live)
            fired = self.fired(touched)
            for record in self.live:
                plan(
                    record,
                    schedule=self.schedules.for_record(record),
                    levels=ladders.get((record.policy_id, record.target), []),
                    fired=fired.get(self.fired_key(record), set()),
                )
        if self.replay is not None:
            self.replay.records += [r for r in self.created if r not in self.replay.records]
            return
        if self.batch is not None:
            self.batch.saved(self, touched)
            return
        if touched:
            SlaRecord.objects.bulk_update(touched, RECORD_FIELDS)
        if self.created:
            SlaRecord.objects.bulk_create(self.created)
        sync_ticket_due(self.ticket, records=self.live if self.new_ticket else None)


# The tier split: closed segments per tier and the open one.
SPLIT_FIELDS = [
    "tier1_seconds",
    "awaiting_tier2_seconds",
    "tier2_seconds",
    "paused_seconds",
    "segment_started_at",
    "segment_tier",
]
# What the clock works out (the sweep's plan, next_check_at and warn_at, follows from these).
STATE_FIELDS = [
    "policy",
    "calendar",
    "time_zone",
    "target_seconds",
    "due_at",
    "original_due_at",
    "paused_business_seconds",
    "paused_since",
    "stage",
    "stopped_at",
    "breached_at",
    "ever_breached",
    *SPLIT_FIELDS,
    "is_current",
]
RECORD_FIELDS = [*STATE_FIELDS, "warn_at", "next_check_at"]


class ClockBatch:
    """The clocks of many tickets, one event each (engine.apply_many): their live records, the
    levels fired and the records the due columns follow, read in three queries for all of them;
    what the clocks change is written in a handful of statements by `flush()`, as each Clock.save
    would have written it (same rows, same ticket due columns)."""

    def __init__(self, tickets: list[Ticket]):
        self.schedules = ScheduleCache()
        self.tickets = {ticket.pk: ticket for ticket in tickets}
        self._live: dict[int, list[SlaRecord]] = defaultdict(list)
        self._due_sources: dict[int, list[SlaRecord]] = defaultdict(list)
        records = SlaRecord.objects.filter(ticket_id__in=list(self.tickets)).filter(
            Q(stopped_at__isnull=True) | Q(target__in=[Target.FIRST_RESPONSE, Target.RESOLUTION])
        )
        for record in records.order_by("id"):
            if record.stopped_at is None:
                self._live[record.ticket_id].append(record)
            if record.target in (Target.FIRST_RESPONSE, Target.RESOLUTION):
                self._due_sources[record.ticket_id].append(record)
        self.fired = fired_levels(r for live in self._live.values() for r in live)
        self.suppressed: list[LadderFiring] = []
        self.touched: list[SlaRecord] = []
        self.created: list[SlaRecord] = []
        self._cycles: dict[int, int] | None = None

    def live_of(self, ticket_id: int) -> list[SlaRecord]:
        return list(self._live[ticket_id])

    def cycle_of(self, ticket_id: int) -> int:
        """Clock.current_cycle of a ticket with no live record (none, or all stopped): read once
        for the whole batch, when the first such ticket asks."""
        if self._cycles is None:
            self._cycles = dict(
                SlaRecord.objects.filter(ticket_id__in=list(self.tickets))
                .order_by()
                .values("ticket_id")
                .annotate(c=Max("cycle"))
                .values_list("ticket_id", "c")
            )
        return self._cycles.get(ticket_id) or 1

    def saved(self, clock: Clock, touched: list[SlaRecord]) -> None:
        self.touched += touched
        self.created += clock.created
        self._due_sources[clock.ticket.pk] += [
            r for r in clock.created if r.target in (Target.FIRST_RESPONSE, Target.RESOLUTION)
        ]

    def flush(self) -> None:
        if self.suppressed:
            LadderFiring.objects.bulk_create(self.suppressed, ignore_conflicts=True)
        if self.touched:
            rows = [(r.pk, *(getattr(r, RECORD_FIELDS_ATTNAMES[name]) for name in RECORD_FIELDS)) for r in self.touched]
            update_from_values(SlaRecord._meta.db_table, "id", RECORD_COLUMNS, rows)
        bulk.insert_objects(self.created)
        moved = []
        for ticket_id, ticket in self.tickets.items():
            first, resolution = ticket_due_from(self._due_sources[ticket_id])
            if (ticket.first_response_due_at, ticket.resolution_due_at) != (first, resolution):
                ticket.first_response_due_at, ticket.resolution_due_at = first, resolution
                moved.append((ticket_id, first, resolution))
        update_from_values(
            Ticket._meta.db_table,
            "id",
            [("first_response_due_at", "timestamptz"), ("resolution_due_at", "timestamptz")],
            moved,
        )


def _sql_type(field) -> str:
    internal = field.get_internal_type()
    if internal in ("ForeignKey", "AutoField", "BigAutoField") or "Integer" in internal:
        return "bigint"
    if internal == "DateTimeField":
        return "timestamptz"
    if internal == "BooleanField":
        return "boolean"
    return "text"


RECORD_FIELDS_ATTNAMES = {name: SlaRecord._meta.get_field(name).attname for name in RECORD_FIELDS}
# (column, SQL type) of RECORD_FIELDS, for ClockBatch.flush's UPDATE … FROM (VALUES …).
RECORD_COLUMNS = [
    (SlaRecord._meta.get_field(name).column, _sql_type(SlaRecord._meta.get_field(name))) for name in RECORD_FIELDS
]


def ticket_due_from(records: Iterable[SlaRecord]) -> tuple[datetime | None, datetime | None]:
    """(first response due, resolution due): the latest cycle's records, a cancelled one counting as none."""
    due = {Target.FIRST_RESPONSE: None, Target.RESOLUTION: None}
    ordered = sorted(
        (r for r in records if r.target in due and r.stage != Stage.CANCELLED),
        key=lambda r: (r.cycle, r.started_at, r.pk or 0),
    )
    for record in ordered:
        due[record.target] = record.due_at  # the latest cycle wins
    return due[Target.FIRST_RESPONSE], due[Target.RESOLUTION]


def sync_ticket_due(ticket: Ticket, *, records: list[SlaRecord] | None = None) -> None:
    """Keep Ticket.first_response_due_at / resolution_due_at in step with the current cycle's records.

    `records`: every record the ticket has, when the caller holds them all (a new ticket).
    """
    if records is None:
        records = SlaRecord.objects.filter(
            ticket_id=ticket.pk, target__in=[Target.FIRST_RESPONSE, Target.RESOLUTION]
        ).only("target", "cycle", "started_at", "stage", "due_at")
    first, resolution = ticket_due_from(records)
    if (ticket.first_response_due_at, ticket.resolution_due_at) != (first, resolution):
        # Two denormalised columns, written beside the service's own save (it
        # never lists them in update_fields, so neither write clobbers the other).
        Ticket.objects.filter(pk=ticket.pk).update(first_response_due_at=first, resolution_due_at=resolution)
        ticket.first_response_due_at, ticket.resolution_due_at = first, resolution


def mark_breached(record: SlaRecord, *, schedule: bt.Schedule) -> bool:
    """A running record whose due time has come is breached at its due time (True if it just became so).

    The sweep calls this live, a replay when it meets the sweep's breach event: one rule.
    The tier split is closed at the deadline, so the breach is blamed on where the time went.
    """
    if record.breached_at is not None or record.stopped_at is not None or record.stage == Stage.PAUSED:
        return False
    record.stage = Stage.BREACHED
    record.breached_at = record.due_at
    record.ever_breached = True
    if record.segment_tier and record.segment_started_at and record.segment_started_at < record.due_at:
        switch_segment(record, at=record.due_at, schedule=schedule, segment=record.segment_tier)
    return True


# ---------------------------------------------------------------- what each event does to the clocks


def start_clocks(clock: Clock, *, at: datetime) -> None:
    for target in (Target.FIRST_RESPONSE, Target.RESOLUTION):
        clock.start(target, at=at, cycle=1)
    if clock.ticket.tier == Tier.ONE:
        clock.start(Target.TIER1_BUDGET, at=at, cycle=1)


def stop_target(clock: Clock, *, target: str, at: datetime) -> None:
    if record := clock.live_record(target):
        clock.stop(record, at=at)


def start_next_response(clock: Clock, *, at: datetime) -> None:
    if clock.live_record(Target.NEXT_RESPONSE) is None:
        clock.start(Target.NEXT_RESPONSE, at=at, cycle=clock.current_cycle())


def pause_clocks(clock: Clock, *, at: datetime) -> None:
    clock.switch_all(at=at, segment=Segment.PAUSED)
    for record in clock.live:
        clock.pause(record, at=at)


def resume_clocks(clock: Clock, *, at: datetime) -> None:
    for record in clock.live:
        clock.resume(record, at=at)
    clock.switch_all(at=at, segment=segment_for(clock.ticket))


def change_tier(clock: Clock, *, at: datetime, action: str) -> None:
    """Escalated (awaiting Tier 2), accepted (Tier 2) or returned (Tier 1): switch the tier split."""
    segment = {"escalate": Segment.AWAITING_TIER2, "accept": Segment.TIER2, "return": Segment.TIER1}[action]
    if clock.ticket.status != TicketStatus.PENDING:
        # Escalating straight from "waiting on requester" ends the wait.
        for record in clock.live:
            clock.resume(record, at=at)
    clock.switch_all(at=at, segment=segment)
    cycle = clock.current_cycle()
    if action == "escalate":
        if record := clock.live_record(Target.TIER1_BUDGET):
            clock.stop(record, at=at)
        clock.start(Target.TIER2_ACCEPT, at=at, cycle=cycle)
    elif action == "accept":
        if record := clock.live_record(Target.TIER2_ACCEPT):
            clock.stop(record, at=at)
    else:  # returned to Tier 1: the accept clock is moot, Tier 1's budget starts again
        if record := clock.live_record(Target.TIER2_ACCEPT):
            clock.stop(record, at=at, cancel=True)
        clock.start(Target.TIER1_BUDGET, at=at, cycle=cycle)


def stop_all(clock: Clock, *, at: datetime) -> None:
    for record in clock.live:
        clock.stop(record, at=at)


def start_cycle(clock: Clock, *, at: datetime) -> None:
    """Reopen: the previous cycle's records stay as they are (ever_breached stays answerable)."""
    for record in clock.live:  # nothing should run on a resolved ticket; cancel leftovers
        clock.stop(record, at=at, cancel=True)
    cycle = clock.current_cycle() + 1
    clock.mark_current_cycle(cycle)
    clock.start(Target.RESOLUTION, at=at, cycle=cycle)
    if clock.ticket.tier == Tier.ONE:
        clock.start(Target.TIER1_BUDGET, at=at, cycle=cycle)


def recompute_targets(clock: Clock, *, at: datetime) -> dict[str, tuple]:
    """Priority, category or site changed: the policy that now matches, applied from each record's start.

    Paused time is carried. A breach stands: a record already breached stays
    breached (its breached_at is when it happened) and shows its new due time.
    Ladder levels already fired stay fired; levels the new (stricter) target has
    already passed are recorded as suppressed, except the latest one, which the
    next sweep announces: one alert, not a flood. Returns {target: (old due, new due)}.
    """
    ticket = clock.ticket
    policy = clock.policy
    live = [r for r in clock.live if r.is_current]
    ladders = ladders_for([policy.pk] if policy else [])
    fired = clock.fired(live)
    changes: dict[str, tuple] = {}
    for record in live:
        minutes = policy.target_minutes(record.target) if policy else None
        old_due = record.due_at
        if minutes is None:
            clock.stop(record, at=at, cancel=True)
            changes[record.target] = (old_due.isoformat(), None)
            continue
        was_breached = record.breached_at is not None
        time_zone = _time_zone_for(policy, ticket)
        schedule = clock.schedules.get(policy.calendar_id, time_zone)
        if record.calendar_id != policy.calendar_id or record.time_zone != time_zone:
            switch_segment(record, at=at, schedule=clock.schedules.for_record(record), segment=record.segment_tier)
            if record.stage == Stage.PAUSED:
                clock.resume(record, at=at)
                clock.pause(record, at=at)
        record.policy = policy
        record.calendar_id = policy.calendar_id
        record.time_zone = time_zone
        record.target_seconds = minutes * 60
        record.original_due_at = bt.add_business_minutes(schedule, record.started_at, minutes)
        record.due_at = compute_due(record, schedule)
        already = fired.setdefault(clock.fired_key(record), set())
        passed = sorted(
            (
                (level_moment(record, level, schedule), level)
                for level in ladders.get((policy.pk, record.target), [])
                if level.pk not in already
            ),
            key=lambda pair: pair[0],
        )
        passed = [(moment, level) for moment, level in passed if moment <= at]
        keep_one = not was_breached and passed
        for _moment, level in passed[:-1] if keep_one else passed:
            clock.suppress(record, level, at=at)
            already.add(level.pk)
        if old_due != record.due_at:
            changes[record.target] = (old_due.isoformat(), record.due_at.isoformat())
    return changes
