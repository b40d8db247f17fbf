"""Every dashboard figure, as database queries (grouping, filtered aggregates, percentiles).

Pure reads: each function takes querysets already scoped to what the viewer may
see (`tickets.selectors.ticket_list_for(user)`) and the MetricsFilter, and
returns plain, JSON-ready data (ints, floats, strings). `dashboard()` returns
them all; the page, the CSV export and GET /api/v1/metrics/sla/ all call it.
About twenty queries in all, whatever the data size; no ticket is ever loaded
into Python.

Definitions (what each number means; the tests work them out by hand):

- Period membership. A figure about *tickets created* uses created_at in the
  period; *resolved* uses resolved_at (the latest resolution: a reopen clears
  it); *SLA attainment* uses the SLA record's stopped_at (when it was met or
  breached); *breaches* use breached_at; *escalation* figures use escalated_at.
  At-risk and backlog are "now" and ignore the period. Filters (team,
  category, priority, site) always apply to the ticket.
- SLA attainment, per target (first response, next response, resolution):
  records that stopped met or breached in the period (cancelled ones are not
  judged). met % = met / (met + breached). Business minutes used = the
  record's per-tier split (Tier 1 + awaiting Tier 2 + Tier 2 + waiting on the
  requester) minus the paused business time the target did not count (a
  pausing target does not count waiting on the requester; a first response
  does unless the policy pauses it). Reported as the median, beside the
  median target.
- Breach attribution: each breached record is charged to the tier with the
  largest share of its business time in the per-tier split (Tier 1, awaiting
  Tier 2, Tier 2; waiting on the requester is nobody's). Ties go to the later
  tier (Tier 2, then awaiting Tier 2, then Tier 1): the later tier held the
  ticket when the tie arose. The split covers closed segments: the sweep
  closes the open segment at the deadline when it records the breach, so the
  split of a breached clock is exactly where its time went up to due; if it is
  still all zero (no sweep yet) the tier holding the record now is charged.
- Tickets ever breached: distinct tickets with a record that breached in the
  period (any target, any cycle; a reopened ticket's old cycle counts).
- At risk now: distinct tickets with a running clock past its first warning
  level or due within the hour (escalation.sla.selectors.filter_at_risk);
  breached now: distinct tickets with a live breached clock.
- Escalation rate: tickets created in the period that have been escalated at
  least once / tickets created in the period. Manual vs automatic and by
  trigger count escalations (a ticket escalated twice counts twice).
- Handoff completeness: escalations in the period whose handoff misses none of
  the five fields (Escalation.missing_fields; manual handoffs are validated,
  so only automatic ones can miss any); average fields present out of 5.
- Bounce-back rate: returned / (accepted + returned) among escalations in the
  period; escalations still awaiting Tier 2 are not yet decided. Reasons
  count the returned ones by return_reason.
- Tier 2 time-to-accept: wall-clock accepted_at − escalated_at of accepted
  escalations in the period; median and p90 (percentile_cont).
- Resolution time by tier: over resolution records stopped in the period,
  median and p90 of the business minutes used (as above) and of each tier's
  share of the split — where the resolution time went. Also grouped by the
  tier holding the ticket now (the tier that resolved it).
- Tier 1 first-contact resolution: among tickets resolved in the period, those
  resolved in Tier 1 (tier 1 now), never escalated (no Escalation at all, so a
  returned escalation disqualifies too) and never reopened (reopen_count 0:
  the first resolution held). Rate = those / all tickets resolved in the period.
- Backlog aging: open tickets (new, open, pending, escalated) now, by age since
  created_at: < 1 d, 1–3 d, 3–7 d, 7–30 d, > 30 d (lower bound inclusive).
- Volume: tickets created in the period by hour of day in the viewer's time
  zone, by site, and per day (trend charts; days in the viewer's zone).
- Agents and teams: tickets resolved in the period by the owner at resolution
  (assignee) / owning team; escalations made in the period by who escalated /
  the Tier 1 queue it left (automatic ones with no actor are one row);
  returns received = those of them returned; median Tier 2 handoff rating.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Trunc, TruncDate
from django.utils import timezone

from escalation.models import HANDOFF_FIELDS, Escalation, Outcome, ReturnReason, Trigger
from escalation.sla.models import Segment, SlaRecord, Stage, Target
from escalation.sla.selectors import AT_RISK_WINDOW
from tickets.models import OPEN_STATUSES, Queue, Site, Ticket, TicketStatus, Tier

from .aggregates import Pct, figures
from .filters import MetricsFilter
from .snapshot import run_together

SLA_TARGETS = (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE, Target.RESOLUTION)
JUDGED = (Stage.MET, Stage.BREACHED)
RESOLVED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
TIERS = (Segment.TIER1, Segment.AWAITING_TIER2, Segment.TIER2)
TIER_LABELS = {
    Segment.TIER1: "Tier 1",
    Segment.AWAITING_TIER2: "Awaiting Tier 2",
    Segment.TIER2: "Tier 2",
    Segment.PAUSED: "Waiting on requester",
    "total": "Total",
}
# (key, label, lower bound in days inclusive, upper bound in days exclusive)
AGE_BUCKETS = (
    ("lt_1d", "< 1 day", 0, 1),
    ("1_3d", "1–3 days", 1, 3),
    ("3_7d", "3–7 days", 3, 7),
    ("7_30d", "7–30 days", 7, 30),
    ("gt_30d", "> 30 days", 30, None),
)

# Business seconds the target actually counted (see "SLA attainment" above).
USED_SECONDS = ExpressionWrapper(
    F("tier1_seconds")
    + F("awaiting_tier2_seconds")
    + F("tier2_seconds")
    + F("paused_seconds")
    - F("paused_business_seconds"),
    output_field=IntegerField(),
)

# Which tier a breach is charged to (see "Breach attribution" above).
BREACH_TIER = Case(
    When(
        Q(tier2_seconds__gt=0)
        & Q(tier2_seconds__gte=F("awaiting_tier2_seconds"))
        & Q(tier2_seconds__gte=F("tier1_seconds")),
        then=Value(Segment.TIER2.value),
    ),
    When(
        Q(awaiting_tier2_seconds__gt=0, awaiting_tier2_seconds__gte=F("tier1_seconds")),
        then=Value(Segment.AWAITING_TIER2.value),
    ),
    When(tier1_seconds__gt=0, then=Value(Segment.TIER1.value)),
    When(segment_tier__in=[t.value for t in TIERS], then=F("segment_tier")),
    default=Value(Segment.TIER1.value),
    output_field=CharField(),
)


def fields_present() -> ExpressionWrapper:
    """How many of the five handoff fields an escalation carries (missing_fields is a JSON list of names).

    On PostgreSQL, jsonb's `?` (the name is an element of the list): the text match below, five
    `UPPER(…) LIKE` per escalation in each of the three aggregates that use it, was 100 of the
    escalation figures' 145 ms at 1M tickets (34k escalations in 90 days). Elsewhere, the quoted
    name in the list's text. The names are written by the services, in lower case.
    """
    if connection.vendor == "postgresql":
        missing = (Q(missing_fields__has_key=name) for name in HANDOFF_FIELDS)
    else:
        missing = (Q(missing_fields__icontains=f'"{name}"') for name in HANDOFF_FIELDS)
    return ExpressionWrapper(
        Value(len(HANDOFF_FIELDS))
        - sum((Case(When(condition, then=Value(1)), default=Value(0)) for condition in missing), Value(0)),
        output_field=IntegerField(),
    )


TIME_TO_ACCEPT = ExpressionWrapper(F("accepted_at") - F("escalated_at"), output_field=DurationField())
# Wall-clock time a clock ran, start to stop: beside business time, so an answer given at night reads as such.
WALL_TIME = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())


def minutes(seconds) -> float | None:
    if seconds is None:
        return None
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    return round(float(seconds) / 60, 1)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------- scope


def scoped_tickets(tickets: QuerySet[Ticket], filters: MetricsFilter) -> QuerySet[Ticket]:
    return tickets.filter(filters.ticket_q())


def _sql(queryset: QuerySet) -> str:
    return str(queryset.order_by().query)


def in_scope(tickets: QuerySet[Ticket], filters: MetricsFilter) -> Q:
    """SLA records or escalations whose ticket is in scope, as a condition on their `ticket`.

    Put as "ticket in (the scope)", PostgreSQL hashes the whole ticket table for every figure
    (200 ms a query at 200k tickets, growing with the history, not the period). An agent's scope
    (tickets.access.ticket_list_for) is every ticket or every unrestricted one, so with no ticket
    filter it is said without the ticket table: no condition at all, or "not one of the few
    restricted tickets" (a small hashed list, from the `ticket_restricted` partial index). The
    rows read are then the period's only. Any other scope, or a ticket filter, keeps the join.
    """
    if not filters.ticket_q():
        scope = _sql(tickets)
        if scope == _sql(Ticket.objects.all()):
            return Q()
        if scope == _sql(Ticket.objects.filter(is_restricted=False)):
            return ~Q(ticket__in=Ticket.objects.filter(is_restricted=True).values("pk"))
    return Q(ticket__in=scoped_tickets(tickets, filters).values("pk"))


def scoped_records(tickets: QuerySet[Ticket], filters: MetricsFilter) -> QuerySet[SlaRecord]:
    # order_by(): SlaRecord's default ordering starts with "ticket", which would join the ticket table.
    return SlaRecord.objects.filter(in_scope(tickets, filters)).order_by()


def scoped_escalations(tickets: QuerySet[Ticket], filters: MetricsFilter) -> QuerySet[Escalation]:
    return Escalation.objects.filter(in_scope(tickets, filters))


def ticket_conditions(filters: MetricsFilter, now: datetime) -> dict[str, Q]:
    """Named ticket conditions, shared with the drill-down so a list matches its figure."""
    # "Ever escalated" as membership in the escalated tickets (hashed once per query) rather than an
    # EXISTS probe of the escalation index per ticket: at 200k tickets the period's counts made
    # 57k probes (56 ms); the hash is built from one index-only scan of the escalations.
    escalated = Q(pk__in=Escalation.objects.values("ticket_id"))
    created = filters.within("created_at")
    resolved = filters.within("resolved_at") & Q(status__in=RESOLVED_STATUSES)
    open_ = Q(status__in=OPEN_STATUSES)
    conditions = {
        "created": created,
        "escalated": created & escalated,
        "resolved": resolved,
        "first_contact": resolved & Q(tier=Tier.ONE, reopen_count=0) & ~escalated,
        "backlog": open_,
        # Security (restricted) tickets: only a viewer cleared for them has any in scope.
        "security": created & Q(is_restricted=True),
    }
    for key, _label, low, high in AGE_BUCKETS:
        q = open_ & Q(created_at__lte=now - timedelta(days=low))
        if high is not None:
            q &= Q(created_at__gt=now - timedelta(days=high))
        conditions[f"age_{key}"] = q
    return conditions


# ---------------------------------------------------------------- figures


def ticket_counts(
    scoped: QuerySet[Ticket],
    filters: MetricsFilter,
    now: datetime,
    *,
    created: list[dict] | None = None,
    resolved: list[dict] | None = None,
    backlog: dict | None = None,
) -> dict:
    """Created, escalated, resolved, first-contact resolved, backlog by age.

    The period's counts add up the created and resolved cells (each cell carries the conditions'
    flags); the backlog is one query over open tickets only. One query over "created, resolved or
    open" used to count them all: a bitmap OR of three ranges that PostgreSQL turned into a scan
    of the whole ticket table once its cost estimate allowed.
    """
    created = created_cells(scoped, filters) if created is None else created
    resolved = resolved_cells(scoped, filters) if resolved is None else resolved
    counts = {
        "created": sum(cell["n"] for cell in created),
        "escalated": sum(cell["n"] for cell in created if cell["escalated"]),
        "security": sum(cell["n"] for cell in created if cell["security"]),
        "resolved": sum(cell["n"] for cell in resolved),
        "first_contact": sum(cell["n"] for cell in resolved if cell["first_contact"]),
    }
    counts |= backlog_counts(scoped, filters, now) if backlog is None else backlog
    return {
        "created": counts["created"],
        "escalated": counts["escalated"],
        "escalation_rate_pct": percent(counts["escalated"], counts["created"]),
        "resolved": counts["resolved"],
        "first_contact_resolved": counts["first_contact"],
        "first_contact_rate_pct": percent(counts["first_contact"], counts["resolved"]),
        "backlog": counts["backlog"],
        "security_created": counts["security"],
        "backlog_aging": [
            {"bucket": key, "label": label, "tickets": counts[f"age_{key}"]} for key, label, _low, _high in AGE_BUCKETS
        ],
    }


def backlog_counts(scoped: QuerySet[Ticket], filters: MetricsFilter, now: datetime) -> dict[str, int]:
    """Open tickets now, and by age: one query over open tickets only."""
    conditions = ticket_conditions(filters, now)
    names = ["backlog", *(f"age_{key}" for key, _label, _low, _high in AGE_BUCKETS)]
    return scoped.filter(conditions["backlog"]).aggregate(
        **{name: Count("pk", filter=conditions[name]) for name in names}
    )


def closed_records(records: QuerySet[SlaRecord], filters: MetricsFilter) -> QuerySet[SlaRecord]:
    return records.filter(filters.within("stopped_at"), target__in=SLA_TARGETS, stage__in=JUDGED)


def sla_attainment(records: QuerySet[SlaRecord], filters: MetricsFilter) -> list[dict]:
    return _sla_attainment(records, filters)[0]


def _sla_attainment(records: QuerySet[SlaRecord], filters: MetricsFilter) -> tuple[list[dict], dict[str, int]]:
    """The attainment rows, and per target the tickets behind them (its tile's count), in one query."""
    rows = figures(
        closed_records(records, filters).annotate(used=USED_SECONDS),
        group_by=["target"],
        aggregates={
            "met": Count("pk", filter=Q(stage=Stage.MET)),
            "breached": Count("pk", filter=Q(stage=Stage.BREACHED)),
            "tickets": Count("ticket", distinct=True),
        },
        percentiles={
            "median_used": Pct("used", 0.5),
            "median_target": Pct("target_seconds", 0.5),
            "median_wall": Pct(WALL_TIME, 0.5, output_field=DurationField()),
        },
    )
    by_target = {row["target"]: row for row in rows}
    result = []
    for target in SLA_TARGETS:
        row = by_target.get(target, {})
        met, breached = row.get("met", 0), row.get("breached", 0)
        result.append(
            {
                "target": target.value,
                "label": target.label,
                "met": met,
                "breached": breached,
                "total": met + breached,
                "met_pct": percent(met, met + breached),
                "median_minutes": minutes(row.get("median_used")),
                "median_wall_minutes": minutes(row.get("median_wall")),
                "median_target_minutes": minutes(row.get("median_target")),
            }
        )
    return result, {target.value: by_target.get(target, {}).get("tickets", 0) for target in SLA_TARGETS}


def breached_records(records: QuerySet[SlaRecord], filters: MetricsFilter) -> QuerySet[SlaRecord]:
    return records.filter(filters.within("breached_at"), ever_breached=True).annotate(tier=BREACH_TIER)


def breaches(records: QuerySet[SlaRecord], filters: MetricsFilter) -> dict:
    """One pass over the period's breaches: a count per target and charged tier, and the distinct tickets.

    The charged tier (BREACH_TIER, a CASE) is computed once per record in an inner query, fenced
    with OFFSET 0 so PostgreSQL does not inline it into each of the 15 FILTERs (290k breaches at 1M
    tickets: 240 → 115 ms).
    """
    inner = breached_records(records, filters).values("ticket_id", "target", "tier")
    sql, params = inner.query.sql_with_params()
    cells = [(target.value, tier.value) for target in Target for tier in TIERS]
    counts = ", ".join("COUNT(*) FILTER (WHERE target = %s AND tier = %s)" for _cell in cells)
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(DISTINCT ticket_id), {counts} FROM ({sql}{fence}) AS breached",
            [*(value for cell in cells for value in cell), *params],
        )
        tickets, *row = cursor.fetchone()
    per_cell = dict(zip(cells, row, strict=True))
    by_tier = {tier.value: sum(per_cell[(target.value, tier.value)] for target in Target) for tier in TIERS}
    by_target = {target.value: sum(per_cell[(target.value, tier.value)] for tier in TIERS) for target in Target}
    return {
        "total": sum(by_tier.values()),
        "tickets_ever_breached": tickets,
        "by_tier": [{"tier": tier, "label": TIER_LABELS[tier], "breaches": count} for tier, count in by_tier.items()],
        "by_target": [
            {"target": target, "label": Target(target).label, "breaches": count} for target, count in by_target.items()
        ],
    }


