"""COPY-based bulk seeding for `make bench`: N tickets with timelines, SLA records and escalations.

Rows are generated in Python a chunk at a time and streamed into PostgreSQL with
COPY (no ORM, no per-row service), so 1M tickets take minutes, not hours. The data
is historical and consistent enough for every page: two years of tickets, most
resolved (met or breached on their policy's calendar), some escalated and accepted
by Tier 2, and a share still open with live clocks planned in the future (the
sweep has nothing to catch up on after seeding).
"""

from __future__ import annotations

import io
import json
import random
import re
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Model

CHUNK = 20_000


_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value) -> str:
    """One value in COPY's text format (the common types first: this runs tens of millions of times)."""
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES) if _SPECIAL.search(value) else value
    if kind is int:
        return str(value)
    if value is None:
        return r"\N"
    if kind is datetime:
        return value.isoformat()
    if value is True:
        return "t"
    if value is False:
        return "f"
    if kind is dict or kind is list:
        return _text(json.dumps(value)) if value else ("{}" if kind is dict else "[]")
    return _text(str(value))


class Copier:
    """Rows for one model, as keyword arguments by attname; missing fields take the model default.

    The row template (every default already in COPY text) is built once; a row copies it and
    fills in the values given.
    """

    def __init__(self, model: type[Model]):
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in fields]
        self.position = {f.attname: index for index, f in enumerate(fields)}
        self.template = [_text(f.get_default()) if f.has_default() else (r"\N" if f.null else "") for f in fields]
        self.rows: list[str] = []

    @property
    def count(self) -> int:
        return len(self.rows)

    def add(self, **values) -> None:
        row = self.template.copy()
        position = self.position
        for name, value in values.items():
            row[position[name]] = _text(value)
        self.rows.append("\t".join(row))

    def flush(self, cursor) -> None:
        if not self.rows:
            return
        self.rows.append("")
        buffer = io.StringIO("\n".join(self.rows))
        table = self.model._meta.db_table
        columns = ", ".join(f'"{c}"' for c in self.columns)
        cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', buffer, 1 << 20)
        self.rows = []


def next_id(cursor, model: type[Model]) -> int:
    cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')
    return cursor.fetchone()[0]


def reset_sequence(cursor, model: type[Model]) -> None:
    table = model._meta.db_table
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM \"{table}\"))")


class Org:
    """The demo organization's configuration, read once."""

    def __init__(self):
        from escalation.sla import businesstime as bt
        from escalation.sla.models import SlaPolicy
        from escalation.sla.services import load_schedule
        from tickets import roles
        from tickets.models import Category, Queue, User

        self.categories = list(Category.objects.filter(is_active=True, is_security=False))
        self.intake = Queue.objects.get(is_default_intake=True)
        self.tier2_queues = list(Queue.objects.filter(tier=2, is_security=False)) or [self.intake]
        self.requesters = list(User.objects.filter(groups__name=roles.REQUESTER).values_list("pk", flat=True))
        self.agents = list(User.objects.filter(groups__name=roles.TIER1_AGENT).values_list("pk", flat=True))
        self.engineers = list(User.objects.filter(groups__name=roles.TIER2_ENGINEER).values_list("pk", flat=True))
        self.engineers = self.engineers or self.agents
        self.policies = {p.priority: p for p in SlaPolicy.objects.filter(is_active=True).select_related("calendar")}
        self.schedules = {}
        for policy in self.policies.values():
            zone = policy.calendar.time_zone if policy.calendar else "UTC"
            self.schedules[policy.pk] = (
                load_schedule(calendar_id=policy.calendar_id, time_zone=zone)
                if policy.calendar_id
                else bt.TWENTY_FOUR_SEVEN
            )


