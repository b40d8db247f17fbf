"""The tickets behind a figure: the same conditions the figure counts, as a ticket queryset.

`show` names the figure; extra parameters narrow it (target, outcome, tier,
trigger, mode, reason, complete, hour, agent, team). Everything starts from
the viewer's scoped tickets and the same MetricsFilter as the figure, so a
drill-down list has exactly as many tickets as its figure counts tickets.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractHour

from escalation.models import Escalation, Outcome, ReturnReason, Trigger
from escalation.sla.models import SlaRecord, Stage, Target
from tickets.errors import InvalidInput
from tickets.models import Ticket

from . import figures as f
from .filters import MetricsFilter

SHOW_LABELS = {
    "created": "Created in the period",
    "escalated": "Created in the period and escalated",
    "resolved": "Resolved in the period",
    "first_contact": "Resolved by Tier 1 at first contact",
    "backlog": "Open now",
    "security": "Security (restricted) tickets created in the period",
    **{f"age_{key}": f"Open now, {label} old" for key, label, _low, _high in f.AGE_BUCKETS},
    "sla": "SLA records judged in the period",
    "breached": "Breached in the period",
    "at_risk": "At risk now",
    "breached_now": "Breached now (still open)",
    "escalations": "Escalated in the period",
    "resolution": "Resolution records stopped in the period",
    "hour": "Created in the period at this hour",
    "agent_resolved": "Resolved by this agent",
    "agent_escalations": "Escalated by this agent",
    "team_resolved": "Resolved by this team",
    "team_escalations": "Escalated from this team",
}


def _choice(params, name: str, choices, errors: dict) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in choices:
        errors[name] = [f"Choose one of: {', '.join(choices)}."]
        return ""
    return value


def _int(params, name: str, errors: dict, *, required: bool = False) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = ["Required for this list."]
        return None
    if not raw.isdigit():
        errors[name] = ["Give a whole number."]
        return None
    return int(raw)


def tickets_behind(
    *, tickets: QuerySet[Ticket], filters: MetricsFilter, show: str, params, now: datetime
) -> QuerySet[Ticket]:
    """The tickets a figure counts; InvalidInput (field by field) for an unknown figure or parameter."""
    errors: dict[str, list[str]] = {}
    if show not in SHOW_LABELS:
        raise InvalidInput({"show": [f"Choose one of: {', '.join(SHOW_LABELS)}."]})
    scoped = f.scoped_tickets(tickets, filters)
    conditions = f.ticket_conditions(filters, now)
    target = _choice(params, "target", Target.values, errors)
    records = SlaRecord.objects.filter(ticket=OuterRef("pk"))
    escalations = Escalation.objects.filter(ticket=OuterRef("pk"))
    result = None
    if show in conditions:
        result = scoped.filter(conditions[show])
    elif show == "sla":
        outcome = _choice(params, "outcome", [Stage.MET, Stage.BREACHED], errors)
        judged = f.closed_records(records, filters)
        if target:
            judged = judged.filter(target=target)
        if outcome:
            judged = judged.filter(stage=outcome)
        result = scoped.filter(Exists(judged))
    elif show == "breached":
        tier = _choice(params, "tier", [t.value for t in f.TIERS], errors)
        breached = f.breached_records(records, filters)
        if target:
            breached = breached.filter(target=target)
        if tier:
            breached = breached.filter(tier=tier)
        result = scoped.filter(Exists(breached))
    elif show == "at_risk":
        result = scoped.filter(Exists(records.filter(f.at_risk_condition(now))))
    elif show == "breached_now":
        result = scoped.filter(Exists(records.filter(stopped_at__isnull=True, stage=Stage.BREACHED)))
    elif show == "escalations":
        chosen = f.escalations_in_period(escalations, filters)
        trigger = _choice(params, "trigger", Trigger.values, errors)
        mode = _choice(params, "mode", ["manual", "automatic"], errors)
        outcome = _choice(params, "outcome", Outcome.values, errors)
        reason = _choice(params, "reason", ReturnReason.values, errors)
        complete = _choice(params, "complete", ["yes", "no"], errors)
        if trigger:
            chosen = chosen.filter(trigger=trigger)
        if mode:
            chosen = chosen.filter(is_automatic=mode == "automatic")
        if outcome:
            chosen = chosen.filter(outcome=outcome)
        if reason:
            chosen = chosen.filter(return_reason=reason)
        if complete:
            full = Q(present=5)
            chosen = chosen.filter(full if complete == "yes" else ~full)
        result = scoped.filter(Exists(chosen))
    elif show == "resolution":
        resolved = f.resolution_records(records, filters)
        tier = _int(params, "tier", errors)
        result = scoped.filter(Exists(resolved))
        if tier:
            result = result.filter(tier=tier)
    elif show == "hour":
        hour = _int(params, "hour", errors, required=True)
        if hour is not None and not 0 <= hour <= 23:
            errors["hour"] = ["An hour of the day, 0 to 23."]
        result = (
            scoped.filter(conditions["created"])
            .annotate(local_hour=ExtractHour("created_at", tzinfo=filters.time_zone))
            .filter(local_hour=hour)
        )
    elif show in ("agent_resolved", "team_resolved"):
        key = "agent" if show == "agent_resolved" else "queue"
        pk = _int(params, key, errors, required=True)
        field = "assignee" if key == "agent" else "queue"
        result = scoped.filter(conditions["resolved"], **{field: pk})
    else:  # agent_escalations, team_escalations
        chosen = escalations.filter(filters.within("escalated_at"))
        if show == "agent_escalations":
            raw = (params.get("agent") or "").strip()
            if raw == "automatic":
                chosen = chosen.filter(escalated_by__isnull=True)
            else:
                chosen = chosen.filter(escalated_by=_int(params, "agent", errors, required=True))
        else:
            chosen = chosen.filter(from_queue=_int(params, "queue", errors, required=True))
        outcome = _choice(params, "outcome", Outcome.values, errors)
        if outcome:
            chosen = chosen.filter(outcome=outcome)
        result = scoped.filter(Exists(chosen))
    if errors:
        raise InvalidInput(errors)
    return result