def at_risk_condition(now: datetime) -> Q:
    return Q(stopped_at__isnull=True, stage=Stage.RUNNING) & (Q(warn_at__lte=now) | Q(due_at__lte=now + AT_RISK_WINDOW))


def at_risk_now(records: QuerySet[SlaRecord], now: datetime) -> dict:
    counts = records.filter(stopped_at__isnull=True).aggregate(
        at_risk=Count("ticket", distinct=True, filter=at_risk_condition(now)),
        breached=Count("ticket", distinct=True, filter=Q(stage=Stage.BREACHED)),
    )
    return {"at_risk_tickets": counts["at_risk"], "breached_tickets": counts["breached"]}


def escalations_in_period(escalations: QuerySet[Escalation], filters: MetricsFilter) -> QuerySet[Escalation]:
    return escalations.filter(filters.within("escalated_at")).annotate(present=fields_present())


def escalation_figures(escalations: QuerySet[Escalation], filters: MetricsFilter) -> dict:
    return _escalation_figures(escalations, filters)[0]


def _escalation_figures(escalations: QuerySet[Escalation], filters: MetricsFilter) -> tuple[dict, dict[str, int]]:
    """The escalation figures, and the tickets behind the complete / returned / accepted ones (their tiles)."""
    period = escalations_in_period(escalations, filters)
    accepted = Q(outcome=Outcome.ACCEPTED)
    returned = Q(outcome=Outcome.RETURNED)
    complete = Q(present=len(HANDOFF_FIELDS))
    (row,) = figures(
        period,
        aggregates={
            "complete_tickets": Count("ticket", distinct=True, filter=complete),
            "returned_tickets": Count("ticket", distinct=True, filter=returned),
            "accepted_tickets": Count("ticket", distinct=True, filter=accepted),
            "total": Count("pk"),
            "automatic": Count("pk", filter=Q(is_automatic=True)),
            "complete": Count("pk", filter=complete),
            "avg_present": Avg("present", output_field=FloatField()),
            "accepted": Count("pk", filter=accepted),
            "returned": Count("pk", filter=returned),
            "awaiting": Count("pk", filter=Q(outcome=Outcome.AWAITING)),
        },
        percentiles={
            "accept_p50": Pct(TIME_TO_ACCEPT, 0.5, filter=accepted, output_field=DurationField()),
            "accept_p90": Pct(TIME_TO_ACCEPT, 0.9, filter=accepted, output_field=DurationField()),
        },
    )
    by_trigger = {
        r["trigger"]: r
        for r in period.values("trigger").annotate(
            manual=Count("pk", filter=Q(is_automatic=False)),
            automatic=Count("pk", filter=Q(is_automatic=True)),
            returned=Count("pk", filter=returned),
        )
    }
    reasons = dict(period.filter(returned).values_list("return_reason").annotate(n=Count("pk")).order_by())
    decided = row["accepted"] + row["returned"]
    tickets = {name: row[f"{name}_tickets"] for name in ("complete", "returned", "accepted")}
    result = {
        "escalations": row["total"],
        "manual": row["total"] - row["automatic"],
        "automatic": row["automatic"],
        "complete_handoffs": row["complete"],
        "complete_pct": percent(row["complete"], row["total"]),
        "avg_fields_present": round(row["avg_present"], 2) if row["avg_present"] is not None else None,
        "accepted": row["accepted"],
        "returned": row["returned"],
        "awaiting": row["awaiting"],
        "return_rate_pct": percent(row["returned"], decided),
        "time_to_accept_median_minutes": minutes(row["accept_p50"]),
        "time_to_accept_p90_minutes": minutes(row["accept_p90"]),
        "by_trigger": [
            {
                "trigger": trigger.value,
                "label": trigger.label,
                "manual": by_trigger.get(trigger, {}).get("manual", 0),
                "automatic": by_trigger.get(trigger, {}).get("automatic", 0),
                "returned": by_trigger.get(trigger, {}).get("returned", 0),
            }
            for trigger in Trigger
        ],
        "return_reasons": [
            {"reason": reason.value, "label": reason.label, "returns": reasons.get(reason, 0)}
            for reason in ReturnReason
        ],
    }
    return result, tickets


