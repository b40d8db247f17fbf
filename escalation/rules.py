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
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import Max, prefetch_related_objects
from django.utils import timezone

from tickets import bulk, conditions, configcache, events, priorities
from tickets import services as ticket_services
from tickets.conditions import Facts
from tickets.errors import DomainError
from tickets.locks import lock_ticket
from tickets.models import Ticket, TicketStatus, Tier
from tickets.notifications.models import NotificationKind
from tickets.notifications.services import Notice, notify, notify_many

from . import services
from .models import Escalation, RuleCheck, TriggerRule, TriggerRuleFiring
from .paths import active_paths, is_security_trigger, path_among, resolve_path, security_queue

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
    if ticket is not None and not (
        ticket.is_open
        and any(matches(rule, ticket, now=timezone.now()) and _applicable_actions(rule, ticket) for rule in rules)
    ):
        # The caller's fresh, locked ticket: nothing can fire (no rule matches with anything
        # left to do: a P1/organization rule on a ticket already escalated), so no lock and
        # no reads (beyond planning the time rules' next check, when there are any).
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
    if not any(rule.min_minutes_in_tier is not None for rule in rules):
        return
    if fired is None and ticket.is_open:
        fired = set(
            TriggerRuleFiring.objects.filter(ticket=ticket, reopen_count=ticket.reopen_count).values_list(
                "rule_id", flat=True
            )
        )
    _plan_time_rules_many([ticket], rules=rules, now=now, fired={ticket.pk: fired or set()}, entered=entered_tier_at)


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
    return entered_tier_at_many([ticket])[ticket.pk]


def _applicable_actions(
    rule: TriggerRule, ticket: Ticket, *, has_route: Callable[[Ticket, str], bool] | None = None
) -> list[str]:
    actions = []
    if rule.raise_priority_to and priorities.is_more_severe(rule.raise_priority_to, ticket.priority):
        actions.append(f"priority→{rule.raise_priority_to}")
    if (
        rule.escalate_with_trigger
        and ticket.tier == Tier.ONE
        and ticket.status in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)
        and (has_route or _has_route)(ticket, rule.escalate_with_trigger)
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
            events.rule_escalation_refused(
                ticket=ticket, rule_name=rule.name, rule_id=rule.pk, reason=_refusal_reason(error)
            )
    if "notify_team_lead" in actions:
        notify(
            event=event,
            kind=NotificationKind.RULE_FIRED,
            recipients=[ticket.queue.lead],
            body=f"Trigger rule “{rule.name}”.",
        )


def _refusal_reason(error: DomainError) -> str:
    errors = getattr(error, "errors", None) or {}
    return error.message or "; ".join(f"{name}: {' '.join(map(str, texts))}" for name, texts in errors.items())


# ---------------------------------------------------------------- a batch at once (the sweep)


def evaluate_trigger_rules_many(*, tickets: list[Ticket], moment: Moment) -> int:
    """evaluate_trigger_rules for a batch of tickets the caller holds locked and has just read
    (the SLA sweep's batch, at Moment.SWEEP): the same rules in the same order, the same firings,
    events, actions and refusals per ticket, read and written set-wise. Returns how many firings.

    1. Match in memory. A ticket no rule can fire on costs nothing (beyond planning the time
       rules' next checks, when there are any).
    2. Read for the batch at once: the cycle's firings, the escalation paths of each rule's
       trigger, when each ticket entered its tier (only if a time rule asks).
    3. Rule by rule, in position order: the tickets it fires on get their firing rows and
       RULE_FIRED events in one insert each, then the actions through the batch services —
       raise priority first (tickets_raise_priority), then escalate (tickets_escalate_automatically
       with the rule: a security escalation still goes through ticket_escalate), then tell the
       team lead (one notify_many). A refused escalation withdraws its firing, as one at a time.
       The tickets it fired on are re-read (one query) for the next rule.
    4. Plan every ticket's next time-rule check (RuleCheck) in two statements.
    """
    rules = configcache.cached("trigger_rules", _active_rules)
    if not rules or not tickets:
        return 0
    now = timezone.now()
    by_id = {ticket.pk: ticket for ticket in tickets}
    batch = _RuleBatch(now=now, tickets=by_id)
    if any(rule.requester_is_vip is not None for rule in rules):
        prefetch_related_objects([t for t in tickets if not Ticket.requester.is_cached(t)], "requester")
    candidates = [
        pk for pk, ticket in by_id.items() if ticket.is_open and any(batch.fires(rule, ticket) for rule in rules)
    ]
    timed = any(rule.min_minutes_in_tier is not None for rule in rules)
    if not candidates and not timed:
        return 0
    fired = _fired_sets(list(by_id.values()) if timed else [by_id[pk] for pk in candidates])
    firings = 0
    for rule in rules:
        group: list[tuple[Ticket, list[str]]] = []
        for pk in candidates:
            ticket = by_id[pk]
            if rule.pk in fired[pk] or not ticket.is_open:
                continue
            actions = batch.fires(rule, ticket)
            if actions:
                group.append((ticket, actions))
        if not group:
            continue
        refused = _fire_many(rule, group, moment=moment, now=now)
        firings += len(group) - len(refused)
        for ticket, _ in group:
            if ticket.pk not in refused:
                fired[ticket.pk].add(rule.pk)
        # fresh for the next rule: this one may have changed them (the locks are still ours)
        batch.refresh([ticket.pk for ticket, _ in group])
    if timed:
        _plan_time_rules_many(list(by_id.values()), rules=rules, now=now, fired=fired, entered=batch.entered_at)
    return firings


