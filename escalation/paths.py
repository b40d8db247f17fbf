"""Which escalation path a ticket takes for a trigger."""

from django.db.models import Q

from tickets.models import Queue, Ticket, Tier

from .models import EscalationPath, Trigger


def resolve_path(*, ticket: Ticket, trigger: str) -> EscalationPath | None:
    """The most specific active path: category + trigger, then Tier 1 queue + trigger, then trigger only.

    A path naming both a category and a queue must match both. Among equally
    specific paths the lowest position wins.
    """
    candidates = (
        EscalationPath.objects.filter(is_active=True, trigger=trigger)
        .filter(Q(category__isnull=True) | Q(category_id=ticket.category_id))
        .filter(Q(queue__isnull=True) | Q(queue_id=ticket.queue_id))
        .select_related("to_queue", "after_hours_queue", "owner")
    )
    return _most_specific(candidates)


def resolve_paths(*, tickets: list[Ticket], trigger: str) -> dict[int, EscalationPath | None]:
    """resolve_path for many tickets (ticket id → path), in one query: the same choice per ticket."""
    active = active_paths(trigger=trigger)
    return {ticket.pk: path_among(active, ticket=ticket) for ticket in tickets}


def active_paths(*, trigger: str) -> list[EscalationPath]:
    """The active paths for a trigger, for path_among (a batch reads them once)."""
    return list(
        EscalationPath.objects.filter(is_active=True, trigger=trigger).select_related(
            "to_queue", "after_hours_queue", "owner"
        )
    )


def path_among(paths: list[EscalationPath], *, ticket: Ticket) -> EscalationPath | None:
    """resolve_path's choice for the ticket among `paths` (active_paths for one trigger)."""
    return _most_specific(
        path
        for path in paths
        if path.category_id in (None, ticket.category_id) and path.queue_id in (None, ticket.queue_id)
    )


def _most_specific(candidates) -> EscalationPath | None:
    best = sorted(candidates, key=lambda path: (-path.specificity, -bool(path.queue_id), path.position, path.pk))
    return best[0] if best else None


def security_queue() -> Queue | None:
    """Where a security escalation goes when no path names one: the Tier 2 security team."""
    return Queue.objects.filter(is_security=True, tier=Tier.TWO).order_by("pk").first()


def is_security_trigger(trigger: str) -> bool:
    return trigger == Trigger.SECURITY_CONCERN


def route_preview(*, ticket: Ticket, at) -> list[dict]:
    """Where each trigger would send this ticket now, as the escalate form shows it before submitting:
    the team, its owner, and outside the team's hours the after-hours target (ticket_escalate decides
    the same way)."""
    from escalation.sla import calendars

    routes = []
    for trigger, label in Trigger.choices:
        if trigger == Trigger.TIME_EXCEEDED:
            continue  # automatic only
        path = resolve_path(ticket=ticket, trigger=trigger)
        team = path.to_queue if path else (security_queue() if is_security_trigger(trigger) else None)
        route = {"trigger": trigger, "label": label, "team": team, "owner": path.owner if path else None}
        if team is not None:
            route["after_hours"] = not calendars.queue_in_business_hours(queue=team, at=at)
            route["target"] = (
                path.after_hours_queue if route["after_hours"] and path and path.after_hours_queue_id else team
            )
        routes.append(route)
    return routes
