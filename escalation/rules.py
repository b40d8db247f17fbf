"""Automatic trigger rules: evaluated at intake, on update and by the SLA sweep.

A rule fires when every condition it sets holds; it then does every action it
sets (raise priority, escalate along a path, notify the team lead). Each rule
fires at most once per ticket per cycle: a TriggerRuleFiring row, unique on
(rule, ticket, reopen_count), is written under the ticket's row lock. An automatic
escalation that is refused does not use the rule up: its firing is withdrawn and the
timeline says so, so the rule fires again when it next matches.

Time-based rules ("time in tier ≥ N min") get their own indexed next check (RuleCheck):
each evaluation plans the moment the next such rule can first match, and the sweep
evaluates the ticket then (`run_due_time_rules`), whether or not an SLA clock is due.
"""

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tickets import conditions, configcache, events, priorities
from tickets import services as ticket_services
from tickets.conditions import Facts
from tickets.errors import DomainError
from tickets.locks import lock_ticket
from tickets.models import Ticket, TicketStatus, Tier
from tickets.notifications.models import NotificationKind
from tickets.notifications.services import notify

from . import services
from .models import Escalation, RuleCheck, TriggerRule, TriggerRuleFiring
from .paths import is_security_trigger, resolve_path, security_queue

logger = logging.getLogger(__name__)


class Moment(StrEnum):
    INTAKE = "intake"
    UPDATE = "update"
    SWEEP = "sweep"


def evaluate_trigger_rules(*, ticket_id: int, moment: Moment, ticket: Ticket | None = None) -> bool:
    """Fire every active rule that matches this ticket now and has not fired in this cycle.

    1. Lock the ticket (callers may already hold the lock: same transaction).
    2. For each rule in position order: skip if it fired this cycle or does not match.
    3. Record the firing and a RULE_FIRED event, then act: raise priority first (so an
       escalation carries it), then escalate, then notify.
    """
    rules = configcache.cached("trigger_rules", _active_rules)
    if not rules:
        return False
    if ticket is not None and not (ticket.is_open and any(matches(rule, ticket, now=timezone.now()) for rule in rules)):
        # The caller's fresh, locked ticket: nothing can fire, so no lock and no reads
        # (beyond planning the time rules' next check, when there are any).
        plan_time_rules(ticket=ticket, rules=rules, now=timezone.now())
        return False
    fired_any = False
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if not ticket.is_open:
            return False
        fired = set(
            TriggerRuleFiring.objects.filter(ticket=ticket, reopen_count=ticket.reopen_count).values_list(
                "rule_id", flat=True
            )
        )
        now = timezone.now()
        for rule in rules:
            if rule.pk in fired:
                continue
            if fired_any:
                ticket = lock_ticket(ticket_id)  # fresh: an earlier rule may have changed it
            if not ticket.is_open or not matches(rule, ticket, now=now):
                continue
            actions = _applicable_actions(rule, ticket)
            if not actions:
                continue
            _fire(rule, ticket, moment=moment, actions=actions, now=now)
            fired_any = True
        plan_time_rules(ticket=lock_ticket(ticket_id), rules=rules, now=now)
    return fired_any


def plan_time_rules(*, ticket: Ticket, rules: list[TriggerRule], now: datetime, fired: set[int] | None = None) -> None:
    """Set (or clear) the ticket's RuleCheck: the first future moment a time rule not yet fired can match."""
    timed = [rule for rule in rules if rule.min_minutes_in_tier is not None]
    if not timed:
        return
    moment = None
    if ticket.is_open:
        if fired is None:
            fired = set(
                TriggerRuleFiring.objects.filter(ticket=ticket, reopen_count=ticket.reopen_count).values_list(
                    "rule_id", flat=True
                )
            )
        entered = entered_tier_at(ticket)
        moments = [entered + timedelta(minutes=rule.min_minutes_in_tier) for rule in timed if rule.pk not in fired]
        moment = min((m for m in moments if m > now), default=None)
    if moment is None:
        RuleCheck.objects.filter(ticket=ticket).delete()
    else:
        RuleCheck.objects.update_or_create(ticket=ticket, defaults={"next_check_at": moment})