def resolution_records(records: QuerySet[SlaRecord], filters: MetricsFilter) -> QuerySet[SlaRecord]:
    return records.filter(filters.within("stopped_at"), target=Target.RESOLUTION, stage__in=JUDGED).annotate(
        used=USED_SECONDS
    )


# The tier holding the record's ticket now. Joined to the ticket, PostgreSQL hashed the period's
# records and probed them with every ticket (1M index entries at 1M tickets: 400 ms); put as
# membership in the Tier 2 tickets (Tier has two values, and Tier 2 holds the fewer tickets) it is
# one hashed list read from ticket_tier_due and a probe per record.
RESOLVING_TIER = Case(
    When(ticket__in=Ticket.objects.filter(tier=Tier.TWO).values("pk"), then=Value(Tier.TWO.value)),
    default=Value(Tier.ONE.value),
    output_field=IntegerField(),
)

RESOLUTION_COLUMNS = {
    "total": "used",
    Segment.TIER1.value: "tier1_seconds",
    Segment.AWAITING_TIER2.value: "awaiting_tier2_seconds",
    Segment.TIER2.value: "tier2_seconds",
    Segment.PAUSED.value: "paused_seconds",
}


def resolution_time(records: QuerySet[SlaRecord], filters: MetricsFilter) -> dict:
    resolved = resolution_records(records, filters)
    percentiles = {}
    for key, column in RESOLUTION_COLUMNS.items():
        percentiles[f"{key}_p50"] = Pct(column, 0.5)
        percentiles[f"{key}_p90"] = Pct(column, 0.9)
    (row,) = figures(resolved, aggregates={"count": Count("pk")}, percentiles=percentiles)
    by_tier = figures(
        resolved.annotate(resolving_tier=RESOLVING_TIER),
        group_by=["resolving_tier"],
        aggregates={"count": Count("pk")},
        percentiles={"p50": Pct("used", 0.5), "p90": Pct("used", 0.9)},
    )
    return {
        "records": row["count"],
        "split": [
            {
                "part": key,
                "label": TIER_LABELS[key],
                "median_minutes": minutes(row[f"{key}_p50"]),
                "p90_minutes": minutes(row[f"{key}_p90"]),
            }
            for key in RESOLUTION_COLUMNS
        ],
        "by_resolving_tier": [
            {
                "tier": r["resolving_tier"],
                "label": Tier(r["resolving_tier"]).label,
                "records": r["count"],
                "median_minutes": minutes(r["p50"]),
                "p90_minutes": minutes(r["p90"]),
            }
            for r in by_tier
        ],
    }


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def created_cells(scoped: QuerySet[Ticket], filters: MetricsFilter) -> list[dict]:
    """Tickets created in the period per local hour (with its day and hour of day), site, and the
    "escalated" and "security" conditions of ticket_conditions: one pass over them for the ticket
    counts, the volume figures and the trend's created column (each was a pass of its own).

    Dicts with day, hour, site__slug, site__name, escalated, security and n.
    """
    conditions = ticket_conditions(filters, timezone.now())
    hours = _pieces(filters.local_hours)
    cells = (
        scoped.filter(conditions["created"])
        .annotate(
            local_hour=Trunc("created_at", "hour", tzinfo=filters.time_zone)
            if hours is None
            else LocalPiece("created_at", hours[0]),
            escalated=_flag(conditions["escalated"]),
            security=_flag(conditions["security"]),
        )
        .values("local_hour", "site", "escalated", "security")
        .annotate(n=Count("pk"))
        .order_by()
    )
    # Grouped by the site's id, named after: joined to the sites, the grouping hashed their names
    # for every ticket (417 → 229 ms at 1M tickets). The sites are a short list, read whole.
    sites = {pk: (slug, name) for pk, slug, name in Site.objects.values_list("pk", "slug", "name")}
    for cell in cells:
        cell["site__slug"], cell["site__name"] = sites.get(cell.pop("site"), (None, None))
        if hours is None:
            # Trunc returns the local hour as an aware datetime (in the zone on PostgreSQL; SQLite may give UTC).
            local = cell.pop("local_hour").astimezone(filters.time_zone)
            cell["day"], cell["hour"] = local.date(), local.hour
        else:
            cell["day"], cell["hour"] = hours[1][cell.pop("local_hour") - 1]
    return list(cells)


