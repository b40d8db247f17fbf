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
    best = sorted(candidates, key=lambda path: (-path.specificity, -bool(path.queue_id), path.position, path.pk))
    return best[0] if best else None


def security_queue() -> Queue | None:
    """Where a security escalation goes when no path names one: the Tier 2 security team."""
    return Queue.objects.filter(is_security=True, tier=Tier.TWO).order_by("pk").first()


def is_security_trigger(trigger: str) -> bool:
    return trigger == Trigger.SECURITY_CONCERN
