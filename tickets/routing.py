"""Intake routing: category, keywords and requester type choose queue and priority.

Routing is not escalation: it picks a Tier 1 starting point automatically, with
no handoff. The decision and its reason go on the timeline.
"""

import copy
from dataclasses import dataclass

from . import configcache
from .conditions import Facts, why_matched
from .models import Category, Impact, Priority, PriorityMatrixCell, Queue, RoutingRule, Site, Urgency, User
from .priorities import most_severe

# The ITSM convention, used when the admin-editable matrix lacks a cell.
DEFAULT_MATRIX: dict[tuple[str, str], str] = {
    (Impact.ORGANIZATION, Urgency.STOPPED): Priority.P1,
    (Impact.ORGANIZATION, Urgency.SLOWED): Priority.P1,
    (Impact.ORGANIZATION, Urgency.MINOR): Priority.P2,
    (Impact.SITE, Urgency.STOPPED): Priority.P1,
    (Impact.SITE, Urgency.SLOWED): Priority.P2,
    (Impact.SITE, Urgency.MINOR): Priority.P3,
    (Impact.TEAM, Urgency.STOPPED): Priority.P2,
    (Impact.TEAM, Urgency.SLOWED): Priority.P3,
    (Impact.TEAM, Urgency.MINOR): Priority.P3,
    (Impact.INDIVIDUAL, Urgency.STOPPED): Priority.P3,
    (Impact.INDIVIDUAL, Urgency.SLOWED): Priority.P4,
    (Impact.INDIVIDUAL, Urgency.MINOR): Priority.P4,
}


# A security ticket is at least this severe, whether it came by category, rule or escalation.
SECURITY_MIN_PRIORITY = Priority.P2


def priority_for(*, impact: str, urgency: str) -> str:
    def load() -> dict[tuple[str, str], str]:
        return {(c.impact, c.urgency): c.priority for c in PriorityMatrixCell.objects.all()}

    cell = configcache.cached("priority_matrix", load).get((impact, urgency))
    return cell or DEFAULT_MATRIX[(impact, urgency)]


def _active_rules() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(is_active=True).select_related("requester_site", "category"))


def _queues() -> dict[int, Queue]:
    return {queue.pk: queue for queue in Queue.objects.all()}


def _queue(queue_id: int) -> Queue:
    # A copy: the ticket hangs related objects on it, the cached one stays clean.
    return copy.copy(configcache.cached("queues", _queues)[queue_id])


@dataclass(frozen=True)
class RoutingDecision:
    queue: Queue
    priority: str
    rule: RoutingRule | None
    reason: str
    security: bool = False


def route(
    *,
    category: Category,
    title: str,
    description: str,
    requester: User,
    site: Site | None,
    priority: str,
    requester_verified: bool = True,
) -> RoutingDecision:
    """The starting queue and priority; a security category or queue also sets the security floor.

    An unverified requester (mail: only a From header) matches no VIP or department condition.
    """
    decision = _route(
        category=category,
        title=title,
        description=description,
        requester=requester,
        site=site,
        priority=priority,
        verified=requester_verified,
    )
    if not (category.is_security or decision.queue.is_security):
        return decision
    raised = most_severe(decision.priority, SECURITY_MIN_PRIORITY)
    reason = decision.reason
    if raised != decision.priority:
        reason += f" Security: priority raised {decision.priority} → {raised}."
    reason += " Restricted and handed to Security."
    return RoutingDecision(queue=decision.queue, priority=raised, rule=decision.rule, reason=reason, security=True)


def _route(
    *,
    category: Category,
    title: str,
    description: str,
    requester: User,
    site: Site | None,
    priority: str,
    verified: bool,
) -> RoutingDecision:
    facts = Facts(
        category_id=category.pk,
        title=title,
        description=description,
        priority=priority,
        requester=lambda: requester,
        requester_verified=verified,
        site_id=site.pk if site else requester.site_id,
    )
    for rule in configcache.cached("routing_rules", _active_rules):
        matched = why_matched(rule.conditions, facts)
        if matched is None:
            continue
        queue = _queue(rule.target_queue_id or category.default_queue_id)
        new_priority = most_severe(priority, rule.raise_priority_to) if rule.raise_priority_to else priority
        reason = f"Rule “{rule.name}” matched ({matched})"
        if new_priority != priority:
            reason += f"; priority raised {priority} → {new_priority}"
        return RoutingDecision(queue=queue, priority=new_priority, rule=rule, reason=f"{reason}; queue {queue}.")
    queue = _queue(category.default_queue_id)
    return RoutingDecision(
        queue=queue, priority=priority, rule=None, reason=f"No rule matched; category {category} → queue {queue}."
    )