@contextmanager
def bulk_load(models: list[type[Model]], out=print):
    """Load into these tables without their secondary indexes and foreign keys; rebuild them after.

    A million rows inserted into a dozen b-trees each, and a foreign-key trigger fired per row,
    cost far more than one sorted index build and one validating join per constraint at the end.
    Primary keys and unique constraints stay (the seeder writes its own ids); partial unique
    indexes are rebuilt, which checks them. Commits are asynchronous for this session only
    (nothing is lost but the last moments of a crash, and a crashed seed is thrown away anyway).
    """
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(
            """
            SELECT index.relname, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class index ON index.oid = i.indexrelid
             WHERE i.indrelid = ANY(%s::regclass[])
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                                               AND c.contype IN ('p', 'u', 'x'))
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in foreign_keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("SET synchronous_commit = DEFAULT")
            cursor.execute("RESET maintenance_work_mem")
        out(f"  {len(indexes)} indexes and {len(foreign_keys)} foreign keys rebuilt in "
            f"{time.perf_counter() - started:.0f} s")  # fmt: skip


def seed(*, count: int, now: datetime, days: int = 730, open_share: float = 0.08, seed: int = 14, out=print) -> None:
    """Add `count` tickets created over the last `days` days (a share still open)."""
    from escalation.models import Escalation
    from escalation.sla.models import SlaRecord
    from tickets.models import Comment, Ticket, TicketEvent

    org = Org()
    rng = random.Random(seed)
    models = [Ticket, TicketEvent, Comment, SlaRecord, Escalation]
    with connection.cursor() as cursor:
        ids = {model: next_id(cursor, model) for model in models}
    started = time.perf_counter()
    # Oldest first, as a live desk writes them: ids and rows follow time, so a period's tickets,
    # clocks and escalations sit together on disk (random order would spread every 90 days over
    # the whole table and measure a layout no real desk has).
    ages = []
    for _ in range(count):
        is_open = rng.random() < open_share
        ages.append((rng.randint(5, 14 * 24 * 60 if is_open else days * 24 * 60), is_open))
    ages.sort(reverse=True)
    made = 0
    with bulk_load(models, out=out):
        while made < count:
            size = min(CHUNK, count - made)
            copiers = {model: Copier(model) for model in models}
            for minutes, is_open in ages[made : made + size]:
                _ticket(org, rng, copiers, ids, now=now, age=timedelta(minutes=minutes), is_open=is_open)
            with connection.cursor() as cursor:
                for copier in copiers.values():
                    copier.flush(cursor)
            made += size
            if made % 100_000 == 0 or made == count:
                out(f"  … {made}/{count} tickets copied ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        for model in models:
            reset_sequence(cursor, model)
        # As autovacuum leaves a live desk's tables: statistics, and the visibility map that
        # index-only scans rely on (a freshly copied table has none).
        cursor.execute("VACUUM ANALYZE")
    out(f"  {count} tickets seeded in {time.perf_counter() - started:.0f} s")


PRIORITIES = ["P1", "P2", "P2", "P3", "P3", "P3", "P4", "P4"]


def _ticket(org: Org, rng: random.Random, copiers, ids, *, now: datetime, age: timedelta, is_open: bool) -> None:
    from escalation.models import Escalation
    from escalation.sla import businesstime as bt
    from escalation.sla.models import SlaRecord
    from tickets.models import Comment, Ticket, TicketEvent

    ticket_id = ids[Ticket]
    ids[Ticket] += 1
    created = now - age
    priority = rng.choice(PRIORITIES)
    policy = org.policies.get(priority) or org.policies.get("")
    schedule = org.schedules[policy.pk]
    category = rng.choice(org.categories)
    escalated = rng.random() < 0.18
    team = rng.choice(org.tier2_queues)
    agent = rng.choice(org.agents)
    engineer = rng.choice(org.engineers)
    responded = created + timedelta(minutes=rng.randint(3, 240))
    escalated_at = responded + timedelta(minutes=rng.randint(10, 600)) if escalated else None
    accepted_at = escalated_at + timedelta(minutes=rng.randint(2, 180)) if escalated else None
    resolved_at = (accepted_at or responded) + timedelta(minutes=rng.randint(15, 5 * 24 * 60))
    if is_open or resolved_at >= now:
        is_open = True
        resolved_at = None
        if responded >= now:
            responded = None
        if escalated_at and escalated_at >= now:
            escalated = False
            escalated_at = accepted_at = None
        if accepted_at and (accepted_at >= now or rng.random() < 0.4):
            accepted_at = None  # still waiting for Tier 2
    if resolved_at:
        status = "resolved" if resolved_at > now - timedelta(days=3) else "closed"
    elif escalated and accepted_at is None:
        status = "escalated"
    else:
        status = "open" if responded else "new"
    tier = 2 if escalated else 1

    def due(minutes: int | None, start: datetime) -> datetime | None:
        return bt.add_business_minutes(schedule, start, minutes) if minutes else None

    first_due = due(policy.first_response_minutes, created)
    resolution_due = due(policy.resolution_minutes, created)
    copiers[Ticket].add(
        id=ticket_id,
        title=f"{category.name}: bench ticket {ticket_id}",
        description=f"Generated for the benchmark ({category.name.lower()}); nothing to fix.",
        requester_id=rng.choice(org.requesters),
        created_by_id=agent,
        channel=rng.choice(["portal", "email", "phone", "api"]),
        category_id=category.pk,
        impact=rng.choice(["individual", "team", "site"]),
        urgency=rng.choice(["minor", "slowed", "stopped"]),
        priority=priority,
        status=status,
        tier=tier,
        queue_id=team.pk if escalated else org.intake.pk,
        assignee_id=(engineer if accepted_at else None) if escalated else (agent if responded else None),
        tier1_queue_id=org.intake.pk,
        routing_reason=f"No rule matched; category {category} → queue {org.intake}.",
        created_at=created,
        updated_at=resolved_at or accepted_at or escalated_at or responded or created,
        first_responded_at=responded,
        resolved_at=resolved_at,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
    )

    def event(kind: str, at: datetime, actor: int | None, message: str = "", data=None, public=False) -> None:
        copiers[TicketEvent].add(
            id=ids[TicketEvent], ticket_id=ticket_id, kind=kind, actor_id=actor, created_at=at,
            message=message, data=data or {}, is_public=public,
        )  # fmt: skip
        ids[TicketEvent] += 1

    event("created", created, agent, "Logged for a requester", {"priority": priority}, public=True)
    event("routed", created, None, "No rule matched.", {"queue": org.intake.slug})
    if responded:  # the first public reply: what stops the first-response clock (the SLA engine's rule)
        comment_id = ids[Comment]
        ids[Comment] += 1
        copiers[Comment].add(
            id=comment_id, ticket_id=ticket_id, author_id=agent, is_public=True, created_at=responded,
            body="Thanks for reporting this; I'm looking into it now.",
        )  # fmt: skip
        event("commented", responded, agent, "", {"comment_id": comment_id, "by": "agent"}, public=True)
    if escalated_at:
        escalation_id = ids[Escalation]
        ids[Escalation] += 1
        automatic = rng.random() < 0.2
        rated = accepted_at is not None and rng.random() < 0.6
        copiers[Escalation].add(
            id=escalation_id, ticket_id=ticket_id, trigger="time_exceeded" if automatic else "complexity_limit",
            problem_summary="Generated handoff: the problem, what was tried, the evidence.",
            steps_tried="Restarted the client; checked the account; reproduced the error.",
            error_evidence="Error 0x80070005", affected_scope="team", urgency="slowed",
            from_queue_id=org.intake.pk, to_queue_id=team.pk, escalated_by_id=None if automatic else agent,
            tier1_assignee_id=agent, escalated_at=escalated_at, is_automatic=automatic,
            missing_fields=["error_evidence"] if automatic else [],
            outcome="accepted" if accepted_at else "awaiting", accepted_by_id=engineer if accepted_at else None,
            accepted_at=accepted_at, rating=rng.choice([3, 4, 5, 5]) if rated else None,
            rated_by_id=engineer if rated else None, rated_at=accepted_at + timedelta(minutes=2) if rated else None,
        )  # fmt: skip
        event("escalated", escalated_at, None if automatic else agent, "Escalated", {"escalation_id": escalation_id})
        if accepted_at:
            event("accepted", accepted_at, engineer, "Accepted", {"escalation_id": escalation_id})
    if resolved_at:
        event("resolved", resolved_at, engineer if escalated else agent, "Resolved", public=True)

    def split(start: datetime, end: datetime, *, breached: datetime | None = None) -> dict:
        """Business seconds by tier between start and end (the record's tier split), in whole seconds per
        segment as the engine adds them: a breach closes the segment it falls in (services.mark_breached)."""
        marks = [(start, "tier1")]
        if escalated_at and escalated_at < end:
            marks.append((max(start, escalated_at), "awaiting_tier2"))
            if accepted_at and accepted_at < end:
                marks.append((max(start, accepted_at), "tier2"))
        if breached is not None and start < breached < end:
            marks.append((breached, [tier for at, tier in marks if at <= breached][-1]))
            marks.sort(key=lambda mark: mark[0])
        seconds = {"tier1_seconds": 0, "awaiting_tier2_seconds": 0, "tier2_seconds": 0}
        for (at, tier_name), (until, _) in zip(marks, [*marks[1:], (end, "")], strict=True):
            seconds[f"{tier_name}_seconds"] += bt.business_seconds_between(schedule, at, until) if until > at else 0
        return seconds

    def open_split(start: datetime, since: datetime) -> dict:
        """An open clock's split as the engine keeps it: closed at each tier change (and at the breach,
        `since`: services.mark_breached), the segment since the last of them still open. Time after a
        breach still counts to the tier it went to (services.switch_segment)."""
        last = max([since, *(at for at in (escalated_at, accepted_at) if at and since < at < now)])
        return {**split(start, last, breached=since if since > start else None), "segment_started_at": last}

    # Where an open clock's time goes now (services.segment_for).
    segment = "tier2" if accepted_at else "awaiting_tier2" if escalated_at else "tier1"

    def record(target: str, minutes: int | None, start: datetime, due_at: datetime | None, stopped: datetime | None):
        if not minutes:
            return
        common = {
            "id": ids[SlaRecord], "ticket_id": ticket_id, "target": target, "cycle": 1, "is_current": True,
            "policy_id": policy.pk, "calendar_id": policy.calendar_id, "time_zone": schedule.time_zone,
            "target_seconds": minutes * 60, "started_at": start, "due_at": due_at, "original_due_at": due_at,
        }  # fmt: skip
        ids[SlaRecord] += 1
        if stopped is not None:
            breached = stopped > due_at
            copiers[SlaRecord].add(
                **common, stage="breached" if breached else "met", stopped_at=stopped,
                breached_at=due_at if breached else None, ever_breached=breached,
                **split(start, stopped, breached=due_at if breached else None),
            )  # fmt: skip
        elif due_at <= now:  # breached long ago: announced then, nothing more planned
            copiers[SlaRecord].add(
                **common, stage="breached", breached_at=due_at, ever_breached=True, **open_split(start, due_at),
                segment_tier=segment,
            )  # fmt: skip
        else:
            copiers[SlaRecord].add(
                **common, stage="running", next_check_at=due_at, **open_split(start, start), segment_tier=segment,
            )  # fmt: skip

    record("first_response", policy.first_response_minutes, created, first_due, responded)
    record("resolution", policy.resolution_minutes, created, resolution_due, resolved_at)
    # As the engine keeps them: Tier 1's budget runs from intake until the escalation (or the
    # resolution), Tier 2's accept clock from the escalation until accepted. A replay of the
    # timeline gives these records back exactly (bench/whatif.py checks it).
    budget = policy.tier1_budget_minutes
    record("tier1_budget", budget, created, due(budget, created), escalated_at or resolved_at)
    if escalated_at:
        accept = policy.tier2_accept_minutes
        record("tier2_accept", accept, escalated_at, due(accept, escalated_at), accepted_at)


def overdue_tier1(*, count: int, now: datetime, hours: int = 5, out=print) -> list[int]:
    """`count` P1 tickets left untouched in Tier 1 for `hours`: every clock overdue, nothing announced yet.

    Their records are as the engine leaves them at intake (running, next check at the first
    ladder moment), so one sweep has to do everything: breaches, the ladder, escalation.
    """
    from escalation.sla import businesstime as bt
    from escalation.sla.models import SlaRecord
    from tickets.models import Ticket, TicketEvent

    org = Org()
    policy = org.policies["P1"]
    schedule = org.schedules[policy.pk]
    category = next(c for c in org.categories if c.default_queue_id == org.intake.pk)
    rng = random.Random(count)
    with connection.cursor() as cursor:
        ids = {model: next_id(cursor, model) for model in (Ticket, TicketEvent, SlaRecord)}
    copiers = {model: Copier(model) for model in ids}
    made = []
    for index in range(count):
        ticket_id = ids[Ticket]
        ids[Ticket] += 1
        created = now - timedelta(hours=hours, seconds=rng.randint(0, 600))
        targets = {
            "first_response": policy.first_response_minutes,
            "resolution": policy.resolution_minutes,
            "tier1_budget": policy.tier1_budget_minutes,
        }
        due = {t: bt.add_business_minutes(schedule, created, m) for t, m in targets.items() if m}
        copiers[Ticket].add(
            id=ticket_id, title=f"Bench catch-up {index}: the whole floor is offline",
            description="Nothing connects since the switch reboot; every desk on the floor is down.",
            requester_id=rng.choice(org.requesters), channel="phone", category_id=category.pk,
            impact="organization", urgency="stopped", priority="P1", status="new", tier=1,
            queue_id=org.intake.pk, tier1_queue_id=org.intake.pk, routing_reason="Bench catch-up.",
            created_at=created, updated_at=created, first_response_due_at=due.get("first_response"),
            resolution_due_at=due.get("resolution"),
        )  # fmt: skip
        for kind in ("created", "routed"):
            copiers[TicketEvent].add(id=ids[TicketEvent], ticket_id=ticket_id, kind=kind, created_at=created, data={})
            ids[TicketEvent] += 1
        for target, due_at in due.items():
            copiers[SlaRecord].add(
                id=ids[SlaRecord], ticket_id=ticket_id, target=target, cycle=1, is_current=True,
                policy_id=policy.pk, calendar_id=policy.calendar_id, time_zone=schedule.time_zone,
                target_seconds=targets[target] * 60, started_at=created, due_at=due_at, original_due_at=due_at,
                stage="running", segment_started_at=created, segment_tier="tier1",
                next_check_at=created + timedelta(seconds=targets[target] * 30),
            )  # fmt: skip
            ids[SlaRecord] += 1
        made.append(ticket_id)
    with connection.cursor() as cursor:
        for copier in copiers.values():
            copier.flush(cursor)
        for model in ids:
            reset_sequence(cursor, model)
        cursor.execute("ANALYZE")
    out(f"  {count} overdue Tier 1 tickets added")
    return made