class LocalPiece(Func):
    """Which piece of the period a timestamp falls in, 1 for the first: PostgreSQL's width_bucket over
    the pieces' first instants (MetricsFilter.local_hours, local_days).

    A binary search in a constant array per row instead of a conversion to the viewer's local time
    (`AT TIME ZONE`, then truncating and grouping a local timestamp): the trend's daily SLA counts,
    the created and resolved cells each group 100–300k rows at 1M tickets.
    """

    output_field = IntegerField()

    def __init__(self, expression, starts: tuple[datetime, ...]):
        super().__init__(expression)
        self.starts = list(starts)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"WIDTH_BUCKET({sql}, %s::timestamptz[])", (*params, self.starts)


def _pieces(pieces: tuple | None) -> tuple | None:
    """The period's local pieces where the database can count by them (PostgreSQL), else None (convert each row)."""
    return pieces if connection.vendor == "postgresql" else None


def resolved_cells(scoped: QuerySet[Ticket], filters: MetricsFilter) -> list[dict]:
    """Tickets resolved in the period per local day, assignee, owning team and the "first_contact"
    condition: one pass over them for the ticket counts, the trend's resolved column and the
    agents' and teams' resolved counts."""
    conditions = ticket_conditions(filters, timezone.now())
    person = ("assignee__username", "assignee__first_name", "assignee__last_name")
    days = _pieces(filters.local_days)
    cells = list(
        scoped.filter(conditions["resolved"])
        .annotate(day=_local_day("resolved_at", filters, days), first_contact=_flag(conditions["first_contact"]))
        .values("day", "assignee", *person, "queue", "first_contact")
        .annotate(n=Count("pk"))
        .order_by()
    )
    queues = {pk: (slug, name) for pk, slug, name in Queue.objects.values_list("pk", "slug", "name")}
    for cell in cells:
        cell["queue__slug"], cell["queue__name"] = queues[cell["queue"]]
        if days is not None:
            cell["day"] = days[1][cell["day"] - 1]
    return cells


