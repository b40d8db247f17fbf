"""Replaying a period's tickets under a draft policy, through the SLA engine's own step().

1. Draft: the manager's changes, (priority, target) → business minutes, and
   optionally one calendar for every policy instead of its own.
2. DraftPolicies: the policy a ticket gets is chosen exactly as live
   (first active policy by position whose conditions hold, else the default);
   then, for a ticket of a changed priority, an unsaved copy of that policy
   with the draft's targets. The copy keeps the policy's id, so its ladder and
   everything else stay as they are.
3. replay_many(): each ticket's timeline through engine.replay() (the same
   step() live operation runs), with the sweep played too (`sweep_until`):
   live, the sweep marks a clock breached the minute it falls due, and the
   sweep events in a timeline carry the live due times, not the draft's. With
   no change this marks nothing the timeline's own sweep events did not (the
   fidelity tests hold us to that). The what-if plays it up to the last live
   sweep (selectors.swept_until), as far as the dashboard's figures go.

What the replay cannot know: what would have happened *because* of a
different breach (an automatic escalation the Tier 1 budget would have
caused, a priority raised by the ladder) is counted, not played forward: the
timeline after it is the one that happened.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.db.models import Q, QuerySet

from escalation.metrics.filters import MetricsFilter
from escalation.sla import engine
from escalation.sla import services as sla_services
from escalation.sla.models import Calendar, SlaPolicy, SlaRecord
from escalation.sla.services import RecordInMemory, ScheduleCache
from tickets.models import Category, EventKind, Site, Ticket, TicketEvent, format_reference

BATCH = 500


@dataclass(frozen=True)
class Draft:
    changes: Mapping[tuple[str, str], int] = field(default_factory=dict)
    calendar: Calendar | None = None

    @property
    def is_empty(self) -> bool:
        return not self.changes and self.calendar is None


class DraftPolicies:
    """Callable(ticket) → the policy the engine should use for it under the draft (in memory, no query)."""

    def __init__(self, draft: Draft):
        self.draft = draft
        self._copies: dict[tuple[int, str], SlaPolicy] = {}
        self._live: dict[tuple, SlaPolicy | None] = {}
        # priority → ids of the live policies tickets of that priority fell under ("Apply this policy").
        self.used: dict[str, set[int]] = defaultdict(set)

    def __call__(self, ticket: Ticket) -> SlaPolicy | None:
        # The live choice depends on these five only (services._matches): chosen once per combination.
        key = (ticket.priority, ticket.category_id, ticket.site_id, ticket.requester_is_vip, ticket.is_restricted)
        if key not in self._live:
            self._live[key] = sla_services.policy_for(ticket)
        policy = self._live[key]
        if policy is None:
            return None
        self.used[ticket.priority].add(policy.pk)
        if self.draft.is_empty:
            return policy
        key = (policy.pk, ticket.priority)
        if key not in self._copies:
            self._copies[key] = self._draft_of(policy, ticket.priority)
        return self._copies[key]

    def _draft_of(self, policy: SlaPolicy, priority: str) -> SlaPolicy:
        changes = {target: m for (p, target), m in self.draft.changes.items() if p == priority}
        if not changes and self.draft.calendar is None:
            return policy
        draft = copy.copy(policy)  # never saved: same id, so the ladder still applies
        for target, minutes in changes.items():
            setattr(draft, f"{target}_minutes", minutes)
        if self.draft.calendar is not None:
            draft.calendar = self.draft.calendar
        return draft


class TicketRow:
    """What the engine and the flips read of a ticket, from one row: a what-if replays thousands.

    The engine replays a copy (engine.initial_state) and sets status, tier, priority,
    restriction, category and site on it; category and site are kept as ids and read
    from the replay's shared lookups. Policies are matched on it as on a ticket
    (tickets.conditions.Facts.of_ticket): the requester is just what a policy asks of
    them (VIP or not), and the description is not read (no policy matches on keywords).
    """

    COLUMNS = (
        "pk",
        "title",
        "priority",
        "status",
        "tier",
        "category_id",
        "site_id",
        "is_restricted",
        "requester_id",
        "channel",
        "created_by_id",
        "impact",
        "reopen_count",
    )
    __slots__ = (*COLUMNS, "requester", "description", "lookups")

    @classmethod
    def load(cls, ticket_ids: list[int], lookups: engine.Lookups) -> list[TicketRow]:
        rows = []
        for *values, vip in (
            Ticket.objects.filter(pk__in=ticket_ids).order_by("pk").values_list(*cls.COLUMNS, "requester__is_vip")
        ):
            row = cls.__new__(cls)
            for name, value in zip(cls.COLUMNS, values, strict=True):
                setattr(row, name, value)
            row.requester = SimpleNamespace(pk=row.requester_id, is_vip=vip)
            row.description = ""
            row.lookups = lookups
            rows.append(row)
        return rows

    def __copy__(self) -> TicketRow:
        twin = TicketRow.__new__(TicketRow)
        for name in TicketRow.__slots__:
            setattr(twin, name, getattr(self, name))
        return twin

    @property
    def reference(self) -> str:
        return format_reference(self.pk)

    # The model's own rule (Ticket.requester_is_vip): mail that nobody logged proves only a From header.
    requester_is_vip = Ticket.requester_is_vip

    @property
    def category(self) -> Category | None:
        return self.lookups.category_by_id(self.category_id)

    @category.setter
    def category(self, category: Category | None) -> None:
        self.category_id = category.pk if category is not None else None

    @property
    def site(self) -> Site | None:
        return self.lookups.site_by_id(self.site_id)

    @site.setter
    def site(self, site: Site | None) -> None:
        self.site_id = site.pk if site is not None else None


def candidate_ticket_ids(tickets: QuerySet[Ticket], filters: MetricsFilter) -> list[int]:
    """Tickets with a clock that ran during the period: the only ones a draft can move into or out of it."""
    scoped = tickets.filter(filters.ticket_q()).values("pk")
    overlapping = Q(started_at__lt=filters.end) & (Q(stopped_at__isnull=True) | Q(stopped_at__gte=filters.start))
    return sorted(
        set(
            SlaRecord.objects.filter(overlapping, ticket__in=scoped)
            .order_by()
            .values_list("ticket_id", flat=True)
            .distinct()
        )
    )


def affected_ids(ticket_ids: list[int], draft: Draft) -> list[int]:
    """The tickets a draft can change: of a changed priority now, or ever (a priority change on the timeline).

    A calendar instead changes every ticket's clocks.
    """
    if draft.calendar is not None:
        return list(ticket_ids)
    priorities = {priority for priority, _target in draft.changes}
    if not priorities:
        return []
    now_of = set(Ticket.objects.filter(pk__in=ticket_ids, priority__in=priorities).values_list("pk", flat=True))
    reprioritised = set(
        TicketEvent.objects.filter(ticket_id__in=ticket_ids)
        .filter(Q(kind=EventKind.PRIORITY_CHANGED) | Q(kind=EventKind.FIELD_CHANGED, data__has_key="priority"))
        .order_by()
        .values_list("ticket_id", flat=True)
    )
    return sorted(now_of | reprioritised)


def replay_many(
    ticket_ids: list[int],
    *,
    policies: Callable[[Ticket], SlaPolicy | None],
    now: datetime,
    schedules: ScheduleCache | None = None,
    lookups: engine.Lookups | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[TicketRow, list]]:
    """(ticket, replayed records) for each id, in batches: two queries per batch, whatever the history.

    Tickets and events are read as rows and records built in memory (RecordInMemory):
    model instances would cost more than the replay itself (bench/README.md, what-if).
    """
    schedules = schedules or ScheduleCache()
    lookups = lookups or engine.Lookups(preload=True)
    for offset in range(0, len(ticket_ids), BATCH):
        ids = ticket_ids[offset : offset + BATCH]
        timelines = engine.timelines(ids)
        for ticket in TicketRow.load(ids, lookups):
            result = engine.replay(
                ticket=ticket,
                timeline=timelines.get(ticket.pk, []),
                policies=policies,
                schedules=schedules,
                lookups=lookups,
                sweep_until=now,
                plans=False,
                record_type=RecordInMemory,
            )
            yield ticket, result.records
        if progress is not None:
            progress(min(offset + BATCH, len(ticket_ids)))