class _RuleBatch:
    """What matching a batch needs, read once: routes per trigger, the security team, entry times."""

    RELATED = ("queue", "queue__lead", "assignee", "category", "requester")

    def __init__(self, *, now: datetime, tickets: dict[int, Ticket]):
        self.now = now
        self.tickets = tickets
        self._paths: dict[str, list] = {}
        self._security: list = []
        self._entered: dict[int, datetime] = {}

    def fires(self, rule: TriggerRule, ticket: Ticket) -> list[str]:
        """The rule's actions left to do on this ticket if it matches now (empty: it does not fire)."""
        facts = Facts.of_ticket(
            ticket, minutes_in_tier=lambda: (self.now - self.entered_at(ticket)).total_seconds() / 60
        )
        if not conditions.matches(rule.conditions, facts):
            return []
        return _applicable_actions(rule, ticket, has_route=self.has_route)

    def has_route(self, ticket: Ticket, trigger: str) -> bool:
        if trigger not in self._paths:
            self._paths[trigger] = active_paths(trigger=trigger)
        if path_among(self._paths[trigger], ticket=ticket):
            return True
        if not is_security_trigger(trigger):
            return False
        if not self._security:
            self._security.append(security_queue())
        return self._security[0] is not None

    def entered_at(self, ticket: Ticket) -> datetime:
        if not self._entered:
            self._entered = entered_tier_at_many(list(self.tickets.values()))
        return self._entered[ticket.pk]

    def refresh(self, ticket_ids: list[int]) -> None:
        self.tickets.update((t.pk, t) for t in Ticket.objects.select_related(*self.RELATED).filter(pk__in=ticket_ids))
        self._entered = {}  # an escalation moved them to another tier


def entered_tier_at_many(tickets: list[Ticket]) -> dict[int, datetime]:
    """entered_tier_at for many tickets (ticket id → when), in one query."""
    latest = {
        row["ticket_id"]: row
        for row in Escalation.objects.filter(ticket_id__in=[t.pk for t in tickets])
        .order_by()
        .values("ticket_id")
        .annotate(escalated=Max("escalated_at"), returned=Max("returned_at"))
    }
    entered = {}
    for ticket in tickets:
        row = latest.get(ticket.pk, {})
        if ticket.tier == Tier.TWO:
            entered[ticket.pk] = row.get("escalated") or ticket.created_at
        else:
            returned = row.get("returned")
            entered[ticket.pk] = max(ticket.created_at, returned) if returned else ticket.created_at
    return entered


def _fired_sets(tickets: list[Ticket]) -> dict[int, set[int]]:
    """Ticket id → the rules that fired on it in its current cycle; one query."""
    cycle = {ticket.pk: ticket.reopen_count for ticket in tickets}
    fired: dict[int, set[int]] = defaultdict(set)
    for ticket_id, reopen_count, rule_id in (
        TriggerRuleFiring.objects.filter(ticket_id__in=list(cycle))
        .order_by()
        .values_list("ticket_id", "reopen_count", "rule_id")
    ):
        if cycle[ticket_id] == reopen_count:
            fired[ticket_id].add(rule_id)
    return fired