def _local_day(field: str, filters: MetricsFilter, days: tuple | None):
    return TruncDate(field, tzinfo=filters.time_zone) if days is None else LocalPiece(field, days[0])


def _sum_by(cells: list[dict], *fields: str) -> dict:
    totals: dict = defaultdict(int)
    for cell in cells:
        totals[cell[fields[0]] if len(fields) == 1 else tuple(cell[name] for name in fields)] += cell["n"]
    return totals


def volume(scoped: QuerySet[Ticket], filters: MetricsFilter, *, created: list[dict] | None = None) -> dict:
    created = created_cells(scoped, filters) if created is None else created
    hours = _sum_by(created, "hour")
    sites = _sum_by(created, "site__slug", "site__name")
    # Most tickets first, then by name (no site last), as the query used to order them.
    ordered = sorted(sites.items(), key=lambda item: (-item[1], item[0][1] is None, item[0][1] or ""))
    return {
        "by_hour": [{"hour": hour, "tickets": hours.get(hour, 0)} for hour in range(24)],
        "by_site": [
            {"site": slug or "", "label": name or "No site", "tickets": count} for (slug, name), count in ordered
        ],
    }


TRENDED = (Target.FIRST_RESPONSE, Target.RESOLUTION)


def sla_trend_cells(records: QuerySet[SlaRecord], filters: MetricsFilter) -> dict[tuple, dict]:
    """Judged clocks per local day they stopped and target (the trend's two): met and total."""
    days = _pieces(filters.local_days)
    cells: dict[tuple, dict] = {}
    for row in (
        closed_records(records, filters)
        .filter(target__in=TRENDED)  # the trend shows these two: next-response clocks need not be read
        .annotate(day=_local_day("stopped_at", filters, days))
        .values("day", "target")
        .annotate(met=Count("pk", filter=Q(stage=Stage.MET)), total=Count("pk"))
        .order_by()
    ):
        day = row["day"] if days is None else days[1][row["day"] - 1]
        # a local date cut in two (clocks going back across midnight) adds up
        cell = cells.setdefault((day, row["target"]), {"day": day, "target": row["target"], "met": 0, "total": 0})
        cell["met"] += row["met"]
        cell["total"] += row["total"]
    return cells


