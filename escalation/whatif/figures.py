"""Current and proposed figures in the dashboard's shapes, and the tickets whose outcome flips.

`current` comes from the dashboard's own figure functions (escalation.metrics.figures),
so it is exactly what GET /api/v1/metrics/sla/ says. `proposed` is the same
figures over replayed, in-memory records: each function below restates one
dashboard definition over Python objects (the definitions are in
escalation/metrics/figures.py; the fidelity tests prove that a replay with no
change gives `current` back, number for number).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db.models import QuerySet

from escalation.metrics import figures as dash
from escalation.metrics.aggregates import percentile_of_sorted
from escalation.metrics.filters import MetricsFilter
from escalation.sla.models import Segment, SlaRecord, Stage, Target
from tickets.models import Ticket

TREND_TARGETS = (Target.FIRST_RESPONSE, Target.RESOLUTION)


# ---------------------------------------------------------------- current (the dashboard's functions)


def current_figures(*, tickets: QuerySet[Ticket], filters: MetricsFilter) -> dict:
    records = dash.scoped_records(tickets, filters)
    breaches = dash.breaches(records, filters)
    trend = dash.daily_trend(dash.scoped_tickets(tickets, filters), records, filters)
    return {
        "sla": dash.sla_attainment(records, filters),
        "breaches": breaches,
        "automatic_escalations": escalations_from(breaches),
        "trend": [{"day": row["day"], **{f"{t}_met_pct": row[f"{t}_met_pct"] for t in TREND_TARGETS}} for row in trend],
    }


def escalations_from(breaches: dict) -> dict:
    """A Tier 1 budget breach is an automatic escalation (the sweep escalates on it)."""
    count = next(row["breaches"] for row in breaches["by_target"] if row["target"] == Target.TIER1_BUDGET)
    return {"tier1_budget": count}


# ---------------------------------------------------------------- proposed (the same definitions, in memory)


def _within(moment: datetime | None, filters: MetricsFilter) -> bool:
    return moment is not None and filters.start <= moment < filters.end


def used_seconds(record: SlaRecord) -> int:
    """dash.USED_SECONDS: the business time the target counted."""
    return (
        record.tier1_seconds
        + record.awaiting_tier2_seconds
        + record.tier2_seconds
        + record.paused_seconds
        - record.paused_business_seconds
    )


def breach_tier(record: SlaRecord) -> str:
    """dash.BREACH_TIER: the tier with the largest share, ties to the later tier."""
    t1, aw, t2 = record.tier1_seconds, record.awaiting_tier2_seconds, record.tier2_seconds
    if t2 > 0 and t2 >= aw and t2 >= t1:
        return Segment.TIER2.value
    if aw > 0 and aw >= t1:
        return Segment.AWAITING_TIER2.value
    if t1 > 0:
        return Segment.TIER1.value
    if record.segment_tier in {t.value for t in dash.TIERS}:
        return record.segment_tier
    return Segment.TIER1.value


def judged_in_period(record: SlaRecord, filters: MetricsFilter) -> bool:
    """dash.closed_records."""
    return record.target in dash.SLA_TARGETS and record.stage in dash.JUDGED and _within(record.stopped_at, filters)


def sla_rows(records: list[SlaRecord], filters: MetricsFilter) -> list[dict]:
    """dash.sla_attainment."""
    by_target: dict[str, list[SlaRecord]] = defaultdict(list)
    for record in records:
        if judged_in_period(record, filters):
            by_target[record.target].append(record)
    rows = []
    for target in dash.SLA_TARGETS:
        judged = by_target.get(target.value, [])
        met = sum(1 for r in judged if r.stage == Stage.MET)
        breached = len(judged) - met
        rows.append(
            {
                "target": target.value,
                "label": target.label,
                "met": met,
                "breached": breached,
                "total": met + breached,
                "met_pct": dash.percent(met, met + breached),
                "median_minutes": dash.minutes(percentile_of_sorted(sorted(used_seconds(r) for r in judged), 0.5)),
                "median_wall_minutes": dash.minutes(
                    percentile_of_sorted(sorted(r.stopped_at - r.started_at for r in judged), 0.5)
                ),
                "median_target_minutes": dash.minutes(
                    percentile_of_sorted(sorted(r.target_seconds for r in judged), 0.5)
                ),
            }
        )
    return rows


def breach_figures(records: list[SlaRecord], filters: MetricsFilter) -> dict:
    """dash.breaches."""
    by_tier = {tier.value: 0 for tier in dash.TIERS}
    by_target = {target.value: 0 for target in Target}
    tickets = set()
    for record in records:
        if record.ever_breached and _within(record.breached_at, filters):
            tier = breach_tier(record)
            by_tier[tier] = by_tier.get(tier, 0) + 1
            by_target[record.target] += 1
            tickets.add(record.ticket_id)
    return {
        "total": sum(by_tier.values()),
        "tickets_ever_breached": len(tickets),
        "by_tier": [
            {"tier": tier, "label": dash.TIER_LABELS[tier], "breaches": count} for tier, count in by_tier.items()
        ],
        "by_target": [
            {"target": target, "label": Target(target).label, "breaches": count} for target, count in by_target.items()
        ],
    }


def trend_rows(records: list[SlaRecord], filters: MetricsFilter) -> list[dict]:
    """dash.daily_trend's SLA columns: met % per day the clock stopped, in the viewer's zone."""
    cells: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        if judged_in_period(record, filters) and record.target in TREND_TARGETS:
            cell = cells[(record.stopped_at.astimezone(filters.time_zone).date(), record.target)]
            cell[0] += record.stage == Stage.MET
            cell[1] += 1
    days = []
    day = filters.date_from
    while day <= filters.date_to:
        row = {"day": day.isoformat()}
        for target in TREND_TARGETS:
            met, total = cells.get((day, target.value), (0, 0))
            row[f"{target}_met_pct"] = dash.percent(met, total)
        days.append(row)
        day += timedelta(days=1)
    return days


def proposed_figures(records: list[SlaRecord], filters: MetricsFilter) -> dict:
    breaches = breach_figures(records, filters)
    return {
        "sla": sla_rows(records, filters),
        "breaches": breaches,
        "automatic_escalations": escalations_from(breaches),
        "trend": trend_rows(records, filters),
    }


# ---------------------------------------------------------------- flips


def outcome(record: SlaRecord | None) -> str | None:
    """What a clock came to, as of now: met, breached, running (or paused), cancelled; None if there is none."""
    if record is None:
        return None
    if record.stage == Stage.CANCELLED:
        return "cancelled"
    if record.ever_breached or record.breached_at is not None:
        return "breached"
    if record.stopped_at is not None:
        return "met"
    return "running"


def keyed(records: Iterable[SlaRecord]) -> dict[tuple[str, int, int], SlaRecord]:
    """Records by (target, cycle, n-th of that target in the cycle): how a live clock meets its replay."""
    ordered = sorted(records, key=lambda r: (r.target, r.cycle, r.started_at, r.pk or 0))
    out: dict[tuple[str, int, int], SlaRecord] = {}
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for record in ordered:
        counts[(record.target, record.cycle)] += 1
        out[(record.target, record.cycle, counts[(record.target, record.cycle)])] = record
    return out


def _counts_in_period(record: SlaRecord | None, filters: MetricsFilter) -> bool:
    return record is not None and (_within(record.stopped_at, filters) or _within(record.breached_at, filters))


def flips(ticket: Ticket, live: list[SlaRecord], replayed: list[SlaRecord], filters: MetricsFilter) -> list[dict]:
    """The clocks of one ticket, judged in the period on either side, whose outcome differs."""
    before, after = keyed(live), keyed(replayed)
    rows = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[1], k[2], k[0])):
        old, new = before.get(key), after.get(key)
        if not (_counts_in_period(old, filters) or _counts_in_period(new, filters)):
            continue
        if outcome(old) == outcome(new):
            continue
        target, cycle, _n = key
        rows.append(
            {
                "id": ticket.pk,
                "reference": ticket.reference,
                "title": ticket.title,
                "priority": ticket.priority,
                "target": target,
                "target_label": Target(target).label,
                "cycle": cycle,
                "current": outcome(old),
                "proposed": outcome(new),
                "current_due_at": old.due_at.isoformat() if old else None,
                "proposed_due_at": new.due_at.isoformat() if new else None,
                "stopped_at": (old or new).stopped_at.isoformat() if (old or new).stopped_at else None,
            }
        )
    return rows