def _fire_many(rule: TriggerRule, group: list[tuple[Ticket, list[str]]], *, moment: Moment, now: datetime) -> set[int]:
    """_fire for every ticket of the group (one rule), set-wise. Returns the tickets whose
    escalation was refused (their firing withdrawn)."""
    firings = [
        TriggerRuleFiring(
            rule=rule,
            ticket=ticket,
            reopen_count=ticket.reopen_count,
            moment=str(moment),
            fired_at=now,
            actions=actions,
        )
        for ticket, actions in group
    ]
    bulk.insert_objects(firings)
    timeline = [
        events.rule_fired(
            ticket=ticket, rule_name=rule.name, rule_id=rule.pk, moment=str(moment), actions=actions, save=False
        )
        for ticket, actions in group
    ]
    events.insert_many(timeline)
    raise_ids = [ticket.pk for ticket, actions in group if any(a.startswith("priority→") for a in actions)]
    if raise_ids:
        ticket_services.tickets_raise_priority(
            ticket_ids=raise_ids, priority=rule.raise_priority_to, reason=f"Trigger rule “{rule.name}”."
        )
    escalate_ids = [ticket.pk for ticket, actions in group if any(a.startswith("escalate:") for a in actions)]
    if escalate_ids:
        refused: dict[int, DomainError] = {}
        try:
            with transaction.atomic():  # a refusal must not undo the sweep's batch around it
                services.tickets_escalate_automatically(
                    ticket_ids=escalate_ids, trigger=rule.escalate_with_trigger, rule=rule, refused=refused
                )
        except DomainError as error:  # refused for all of them (the trigger itself)
            refused = dict.fromkeys(escalate_ids, error)
        if refused:
            # Refused: the rule is not used up for these; it fires again when it next matches.
            tickets = {ticket.pk: ticket for ticket, _ in group}
            for pk, error in refused.items():
                logger.warning("Trigger rule %s could not escalate %s: %s", rule.name, tickets[pk].reference, error)
            TriggerRuleFiring.objects.filter(pk__in=[f.pk for f in firings if f.ticket_id in refused]).delete()
            events.insert_many(
                [
                    events.rule_escalation_refused(
                        ticket=tickets[pk],
                        rule_name=rule.name,
                        rule_id=rule.pk,
                        reason=_refusal_reason(error),
                        save=False,
                    )
                    for pk, error in refused.items()
                ]
            )
    notify_many(
        [
            Notice(
                event=event,
                kind=NotificationKind.RULE_FIRED,
                recipients=[ticket.queue.lead],
                body=f"Trigger rule “{rule.name}”.",
            )
            for event, (ticket, actions) in zip(timeline, group, strict=True)
            if "notify_team_lead" in actions
        ],
        returning=False,
    )
    return set(refused) if escalate_ids else set()


def _plan_time_rules_many(
    tickets: list[Ticket],
    *,
    rules: list[TriggerRule],
    now: datetime,
    fired: dict[int, set[int]],
    entered: Callable[[Ticket], datetime],
) -> None:
    """plan_time_rules for many tickets: the RuleChecks cleared in one statement, set in another."""
    timed = [rule for rule in rules if rule.min_minutes_in_tier is not None]
    planned, cleared = [], []
    for ticket in tickets:
        moment = None
        if ticket.is_open:
            at = entered(ticket)
            moments = [at + timedelta(minutes=r.min_minutes_in_tier) for r in timed if r.pk not in fired[ticket.pk]]
            moment = min((m for m in moments if m > now), default=None)
        if moment is None:
            cleared.append(ticket.pk)
        else:
            planned.append(RuleCheck(ticket_id=ticket.pk, next_check_at=moment))
    if cleared:
        RuleCheck.objects.filter(ticket_id__in=cleared).delete()
    if planned:
        RuleCheck.objects.bulk_create(
            planned, update_conflicts=True, unique_fields=["ticket"], update_fields=["next_check_at"]
        )