def daily_trend(
    scoped: QuerySet[Ticket],
    records: QuerySet[SlaRecord],
    filters: MetricsFilter,
    *,
    created: list[dict] | None = None,
    resolved: list[dict] | None = None,
    sla: dict[tuple, dict] | None = None,
) -> list[dict]:
    created = _sum_by(created_cells(scoped, filters) if created is None else created, "day")
    resolved = _sum_by(resolved_cells(scoped, filters) if resolved is None else resolved, "day")
    sla = sla_trend_cells(records, filters) if sla is None else sla
    days = []
    day = filters.date_from
    while day <= filters.date_to:
        row = {"day": day.isoformat(), "created": created.get(day, 0), "resolved": resolved.get(day, 0)}
        for target in TRENDED:
            cell = sla.get((day, target), {"met": 0, "total": 0})
            row[f"{target}_met_pct"] = percent(cell["met"], cell["total"])
        days.append(row)
        day += timedelta(days=1)
    return days


def _person(row: dict, prefix: str) -> str:
    full = f"{row[f'{prefix}__first_name']} {row[f'{prefix}__last_name']}".strip()
    return full or row[f"{prefix}__username"]


PERSON = ("__username", "__first_name", "__last_name")


def escalations_made(escalations: QuerySet[Escalation], filters: MetricsFilter) -> dict[str, list[dict]]:
    """The escalations of the period grouped for the people tables: by who escalated, by the Tier 1
    owner of the automatic ones, by the queue they left (three queries)."""
    period = escalations.filter(filters.within("escalated_at"))
    made = {
        "escalations": Count("pk"),
        "returns": Count("pk", filter=Q(outcome=Outcome.RETURNED)),
        "decided": Count("pk", filter=Q(outcome__in=[Outcome.ACCEPTED, Outcome.RETURNED])),
        "automatic": Count("pk", filter=Q(is_automatic=True)),
        "avg_rating": Avg("rating"),
    }
    rating = {"median_rating": Pct("rating", 0.5, filter=Q(rating__isnull=False))}
    return {
        "by_agent": figures(
            period,
            group_by=["escalated_by", *(f"escalated_by{p}" for p in PERSON)],
            aggregates=made,
            percentiles=rating,
        ),
        "automatic_by_owner": list(
            period.filter(is_automatic=True, tier1_assignee__isnull=False)
            .values("tier1_assignee", *(f"tier1_assignee{p}" for p in PERSON))
            .annotate(n=Count("pk"))
            .order_by()
        ),
        "by_team": figures(
            period, group_by=["from_queue", "from_queue__slug", "from_queue__name"], aggregates=made, percentiles=rating
        ),
    }