def run_due_time_rules(*, now: datetime, limit: int = 500) -> int:
    """Evaluate the tickets whose time-based rules are due (the sweep calls this); returns how many.

    Each ticket in its own transaction; a row another worker holds is left to it.
    """
    done = 0
    for ticket_id in list(
        RuleCheck.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("ticket_id", flat=True)[:limit]
    ):
        with transaction.atomic():
            claimed = RuleCheck.objects.select_for_update(skip_locked=True).filter(
                ticket_id=ticket_id, next_check_at__lte=now
            )
            if not claimed.exists():
                continue
            # Cleared first: the evaluation plans the next one (or none).
            claimed.delete()
            evaluate_trigger_rules(ticket_id=ticket_id, moment=Moment.SWEEP)
            done += 1
    return done


def _active_rules() -> list[TriggerRule]:
    return list(TriggerRule.objects.filter(is_active=True).select_related("category").order_by("position", "id"))


def matches(rule: TriggerRule, ticket: Ticket, *, now: datetime) -> bool:
    def minutes_in_tier() -> float:
        return (now - entered_tier_at(ticket)).total_seconds() / 60

    return conditions.matches(rule.conditions, Facts.of_ticket(ticket, minutes_in_tier=minutes_in_tier))


def entered_tier_at(ticket: Ticket) -> datetime:
    """When the ticket entered its current tier (created, escalated or returned)."""
    if ticket.tier == Tier.TWO:
        last = Escalation.objects.filter(ticket=ticket).aggregate(at=Max("escalated_at"))["at"]
        return last or ticket.created_at
    last_return = Escalation.objects.filter(ticket=ticket, returned_at__isnull=False).aggregate(at=Max("returned_at"))[
        "at"
    ]
    return max(ticket.created_at, last_return) if last_return else ticket.created_at


def _applicable_actions(rule: TriggerRule, ticket: Ticket) -> list[str]:
    actions = []
    if rule.raise_priority_to and priorities.is_more_severe(rule.raise_priority_to, ticket.priority):
        actions.append(f"priority→{rule.raise_priority_to}")
    if (
        rule.escalate_with_trigger
        and ticket.tier == Tier.ONE
        and ticket.status in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)
        and _has_route(ticket, rule.escalate_with_trigger)
    ):
        actions.append(f"escalate:{rule.escalate_with_trigger}")
    if rule.notify_team_lead and ticket.queue.lead_id:
        actions.append("notify_team_lead")
    return actions


def _has_route(ticket: Ticket, trigger: str) -> bool:
    if resolve_path(ticket=ticket, trigger=trigger):
        return True
    return is_security_trigger(trigger) and security_queue() is not None


def _fire(rule: TriggerRule, ticket: Ticket, *, moment: Moment, actions: list[str], now: datetime) -> None:
    firing = TriggerRuleFiring.objects.create(
        rule=rule, ticket=ticket, reopen_count=ticket.reopen_count, moment=str(moment), fired_at=now, actions=actions
    )
    event = events.rule_fired(ticket=ticket, rule_name=rule.name, rule_id=rule.pk, moment=str(moment), actions=actions)
    if any(action.startswith("priority→") for action in actions):
        ticket_services.ticket_change_priority(
            ticket_id=ticket.pk,
            priority=rule.raise_priority_to,
            reason=f"Trigger rule “{rule.name}”.",
            acting_user=None,
        )
    if any(action.startswith("escalate:") for action in actions):
        try:
            with transaction.atomic():  # a refused escalation must not undo the intake or update around it
                services.ticket_escalate(
                    ticket_id=ticket.pk,
                    trigger=rule.escalate_with_trigger,
                    handoff=services.handoff_from_ticket(ticket=lock_ticket(ticket.pk)),
                    acting_user=None,
                    automatic=True,
                    rule=rule,
                )
        except DomainError as error:
            # Refused (the handoff, the ticket's state): the rule is not used up; it fires again when it next matches.
            logger.warning("Trigger rule %s could not escalate %s: %s", rule.name, ticket.reference, error)
            firing.delete()
            errors = getattr(error, "errors", None) or {}
            reason = error.message or "; ".join(
                f"{name}: {' '.join(map(str, texts))}" for name, texts in errors.items()
            )
            events.rule_escalation_refused(ticket=ticket, rule_name=rule.name, rule_id=rule.pk, reason=reason)
    if "notify_team_lead" in actions:
        notify(
            event=event,
            kind=NotificationKind.RULE_FIRED,
            recipients=[ticket.queue.lead],
            body=f"Trigger rule “{rule.name}”.",
        )
