"""Rebuild a ticket's SLA records from its timeline (`manage.py sla_repair`).

The timeline is the record of what happened; the SLA records are derived from
it. `engine.replay` runs every event through the same `engine.step` the live
services use, in memory; the repair then reconciles the stored records with
that result:

1. Records are matched by (target, cycle, n-th of that target in the cycle); a
   matched record is updated in place (same row, so its ladder firings stay
   attached), a missing one created, one the timeline does not explain removed.
2. Ladder levels already fired stay fired (a firing is never deleted); levels the
   replay saw announced by the sweep are added. A record whose due time the
   repair moves gets every level it has already passed recorded as suppressed:
   a correction of the books is not news, and the sweep announces nothing twice.
3. A breach already recorded stands (the sweep announced it).
4. Nothing else: no priority change, no escalation, no notification. The report
   says what changed, field by field; a repair that moved a due time leaves one
   "SLA recomputed" event on the timeline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from tickets import events
from tickets.locks import lock_ticket
from tickets.models import Ticket

from . import engine, services
from .models import LadderFiring, SlaRecord, Stage

# Every field the replay works out, foreign keys by id, and the start (matched records may differ in it).
COMPARED_FIELDS = (
    "started_at",
    *(f"{name}_id" if name in ("policy", "calendar") else name for name in services.STATE_FIELDS),
)


@dataclass
class TicketRepair:
    ticket_id: int
    reference: str
    changes: list[str] = field(default_factory=list)  # "resolution · cycle 1: due_at 10:00 → 12:00"
    created: int = 0
    removed: int = 0
    firings_added: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.created or self.removed)


def keyed(records) -> dict[tuple[str, int, int], SlaRecord]:
    """(target, cycle, n): the n-th record of a target in a cycle, by start (next response and
    the tier clocks can run several times in one cycle)."""
    counts: dict[tuple[str, int], int] = defaultdict(int)
    result = {}
    for record in sorted(records, key=lambda r: (r.cycle, r.started_at, r.target)):
        n = counts[(record.target, record.cycle)]
        counts[(record.target, record.cycle)] += 1
        result[(record.target, record.cycle, n)] = record
    return result


def _label(key) -> str:
    target, cycle, n = key
    return f"{target} · cycle {cycle}" + (f" #{n + 1}" if n else "")


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def sla_repair_ticket(*, ticket_id: int) -> TicketRepair:
    """Reconcile one ticket's SLA records with its timeline; report what changed."""
    ticket = lock_ticket(ticket_id)
    report = TicketRepair(ticket_id=ticket.pk, reference=ticket.reference)
    rebuilt = engine.replay(ticket=ticket)
    stored = keyed(SlaRecord.objects.filter(ticket_id=ticket.pk))
    fresh = keyed(rebuilt.records)
    stored_firings: dict[int, set[int]] = defaultdict(set)
    for record_id, level_id in LadderFiring.objects.filter(record__ticket_id=ticket.pk).values_list(
        "record_id", "level_id"
    ):
        stored_firings[record_id].add(level_id)

    now = timezone.now()
    moved: list[SlaRecord] = []
    kept: list[SlaRecord] = []
    new_firings: list[LadderFiring] = []
    due_changes: dict[str, tuple] = {}
    for key in sorted(set(stored) | set(fresh), key=lambda k: (k[1], k[0], k[2])):
        old, new = stored.get(key), fresh.get(key)
        if new is None:
            old.delete()  # the timeline does not explain it
            report.removed += 1
            report.changes.append(f"{_label(key)}: removed (no event started it)")
            continue
        if old is not None and old.breached_at is not None and new.breached_at is None and new.stopped_at is None:
            # Announced as breached: the breach stands.
            new.breached_at, new.ever_breached, new.stage = old.breached_at, True, Stage.BREACHED
        if old is None:
            new.save()
            report.created += 1
            report.changes.append(f"{_label(key)}: created, due {new.due_at:%Y-%m-%d %H:%M %Z}")
            target_record = new
        else:
            diffs = [(name, getattr(old, name), getattr(new, name)) for name in COMPARED_FIELDS]
            diffs = [(name, a, b) for name, a, b in diffs if a != b]
            for name, _a, b in diffs:
                setattr(old, name, b)
            report.changes += [f"{_label(key)}: {name} {_plain(a)} → {_plain(b)}" for name, a, b in diffs]
            for name, a, b in diffs:
                if name == "due_at":
                    moved.append(old)
                    due_changes[key[0]] = (_plain(a), _plain(b))
            target_record = old
        kept.append(target_record)
        already = stored_firings[target_record.pk]
        for level_id, (fired_at, event_id) in rebuilt.announced.get(id(new), {}).items():
            if level_id not in already:
                new_firings.append(
                    LadderFiring(record=target_record, level_id=level_id, fired_at=fired_at, event_id=event_id)
                )
                already.add(level_id)
        for record, level, at in rebuilt.suppressed:
            if record is new and level.pk not in already:
                new_firings.append(LadderFiring(record=target_record, level=level, fired_at=at, suppressed=True))
                already.add(level.pk)

    # A record whose due time moved: levels it has already passed are booked, not announced.
    schedules = services.ScheduleCache()
    ladders = services.ladders_for(r.policy_id for r in kept)
    for record in moved:
        schedule = schedules.for_record(record)
        for level in ladders.get((record.policy_id, record.target), []):
            passed = services.level_moment(record, level, schedule) <= now
            if passed and level.pk not in stored_firings[record.pk] and record.stopped_at is None:
                new_firings.append(LadderFiring(record=record, level=level, fired_at=now, suppressed=True))
                stored_firings[record.pk].add(level.pk)
    LadderFiring.objects.bulk_create(new_firings, ignore_conflicts=True)
    report.firings_added = len(new_firings)

    before = {r.pk: (r.next_check_at, r.warn_at) for r in kept}
    for record in kept:
        services.plan(
            record,
            schedule=schedules.for_record(record),
            levels=ladders.get((record.policy_id, record.target), []),
            fired=stored_firings[record.pk],
        )
    if report.changed or any(before[r.pk] != (r.next_check_at, r.warn_at) for r in kept):
        SlaRecord.objects.bulk_update(kept, [*services.RECORD_FIELDS, "started_at"])
    services.sync_ticket_due(ticket)
    if due_changes:
        events.sla_recomputed(
            ticket=ticket, actor=None, reason="SLA records repaired from the timeline", changes=due_changes
        )
    return report


def sla_repair(*, ticket_ids: list[int] | None = None, stdout=None) -> list[TicketRepair]:
    """Repair the given tickets, or every ticket; one transaction each. Returns the tickets it changed."""
    if ticket_ids is None:
        ticket_ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    changed = []
    for count, ticket_id in enumerate(ticket_ids, start=1):
        report = sla_repair_ticket(ticket_id=ticket_id)
        if report.changed:
            changed.append(report)
            if stdout:
                stdout.write(f"{report.reference}:")
                for line in report.changes:
                    stdout.write(f"  {line}")
        if stdout and count % 1000 == 0:
            stdout.write(f"  … {count}/{len(ticket_ids)} tickets")
    return changed