def people_tables(
    scoped: QuerySet[Ticket],
    escalations: QuerySet[Escalation],
    filters: MetricsFilter,
    *,
    resolved: list[dict] | None = None,
    made: dict[str, list[dict]] | None = None,
) -> dict:
    """Per agent and per team: resolved, escalations made, returns received, handoff return rate %,
    median and average handoff rating, automatic-escalation share %.

    Return rate = returned / (accepted + returned) of the escalations they made in the period.
    Automatic share = automatic escalations of their tickets (the Tier 1 owner at the time; for a
    team, from its queue) / all escalations of their tickets in the period: how often the clock,
    not a person, handed the ticket on.
    """
    resolved = resolved_cells(scoped, filters) if resolved is None else resolved
    made = escalations_made(escalations, filters) if made is None else made

    agents: dict = {}
    for cell in resolved:
        if cell["assignee"] is not None:
            entry = agents.setdefault(
                cell["assignee"], {"agent_id": cell["assignee"], "agent": _person(cell, "assignee"), "resolved": 0}
            )
            entry["resolved"] += cell["n"]
    for row in made["by_agent"]:
        key = row["escalated_by"]
        name = _person(row, "escalated_by") if key else "Automatic (rules, SLA ladder)"
        entry = agents.setdefault(key, {"agent_id": key, "agent": name, "resolved": 0})
        entry.update({name: row[name] for name in ("escalations", "returns", "decided", "median_rating")})
        entry["ratings"] = row["avg_rating"]
    for row in made["automatic_by_owner"]:
        key = row["tier1_assignee"]
        entry = agents.setdefault(key, {"agent_id": key, "agent": _person(row, "tier1_assignee"), "resolved": 0})
        entry["automatic_on_theirs"] = row["n"]

    teams: dict = {}
    for cell in resolved:
        entry = teams.setdefault(
            cell["queue"], {"team": cell["queue__slug"], "label": cell["queue__name"], "resolved": 0}
        )
        entry["resolved"] += cell["n"]
    for row in made["by_team"]:
        entry = teams.setdefault(
            row["from_queue"], {"team": row["from_queue__slug"], "label": row["from_queue__name"], "resolved": 0}
        )
        entry.update({name: row[name] for name in ("escalations", "returns", "decided", "median_rating")})
        entry["ratings"] = row["avg_rating"]
        entry["automatic_on_theirs"] = row["automatic"]

    def finish(rows, key):
        for row in rows:
            for name in ("escalations", "returns", "decided", "automatic_on_theirs"):
                row.setdefault(name, 0)
            row.setdefault("median_rating", None)
            rating = row.pop("ratings", None)
            row["avg_rating"] = round(float(rating), 1) if rating is not None else None
            row["return_rate_pct"] = percent(row["returns"], row["decided"])
            automatic = row["automatic_on_theirs"]
            if key == "label":  # a team's escalations include the automatic ones from its queue
                row["automatic_share_pct"] = percent(automatic, row["escalations"])
            elif row["agent_id"] is None:  # the rules and the ladder: automatic by definition
                row["automatic_share_pct"] = percent(row["escalations"], row["escalations"])
            else:  # an agent's own escalations are manual; the automatic ones are of tickets they held
                row["automatic_share_pct"] = percent(automatic, row["escalations"] + automatic)
        return sorted(rows, key=lambda r: (-r["resolved"], -r["escalations"], r[key]))

    return {"agents": finish(list(agents.values()), "agent"), "teams": finish(list(teams.values()), "label")}


# ---------------------------------------------------------------- everything


def dashboard(*, tickets: QuerySet[Ticket], filters: MetricsFilter, now: datetime | None = None) -> dict:
    """All the figures for one period and set of filters: the page, CSV and API use this."""
    return dashboard_and_tickets_behind(tickets=tickets, filters=filters, now=now)[0]


def dashboard_and_tickets_behind(
    *, tickets: QuerySet[Ticket], filters: MetricsFilter, now: datetime | None = None
) -> tuple[dict, dict]:
    """The figures, and the distinct tickets behind those whose tickets the figures do not already
    count (per SLA target; complete, returned and accepted escalations), from the same queries.

    The page's tiles show these counts (tiles.py); counting each tile's drill-down list instead
    took a second pass over the period per tile (0.76 s of 2.1 s at 200k tickets).
    """
    now = now or timezone.now()
    scoped = scoped_tickets(tickets, filters)
    records = scoped_records(tickets, filters)
    escalations = scoped_escalations(tickets, filters)
    filters.local_days  # noqa: B018 -- worked out once here, not by each connection that needs it
    # Independent reads, on one snapshot, side by side where the database allows (snapshot.py);
    # roughly the slowest first (EXPLAIN ANALYZE at 1M tickets, bench/README.md "Dashboard at 1M").
    parts = run_together(
        {
            "resolution_time": lambda: resolution_time(records, filters),
            "sla": lambda: _sla_attainment(records, filters),
            "created": lambda: created_cells(scoped, filters),
            "breaches": lambda: breaches(records, filters),
            "sla_trend": lambda: sla_trend_cells(records, filters),
            "resolved": lambda: resolved_cells(scoped, filters),
            "escalation": lambda: _escalation_figures(escalations, filters),
            "at_risk": lambda: at_risk_now(records, now),
            "backlog": lambda: backlog_counts(scoped, filters, now),
            "made": lambda: escalations_made(escalations, filters),
        }
    )
    created, resolved = parts["created"], parts["resolved"]
    sla, sla_tickets = parts["sla"]
    escalation, escalation_tickets = parts["escalation"]
    result = {
        "period": filters.period(),
        "filters": filters.as_params(),
        "tickets": ticket_counts(scoped, filters, now, created=created, resolved=resolved, backlog=parts["backlog"]),
        "sla": sla,
        "breaches": parts["breaches"],
        "now": {"at": now.isoformat(), **parts["at_risk"]},
        "escalation": escalation,
        "resolution_time": parts["resolution_time"],
        "volume": volume(scoped, filters, created=created),
        "trend": daily_trend(scoped, records, filters, created=created, resolved=resolved, sla=parts["sla_trend"]),
        **people_tables(scoped, escalations, filters, resolved=resolved, made=parts["made"]),
    }
    return result, {"sla": sla_tickets, "escalations": escalation_tickets}
